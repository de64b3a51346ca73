package providers

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/keyed"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/quota"
)

// Sources says where a credential set comes from.
type Sources struct {
	// HtpasswdFile holds the basic-auth users, bcrypt hashes only.
	HtpasswdFile string
	// HtpasswdInline is htpasswd content given directly (Chroma's
	// CHROMA_SERVER_AUTHN_CREDENTIALS with the basic provider), named
	// HtpasswdInlineName in messages. Exclusive with HtpasswdFile.
	HtpasswdInline     string
	HtpasswdInlineName string
	// UsersFile is a Chroma users YAML giving basic users their tenant,
	// databases and role; tokens listed in it are accepted too.
	UsersFile string
	// Tokens are static tokens given in the configuration itself; each is
	// an anonymous token (every tenant and database).
	Tokens []string
	// TokenFiles are token files: plain lists or Chroma users YAML.
	TokenFiles []string
	// UnlistedUsers says what htpasswd users that the users file does not
	// list get, when a users file is set: "" refuses such a set (the load
	// fails, naming the file and each user missing), UnlistedAll gives
	// them every tenant and database, UnlistedDeny keeps them out.
	UnlistedUsers string
	// Elsewhere: requests can also authenticate outside this set (JWTs),
	// so a set with no users and no tokens is no error.
	Elsewhere bool
	// KeysFile holds API keys (see ParseKeys): hashes and scopes, made by
	// `caddy chroma-auth key create`.
	KeysFile string
	// ClientCert: verified client certificates are identities, the users
	// file's `certs:` saying whose; a users file with only certs is then
	// no error.
	ClientCert bool
}

// The values of Sources.UnlistedUsers.
const (
	UnlistedAll  = "all"
	UnlistedDeny = "deny"
)

// Files lists the files a set is loaded from, for watching.
func (s Sources) Files() []string {
	var files []string
	if s.HtpasswdFile != "" {
		files = append(files, s.HtpasswdFile)
	}
	if s.UsersFile != "" {
		files = append(files, s.UsersFile)
	}
	files = append(files, s.TokenFiles...)
	if s.KeysFile != "" {
		files = append(files, s.KeysFile)
	}
	return files
}

// Credentials is one loaded, immutable credential set. A reload builds a new
// one and swaps it in whole, so a request always sees one consistent set.
type Credentials struct {
	users    map[string]*basicUser
	tokens   map[uint64][]tokenRecord // keyed by the first 8 bytes of the digest
	nTokens  int
	fakeHash []byte
	keys     map[string]*apiKey       // by key id; nil without a keys file
	limits   map[string]*quota.Limits // users' `limits:`, by user id
	basic    bool
	token    bool
	// named: what the files give each user that issued credentials are
	// narrowed to (least.go); warnings: what the load noticed.
	named    map[string][]namedUser
	warnings []string

	certs     certIndex // by matcher; see CertIdentity
	certUsers int
}

type tokenRecord struct {
	digest keyed.Digest
	id     *Identity
}

type basicUser struct {
	hash string
	id   *Identity
}

// Basic reports whether basic auth is configured.
func (c *Credentials) Basic() bool { return c.basic }

// Token reports whether token auth is configured.
func (c *Credentials) Token() bool { return c.token }

// NumUsers is the number of basic users.
func (c *Credentials) NumUsers() int { return len(c.users) }

// NumTokens is the number of distinct tokens.
func (c *Credentials) NumTokens() int { return c.nTokens }

