package e2e

// A real redis-server for the shared_state tests, as ../shared/redistest
// runs it for the unit tests (the e2e module does not import the
// gateway's packages): installed by ../scripts/redis-deps.sh (Debian's
// package) when missing, on a free port of 127.0.0.1 with nothing saved,
// in its own process group, killed with the test and by the kernel if the
// test binary dies.

import (
	"bufio"
	"fmt"
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
	dir      string
	mu       sync.Mutex
	cmd      *exec.Cmd
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

// URL is redis://[:password@]127.0.0.1:port/0.
func (s *redisServer) URL() string {
	if s.Password != "" {
		return fmt.Sprintf("redis://:%s@127.0.0.1:%d/0", s.Password, s.Port)
	}
	return fmt.Sprintf("redis://127.0.0.1:%d/0", s.Port)
}

// Restart starts the server (again, empty) and waits until it answers.
func (s *redisServer) Restart(t testing.TB) {
	t.Helper()
	args := []string{"--port", fmt.Sprint(s.Port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", s.dir, "--daemonize", "no", "--loglevel", "warning"}
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
