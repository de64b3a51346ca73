package providers

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func newBasic(t testing.TB, lines ...string) (*Authenticator, string) {
	t.Helper()
	path := writeFile(t, "server.htpasswd", strings.Join(lines, "\n")+"\n")
	creds, err := Load(Sources{HtpasswdFile: path})
	require.NoError(t, err)
	return NewAuthenticator(creds, Options{}), path
}

func TestCheckBasicRunsBcryptOncePerPair(t *testing.T) {
	a, _ := newBasic(t, bcryptLine(t, "alice", "pa:ss:word"))
	ctx := context.Background()
	for i := 0; i < 5; i++ {
		id, err := a.CheckBasic(ctx, a.Credentials(), "alice", "pa:ss:word")
		require.NoError(t, err)
		assert.Equal(t, "alice", id.User)
		assert.Equal(t, "basic", id.Provider)
	}
	st := a.Stats()
	assert.Equal(t, uint64(1), st.BcryptChecks)
	assert.Equal(t, uint64(4), st.CacheHits)
	assert.Equal(t, 1, st.CacheSize)

	_, err := a.CheckBasic(ctx, a.Credentials(), "alice", "pa:ss")
	assert.ErrorIs(t, err, ErrBadCredentials)
	_, err = a.CheckBasic(ctx, a.Credentials(), "alice", "pa:ss")
	assert.ErrorIs(t, err, ErrBadCredentials)
	assert.Equal(t, uint64(3), a.Stats().BcryptChecks, "wrong passwords are never cached")
	for i := 0; i < 20; i++ {
		_, _ = a.CheckBasic(ctx, a.Credentials(), fmt.Sprintf("flood-%d", i), "x")
	}
	assert.Equal(t, 1, a.Stats().CacheSize, "a flood of distinct wrong credentials does not grow the cache")
}

func TestCheckBasicUnknownUserCostsABcrypt(t *testing.T) {
	a, _ := newBasic(t, bcryptLine(t, "alice", "secret"))
	_, err := a.CheckBasic(context.Background(), a.Credentials(), "mallory", "secret")
	assert.ErrorIs(t, err, ErrBadCredentials)
	assert.Equal(t, uint64(1), a.Stats().BcryptChecks, "an unknown user is checked against a fake hash")
	creds := a.Credentials()
	assert.Equal(t, hashCost(creds.users["alice"].hash), hashCost(string(creds.fakeHash)), "fake hash has the users' cost")
}

func TestCheckBasicConcurrentFirstRequestsShareOneBcrypt(t *testing.T) {
	a, _ := newBasic(t, bcryptLine(t, "alice", "secret"))
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := a.CheckBasic(context.Background(), a.Credentials(), "alice", "secret")
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	// singleflight joins those in flight together; a late goroutine may
	// find the cache filled. Either way, far fewer bcrypts than requests.
	assert.LessOrEqual(t, a.Stats().BcryptChecks, uint64(2))
}

func TestSwapRefusesRemovedUserAndChangedPasswordAtOnce(t *testing.T) {
	a, path := newBasic(t, bcryptLine(t, "alice", "old"), bcryptLine(t, "bob", "bobpw"))
	ctx := context.Background()
	_, err := a.CheckBasic(ctx, a.Credentials(), "alice", "old")
	require.NoError(t, err)
	_, err = a.CheckBasic(ctx, a.Credentials(), "bob", "bobpw")
	require.NoError(t, err)
	require.Equal(t, 2, a.Stats().CacheSize)

	require.NoError(t, os.WriteFile(path, []byte(bcryptLine(t, "alice", "new")+"\n"), 0o600))
	creds, err := Load(Sources{HtpasswdFile: path})
	require.NoError(t, err)
	a.Swap(creds)

	assert.Equal(t, 0, a.Stats().CacheSize, "stale verifications are pruned")
	_, err = a.CheckBasic(ctx, a.Credentials(), "bob", "bobpw")
	assert.ErrorIs(t, err, ErrBadCredentials, "removed user")
	_, err = a.CheckBasic(ctx, a.Credentials(), "alice", "old")
	assert.ErrorIs(t, err, ErrBadCredentials, "old password")
	id, err := a.CheckBasic(ctx, a.Credentials(), "alice", "new")
	require.NoError(t, err)
	assert.Equal(t, "alice", id.User)
}

