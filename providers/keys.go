package providers

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/quota"
)

// API keys. A key is `chk_<id>_<secret>`: a fixed prefix that secret
// scanners can match, the key's id, and the secret, both in base62 (so the
// key splits unambiguously at its underscores). The keys file keeps, for
// each key, its id, owner, label, creation and expiry times, scope, and a
// salted SHA-256 of the whole key; never the key. A request's key is found
// by its id (no search, no bcrypt: the secret has 256 bits of entropy, so a
// fast hash is as safe as a slow one) and checked with one constant-time
// compare.
//
// The file is JSON lines, one key a line:
//
//	{"id":"…","user":"alice","label":"laptop","created":"2026-11-25T12:00:00Z","expires":"2027-02-23T12:00:00Z","tenant":"acme","databases":["prod"],"role":"reader","collections":{"docs":"read"},"hash":"sha256:<salt>:<digest>"}
//
// One line per key makes every edit a one-line diff (a revoke removes
// exactly the key's line), makes `grep alice keys.jsonl` show a user's keys,
// and gives every problem an exact file:line. Blank lines and lines starting
// with '#' are skipped.

// KeyPrefix starts every API key.
const KeyPrefix = "chk_"

// Sizes of the parts of a key, in base62 characters.
const (
	KeyIDLen     = 16 // ~95 bits: ids never collide by chance
	KeySecretLen = 43 // 43·log2(62) ≈ 256 bits of entropy
	maxKeyIDLen  = 64
	maxSecretLen = 128
	maxKeyLen    = len(KeyPrefix) + maxKeyIDLen + 1 + maxSecretLen
	maxLabelLen  = 200
	keySaltLen   = 16
	keyHashAlgo  = "sha256"
)

// NeverExpires is the keys file's `expires` of a key that does not expire.
const NeverExpires = "never"

// ErrKeyExpired: the API key is valid but past its expiry. The gateway
// answers 401 saying so, as the clients show the message.
var ErrKeyExpired = errors.New("API key expired")

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func isBase62(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z') {
			return false
		}
	}
	return true
}

// SplitKey splits `chk_<id>_<secret>` into its id and secret. ok is false
// for anything else: a missing prefix, characters outside base62, an id or
// secret out of bounds.
func SplitKey(key string) (id, secret string, ok bool) {
	if len(key) > maxKeyLen || !strings.HasPrefix(key, KeyPrefix) {
		return "", "", false
	}
	id, secret, ok = strings.Cut(key[len(KeyPrefix):], "_")
	if !ok || !validKeyID(id) || len(secret) < KeySecretLen || len(secret) > maxSecretLen || !isBase62(secret) {
		return "", "", false
	}
	return id, secret, true
}

func validKeyID(id string) bool {
	return len(id) >= 8 && len(id) <= maxKeyIDLen && isBase62(id)
}

// randomBase62 is n characters drawn uniformly from crypto/rand.
func randomBase62(n int) (string, error) {
	b := make([]byte, n)
	limit := big.NewInt(int64(len(base62)))
	for i := range b {
		v, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return "", err
		}
		b[i] = base62[v.Int64()]
	}
	return string(b), nil
}

// NewKey makes a new API key and its id.
func NewKey() (key, id string, err error) {
	if id, err = randomBase62(KeyIDLen); err != nil {
		return "", "", err
	}
	secret, err := randomBase62(KeySecretLen)
	if err != nil {
		return "", "", err
	}
	return KeyPrefix + id + "_" + secret, id, nil
}

// keyDigest is SHA-256(salt || key), computed in a buffer on the stack: no
// allocation per request.
func keyDigest(salt []byte, key string) [sha256.Size]byte {
	var buf [keySaltLen + maxKeyLen]byte
	n := copy(buf[:], salt)
	n += copy(buf[n:], key)
	return sha256.Sum256(buf[:n])
}

