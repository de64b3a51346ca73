package e2e

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sync"
	"syscall"
	"time"
)

// process is a long-running child (Chroma, a gateway) that the suite must
// end whatever happens to the tests.
type process struct {
	name    string
	cmd     *exec.Cmd
	logPath string
	done    chan struct{} // closed when the process has exited
	waitErr error         // set before done is closed
}

// running holds every process the suite started and has not stopped yet.
var running = struct {
	sync.Mutex
	procs map[*process]struct{}
}{procs: map[*process]struct{}{}}

// startProcess starts cmd with its output in logPath, in a process group of
// its own (so stopping it also ends anything it spawned, and a Ctrl-C on
// `go test` does not reach it before we decide), with SIGKILL as the parent
// death signal: if the test binary dies from a panic or a -timeout, when no
// deferred cleanup runs, the kernel still ends the child.
func startProcess(name string, cmd *exec.Cmd, logPath string) (*process, error) {
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout = logFile
	cmd.Stderr = logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		_ = logFile.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logPath: logPath, done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		_ = logFile.Close()
		close(p.done)
	}()
	running.Lock()
	running.procs[p] = struct{}{}
	running.Unlock()
	return p, nil
}

// exited reports whether the process has ended, and how.
func (p *process) exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.waitErr
	default:
		return false, nil
	}
}

// log returns what the process printed so far, for failure messages.
func (p *process) log() string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return fmt.Sprintf("(no log: %v)", err)
	}
	const max = 8000
	if len(b) > max {
		b = append([]byte("…"), b[len(b)-max:]...)
	}
	return string(b)
}

// stop ends the whole process group: SIGTERM first so Chroma and Caddy can
// close cleanly, SIGKILL if they are still there after a few seconds.
func (p *process) stop() {
	pgid := p.cmd.Process.Pid // Setpgid: the group id is the child's pid
	_ = syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(-pgid, syscall.SIGKILL)
		<-p.done
	}
	// Anything left in the group (a grandchild that ignored SIGTERM).
	if err := syscall.Kill(-pgid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		fmt.Fprintf(os.Stderr, "e2e: kill group of %s: %v\n", p.name, err)
	}
	running.Lock()
	delete(running.procs, p)
	running.Unlock()
}

// stopAll ends every process still running; TestMain defers it.
func stopAll() {
	running.Lock()
	procs := make([]*process, 0, len(running.procs))
	for p := range running.procs {
		procs = append(procs, p)
	}
	running.Unlock()
	for _, p := range procs {
		p.stop()
	}
}

// stopAllOnSignal makes an interrupted run (Ctrl-C, a CI job's SIGTERM)
// still end the children before the test binary exits.
func stopAllOnSignal() {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	go func() {
		sig := <-ch
		fmt.Fprintf(os.Stderr, "e2e: %v: stopping Chroma and the gateways\n", sig)
		stopAll()
		os.Exit(2)
	}()
}
