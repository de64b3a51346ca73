package cli

import (
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/assert"
)

// TestCommandHasEverySubcommand: `caddy chroma-auth` has the subcommands
// its usage line names, each with its flags.
func TestCommandHasEverySubcommand(t *testing.T) {
	c := Command(nil)
	assert.Equal(t, "chroma-auth", c.Name)
	root := &cobra.Command{Use: c.Name}
	c.CobraFunc(root)
	var names []string
	for _, sub := range root.Commands() {
		names = append(names, sub.Name())
	}
	sort.Strings(names)
	assert.Equal(t, []string{"check", "explain", "htpasswd", "jwt", "key", "test", "token"}, names)
	for _, name := range strings.Split("check explain htpasswd jwt key test token", " ") {
		assert.Contains(t, c.Usage, name)
	}
	explain, _, err := root.Find([]string{"explain"})
	assert.NoError(t, err)
	for _, f := range []string{"config", "site", "upstream", "user", "token", "key", "jwt", "body"} {
		assert.NotNil(t, explain.Flags().Lookup(f), "explain --%s", f)
	}
}
