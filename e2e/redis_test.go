package e2e

// A real redis-server for the shared_state tests, as ../shared/redistest
// runs it for the unit tests (the e2e module does not import the
// gateway's packages): installed by ../scripts/redis-deps.sh (Debian's
// package) when missing, on a free port of 127.0.0.1 with nothing saved,
// in its own process group, killed with the test and by the kernel if the
// test binary dies; plain or TLS only.

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// redisServer is one redis-server process, which can be killed and started
// again on the same port.
type redisServer struct {
	Port     int
	Password string
	// CAFile is the CA that signed a TLS server's certificate (for
	// 127.0.0.1); "" for a plain server.
	CAFile string
	certs  string // the folder of CAFile, server.crt and server.key
	dir    string
	mu     sync.Mutex
	cmd    *exec.Cmd
}

var redisInstall struct {
	once sync.Once
	err  error
}

// ensureRedis installs redis-server when it is missing.
func ensureRedis() error {
	redisInstall.once.Do(func() {
		script := filepath.Join(suite.repoRoot, "scripts", "redis-deps.sh")
		out, err := exec.Command("bash", script).CombinedOutput()
		if err != nil {
			redisInstall.err = fmt.Errorf("redis-server is needed for these tests: %v\n%s", err, out)
		}
	})
	return redisInstall.err
}

// startRedis runs a redis-server (with requirepass password, unless empty)
// and stops it when the test ends.
func startRedis(t testing.TB, password string) *redisServer {
	t.Helper()
	if err := ensureRedis(); err != nil {
		t.Fatal(err)
	}
	s := &redisServer{Port: redisPort(t), Password: password, dir: t.TempDir()}
	t.Cleanup(s.Kill)
	s.Restart(t)
	return s
}

// startRedisTLS runs a redis-server that speaks only TLS, with the
// certificate for 127.0.0.1 that writeRedisCerts wrote into certs ("": a new
// one, from a CA of its own); CAFile is the CA.
func startRedisTLS(t testing.TB, password, certs string) *redisServer {
	t.Helper()
	if err := ensureRedis(); err != nil {
		t.Fatal(err)
	}
	s := &redisServer{Port: redisPort(t), Password: password, dir: t.TempDir(), certs: certs}
	if s.certs == "" {
		s.certs = s.dir
		if _, err := writeRedisCerts(s.dir); err != nil {
			t.Fatal(err)
		}
	}
	s.CAFile = filepath.Join(s.certs, "ca.crt")
	t.Cleanup(s.Kill)
	s.Restart(t)
	return s
}

// URL is redis://[:password@]127.0.0.1:port/0 (rediss:// with TLS).
func (s *redisServer) URL() string {
	scheme := "redis"
	if s.CAFile != "" {
		scheme = "rediss"
	}
	if s.Password != "" {
		return fmt.Sprintf("%s://:%s@127.0.0.1:%d/0", scheme, s.Password, s.Port)
	}
	return fmt.Sprintf("%s://127.0.0.1:%d/0", scheme, s.Port)
}

// Restart starts the server (again, empty) and waits until it answers.
func (s *redisServer) Restart(t testing.TB) {
	t.Helper()
	args := []string{"--port", fmt.Sprint(s.Port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--daemonize", "no", "--loglevel", "warning"}
	if s.CAFile != "" {
		args[1] = "0"
		args = append(args, "--tls-port", fmt.Sprint(s.Port), "--tls-auth-clients", "no",
			"--tls-cert-file", filepath.Join(s.certs, "server.crt"), "--tls-key-file", filepath.Join(s.certs, "server.key"),
			"--tls-ca-cert-file", s.CAFile)
	}
	if s.Password != "" {
		args = append(args, "--requirepass", s.Password)
	}
	cmd := exec.Command("redis-server", args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("redis-server: %v", err)
	}
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if s.ping() == nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("redis-server on port %d does not answer: %v", s.Port, s.ping())
}

// Kill ends the server at once (SIGKILL), as a crash would.
func (s *redisServer) Kill() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	_ = cmd.Wait()
}

// Do sends one command (words without spaces) and returns the first line
// of the answer.
func (s *redisServer) Do(args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", s.Port), time.Second)
	if err != nil {
		return "", err
	}
	if s.CAFile != "" {
		pool := x509.NewCertPool()
		pem, err := os.ReadFile(s.CAFile)
		if err != nil {
			return "", err
		}
		pool.AppendCertsFromPEM(pem)
		c = tls.Client(c, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(2 * time.Second))
	rd := bufio.NewReader(c)
	if s.Password != "" {
		if _, err := fmt.Fprintf(c, "AUTH %s\r\n", s.Password); err != nil {
			return "", err
		}
		if l, err := rd.ReadString('\n'); err != nil || !strings.HasPrefix(l, "+OK") {
			return "", fmt.Errorf("AUTH: %q %v", l, err)
		}
	}
	if _, err := fmt.Fprintf(c, "%s\r\n", strings.Join(args, " ")); err != nil {
		return "", err
	}
	l, err := rd.ReadString('\n')
	return strings.TrimSpace(l), err
}

func (s *redisServer) ping() error {
	l, err := s.Do("PING")
	if err == nil && l != "+PONG" {
		err = fmt.Errorf("PING answered %q", l)
	}
	return err
}

func redisPort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// writeRedisCerts writes ca.crt, server.crt and server.key (for 127.0.0.1
// and localhost) into dir, and returns the CA's path.
func writeRedisCerts(dir string) (string, error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	now := time.Now()
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "redistest CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		return "", err
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", err
	}
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(24 * time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, DNSNames: []string{"localhost"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		return "", err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", err
	}
	files := map[string][]byte{
		"ca.crt":     pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		"server.crt": pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		"server.key": pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return "", err
		}
	}
	return filepath.Join(dir, "ca.crt"), nil
}
