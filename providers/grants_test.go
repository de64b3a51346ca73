package providers

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGrantsLevels(t *testing.T) {
	g, err := NewGrants(map[string]string{"docs": "read", "team-*": "write", "bot-?": "admin", "team-lead": "admin"})
	require.NoError(t, err)
	cases := map[string]Level{
		"docs": LevelRead, "docs2": LevelNone, "Docs": LevelNone,
		"team-": LevelWrite, "team-a": LevelWrite, "team-lead": LevelAdmin,
		"bot-1": LevelAdmin, "bot-12": LevelNone, "billing": LevelNone, "": LevelNone,
	}
	for name, want := range cases {
		assert.Equal(t, want, g.Level(name), name)
	}
	assert.Equal(t, "bot-?=admin,docs=read,team-*=write,team-lead=admin", g.String())

	var all *Grants
	assert.Equal(t, LevelAdmin, all.Level("anything"), "no grants: every collection")
	assert.False(t, all.Restricted())
	none, err := NewGrants(map[string]string{})
	require.NoError(t, err)
	assert.True(t, none.Restricted())
	assert.Equal(t, LevelNone, none.Level("docs"), "{}: none")
}

func TestGrantsErrors(t *testing.T) {
	for m, want := range map[string]map[string]string{
		`unknown access level "owner"`: {"docs": "owner"},
		"empty name":                   {"": "read"},
		"control characters":           {"a\x00b": "read"},
		"longer than":                  {strings.Repeat("x", MaxGrantPattern+1): "read"},
	} {
		_, err := NewGrants(want)
		assert.ErrorContains(t, err, m)
	}
}

func TestUsersFileCollections(t *testing.T) {
	good := "users:\n  - id: bot\n    tokens: [t1]\n    collections:\n      docs: read\n      \"team-*\": write\n  - id: none\n    tokens: [t2]\n    collections: {}\n  - id: all\n    tokens: [t3]\n"
	users, err := ParseUsers("u.yaml", []byte(good), true)
	require.NoError(t, err)
	assert.Equal(t, LevelWrite, users[0].Identity(ProviderToken).Collections.Level("team-x"))
	assert.True(t, users[1].Identity(ProviderToken).Collections.Restricted())
	assert.Equal(t, LevelNone, users[1].Identity(ProviderToken).Collections.Level("docs"))
	assert.Nil(t, users[2].Identity(ProviderToken).Collections)

	for want, doc := range map[string]string{
		`u.yaml:5: user "bot": collections: collection "docs": unknown access level "owner"`: "users:\n  - id: bot\n    tokens: [t1]\n    collections:\n      docs: owner\n",
		`"docs" given twice (first on line 5)`:                                               "users:\n  - id: bot\n    tokens: [t1]\n    collections:\n      docs: read\n      docs: write\n",
		`want a map of collection name`:                                                      "users:\n  - id: bot\n    tokens: [t1]\n    collections: [docs]\n",
		`u.yaml:4: user "bot": collections: want a map of collection name or glob to`:        "users:\n  - id: bot\n    tokens: [t1]\n    collections:\n",
	} {
		_, err := ParseUsers("u.yaml", []byte(doc), true)
		require.Error(t, err, want)
		assert.Contains(t, err.Error(), want)
	}
}

// FuzzGlobMatch checks the grant glob against a regular expression built
// from the same pattern.
func FuzzGlobMatch(f *testing.F) {
	for _, s := range [][2]string{{"team-*", "team-a"}, {"a*b*c", "aXbYc"}, {"?", "é"}, {"*", ""}, {"a**", "a"}, {"*a", "ba"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, name string) {
		if len(pattern) > 64 || len(name) > 64 {
			return
		}
		var re strings.Builder
		re.WriteString(`^(?s:`)
		for _, r := range pattern {
			switch r {
			case '*':
				re.WriteString(`.*`)
			case '?':
				re.WriteString(`.`)
			default:
				re.WriteString(regexp.QuoteMeta(string(r)))
			}
		}
		re.WriteString(`)$`)
		want := regexp.MustCompile(re.String()).MatchString(name)
		// Invalid UTF-8 is compared rune by rune (as U+FFFD) on both sides.
		if got := globMatch(pattern, name); got != want && strings.ToValidUTF8(pattern+name, "") == pattern+name {
			t.Fatalf("globMatch(%q, %q) = %v, want %v", pattern, name, got, want)
		}
	})
}

// The example users file of the repository loads, grants included.
func TestExampleUsersFile(t *testing.T) {
	users, err := LoadUsers("../examples/users.yaml", true)
	require.NoError(t, err)
	require.Len(t, users, 3)
	bot := users[2].Identity(ProviderToken)
	assert.Equal(t, LevelRead, bot.Collections.Level("docs"))
	assert.Equal(t, LevelAdmin, bot.Collections.Level("bot-1"))
	assert.Equal(t, LevelNone, bot.Collections.Level("billing"))
}
