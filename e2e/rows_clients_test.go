package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// rowsStep runs one step of a client script (js/rows.mjs, python/rows.py)
// as token, with the record prefixes me and other, into out.
type rowsStep func(t *testing.T, token, me, other, step string, out any)

// TestRowLevelSecurityJSClient: the real chromadb JS client, as two users
// with rows sharing one collection, through every read and write it
// offers: each sees and changes only its own records (issue 23).
func TestRowLevelSecurityJSClient(t *testing.T) {
	eachChroma(t, func(t *testing.T, _ *chromaServer) {
		e := newRowsEnv(t)
		checkRowsClient(t, e, func(t *testing.T, token, me, other, step string, out any) {
			t.Helper()
			runJS(t, e.g, "js/rows.mjs", out, credential{kind: credBearer, token: token},
				"TENANT="+e.tenant, "DATABASE=prod", "COLLECTION=shared", "ME="+me, "OTHER="+other, "STEP="+step)
		}, false)
	})
}

// TestRowLevelSecurityPythonClient: the same with the real Python client
// (chromadb 1.5.9), and its search reaching Chroma 1.5.9.
func TestRowLevelSecurityPythonClient(t *testing.T) {
	eachChroma(t, func(t *testing.T, c *chromaServer) {
		e := newRowsEnv(t)
		search := c == suite.chromaPyPI
		checkRowsClient(t, e, func(t *testing.T, token, me, other, step string, out any) {
			t.Helper()
			env := []string{"CREDENTIALS=" + token, "TENANT=" + e.tenant, "DATABASE=prod", "COLLECTION=shared", "ME=" + me, "OTHER=" + other, "STEP=" + step}
			if search {
				env = append(env, "SEARCH=1")
			}
			runPyScript(t, 2*time.Minute, e.g, "rows.py", out, env...)
		}, search)
	})
}

// checkRowsClient drives alice and bob (rows owner: {user}) through a
// client's steps and checks each answer and what Chroma holds after.
func checkRowsClient(t *testing.T, e *rowsEnv, run rowsStep, search bool) {
	var wrote struct{ Written bool }
	run(t, e.alice, "a", "b", "write", &wrote)
	run(t, e.bob, "b", "a", "write", &wrote)
	assert.True(t, wrote.Written)
	for id, m := range e.get(t, e.admin, `{"include":["metadatas"]}`) {
		if id != "x0" {
			assert.Equal(t, map[byte]string{'a': "alice", 'b': "bob"}[id[0]], m["owner"], "%s stamped with its writer", id)
		}
	}

	var read struct {
		All, ByIDs, Where map[string]any
		Peek, Query       []string
		Search            string
		Count             int
		AfterWrite        []string
	}
	run(t, e.alice, "a", "b", "read", &read)
	mine := []string{"a-1", "a-2", "a-3"}
	assert.Equal(t, map[string]any{"a-1": "alice", "a-2": "alice", "a-3": "alice"}, read.All)
	assert.Equal(t, map[string]any{"a-1": "alice"}, read.ByIDs, "get by ids: only one's own among them")
	assert.Equal(t, map[string]any{"a-1": "alice"}, read.Where, "where ANDed with the rows")
	assert.Equal(t, mine, read.Peek)
	assert.Equal(t, 3, read.Count)
	assert.Equal(t, mine, read.Query)
	if search {
		// Chroma 1.5.9 runs searches only in its distributed executor; its
		// single-node server parses the body first, so this answer shows the
		// rewritten search (rows ANDed into its filter) is one Chroma takes.
		// What the rewrite adds is shown in rows/ (TestRewrite, FuzzRewrite).
		assert.Contains(t, read.Search, "Search operation is not implemented for local executor")
	}
	assert.Equal(t, []string{"x", "z"}, read.AfterWrite, "one's own update and upsert pass")

	var refused struct {
		AddClaimingOther, UpdateOthers, UpsertOthers, ChangeOwner, DeleteCollection, Rename string
	}
	run(t, e.alice, "a", "b", "refused", &refused)
	for what, got := range map[string]string{
		"a record claiming another owner": refused.AddClaimingOther, "an update of another's record": refused.UpdateOthers,
		"an upsert touching another's record": refused.UpsertOthers, "an owner change": refused.ChangeOwner,
		"a collection delete": refused.DeleteCollection, "a rename": refused.Rename,
	} {
		assert.Regexp(t, `Forbidden|forbidden|403`, got, "%s must be refused", what)
	}
	all := e.get(t, e.admin, `{"include":["metadatas"]}`)
	assert.NotContains(t, all, "a-9", "nothing of a refused write is written")
	assert.Equal(t, "bob", all["b-1"]["owner"])
	assert.Equal(t, "x", all["b-1"]["k"], "the refused update changed nothing")
	assert.Equal(t, "alice", all["a-1"]["owner"])
	assert.Equal(t, e.coll, e.oracle.collectionID("shared"), "the collection is still there under its name")

	var left struct{ Left []string }
	run(t, e.alice, "a", "b", "delete", &left)
	assert.Equal(t, []string{"a-2"}, left.Left, "alice deleted her a-3 and her k = x")
	assert.Equal(t, []string{"a-2", "b-1", "b-2", "b-3", "x0"}, keys(e.get(t, e.admin, `{}`)), "bob's records untouched")
}
