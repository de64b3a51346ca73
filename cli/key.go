package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/providers"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/quota"
	"github.com/caddy-chroma-auth/caddy-chroma-auth/rows"
)

// DefaultKeyLifetime is how long a key lives unless told otherwise, as
// Qdrant Cloud's keys do.
const DefaultKeyLifetime = 90 * 24 * time.Hour

// maxKeyLifetime bounds --expires; for longer, say --no-expiry.
const maxKeyLifetime = 100 * 365 * 24 * time.Hour

// ErrNoSuchKey: revoke of an id the file does not have.
var ErrNoSuchKey = errors.New("no such key")

// KeyArgs are the arguments of `caddy chroma-auth key <create|list|revoke>`.
type KeyArgs struct {
	Op   string // create, list or revoke
	File string
	// create: the key's owner and scope, as in the users file.
	User        string
	Tenant      string
	Databases   string // comma-separated
	Role        string
	Collections string // name-or-glob=level, comma-separated: docs=read,team-*=write
	Rows        string // metadata key=value, comma-separated: owner={user},team=blue
	Label       string
	Expires     string // 90d, 36h, 30s…; "" is DefaultKeyLifetime
	NoExpiry    bool
	Args        []string         // revoke: the key id
	Now         func() time.Time // nil: time.Now
	// create: Config (and Adapter) name the gateway's config; the new key
	// is then checked against what its files give the user (see
	// KeyWithinUser), and an error refuses the key (nothing is written).
	Config, Adapter string
	// create: the key's own quotas, which only tighten its user's.
	Rate                                              string // <n>/s or <n>/m
	Burst, Concurrent, MaxBatch, MaxResults, MaxWhere int
}

// RunKey runs `caddy chroma-auth key <op>`. create prints the new key, once,
// alone on stdout (notes go to stderr), so scripts can take it; the file
// keeps only its hash. list prints no key and no hash.
func RunKey(rw IO, a KeyArgs) (int, error) {
	if a.File == "" {
		return ExitFailed, errors.New("key: --file is required")
	}
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	switch a.Op {
	case "create":
		if len(a.Args) > 0 {
			return ExitFailed, errors.New("key create: takes no arguments")
		}
		e, err := newKeyEntry(a, now().UTC().Truncate(time.Second))
		if err != nil {
			return ExitFailed, fmt.Errorf("key create: %w", err)
		}
		if a.Config != "" {
			if err := KeyWithinUser(a.Config, a.Adapter, a.File, e.Identity()); err != nil {
				return ExitFailed, fmt.Errorf("key create: %w; no key made", err)
			}
		}
		key, err := KeyCreate(a.File, e)
		if err != nil {
			return ExitFailed, err
		}
		fmt.Fprintln(rw.Stdout, key)
		id, _, _ := providers.SplitKey(key)
		exp := "never expires"
		if !e.Expires.IsZero() {
			exp = "expires " + e.Expires.Format(time.RFC3339)
		}
		fmt.Fprintf(rw.Stderr, "created key %s for user %q in %s; it %s.\nThis is the only time the key is shown: the file keeps only its hash.\n", id, e.User, a.File, exp)
	case "list":
		if len(a.Args) > 0 {
			return ExitFailed, errors.New("key list: takes no arguments")
		}
		entries, err := readKeys(a.File, true)
		if err != nil {
			return ExitFailed, err
		}
		printKeys(rw, entries, now())
	case "revoke":
		if len(a.Args) != 1 {
			return ExitFailed, errors.New("key revoke: wants the key id as the one argument")
		}
		id := a.Args[0]
		if kid, _, ok := providers.SplitKey(id); ok {
			id = kid // the whole key given: revoke it by its id
		}
		user, err := KeyRevoke(a.File, id)
		if err != nil {
			return ExitFailed, err
		}
		fmt.Fprintf(rw.Stdout, "revoked key %s of user %q in %s\n", id, user, a.File)
	default:
		return ExitFailed, fmt.Errorf("key: unknown operation %q: want create, list or revoke", a.Op)
	}
	return ExitOK, nil
}

