package authz

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseCollections(t *testing.T) {
	body := []byte(" [ {\"id\":\"a\",\"name\":\"x\",\"tenant\":\"t\",\"database\":\"d\",\"metadata\":{\"k\":[1,2]}} ,\n\t{\"id\":\"b\",\"name\":\"y\"} ] ")
	list, ok := ParseCollections(body)
	require.True(t, ok)
	require.Len(t, list, 2)
	assert.Equal(t, "x", list[0].Name)
	assert.Equal(t, `{"id":"a","name":"x","tenant":"t","database":"d","metadata":{"k":[1,2]}}`, string(list[0].Raw), "raw as sent, no separator")
	assert.Equal(t, `{"id":"b","name":"y"}`, string(list[1].Raw))
	assert.Equal(t, `[{"id":"a","name":"x","tenant":"t","database":"d","metadata":{"k":[1,2]}},{"id":"b","name":"y"}]`, string(ListJSON(list)))

	one, ok := ParseCollections([]byte(`{"id":"c","name":"z"}`))
	require.True(t, ok)
	assert.Equal(t, "z", one[0].Name)

	empty, ok := ParseCollections([]byte(`[]`))
	require.True(t, ok)
	assert.Empty(t, empty)
	assert.Equal(t, "[]", string(ListJSON(empty)))

	for _, bad := range []string{``, `[`, `[{"id":1}]`, `[{}`, `[{}] x`, `[1]`, `nope`, `{"error":`} {
		_, ok := ParseCollections([]byte(bad))
		assert.False(t, ok, bad)
	}
	assert.Equal(t, []Collection{{Name: "b"}, {Name: "c"}}, stripRaw(Page([]Collection{{Name: "a"}, {Name: "b"}, {Name: "c"}}, -1, 1)))
	assert.Equal(t, []Collection{{Name: "b"}}, stripRaw(Page([]Collection{{Name: "a"}, {Name: "b"}, {Name: "c"}}, 1, 1)))
	assert.Nil(t, Page([]Collection{{Name: "a"}}, 5, 3))
}

func stripRaw(l []Collection) []Collection {
	for i := range l {
		l[i].Raw = nil
	}
	return l
}