// Load reads every source and builds a credential set, or says exactly
// which file, line and user is wrong.
func Load(src Sources) (*Credentials, error) {
	c := &Credentials{
		users:  make(map[string]*basicUser),
		tokens: make(map[uint64][]tokenRecord),
	}
	var users []UserEntry
	if src.UsersFile != "" {
		var err error
		if users, err = LoadUsers(src.UsersFile, false); err != nil {
			return nil, err
		}
	}
	if err := c.addCerts(src.UsersFile, users); err != nil {
		return nil, err
	}
	if src.HtpasswdFile != "" && src.HtpasswdInline != "" {
		return nil, fmt.Errorf("both an htpasswd file and %s are set: keep one", src.HtpasswdInlineName)
	}
	if src.HtpasswdFile != "" || src.HtpasswdInline != "" {
		var entries []HtpasswdEntry
		var err error
		if src.HtpasswdFile != "" {
			entries, err = LoadHtpasswd(src.HtpasswdFile)
		} else {
			entries, err = ParseHtpasswd(src.HtpasswdInlineName, []byte(src.HtpasswdInline))
		}
		if err != nil {
			return nil, err
		}
		if err := c.addBasic(entries, users, src); err != nil {
			return nil, err
		}
	}
	for i := range users {
		c.setUserLimits(users[i].ID, users[i].Limits)
	}
	owner := make(map[keyed.Digest]string) // digest → where it was first seen
	add := func(e TokenEntry) error {
		d := tokenDigest(e.Token)
		if first, dup := owner[d]; dup {
			return fmt.Errorf("%s: a token also given at %s: a token must belong to one user", e.Source, first)
		}
		owner[d] = e.Source
		k := binary.LittleEndian.Uint64(d[:8])
		c.tokens[k] = append(c.tokens[k], tokenRecord{digest: d, id: e.Identity})
		c.nTokens++
		return nil
	}
	for i, tok := range src.Tokens {
		if err := checkToken(tok); err != nil {
			return nil, fmt.Errorf("token #%d: %v", i+1, err)
		}
		anon := AnonymousIdentity()
		anon.Source = fmt.Sprintf("token #%d", i+1)
		if err := add(TokenEntry{Token: tok, Identity: anon, Source: anon.Source}); err != nil {
			return nil, err
		}
	}
	for i := range users {
		c.nameUser(users[i].Identity(ProviderBasic), (&FileError{File: src.UsersFile, Line: users[i].Line}).where())
		for _, tok := range users[i].Tokens {
			if err := add(TokenEntry{Token: tok, Identity: users[i].Identity("token"), Source: (&FileError{File: src.UsersFile, Line: users[i].Line}).where()}); err != nil {
				return nil, err
			}
		}
	}
	for _, f := range src.TokenFiles {
		if f == src.UsersFile {
			continue // its tokens are in already: one file, named twice
		}
		entries, err := LoadTokenFile(f)
		if err != nil {
			return nil, err
		}
		var last *Identity
		for _, e := range entries {
			if err := add(e); err != nil {
				return nil, err
			}
			if e.Named && e.Identity != last { // a user's tokens share one identity
				c.nameUser(e.Identity, e.Source)
				last = e.Identity
			}
			c.setUserLimits(e.Identity.User, e.UserLimits)
		}
	}
	if src.KeysFile != "" {
		keys, err := LoadKeys(src.KeysFile)
		if err != nil {
			return nil, err
		}
		c.setKeys(keys, src.KeysFile)
	}
	c.basic = src.HtpasswdFile != "" || src.HtpasswdInline != ""
	c.token = c.nTokens > 0 || c.keys != nil // keys travel as tokens
	certs := src.ClientCert && c.certUsers > 0
	if src.UsersFile != "" && !c.basic && !c.token && !certs {
		return nil, fileErr(src.UsersFile, 0, "", "the users file gives identities to basic users, but no htpasswd file is set and it lists no tokens (nor certs, with client_cert)")
	}
	if !c.basic && !c.token && !certs && !src.Elsewhere {
		return nil, fmt.Errorf("no credentials configured: set an htpasswd file or tokens, so the gateway never starts open")
	}
	return c, nil
}

func (c *Credentials) addBasic(entries []HtpasswdEntry, users []UserEntry, src Sources) error {
	byID := make(map[string]*UserEntry, len(users))
	for i := range users {
		byID[users[i].ID] = &users[i]
	}
	costs := make(map[int]int)
	if len(c.users) == 0 {
		c.users = make(map[string]*basicUser, len(entries))
	}
	if err := checkUnlisted(entries, byID, src); err != nil {
		return err
	}
	for _, e := range entries {
		id := &Identity{User: e.User, Tenant: Any, Databases: []string{Any}, Provider: ProviderBasic, Source: htpasswdSource(src, e.Line)}
		if u := byID[e.User]; u != nil {
			id = u.Identity(ProviderBasic)
		} else if src.UsersFile != "" && src.UnlistedUsers == UnlistedDeny {
			continue // checked against the fake hash, as an unknown user
		}
		c.users[e.User] = &basicUser{hash: e.Hash, id: id}
		costs[hashCost(e.Hash)]++
	}
	common, n := bcrypt.DefaultCost, 0
	for cost, k := range costs {
		if k > n || (k == n && cost > common) {
			common, n = cost, k
		}
	}
	var err error
	c.fakeHash, err = fakeHash(common)
	return err
}

