package chromaauth

import (
	"errors"
	"io/fs"
	"os"

	"go.uber.org/zap"

	"github.com/caddyserver/caddy/v2"
)

// watchedFiles are the files whose change triggers a reload.
func (h *ChromaAuth) watchedFiles() []string {
	files := h.src.Files()
	if f := h.authzPath(); f != "" {
		files = append(files, f)
	}
	return files
}

func (h *ChromaAuth) authzPath() string {
	return caddy.NewReplacer().ReplaceAll(h.AuthzFile, "")
}

// reload reads every credential and RBAC file again. A set that fails to
// load is logged, with the file and line the error names, and changes
// nothing: the last good policy stays in force. A good one is swapped in
// whole, and the cache forgets the users it no longer has.
//
// A credentials file that is gone revokes what it held (see
// providers.Sources.WithoutGone); a gone RBAC file allows nothing.
func (h *ChromaAuth) reload() {
	src, gone := h.src.WithoutGone(fileGone)
	rbacGone := false
	if path := h.authzPath(); path != "" && fileGone(path) {
		gone, rbacGone = append(gone, path), true
	}
	for _, f := range gone {
		h.logger.Error("credentials file is gone; what it held is revoked", zap.String("file", f))
	}
	pol, warnings, err := h.loadPolicyFrom(src, rbacGone)
	if err != nil {
		h.logger.Error("credentials reload failed; keeping the last good credentials and roles", zap.Error(err))
		return
	}
	for _, w := range warnings {
		h.logger.Warn(w)
	}
	h.policy.Store(pol)
	h.auth.Swap(pol.creds)
	h.logger.Info("credentials reloaded",
		zap.Int("basic_users", pol.creds.NumUsers()),
		zap.Int("tokens", pol.creds.NumTokens()),
		zap.Bool("rbac", pol.rbac != nil))
}

// fileGone reports whether path does not exist (an unreadable file is not
// gone: its load fails and the last good set stays).
func fileGone(path string) bool {
	_, err := os.Stat(path)
	return errors.Is(err, fs.ErrNotExist)
}
