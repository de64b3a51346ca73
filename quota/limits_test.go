package quota

import (
	"encoding/json"
	"testing"

	"gopkg.in/yaml.v3"
)

func TestParseRate(t *testing.T) {
	for in, want := range map[string]Rate{"10/s": 10, "600/m": 10, "5": 5, "1/m": 1.0 / 60, " 2.5/s ": 2.5} {
		got, err := ParseRate(in)
		if err != nil || got != want {
			t.Errorf("ParseRate(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0/s", "-1/s", "10/h", "x/s", "NaN/s", "Inf/s", "10/"} {
		if _, err := ParseRate(in); err == nil {
			t.Errorf("ParseRate(%q) accepted", in)
		}
	}
	for in, want := range map[Rate]string{10: "10/s", 1.0 / 60: "1/m", 0.5: "30/m", 2.5: "150/m", 1.1: "66/m", 1.0 / 7: "0.14285714285714285/s"} {
		if got := in.String(); got != want {
			t.Errorf("%v.String() = %q, want %q", float64(in), got, want)
		}
	}
}

func TestLimitsDecode(t *testing.T) {
	var l Limits
	if err := yaml.Unmarshal([]byte("rate: 120/m\nburst: 4\nconcurrent: 2\nmax_batch: 100\nmax_results: 50\nmax_where: 8\n"), &l); err != nil {
		t.Fatal(err)
	}
	want := Limits{Rate: 2, Burst: 4, Concurrent: 2, MaxBatch: 100, MaxResults: 50, MaxWhere: 8}
	if l != want {
		t.Fatalf("yaml: got %+v, want %+v", l, want)
	}
	b, _ := json.Marshal(want)
	var back Limits
	if err := json.Unmarshal(b, &back); err != nil || back != want {
		t.Fatalf("json round trip %s: %+v, %v", b, back, err)
	}
	if err := yaml.Unmarshal([]byte("rate: 10/h\n"), &l); err == nil {
		t.Fatal("a rate per hour was accepted")
	}
	if err := (Limits{Burst: 3}).Validate(); err == nil {
		t.Fatal("a burst without a rate was accepted")
	}
	if err := (Limits{MaxBatch: -1}).Validate(); err == nil {
		t.Fatal("a negative limit was accepted")
	}
}

func TestOverrideAndMin(t *testing.T) {
	block := Limits{Rate: 10, Burst: 20, Concurrent: 4, MaxBatch: 100}
	user := &Limits{Rate: 100, MaxResults: 50}
	eff := Override(block, user)
	want := Limits{Rate: 100, Burst: 0, Concurrent: 4, MaxBatch: 100, MaxResults: 50}
	if eff != want {
		t.Fatalf("Override: got %+v, want %+v", eff, want)
	}
	if eff.BurstOrDefault() != 100 {
		t.Fatalf("default burst of 100/s: %d", eff.BurstOrDefault())
	}
	// A key asking for more than its user gets its user's.
	key := &Limits{Rate: 1000, Burst: 5000, Concurrent: 40, MaxBatch: 10}
	got := Min(eff, key)
	want = Limits{Rate: 100, Burst: 100, Concurrent: 4, MaxBatch: 10, MaxResults: 50}
	if got != want {
		t.Fatalf("Min: got %+v, want %+v", got, want)
	}
	// A key asking for less keeps its own.
	got = Min(eff, &Limits{Rate: 1, Concurrent: 1})
	if got.Rate != 1 || got.Burst != 1 || got.Concurrent != 1 {
		t.Fatalf("Min, smaller key: %+v", got)
	}
	// A key with limits where its user has none gets its own.
	got = Min(Limits{}, &Limits{Rate: 3, Burst: 7, MaxWhere: 2})
	if got != (Limits{Rate: 3, Burst: 7, MaxWhere: 2}) {
		t.Fatalf("Min, unlimited user: %+v", got)
	}
	if Min(eff, nil) != eff || Override(block, nil) != block {
		t.Fatal("nil changes nothing")
	}
}
