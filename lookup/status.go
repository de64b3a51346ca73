package lookup

import (
	"net/http"

	"github.com/caddyserver/caddy/v2/modules/caddyhttp"
)

// StatusWriter passes the rest of the chain's answer on to the client and
// remembers its status: the first final one written, 200 when the body
// comes without one. The handler records a forwarded request with it, and
// the rows proxy judges what the upstream did. The wrapper is held by
// value: a StatusWriter is one allocation.
type StatusWriter struct {
	caddyhttp.ResponseWriterWrapper
	Status int
}

// NewStatusWriter is a StatusWriter passing the answer on to w.
func NewStatusWriter(w http.ResponseWriter) *StatusWriter {
	return &StatusWriter{ResponseWriterWrapper: caddyhttp.ResponseWriterWrapper{ResponseWriter: w}}
}

func (s *StatusWriter) WriteHeader(status int) {
	if s.Status == 0 && status >= 200 {
		s.Status = status
	}
	s.ResponseWriterWrapper.WriteHeader(status)
}

func (s *StatusWriter) Write(p []byte) (int, error) {
	if s.Status == 0 {
		s.Status = http.StatusOK
	}
	return s.ResponseWriterWrapper.Write(p)
}
