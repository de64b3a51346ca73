package e2e

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"time"
)

// buildGateway builds the gateway binary (Caddy with the standard modules
// and chroma_auth, from ../cmd/caddy) once for the whole suite: the tests
// run it as a real subprocess, the way users run it.
func buildGateway(repoRoot, tmp string) (string, error) {
	bin := filepath.Join(tmp, "caddy")
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/caddy")
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/caddy in %s: %v\n%s", repoRoot, err, out)
	}
	return bin, nil
}