func TestCacheHitStillChecksTheCurrentSet(t *testing.T) {
	// Even without pruning (a check racing a swap), a cached entry only
	// counts while the current set has the same user with the same hash.
	a, path := newBasic(t, bcryptLine(t, "alice", "pw"))
	ctx := context.Background()
	_, err := a.CheckBasic(ctx, a.Credentials(), "alice", "pw")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, []byte(bcryptLine(t, "alice", "other")+"\n"), 0o600))
	creds, err := Load(Sources{HtpasswdFile: path})
	require.NoError(t, err)
	a.creds.Store(creds) // swap without prune
	_, err = a.CheckBasic(ctx, a.Credentials(), "alice", "pw")
	assert.ErrorIs(t, err, ErrBadCredentials)
}

func TestCacheIsBounded(t *testing.T) {
	var lines []string
	for i := 0; i < 300; i++ {
		lines = append(lines, bcryptLine(t, fmt.Sprintf("u%d", i), "pw"))
	}
	path := writeFile(t, "server.htpasswd", strings.Join(lines, "\n"))
	creds, err := Load(Sources{HtpasswdFile: path})
	require.NoError(t, err)
	a := NewAuthenticator(creds, Options{CacheSize: 64})
	for i := 0; i < 300; i++ {
		_, err := a.CheckBasic(context.Background(), a.Credentials(), fmt.Sprintf("u%d", i), "pw")
		require.NoError(t, err)
	}
	assert.LessOrEqual(t, a.Stats().CacheSize, 64)
	assert.Greater(t, a.Stats().CacheSize, 0)
}

func TestBcryptSlotsBoundConcurrency(t *testing.T) {
	a, _ := newBasic(t, bcryptLine(t, "alice", "pw"))
	a2 := NewAuthenticator(a.Credentials(), Options{MaxConcurrentBcrypt: 1, BcryptQueueTimeout: 50 * time.Millisecond})
	a2.slots <- struct{}{} // the only slot is taken
	_, err := a2.CheckBasic(context.Background(), a2.Credentials(), "alice", "pw")
	assert.ErrorIs(t, err, ErrBusy)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = a2.CheckBasic(ctx, a2.Credentials(), "alice", "pw")
	assert.ErrorIs(t, err, context.Canceled)
	<-a2.slots
	_, err = a2.CheckBasic(context.Background(), a2.Credentials(), "alice", "pw")
	assert.NoError(t, err)
}

func TestTokens(t *testing.T) {
	users := writeFile(t, "users.yaml", usersYAML)
	plain := writeFile(t, "tokens.txt", "file-token\n")
	creds, err := Load(Sources{Tokens: []string{"inline-token"}, TokenFiles: []string{users, plain}})
	require.NoError(t, err)
	a := NewAuthenticator(creds, Options{})
	assert.False(t, creds.Basic())
	assert.True(t, creds.Token())
	assert.Equal(t, 5, creds.NumTokens())

	id, err := a.CheckToken(a.Credentials(), "test-token-admin")
	require.NoError(t, err)
	assert.Equal(t, "user@example.com", id.User)
	id, err = a.CheckToken(a.Credentials(), "inline-token")
	require.NoError(t, err)
	assert.Equal(t, AnonymousUser, id.User)
	_, err = a.CheckToken(a.Credentials(), "file-token")
	require.NoError(t, err)
	for _, bad := range []string{"", "inline-toke", "inline-token ", "INLINE-TOKEN", strings.Repeat("x", MaxTokenLen+1)} {
		_, err = a.CheckToken(a.Credentials(), bad)
		assert.ErrorIs(t, err, ErrBadCredentials, "%q", bad)
	}
	_, err = a.CheckBasic(context.Background(), a.Credentials(), "anonymous", "inline-token")
	assert.ErrorIs(t, err, ErrBadCredentials, "no basic configured")
}

