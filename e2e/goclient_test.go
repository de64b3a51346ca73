package e2e

import (
	"testing"

	chroma "github.com/amikos-tech/chroma-go/pkg/api/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGoClient drives the real chroma-go client through the gateway in
// each auth set-up: public routes without credentials, the whole life of
// a collection with good ones, and every call refused with wrong or no
// credentials while Chroma stays untouched.
func TestGoClient(t *testing.T) {
	for _, mode := range suite.creds.modes() {
		t.Run(mode.name, func(t *testing.T) {
			g := startGateway(t, mode.directive)
			t.Run("public routes without credentials", func(t *testing.T) {
				goPublicRoutes(t, g)
			})
			t.Run("collection life with good credentials", func(t *testing.T) {
				goCollectionLife(t, g, mode.good)
			})
			t.Run("wrong credentials refused", func(t *testing.T) {
				goRefused(t, g, mode.good, mode.wrong)
			})
			t.Run("no credentials refused", func(t *testing.T) {
				goRefused(t, g, mode.good, credential{kind: credNone})
			})
		})
	}
}

func goPublicRoutes(t *testing.T, g *gateway) {
	ctx := t.Context()
	anon := newGoClient(t, g, nil)
	require.NoError(t, anon.Heartbeat(ctx))
	version, err := anon.GetVersion(ctx)
	require.NoError(t, err)
	assert.Equal(t, suite.chroma.version, version, "the version Chroma itself reports")
}

func goCollectionLife(t *testing.T, g *gateway, good credential) {
	ctx := t.Context()
	oracle := chromaDirect(t)
	c := newGoClient(t, g, good.goAuth())
	name := uniqueName("go-life")
	t.Cleanup(func() { oracle.deleteCollection(name) })

	col, err := c.CreateCollection(ctx, name, chroma.WithEmbeddingFunctionCreate(noModelEF()))
	require.NoError(t, err)
	id := oracle.collectionID(name)
	require.NotEmpty(t, id, "Chroma has the collection")
	assert.Equal(t, id, col.ID())

	require.NoError(t, col.Add(ctx,
		chroma.WithIDs("north", "east", "up"),
		chroma.WithTexts("points north", "points east", "points up"),
		chroma.WithEmbeddings(emb(1, 0, 0), emb(0, 1, 0), emb(0, 0, 1)),
	))
	assert.Equal(t, []string{"east", "north", "up"}, oracle.ids(id))

	res, err := col.Query(ctx, chroma.WithQueryEmbeddings(emb(0.1, 0.9, 0)), chroma.WithNResults(1))
	require.NoError(t, err)
	require.Len(t, res.GetIDGroups(), 1)
	assert.Equal(t, chroma.DocumentIDs{"east"}, res.GetIDGroups()[0], "nearest to (0.1, 0.9, 0)")

	n, err := col.Count(ctx)
	require.NoError(t, err)
	assert.Equal(t, 3, n)

	require.NoError(t, col.Delete(ctx, chroma.WithIDs("north")))
	n, err = col.Count(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, []string{"east", "up"}, oracle.ids(id))

	got, err := c.GetCollection(ctx, name, chroma.WithEmbeddingFunctionGet(noModelEF()))
	require.NoError(t, err)
	assert.Equal(t, id, got.ID())

	require.NoError(t, c.DeleteCollection(ctx, name))
	assert.Empty(t, oracle.collectionID(name), "Chroma no longer has the collection")
}

// goRefused makes a collection with good credentials, switches the same
// client to bad ones, and checks that every call is refused with chroma-go's
// 401 error and that nothing changed in Chroma.
func goRefused(t *testing.T, g *gateway, good, bad credential) {
	ctx := t.Context()
	oracle := chromaDirect(t)
	fixture := uniqueName("go-fixture")
	fixtureID := oracle.createCollection(fixture, map[string][]float32{"a": {1, 0, 0}, "b": {0, 1, 0}})
	t.Cleanup(func() { oracle.deleteCollection(fixture) })
	newName := uniqueName("go-refused")
	t.Cleanup(func() { oracle.deleteCollection(newName) })

	auth := &switchableAuth{}
	auth.use(good)
	c := newGoClient(t, g, auth)
	col, err := c.GetCollection(ctx, fixture, chroma.WithEmbeddingFunctionGet(noModelEF()))
	require.NoError(t, err, "the handle is made with good credentials")

	auth.use(bad)
	// Public routes stay open whatever the credentials.
	require.NoError(t, c.Heartbeat(ctx))
	_, err = c.GetVersion(ctx)
	require.NoError(t, err)

	_, err = c.CreateCollection(ctx, newName, chroma.WithEmbeddingFunctionCreate(noModelEF()))
	requireUnauthorized(t, err, "CreateCollection")
	_, err = c.GetCollection(ctx, fixture, chroma.WithEmbeddingFunctionGet(noModelEF()))
	requireUnauthorized(t, err, "GetCollection")
	_, err = c.ListCollections(ctx)
	requireUnauthorized(t, err, "ListCollections")
	_, err = c.CountCollections(ctx)
	requireUnauthorized(t, err, "CountCollections")
	err = col.Add(ctx, chroma.WithIDs("c"), chroma.WithTexts("intruder"), chroma.WithEmbeddings(emb(0, 0, 1)))
	requireUnauthorized(t, err, "Add")
	_, err = col.Query(ctx, chroma.WithQueryEmbeddings(emb(1, 0, 0)), chroma.WithNResults(1))
	requireUnauthorized(t, err, "Query")
	_, err = col.Count(ctx)
	requireUnauthorized(t, err, "Count")
	err = col.Delete(ctx, chroma.WithIDs("a"))
	requireUnauthorized(t, err, "Delete")
	err = c.DeleteCollection(ctx, fixture)
	requireUnauthorized(t, err, "DeleteCollection")

	assert.Empty(t, oracle.collectionID(newName), "no collection was created")
	assert.Equal(t, fixtureID, oracle.collectionID(fixture), "the fixture still exists")
	assert.Equal(t, []string{"a", "b"}, oracle.ids(fixtureID), "no document was added or deleted")

	// And the same client works again with good credentials: the refusals
	// above were about the credentials, not a broken client.
	auth.use(good)
	n, err := col.Count(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
}
