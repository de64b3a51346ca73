package chromaauth

import (
	"fmt"

	"go.uber.org/zap"

	"github.com/caddyserver/caddy/v2"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
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

// loadRBAC loads the RBAC file, if one is configured, and puts it in force.
func (h *ChromaAuth) loadRBAC() error {
	path := h.authzPath()
	if path == "" {
		return nil
	}
	rbac, err := authz.LoadRBAC(path)
	if err != nil {
		return fmt.Errorf("chroma_auth: authz: %w", err)
	}
	if unknown := rbac.UnknownActions(); len(unknown) > 0 {
		h.logger.Warn("authz file grants actions no Chroma route checks", zap.String("file", path), zap.Strings("actions", unknown))
	}
	h.rbac.Store(rbac)
	return nil
}

// reload reads every credential file again. A set that fails to load is
// logged, with the file and line the error names, and changes nothing: the
// last good credentials stay in force. A good one is swapped in whole, and
// the cache forgets the users it no longer has.
func (h *ChromaAuth) reload() {
	creds, err := providers.Load(h.src)
	if err != nil {
		h.logger.Error("credentials reload failed; keeping the last good credentials", zap.Error(err))
		return
	}
	if err := h.loadRBAC(); err != nil {
		h.logger.Error("authz reload failed; keeping the last good credentials and roles", zap.Error(err))
		return
	}
	h.auth.Swap(creds)
	h.logger.Info("credentials reloaded",
		zap.Int("basic_users", creds.NumUsers()),
		zap.Int("tokens", creds.NumTokens()))
}