// HashKey is the keys file's `hash` of key: "sha256:<salt>:<digest>", the
// salt fresh from crypto/rand, both in unpadded URL-safe base64.
func HashKey(key string) (string, error) {
	if _, _, ok := SplitKey(key); !ok {
		return "", errors.New("not an API key")
	}
	salt := make([]byte, keySaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	d := keyDigest(salt, key)
	enc := base64.RawURLEncoding
	return keyHashAlgo + ":" + enc.EncodeToString(salt) + ":" + enc.EncodeToString(d[:]), nil
}

// parseKeyHash reads "sha256:<salt>:<digest>".
func parseKeyHash(h string) (salt [keySaltLen]byte, digest [sha256.Size]byte, err error) {
	parts := strings.Split(h, ":")
	if len(parts) != 3 || parts[0] != keyHashAlgo {
		return salt, digest, errors.New("hash: want sha256:<salt>:<digest>")
	}
	enc := base64.RawURLEncoding
	s, serr := enc.DecodeString(parts[1])
	d, derr := enc.DecodeString(parts[2])
	if serr != nil || derr != nil || len(s) != keySaltLen || len(d) != sha256.Size {
		return salt, digest, errors.New("hash: malformed salt or digest")
	}
	copy(salt[:], s)
	copy(digest[:], d)
	return salt, digest, nil
}

// KeyEntry is one line of a keys file.
type KeyEntry struct {
	ID      string
	User    string
	Label   string
	Created time.Time
	Expires time.Time // zero: never
	// The scope, as in the users file: Tenant "" or "*" is every tenant,
	// no Databases every database, nil Collections every collection.
	Tenant      string
	Databases   []string
	Role        string
	Collections *Grants
	// Rows: metadata key → value a record must hold ({user} replaced);
	// nil for every record.
	Rows map[string]string
	Hash string // sha256:<salt>:<digest>, never the key
	Line int    // 1-based line in the file; 0 for a new entry
	// Limits are the key's own quotas; they only tighten its user's.
	Limits *quota.Limits
}

// keyLine is the JSON of a KeyEntry.
type keyLine struct {
	ID        string   `json:"id"`
	User      string   `json:"user"`
	Label     string   `json:"label,omitempty"`
	Created   string   `json:"created"`
	Expires   string   `json:"expires"`
	Tenant    string   `json:"tenant,omitempty"`
	Databases []string `json:"databases,omitempty"`
	Role      string   `json:"role,omitempty"`
	// A pointer, so that `{}` (no collection) is written and read apart
	// from no key at all (every collection).
	Collections *map[string]string `json:"collections,omitempty"`
	Rows        map[string]string  `json:"rows,omitempty"`
	Hash        string             `json:"hash"`
	Limits      *quota.Limits      `json:"limits,omitempty"`
}

// Expired reports whether the key has expired at now.
func (e *KeyEntry) Expired(now time.Time) bool {
	return !e.Expires.IsZero() && !now.Before(e.Expires)
}

// Identity is the identity the key proves: its user and scope, with
// Provider "key" and KeyID set.
func (e *KeyEntry) Identity() *Identity {
	u := UserEntry{ID: e.User, Role: e.Role, Tenant: e.Tenant, Databases: e.Databases, Collections: e.Collections, Rows: e.Rows}
	id := u.Identity(ProviderKey)
	id.KeyID = e.ID
	id.Limits = e.Limits
	return id
}

// MarshalLine is the entry as one line of a keys file, without the newline.
func (e *KeyEntry) MarshalLine() ([]byte, error) {
	l := keyLine{
		ID: e.ID, User: e.User, Label: e.Label, Created: e.Created.UTC().Format(time.RFC3339),
		Expires: NeverExpires, Tenant: e.Tenant, Databases: e.Databases, Role: e.Role,
		Rows: e.Rows, Hash: e.Hash, Limits: e.Limits,
	}
	if !e.Expires.IsZero() {
		l.Expires = e.Expires.UTC().Format(time.RFC3339)
	}
	if e.Collections != nil {
		m := e.Collections.Map()
		l.Collections = &m
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(l); err != nil {
		return nil, err
	}
	line := bytes.TrimRight(b.Bytes(), "\n")
	if _, err := parseKeyLine("new key", 1, line); err != nil {
		return nil, err
	}
	return line, nil
}

// LoadKeys reads a keys file.
func LoadKeys(path string) ([]KeyEntry, error) {
	data, err := readFile(path, "keys file")
	if err != nil {
		return nil, err
	}
	return ParseKeys(path, data)
}

// ParseKeys parses a keys file: JSON lines, '#' comments and blank lines
// skipped. A file with no keys is valid (every key revoked lets nobody in).
// Every problem names the file, line and key id; no hash is quoted.
func ParseKeys(name string, data []byte) ([]KeyEntry, error) {
	var out []KeyEntry
	seen := make(map[string]int)
	err := eachLine(name, data, func(lineNo int, line string) error {
		e, err := parseKeyLine(name, lineNo, []byte(line))
		if err != nil {
			return err
		}
		if first, dup := seen[e.ID]; dup {
			return fileErr(name, lineNo, keyWho(e.ID), "duplicate key id (first on line %d)", first)
		}
		seen[e.ID] = lineNo
		out = append(out, e)
		return nil
	})
	return out, err
}

func keyWho(id string) string { return fmt.Sprintf("key %q", id) }

func parseKeyLine(name string, lineNo int, line []byte) (KeyEntry, error) {
	var l keyLine
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return KeyEntry{}, fileErr(name, lineNo, "", "malformed key line: %s (want one JSON object a line, as `caddy chroma-auth key create` writes)", jsonMsg(err))
	}
	if dec.More() {
		return KeyEntry{}, fileErr(name, lineNo, "", "malformed key line: more than one JSON value on the line")
	}
	bad := func(who, format string, args ...any) (KeyEntry, error) {
		return KeyEntry{}, fileErr(name, lineNo, who, format, args...)
	}
	if !validKeyID(l.ID) {
		return bad("", "key id: want 8 to %d base62 characters", maxKeyIDLen)
	}
	who := keyWho(l.ID)
	e := KeyEntry{ID: l.ID, User: l.User, Label: l.Label, Tenant: l.Tenant, Databases: l.Databases, Role: l.Role, Hash: l.Hash, Line: lineNo, Limits: l.Limits}
	switch {
	case l.User == "" || !validName(l.User):
		return bad(who, "user: want a name without spaces or control characters")
	case len(l.Label) > maxLabelLen || !printable(l.Label):
		return bad(who, "label: at most %d printable characters", maxLabelLen)
	case l.Tenant != "" && !validName(l.Tenant):
		return bad(who, "tenant has spaces or control characters")
	case l.Role != "" && !validName(l.Role):
		return bad(who, "role has spaces or control characters")
	}
	for _, db := range l.Databases {
		if db == "" || !validName(db) {
			return bad(who, "database names must be non-empty without spaces")
		}
	}
	var err error
	if e.Created, err = time.Parse(time.RFC3339, l.Created); err != nil {
		return bad(who, "created: want an RFC 3339 time")
	}
	switch l.Expires {
	case NeverExpires:
	case "":
		return bad(who, "expires: missing (an RFC 3339 time, or %q for a key that never expires)", NeverExpires)
	default:
		if e.Expires, err = time.Parse(time.RFC3339, l.Expires); err != nil {
			return bad(who, "expires: want an RFC 3339 time or %q", NeverExpires)
		}
		// The zero time is how the gateway keeps "never": read as a time,
		// it would make an eternal key of a line that names a date.
		if e.Expires.IsZero() {
			return bad(who, "expires: %s is the zero time, which would never expire; write %q for a key that never expires", l.Expires, NeverExpires)
		}
	}
	if l.Collections != nil {
		if e.Collections, err = NewGrantsFor(*l.Collections, l.User); err != nil {
			return bad(who, "collections: %v", err)
		}
	}
	if e.Rows, err = userRows(l.Rows, l.User); err != nil {
		return bad(who, "%v", err)
	}
	if l.Limits != nil {
		if err := l.Limits.Validate(); err != nil {
			return bad(who, "%v", err)
		}
	}
	if _, _, err := parseKeyHash(l.Hash); err != nil {
		return bad(who, "%v", err)
	}
	return e, nil
}

// jsonMsg keeps encoding/json's message but drops what it quotes of the
// line, which could be anything pasted there.
func jsonMsg(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %q: want a %s", te.Field, te.Type)
	}
	msg := strings.TrimPrefix(err.Error(), "json: ")
	if strings.HasPrefix(msg, "unknown field") {
		return msg + " (want id, user, label, created, expires, tenant, databases, role, collections, rows, limits, hash)"
	}
	return "invalid JSON"
}