// newKeyEntry checks the create flags and makes the entry (without id and
// hash) they describe.
func newKeyEntry(a KeyArgs, now time.Time) (providers.KeyEntry, error) {
	e := providers.KeyEntry{User: a.User, Label: a.Label, Created: now, Tenant: a.Tenant, Role: a.Role}
	if a.User == "" {
		return e, errors.New("--user is required")
	}
	if err := CheckUser(a.User); err != nil {
		return e, err
	}
	if a.Databases != "" {
		for _, db := range strings.Split(a.Databases, ",") {
			e.Databases = append(e.Databases, strings.TrimSpace(db))
		}
	}
	if a.Collections != "" {
		m := make(map[string]string)
		for _, g := range strings.Split(a.Collections, ",") {
			name, level, ok := strings.Cut(g, "=")
			name, level = strings.TrimSpace(name), strings.TrimSpace(level)
			if !ok {
				return e, fmt.Errorf("--collections %q: want name=level pairs, such as docs=read,team-*=write", g)
			}
			if _, dup := m[name]; dup {
				return e, fmt.Errorf("--collections: %q given twice", name)
			}
			m[name] = level
		}
		g, err := providers.NewGrantsFor(m, a.User)
		if err != nil {
			return e, fmt.Errorf("--collections: %w", err)
		}
		e.Collections = g
	}
	if a.Rows != "" {
		m, err := rows.ParseList(a.Rows)
		if err == nil {
			m, err = rows.Expand(m, a.User)
		}
		if err != nil {
			return e, fmt.Errorf("--rows: %w", err)
		}
		e.Rows = m
	}
	if err := keyLimits(a, &e); err != nil {
		return e, err
	}
	switch {
	case a.NoExpiry && a.Expires != "":
		return e, errors.New("--expires and --no-expiry: give one")
	case a.NoExpiry:
	default:
		d, err := ParseLifetime(a.Expires)
		if err != nil {
			return e, err
		}
		e.Expires = now.Add(d)
	}
	return e, nil
}

// ParseLifetime reads --expires: days ("90d") or a Go duration ("36h",
// "30s"); "" is DefaultKeyLifetime.
func ParseLifetime(s string) (time.Duration, error) {
	if s == "" {
		return DefaultKeyLifetime, nil
	}
	var d time.Duration
	var err error
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if n, err = strconv.Atoi(days); err == nil && n > 0 && n <= int(maxKeyLifetime/(24*time.Hour)) {
			d = time.Duration(n) * 24 * time.Hour
		} else {
			err = errors.New("bad days")
		}
	} else {
		d, err = time.ParseDuration(s)
	}
	if err != nil || d < time.Second || d > maxKeyLifetime {
		return 0, fmt.Errorf("--expires %q: want days (90d) or a duration (36h, 30s) from 1s to 100 years, or --no-expiry", s)
	}
	return d, nil
}

// KeyCreate makes a new key for the entry's user and scope, appends its
// line to the keys file at path (creating the file, mode 0600), and
// returns the key. The file gets the key's hash, never the key.
func KeyCreate(path string, e providers.KeyEntry) (string, error) {
	var key string
	err := editKeys(path, false, func(f *keysFile) error {
		var err error
		for {
			var id string
			if key, id, err = providers.NewKey(); err != nil {
				return err
			}
			if _, taken := f.ids[id]; !taken {
				e.ID = id
				break
			}
		}
		if e.Hash, err = providers.HashKey(key); err != nil {
			return err
		}
		line, err := e.MarshalLine()
		if err != nil {
			return err
		}
		f.append(string(line))
		return nil
	})
	if err != nil {
		return "", err
	}
	return key, nil
}

// KeyRevoke removes the key with the given id from the keys file at path,
// and returns the user it belonged to. A missing id is ErrNoSuchKey.
func KeyRevoke(path, id string) (user string, err error) {
	err = editKeys(path, true, func(f *keysFile) error {
		i, ok := f.ids[id]
		if !ok {
			return fmt.Errorf("%s: key %q: %w", path, id, ErrNoSuchKey)
		}
		user = f.entries[id].User
		f.remove(i)
		return nil
	})
	return user, err
}

// KeyList reads the keys of the file at path.
func KeyList(path string) ([]providers.KeyEntry, error) { return readKeys(path, true) }

