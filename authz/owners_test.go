package authz

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCanonicalUUID(t *testing.T) {
	want := "5f2c1a9e-7d41-4b0a-9a53-0c3c2f1e8b77"
	for _, s := range []string{
		want,
		"5F2C1A9E-7D41-4B0A-9A53-0C3C2F1E8B77",
		"5f2c1a9e7d414b0a9a530c3c2f1e8b77",
		"{5f2c1a9e-7d41-4b0a-9a53-0c3c2f1e8b77}",
		"urn:uuid:5f2c1a9e-7d41-4b0a-9a53-0c3c2f1e8b77",
		"URN:UUID:5F2C1A9E-7D41-4B0A-9A53-0C3C2F1E8B77",
	} {
		got, ok := CanonicalUUID(s)
		assert.True(t, ok, s)
		assert.Equal(t, want, got, s)
	}
	for _, s := range []string{"", "docs", "5f2c1a9e-7d41-4b0a-9a53-0c3c2f1e8b7", "5f2c1a9e-7d41-4b0a-9a53-0c3c2f1e8b7g",
		"5f2c1a9e_7d41_4b0a_9a53_0c3c2f1e8b77", "{5f2c1a9e-7d41-4b0a-9a53-0c3c2f1e8b77", "5f2c1a9e-7d414b0a-9a53-0c3c2f1e8b77-"} {
		_, ok := CanonicalUUID(s)
		assert.False(t, ok, s)
	}
}

func TestOwnersCheck(t *testing.T) {
	o := NewOwners(100)
	foreign := "0c3c2f1e-7d41-4b0a-9a53-5f2c1a9e8b77"
	n := o.LearnJSON([]byte(`[
		{"id":"` + cid + `","name":"docs","tenant":"acme","database":"prod","metadata":null},
		{"id":"` + foreign + `","name":"secrets","tenant":"beta","database":"prod"},
		{"id":"not-a-uuid","tenant":"acme","database":"prod"},
		{"id":"` + cid + `"}
	]`))
	assert.Equal(t, 2, n)

	// The caller's own collection, in any spelling.
	for _, path := range []string{cp + "/get", tp + "/collections/5F2C1A9E7D414B0A9A530C3C2F1E8B77/get"} {
		assert.NoError(t, o.Check(classify(t, "POST", path, "{}")), path)
	}
	// Another tenant's collection through the caller's own path.
	err := o.Check(classify(t, "POST", tp+"/collections/"+foreign+"/get", "{}"))
	var d *Denied
	require.ErrorAs(t, err, &d)
	assert.Contains(t, d.Reason, "not in tenant")
	// The same id in another database of the right tenant.
	assert.Error(t, o.Check(classify(t, "POST", "/api/v2/tenants/acme/databases/dev/collections/"+cid+"/add", "{}")))
	// Not yet known.
	unknown := "11111111-2222-4333-8444-555555555555"
	assert.ErrorIs(t, o.Check(classify(t, "GET", tp+"/collections/"+unknown+"/count", "")), ErrOwnerUnknown)
	// Not a UUID.
	require.ErrorAs(t, o.Check(classify(t, "POST", tp+"/collections/docs/add", "{}")), &d)
	// Routes that name their collection by name are not its concern.
	assert.NoError(t, o.Check(classify(t, "GET", tp+"/collections/docs", "")))

	// One collection object, as get and create answer.
	assert.Equal(t, 1, o.LearnJSON([]byte(` {"id":"`+unknown+`","tenant":"acme","database":"prod"}`)))
	assert.NoError(t, o.Check(classify(t, "GET", tp+"/collections/"+unknown+"/count", "")))
	assert.Equal(t, 0, o.LearnJSON([]byte(`{"error":"NotFoundError"}`)))
	assert.Equal(t, 0, o.LearnJSON([]byte(`[`)))
}

func TestOwnersBounded(t *testing.T) {
	o := NewOwners(10)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				id := fmt.Sprintf("%08x-0000-4000-8000-%012x", g, i)
				o.Learn(id, "t", "d")
				o.Lookup(id)
			}
		}(g)
	}
	wg.Wait()
	o.mu.Lock()
	defer o.mu.Unlock()
	assert.LessOrEqual(t, len(o.m), 10)
}
