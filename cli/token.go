package cli

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

// Token sizes, in random bytes.
const (
	DefaultTokenBytes = 32   // 256 bits
	MinTokenBytes     = 16   // 128 bits
	MaxTokenBytes     = 3072 // 4096 characters, the gateway's limit
)

// NewToken returns a token of n random bytes (0: DefaultTokenBytes) from
// crypto/rand, in URL-safe base64 without padding: letters, digits, '-' and
// '_', printable ASCII as Chroma wants, safe in a header, a URL, a YAML
// file and a shell.
func NewToken(n int) (string, error) {
	if n == 0 {
		n = DefaultTokenBytes
	}
	if n < MinTokenBytes || n > MaxTokenBytes {
		return "", fmt.Errorf("--bytes %d: want %d to %d (default %d)", n, MinTokenBytes, MaxTokenBytes, DefaultTokenBytes)
	}
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
