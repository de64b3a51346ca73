package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"
)

// chromaServer is a real Chroma 1.x server (Rust): 1.5.9 run by the
// chromadb PyPI package's CLI, which every gateway of the suite proxies to
// by default, or 1.0.x run by the chromadb npm package's CLI.
type chromaServer struct {
	name    string // "chroma-1.5.9 (PyPI)", "chroma-1.0 (npm)": subtest names
	addr    string // host:port on loopback, for reverse_proxy
	url     string // http://addr
	version string // what GET /api/v2/version answered directly
	proc    *process
}

// startChroma runs `<cli> run` on a free loopback port with a fresh data
// folder of its own and waits until its heartbeat answers.
func startChroma(name, cli, tmp string) (*chromaServer, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	dataDir := filepath.Join(tmp, name+"-data")
	// The CLI accepts --path, --host and --port (chroma run --help).
	cmd := exec.Command(cli, "run", "--path", dataDir, "--host", "127.0.0.1", "--port", strconv.Itoa(port))
	cmd.Dir = tmp
	proc, err := startProcess(name, cmd, filepath.Join(tmp, name+".log"))
	if err != nil {
		return nil, err
	}
	s := &chromaServer{name: name, addr: "127.0.0.1:" + strconv.Itoa(port), proc: proc}
	s.url = "http://" + s.addr

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := plainHTTPClient()
	if _, err := waitFor(ctx, client, s.url+"/api/v2/heartbeat", proc); err != nil {
		proc.stop()
		return nil, err
	}
	body, err := get(ctx, client, s.url+"/api/v2/version")
	if err == nil {
		err = json.Unmarshal(body, &s.version)
	}
	if err != nil || s.version == "" {
		proc.stop()
		return nil, fmt.Errorf("chroma version: %q, %v", body, err)
	}
	return s, nil
}