func printable(s string) bool {
	for _, r := range s {
		if r < ' ' || r == 0x7f || r == '\uFFFD' {
			return false
		}
	}
	return true
}

// apiKey is a key as the gateway keeps it: what is needed to check one.
type apiKey struct {
	salt    [keySaltLen]byte
	digest  [sha256.Size]byte
	expires time.Time // zero: never
	id      *Identity
}

// setKeys puts the entries of keys file name into the set, each narrowed
// to what the files give its user (see NarrowToUser): a key wider than its
// user is warned about and acts with no more than its user has; one that
// has nothing in common with its user's tenant or databases is left out.
func (c *Credentials) setKeys(entries []KeyEntry, name string) {
	c.keys = make(map[string]*apiKey, len(entries))
	for i := range entries {
		e := &entries[i]
		where := (&FileError{File: name, Line: e.Line}).where()
		issued := e.Identity()
		issued.Source = where
		id, err := c.NarrowToUser(issued)
		if err != nil {
			c.warnings = append(c.warnings, fmt.Sprintf("%s: key %q refused: %v", where, e.ID, err))
			continue
		}
		if wider := c.WiderThanUser(issued); len(wider) > 0 {
			c.warnings = append(c.warnings, fmt.Sprintf("%s: key %q reaches beyond its user: %s; it acts with no more than its user has", where, e.ID, strings.Join(wider, "; ")))
		}
		salt, digest, _ := parseKeyHash(e.Hash) // checked by ParseKeys
		c.keys[e.ID] = &apiKey{salt: salt, digest: digest, expires: e.Expires, id: id}
	}
}

// Warnings are what the load noticed but did not fail on: keys wider than
// their users, narrowed or left out, each naming its file and line.
func (c *Credentials) Warnings() []string { return append([]string(nil), c.warnings...) }

// NumKeys is the number of API keys.
func (c *Credentials) NumKeys() int { return len(c.keys) }

// checkKey checks an API key at time now. handled is false when tok is not
// a key, or its id is not in the set (then it may still be a static
// token). A known id with a wrong secret is ErrBadCredentials; the right
// secret past its expiry is ErrKeyExpired: expiry is told only to whoever
// holds the key.
func (c *Credentials) checkKey(tok string, now time.Time) (id *Identity, handled bool, err error) {
	if c.keys == nil {
		return nil, false, nil
	}
	kid, _, ok := SplitKey(tok)
	if !ok {
		return nil, false, nil
	}
	k := c.keys[kid]
	if k == nil {
		return nil, false, nil
	}
	d := keyDigest(k.salt[:], tok)
	if subtle.ConstantTimeCompare(d[:], k.digest[:]) != 1 {
		return nil, true, ErrBadCredentials
	}
	if !k.expires.IsZero() && !now.Before(k.expires) {
		return nil, true, ErrKeyExpired
	}
	return k.id, true, nil
}
