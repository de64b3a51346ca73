package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// suiteEnv is what TestMain sets up once for every test: the built gateway
// binary, one real Chroma server and the test credentials.
type suiteEnv struct {
	repoRoot   string // the plugin's module (..)
	e2eDir     string // this module
	tmp        string // removed at the end
	gatewayBin string
	chroma     *chromaServer // the upstream of every gateway (chromaPyPI unless eachChroma says)
	chromaPyPI *chromaServer // Chroma 1.5.9 (e2e/.venv-1.5)
	chromaNPM  *chromaServer // Chroma 1.0.x (e2e/node_modules)
	creds      testCredentials
}

var suite *suiteEnv

func TestMain(m *testing.M) {
	os.Exit(runSuite(m))
}

// runSuite sets up, runs the tests and always tears down: the deferred
// stopAll ends Chroma and any gateway a failed test left behind. A panic
// in a test goroutine skips these defers; the children's parent-death
// signal (see startProcess) covers that case.
func runSuite(m *testing.M) int {
	defer stopAll()
	stopAllOnSignal()

	s, err := setUpSuite()
	if s != nil && s.tmp != "" {
		defer os.RemoveAll(s.tmp)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "e2e: setting up the suite failed: %v\n", err)
		return 1
	}
	suite = s
	return m.Run()
}

// setUpSuite builds the gateway while it installs the npm packages and
// starts Chroma: the build is CPU, npm ci and Chroma's start mostly wait.
func setUpSuite() (s *suiteEnv, err error) {
	e2eDir, err := os.Getwd() // go test runs in the package folder
	if err != nil {
		return nil, err
	}
	s = &suiteEnv{e2eDir: e2eDir, repoRoot: filepath.Dir(e2eDir)}
	if s.tmp, err = os.MkdirTemp("", "chroma-auth-e2e-"); err != nil {
		return nil, err
	}
	var buildErr error
	built := make(chan struct{})
	go func() {
		defer close(built)
		s.gatewayBin, buildErr = buildGateway(s.repoRoot, s.tmp)
	}()
	defer func() {
		<-built // also on failure: the build writes into s.tmp
		if err == nil {
			err = buildErr
		}
	}()
	var pyErr error
	pyDone := make(chan struct{})
	go func() {
		defer close(pyDone)
		pyErr = ensurePythonVenvs(e2eDir)
	}()
	if err := ensureNodeModules(e2eDir); err != nil {
		<-pyDone
		return s, err
	}
	if <-pyDone; pyErr != nil {
		return s, pyErr
	}
	if err := nodeVersionOK(); err != nil {
		return s, err
	}
	if s.creds, err = newTestCredentials(filepath.Join(s.tmp, "creds")); err != nil {
		return s, err
	}
	if s.chromaNPM, err = startChroma("chroma-npm", filepath.Join(e2eDir, "node_modules", ".bin", "chroma"), s.tmp); err != nil {
		return s, err
	}
	if s.chromaPyPI, err = startChroma("chroma-pypi", filepath.Join(e2eDir, ".venv-1.5", "bin", "chroma"), s.tmp); err != nil {
		return s, err
	}
	s.chroma = s.chromaPyPI
	return s, nil
}