func readKeys(path string, mustExist bool) ([]providers.KeyEntry, error) {
	f, err := loadKeysFile(path, mustExist)
	if err != nil {
		return nil, err
	}
	out := make([]providers.KeyEntry, 0, len(f.entries))
	for _, e := range f.entries {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Line < out[j].Line })
	return out, nil
}

// printKeys shows the keys: no key, no hash.
func printKeys(rw IO, entries []providers.KeyEntry, now time.Time) {
	if len(entries) == 0 {
		fmt.Fprintln(rw.Stdout, "no keys")
		return
	}
	tw := tabwriter.NewWriter(rw.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUSER\tLABEL\tTENANT\tDATABASES\tROLE\tCOLLECTIONS\tCREATED\tEXPIRES")
	for _, e := range entries {
		id := e.Identity()
		exp := "never"
		if !e.Expires.IsZero() {
			exp = e.Expires.Format(time.RFC3339)
			if e.Expired(now) {
				exp += " (expired)"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.ID, e.User, dash(e.Label), id.Tenant,
			strings.Join(id.Databases, ","), dash(e.Role), dash(e.Collections.String()), e.Created.Format(time.RFC3339), exp)
	}
	_ = tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// keysFile is a keys file held as its lines, so that an edit adds or drops
// one line and keeps every other line, comment and blank line as it was.
type keysFile struct {
	path    string
	lines   []string // with their endings; the last may have none
	ids     map[string]int
	entries map[string]providers.KeyEntry
}

func loadKeysFile(path string, mustExist bool) (*keysFile, error) {
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && !mustExist:
		data = nil
	case err != nil:
		return nil, fmt.Errorf("cannot read keys file: %w", err)
	}
	entries, err := providers.ParseKeys(path, data)
	if err != nil {
		return nil, fmt.Errorf("refusing to edit a file the gateway cannot load (fix it first): %w", err)
	}
	f := &keysFile{path: path, ids: make(map[string]int), entries: make(map[string]providers.KeyEntry)}
	f.lines = strings.SplitAfter(string(data), "\n")
	if n := len(f.lines); n > 0 && f.lines[n-1] == "" {
		f.lines = f.lines[:n-1]
	}
	for _, e := range entries {
		f.ids[e.ID] = e.Line - 1 // the parser counts every line from 1
		f.entries[e.ID] = e
	}
	return f, nil
}

func (f *keysFile) append(line string) {
	if n := len(f.lines); n > 0 && !strings.HasSuffix(f.lines[n-1], "\n") {
		f.lines[n-1] += "\n"
	}
	f.lines = append(f.lines, line+"\n")
}

func (f *keysFile) remove(i int) {
	f.lines = append(f.lines[:i], f.lines[i+1:]...)
}

// editKeys runs an edit of the keys file at path under a lock of its
// directory (two admins creating keys at once both keep their key), then
// checks the result with the gateway's parser and replaces the file
// atomically.
func editKeys(path string, mustExist bool, edit func(f *keysFile) error) error {
	return withFileLock(path, func() error {
		f, err := loadKeysFile(path, mustExist)
		if err != nil {
			return err
		}
		if err := edit(f); err != nil {
			return err
		}
		data := []byte(strings.Join(f.lines, ""))
		if _, err := providers.ParseKeys(path, data); err != nil {
			return fmt.Errorf("internal error: the edited file would not load, not writing it: %w", err)
		}
		return WriteFileAtomic(path, data)
	})
}

// keyLimits sets the key's quotas from the create flags.
func keyLimits(a KeyArgs, e *providers.KeyEntry) error {
	l := quota.Limits{Burst: a.Burst, Concurrent: a.Concurrent, MaxBatch: a.MaxBatch, MaxResults: a.MaxResults, MaxWhere: a.MaxWhere}
	if a.Rate != "" {
		r, err := quota.ParseRate(a.Rate)
		if err != nil {
			return fmt.Errorf("--rate: %w", err)
		}
		l.Rate = r
	}
	if err := l.Validate(); err != nil {
		return fmt.Errorf("--rate, --burst, --concurrent, --max-*: %w", err)
	}
	if !l.IsZero() {
		e.Limits = &l
	}
	return nil
}
