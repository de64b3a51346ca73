package providers

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSourcesWithoutGone(t *testing.T) {
	src := Sources{HtpasswdFile: "h", UsersFile: "u", TokenFiles: []string{"u", "t1", "t2"}, KeysFile: "k"}
	none := func(string) bool { return false }
	got, gone := src.WithoutGone(none)
	assert.Empty(t, gone)
	assert.Equal(t, src, got, "nothing gone: the same sources, Elsewhere unchanged")

	set := func(files ...string) func(string) bool {
		return func(f string) bool {
			for _, g := range files {
				if f == g {
					return true
				}
			}
			return false
		}
	}
	got, gone = src.WithoutGone(set("u"))
	assert.Equal(t, []string{"u"}, gone)
	assert.Equal(t, Sources{TokenFiles: []string{"t1", "t2"}, KeysFile: "k", Elsewhere: true}, got)
	got, gone = src.WithoutGone(set("h", "t2", "k"))
	assert.Equal(t, []string{"h", "t2", "k"}, gone)
	assert.Equal(t, Sources{UsersFile: "u", TokenFiles: []string{"u", "t1"}, Elsewhere: true}, got)
}
