package cli

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLoggerAllowed(t *testing.T) {
	for _, tc := range []struct {
		include, exclude []string
		name             string
		want             bool
	}{
		{nil, nil, "http.log.access", true},
		{[]string{"http.log.access.log0"}, nil, "http.log.access.log0", true},
		{[]string{"http.log.access.log0"}, nil, "http.log.access", false},
		{[]string{"http.log.access.log0"}, nil, "http.log.access.log01", false},
		{[]string{"http.log.access"}, nil, "http.log.access.log0", true},
		{nil, []string{"http.log.access.log0"}, "http.log.access.log0", false},
		{nil, []string{"http.log.access.log0"}, "http.log.error.log0", true},
		{nil, []string{"http.log.access"}, "http.log.access.log0", false},
		{[]string{"http"}, []string{"http.log.access"}, "http.log.error", true},
		{[]string{"http"}, []string{"http.log.access"}, "http.log.access.x", false},
		{[]string{"http.log.access.x"}, []string{"http.log"}, "http.log.access.x", true},
		{nil, []string{"*"}, "http.log.error", false},
	} {
		assert.Equal(t, tc.want, loggerAllowed(tc.include, tc.exclude, tc.name), "%v %v %s", tc.include, tc.exclude, tc.name)
	}
}

func TestCredentialLogWarningsJSON(t *testing.T) {
	tokenHandler := HandlerReport{TokenHeader: "X-Chroma-Token", Tokens: 1}
	parse := func(s string) map[string]any {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(s), &m))
		return m
	}
	srv := parse(`{"logs":{"logger_names":{"example.com":["a"]},"skip_unmapped_hosts":true}}`)
	cfg := parse(`{"logging":{"logs":{
		"default":{"exclude":["http.log.access.a"],"encoder":{"format":"filter","fields":{"request>headers>X-Chroma-Token":{"filter":"replace","value":"x"}}}},
		"a":{"include":["http.log.access.a"],"encoder":{"format":"filter","fields":{"request>headers>X-Chroma-Token":{"filter":"hash"}}}},
		"gone":{"writer":{"output":"discard"}}}}}`)
	w := CredentialLogWarnings(cfg, srv, tokenHandler)
	require.Len(t, w, 1, "%q", w)
	assert.Contains(t, w[0], `log "a" writes the access log`, "a hash is not counted as a filter")
	assert.Contains(t, w[0], "request>headers>X-Chroma-Token delete")

	// Authorization is hidden unless log_credentials; X-Chroma-Token, which
	// any client may send, still reaches log "a" (its access log).
	for _, r := range []HandlerReport{{TokenHeader: "Authorization", Tokens: 1, Basic: true}, {TokenHeader: "X-Chroma-Token"}} {
		w := CredentialLogWarnings(cfg, srv, r)
		require.Len(t, w, 1, "%q", w)
		assert.Contains(t, w[0], `log "a" writes the access log of this server with the X-Chroma-Token header`)
	}
	assert.Empty(t, CredentialLogWarnings(map[string]any{}, map[string]any{}, HandlerReport{TokenHeader: "Authorization", Tokens: 1, Basic: true}), "no access log: nothing")

	// No logging config: Caddy's default log takes the error log.
	w = CredentialLogWarnings(map[string]any{}, map[string]any{}, tokenHandler)
	require.Len(t, w, 1)
	assert.Contains(t, w[0], `log "default" writes the error log of this server`)
}
