package e2e

import (
	"errors"
	"net/http"
	"sync"
	"testing"

	chroma "github.com/amikos-tech/chroma-go/pkg/api/v2"
	chhttp "github.com/amikos-tech/chroma-go/pkg/commons/http"
	"github.com/amikos-tech/chroma-go/pkg/embeddings"
	"github.com/stretchr/testify/require"
)

// newGoClient is the real chroma-go v2 client for a gateway: its base URL,
// Caddy's CA root by file (WithSSLCert) and, when auth is not nil, its own
// credentials provider (WithAuth).
//
// chroma-go v0.3.5 keeps its transport in http.DefaultClient and replaces
// it at every new client, so all clients alive at once share the last
// one's TLS settings. The tests therefore run one after another and make
// every client of a test with the same CA file.
func newGoClient(t *testing.T, g *gateway, auth chroma.CredentialsProvider, extra ...chroma.ClientOption) chroma.Client {
	t.Helper()
	opts := append([]chroma.ClientOption{chroma.WithBaseURL(g.url), chroma.WithSSLCert(g.caRoot)}, extra...)
	if auth != nil {
		opts = append(opts, chroma.WithAuth(auth))
	}
	c, err := chroma.NewHTTPClient(opts...)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// switchableAuth is a chroma-go CredentialsProvider that hands the request
// to chroma-go's own basic or token provider for the current credential,
// or sends none. It lets one client, and the Collection handles it made
// with good credentials, repeat the same calls with wrong or no
// credentials: chroma-go has no way to make a Collection without a GET.
type switchableAuth struct {
	mu  sync.Mutex
	cur credential
}

func (s *switchableAuth) use(c credential) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cur = c
}

func (s *switchableAuth) Authenticate(bc *chroma.BaseAPIClient) error {
	s.mu.Lock()
	cur := s.cur
	s.mu.Unlock()
	// The providers write into the client's default headers and never
	// remove them: clear what an earlier credential left.
	headers := bc.DefaultHeaders()
	delete(headers, "Authorization")
	delete(headers, "X-Chroma-Token")
	if p := cur.goAuth(); p != nil {
		return p.Authenticate(bc)
	}
	return nil
}

// requireUnauthorized asserts that err is chroma-go's error for a 401 with
// Chroma's AuthorizationError body.
func requireUnauthorized(t *testing.T, err error, call string) {
	t.Helper()
	require.Error(t, err, "%s must be refused", call)
	var chErr *chhttp.ChromaError
	require.True(t, errors.As(err, &chErr), "%s: want a *ChromaError, got %T: %v", call, err, err)
	require.Equal(t, http.StatusUnauthorized, chErr.ErrorCode, "%s: %v", call, err)
	require.Equal(t, "AuthorizationError", chErr.ErrorID, "%s: %v", call, err)
}

// emb makes a chroma-go embedding: the tests always supply their own
// vectors, as no embedding model can be downloaded here.
func emb(v ...float32) embeddings.Embedding {
	return embeddings.NewEmbeddingFromFloat32(v)
}

// noModelEF is set on every collection the Go client makes or gets, so
// chroma-go never falls back to its default embedding function (which
// downloads an ONNX model and runtime).
func noModelEF() embeddings.EmbeddingFunction {
	return embeddings.NewConsistentHashEmbeddingFunction()
}
