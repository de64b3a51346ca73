// Package quota holds the gateway's quotas: how often (rate, burst) and
// how many at once (concurrent) one identity may call Chroma, and how
// large one request may be (records in one write, results asked for,
// predicates in a filter). It knows nothing of Caddy: the handler asks it
// for a verdict per request.
package quota

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Limits are the quotas of one identity. A zero field is unset: it
// inherits (see Override) or means no limit.
type Limits struct {
	// Requests a second, written "10/s" or "600/m" (see Rate).
	Rate Rate `json:"rate,omitempty" yaml:"rate"`
	// How many requests may come at once after a quiet spell; default the
	// rate of one second (at least 1).
	Burst int `json:"burst,omitempty" yaml:"burst"`
	// Requests in flight at once.
	Concurrent int `json:"concurrent,omitempty" yaml:"concurrent"`
	// Records in one add, upsert, update or delete (its ids).
	MaxBatch int `json:"max_batch,omitempty" yaml:"max_batch"`
	// n_results of a query, limit of a get.
	MaxResults int `json:"max_results,omitempty" yaml:"max_results"`
	// Predicates in the where and where_document filters of one request.
	MaxWhere int `json:"max_where,omitempty" yaml:"max_where"`
}

// Rate is requests a second. Its text form is "<n>/s" or "<n>/m".
type Rate float64

// ParseRate reads "<n>/s", "<n>/m" (or a bare "<n>", a second).
func ParseRate(s string) (Rate, error) {
	num, unit, slash := strings.Cut(strings.TrimSpace(s), "/")
	if slash && unit == "" {
		unit = "?"
	}
	n, err := strconv.ParseFloat(num, 64)
	if err != nil || n <= 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, fmt.Errorf("rate %q: want <n>/s or <n>/m with n > 0", s)
	}
	switch unit {
	case "", "s":
		return Rate(n), nil
	case "m":
		return Rate(n / 60), nil
	}
	return 0, fmt.Errorf("rate %q: want <n>/s or <n>/m with n > 0", s)
}

// String is the rate as "<n>/s", or "<n>/m" when that is a whole number
// and the other is not.
func (r Rate) String() string {
	f := float64(r)
	if f != math.Trunc(f) {
		if m := f * 60; math.Abs(m-math.Round(m)) < 1e-9 {
			return strconv.FormatFloat(math.Round(m), 'f', -1, 64) + "/m"
		}
	}
	return strconv.FormatFloat(f, 'f', -1, 64) + "/s"
}

// MarshalText writes the rate as ParseRate reads it.
func (r Rate) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// UnmarshalText reads a rate; see ParseRate.
func (r *Rate) UnmarshalText(b []byte) error {
	v, err := ParseRate(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Validate refuses negative values.
func (l Limits) Validate() error {
	if l.Rate < 0 || l.Burst < 0 || l.Concurrent < 0 || l.MaxBatch < 0 || l.MaxResults < 0 || l.MaxWhere < 0 {
		return fmt.Errorf("limits cannot be negative")
	}
	if l.Burst > 0 && l.Rate == 0 {
		return fmt.Errorf("limits: burst needs a rate")
	}
	return nil
}

// IsZero reports whether no limit is set.
func (l Limits) IsZero() bool { return l == Limits{} }

// Sized reports whether any size limit is set.
func (l Limits) Sized() bool { return l.MaxBatch > 0 || l.MaxResults > 0 || l.MaxWhere > 0 }

// BurstOrDefault is the burst, or the rate of one second (at least 1).
func (l Limits) BurstOrDefault() int {
	if l.Burst > 0 {
		return l.Burst
	}
	return max(1, int(math.Ceil(float64(l.Rate))))
}

// Override is base with every field over sets replacing base's: a user's
// limits over the block's.
func Override(base Limits, over *Limits) Limits {
	if over == nil {
		return base
	}
	if over.Rate > 0 {
		// A rate comes with its own burst (or its default), not the
		// burst of another rate.
		base.Rate, base.Burst = over.Rate, over.Burst
	}
	if over.Burst > 0 {
		base.Burst = over.Burst
	}
	base.Concurrent = pick(base.Concurrent, over.Concurrent)
	base.MaxBatch = pick(base.MaxBatch, over.MaxBatch)
	base.MaxResults = pick(base.MaxResults, over.MaxResults)
	base.MaxWhere = pick(base.MaxWhere, over.MaxWhere)
	return base
}

func pick(base, over int) int {
	if over > 0 {
		return over
	}
	return base
}

// Min is the tighter of a and b in every field (an unset field is no
// limit): an API key's or a JWT's limits never exceed its user's.
func Min(a Limits, b *Limits) Limits {
	if b == nil {
		return a
	}
	switch {
	case a.Rate > 0 && b.Rate > 0:
		// The bursts compare as given or defaulted for their rates.
		a.Burst = min(a.BurstOrDefault(), b.BurstOrDefault())
		a.Rate = min(a.Rate, b.Rate)
	case b.Rate > 0:
		a.Rate, a.Burst = b.Rate, b.Burst
	case a.Rate > 0 && b.Burst > 0:
		a.Burst = min(a.BurstOrDefault(), b.Burst)
	}
	a.Concurrent = minSet(a.Concurrent, b.Concurrent)
	a.MaxBatch = minSet(a.MaxBatch, b.MaxBatch)
	a.MaxResults = minSet(a.MaxResults, b.MaxResults)
	a.MaxWhere = minSet(a.MaxWhere, b.MaxWhere)
	return a
}

func minSet(a, b int) int {
	switch {
	case a == 0:
		return b
	case b == 0:
		return a
	}
	return min(a, b)
}