func TestLoadErrors(t *testing.T) {
	users := writeFile(t, "users.yaml", usersYAML)
	_, err := Load(Sources{})
	assert.ErrorContains(t, err, "no credentials configured")
	_, err = Load(Sources{Tokens: []string{"my_api_token"}, TokenFiles: []string{users}})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "users.yaml:7")
	assert.Contains(t, err.Error(), "token #1")
	assert.NotContains(t, err.Error(), "my_api_token")
	_, err = Load(Sources{Tokens: []string{""}})
	assert.ErrorContains(t, err, "token #1: empty token")
	_, err = Load(Sources{HtpasswdFile: "/nope/server.htpasswd"})
	assert.ErrorContains(t, err, "/nope/server.htpasswd")
}

func TestUsersFileGivesBasicUsersTheirIdentity(t *testing.T) {
	ht := writeFile(t, "server.htpasswd", bcryptLine(t, "reader", "pw")+"\n"+bcryptLine(t, "other", "pw")+"\n")
	users := writeFile(t, "users.yaml", "users:\n  - id: reader\n    role: db_read\n    tenant: acme\n    databases: [prod]\n")
	_, err := Load(Sources{HtpasswdFile: ht, UsersFile: users})
	require.Error(t, err, "an htpasswd user the users file does not list must not silently get everything")
	assert.Contains(t, err.Error(), users)
	assert.Contains(t, err.Error(), `"other"`)
	assert.NotContains(t, err.Error(), `"reader"`)

	creds, err := Load(Sources{HtpasswdFile: ht, UsersFile: users, UnlistedUsers: UnlistedAll})
	require.NoError(t, err)
	a := NewAuthenticator(creds, Options{})
	id, err := a.CheckBasic(context.Background(), creds, "reader", "pw")
	require.NoError(t, err)
	assert.Equal(t, &Identity{User: "reader", Role: "db_read", Tenant: "acme", Databases: []string{"prod"}, Provider: "basic", Source: users + ":2"}, id)
	id, err = a.CheckBasic(context.Background(), creds, "other", "pw")
	require.NoError(t, err)
	assert.Equal(t, ht+":2", id.Source, "a user the users file does not list is explained by its htpasswd line")
	assert.Equal(t, Any, id.Tenant)
	assert.True(t, id.AllDatabases())

	creds, err = Load(Sources{HtpasswdFile: ht, UsersFile: users, UnlistedUsers: UnlistedDeny})
	require.NoError(t, err)
	_, err = a.CheckBasic(context.Background(), creds, "other", "pw")
	assert.ErrorIs(t, err, ErrBadCredentials, "unlisted_users deny keeps unlisted users out")
	_, err = a.CheckBasic(context.Background(), creds, "reader", "pw")
	assert.NoError(t, err)
}

func TestOneUsersFileAsUsersFileAndTokenFile(t *testing.T) {
	ht := writeFile(t, "server.htpasswd", bcryptLine(t, "reader", "pw")+"\n")
	users := writeFile(t, "users.yaml", usersYAML)
	creds, err := Load(Sources{HtpasswdFile: ht, UsersFile: users, TokenFiles: []string{users}})
	require.NoError(t, err)
	assert.Equal(t, 3, creds.NumTokens(), "each token once")
	id, err := NewAuthenticator(creds, Options{}).CheckToken(creds, "my_api_token")
	require.NoError(t, err)
	assert.Equal(t, "reader", id.User)
	other := writeFile(t, "other.yaml", "users:\n  - id: x\n    tokens: [my_api_token]\n")
	_, err = Load(Sources{UsersFile: users, TokenFiles: []string{other}})
	assert.ErrorContains(t, err, "a token must belong to one user", "a token in two files is still an error")
}
