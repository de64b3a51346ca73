package providers

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A keys line is refused, naming the file, line and key, for a hash that
// is not sha256:<salt>:<digest> (keys.go:142: two parts must not panic,
// another algorithm with a good salt and digest must not pass), and for a
// label, tenant or role the file cannot hold (keys.go:291, 293, 295, 330,
// 360: too long, control characters, DEL, U+FFFD, spaces, bad limits).
func TestKeyLineChecks(t *testing.T) {
	_, good := newTestKey(t, KeyEntry{})
	entries, err := ParseKeys("k", []byte(good))
	require.NoError(t, err)
	id, hash := entries[0].ID, entries[0].Hash
	_, salt, _ := strings.Cut(hash, ":")
	repl := func(old, new string) string { return strings.Replace(good, old, new, 1) }
	withField := func(field string) string { return repl(`"hash"`, field+`,"hash"`) }
	for name, tc := range map[string]struct{ data, want string }{
		"hash of two parts":    {repl(hash, "sha256:"+base64.RawURLEncoding.EncodeToString(make([]byte, 16))), "hash"},
		"hash of one part":     {repl(hash, "sha256"), "hash"},
		"hash of four parts":   {repl(hash, hash+":x"), "hash"},
		"another algorithm":    {repl(hash, "sha512:"+salt), "hash"},
		"long label":           {withField(`"label":"` + strings.Repeat("x", maxLabelLen+1) + `"`), "label"},
		"control in label":     {withField(`"label":"a\u0001b"`), "label"},
		"newline in label":     {withField(`"label":"a\nb"`), "label"},
		"DEL in label":         {withField(`"label":"a\u007fb"`), "label"},
		"U+FFFD in label":      {withField(`"label":"a\ufffdb"`), "label"},
		"tenant with a space":  {withField(`"tenant":"ac me"`), "tenant"},
		"role with a space":    {withField(`"role":"read er"`), "role"},
		"negative limit":       {withField(`"limits":{"max_batch":-1}`), "limits cannot be negative"},
		"burst without a rate": {withField(`"limits":{"burst":5}`), "burst needs a rate"},
	} {
		t.Run(name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { _, err = ParseKeys("keys.jsonl", []byte(tc.data)) })
			require.Error(t, err)
			assert.Contains(t, err.Error(), "keys.jsonl:1")
			assert.Contains(t, err.Error(), id)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	for name, field := range map[string]string{
		"label of the longest": `"label":"` + strings.Repeat("x", maxLabelLen) + `"`,
		"label with unicode":   `"label":"Zoë's laptop ✓"`,
		"tenant":               `"tenant":"acme"`,
		"role":                 `"role":"reader"`,
		"limits":               `"limits":{"rate":"5/s","burst":10}`,
	} {
		_, err := ParseKeys("keys.jsonl", []byte(withField(field)))
		assert.NoError(t, err, name)
	}
}

// Expired is what `key list` shows: a key expires at its expiry, not a
// moment later; the zero time is a key that never expires (keys.go:198).
func TestKeyEntryExpired(t *testing.T) {
	at := time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)
	e := KeyEntry{Expires: at}
	assert.False(t, e.Expired(at.Add(-time.Nanosecond)))
	assert.True(t, e.Expired(at))
	assert.True(t, e.Expired(at.Add(time.Hour)))
	never := KeyEntry{}
	assert.False(t, never.Expired(at))
	assert.False(t, never.Expired(time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC)))
}