// htpasswdSource is where an htpasswd entry was read, for Identity.Source.
func htpasswdSource(src Sources, line int) string {
	name := src.HtpasswdFile
	if name == "" {
		name = src.HtpasswdInlineName
	}
	return (&FileError{File: name, Line: line}).where()
}

var (
	fakeMu     sync.Mutex
	fakeHashes = map[int][]byte{}
)

// fakeHash is a bcrypt hash of a random password at the given cost. An
// unknown user is checked against it so that it costs the same time as a
// known one: response time must not tell which users exist. It is made once
// per cost and kept, as making one costs as much as a check.
func fakeHash(cost int) ([]byte, error) {
	fakeMu.Lock()
	defer fakeMu.Unlock()
	if h, ok := fakeHashes[cost]; ok {
		return h, nil
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	h, err := bcrypt.GenerateFromPassword(secret, cost)
	if err != nil {
		return nil, err
	}
	fakeHashes[cost] = h
	return h, nil
}

// tokenKey keys the token digests with keys of this process, so that
// nobody outside can compute the digest of a token they try.
var tokenKey = keyed.New()

// tokenDigest is the keyed digest of a token. Only digests are kept in
// memory, never the tokens themselves.
func tokenDigest(tok string) keyed.Digest { return tokenKey.Sum(tok) }

// lookupToken finds the identity of a token. The map is keyed by the first
// eight bytes of the keyed digest, so a lookup's timing depends only on
// digest bytes nobody outside can predict; the whole digest is then compared
// in constant time.
func (c *Credentials) lookupToken(tok string) (*Identity, bool) {
	if len(tok) == 0 || len(tok) > MaxTokenLen {
		return nil, false
	}
	d := tokenDigest(tok)
	var found *Identity
	for _, rec := range c.tokens[binary.LittleEndian.Uint64(d[:8])] {
		if subtle.ConstantTimeCompare(rec.digest[:], d[:]) == 1 {
			found = rec.id
		}
	}
	return found, found != nil
}

// hashCost reads the cost of a bcrypt hash ("$2y$NN$…", checked by
// ParseHtpasswd) without bcrypt.Cost's parse and allocations.
func hashCost(h string) int {
	if len(h) < 7 || h[6] != '$' || h[4] < '0' || h[4] > '9' || h[5] < '0' || h[5] > '9' {
		c, _ := bcrypt.Cost([]byte(h))
		return c
	}
	return int(h[4]-'0')*10 + int(h[5]-'0')
}

// maxNamedMissing bounds how many missing users an error lists.
const maxNamedMissing = 20

// checkUnlisted fails closed: with a users file, an htpasswd user it does
// not list would otherwise get every tenant and database unnoticed.
func checkUnlisted(entries []HtpasswdEntry, byID map[string]*UserEntry, src Sources) error {
	if src.UsersFile == "" || src.UnlistedUsers != "" {
		return nil
	}
	var missing []string
	n := 0
	for _, e := range entries {
		if byID[e.User] == nil {
			n++
			if len(missing) < maxNamedMissing {
				missing = append(missing, strconv.Quote(e.User))
			}
		}
	}
	if n == 0 {
		return nil
	}
	more := ""
	if n > len(missing) {
		more = fmt.Sprintf(" and %d more", n-len(missing))
	}
	return fileErr(src.UsersFile, 0, "", "htpasswd users not listed: %s%s; list them, or set unlisted_users to all (every tenant and database) or deny", strings.Join(missing, ", "), more)
}

// setUserLimits records a user's `limits:`; the first file that gives
// them wins.
func (c *Credentials) setUserLimits(user string, l *quota.Limits) {
	if l == nil {
		return
	}
	if c.limits == nil {
		c.limits = make(map[string]*quota.Limits)
	}
	if _, ok := c.limits[user]; !ok {
		c.limits[user] = l
	}
}

// UserLimits are the `limits:` a users file gives user, nil when none.
// An API key's or a JWT's own limits (Identity.Limits) only tighten them.
func (c *Credentials) UserLimits(user string) *quota.Limits {
	return c.limits[user]
}
