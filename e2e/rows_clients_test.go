package e2e

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestRowLevelSecurityJSClient: the real chromadb JS client, as two users
// with rows sharing one collection, through every read and write it
// offers: each sees and changes only its own records (issue 23).
func TestRowLevelSecurityJSClient(t *testing.T) {
	e := newRowsEnv(t)
	step := func(token, me, other, name string, out any) {
		t.Helper()
		runJS(t, e.g, "js/rows.mjs", out, credential{kind: credBearer, token: token},
			"TENANT="+e.tenant, "DATABASE=prod", "COLLECTION=shared", "ME="+me, "OTHER="+other, "STEP="+name)
	}
	var wrote struct{ Written bool }
	step(e.alice, "a", "b", "write", &wrote)
	step(e.bob, "b", "a", "write", &wrote)
	assert.True(t, wrote.Written)
	owned := func(ids ...string) []string { return ids }
	for id, owner := range e.get(t, e.admin, `{"include":["metadatas"]}`) {
		if id != "x0" {
			assert.Equal(t, map[byte]string{'a': "alice", 'b': "bob"}[id[0]], owner["owner"], "%s stamped with its writer", id)
		}
	}

	var read struct {
		All, ByIDs, Where map[string]string
		Peek, Query       []string
		Count             int
		AfterWrite        []string
	}
	step(e.alice, "a", "b", "read", &read)
	assert.Equal(t, map[string]string{"a-1": "alice", "a-2": "alice", "a-3": "alice"}, read.All)
	assert.Equal(t, map[string]string{"a-1": "alice"}, read.ByIDs, "get by ids: only one's own among them")
	assert.Equal(t, map[string]string{"a-1": "alice"}, read.Where, "where ANDed with the rows")
	assert.Equal(t, owned("a-1", "a-2", "a-3"), read.Peek)
	assert.Equal(t, 3, read.Count)
	assert.Equal(t, owned("a-1", "a-2", "a-3"), read.Query)
	assert.Equal(t, []string{"x", "z"}, read.AfterWrite, "one's own update and upsert pass")

	var refused struct {
		AddClaimingOther, UpdateOthers, UpsertOthers, ChangeOwner, DeleteCollection, Rename string
	}
	step(e.alice, "a", "b", "refused", &refused)
	assert.Equal(t, "ChromaForbiddenError", refused.AddClaimingOther)
	assert.Equal(t, "ChromaForbiddenError", refused.UpdateOthers)
	assert.Equal(t, "ChromaForbiddenError", refused.UpsertOthers)
	assert.Equal(t, "ChromaForbiddenError", refused.ChangeOwner)
	assert.Equal(t, "ChromaForbiddenError", refused.DeleteCollection)
	assert.Equal(t, "ChromaForbiddenError", refused.Rename)
	all := e.get(t, e.admin, `{"include":["metadatas"]}`)
	assert.NotContains(t, all, "a-9", "nothing of a refused write is written")
	assert.Equal(t, "bob", all["b-1"]["owner"])
	assert.Equal(t, "x", all["b-1"]["k"], "the refused update changed nothing")
	assert.Equal(t, "alice", all["a-1"]["owner"])

	var left struct{ Left []string }
	step(e.alice, "a", "b", "delete", &left)
	assert.Equal(t, owned("a-2"), left.Left, "alice deleted her a-3 and her k = x")
	assert.Equal(t, []string{"a-2", "b-1", "b-2", "b-3", "x0"}, keys(e.get(t, e.admin, `{}`)), "bob's records untouched")
}
