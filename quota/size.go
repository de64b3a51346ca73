package quota

import (
	"fmt"
	"net/http"
	"strings"
)

// Op is a record operation on a collection whose size the quotas bound.
type Op uint8

// The operations of `POST .../collections/{c}/<op>`.
const (
	OpNone Op = iota
	OpAdd
	OpUpsert
	OpUpdate
	OpDelete
	OpGet
	OpQuery
)

var opNames = [...]string{"", "add", "upsert", "update", "delete", "get", "query"}

func (o Op) String() string { return opNames[o] }

// OpOf is the record operation of a request: POST
// /api/v2/tenants/{t}/databases/{d}/collections/{c}/{op}, else OpNone.
func OpOf(r *http.Request) Op {
	if r.Method != http.MethodPost {
		return OpNone
	}
	p := r.URL.Path
	if !strings.HasPrefix(p, "/api/v2/tenants/") {
		return OpNone
	}
	i := strings.LastIndexByte(p, '/')
	var op Op
	switch p[i+1:] {
	case "add":
		op = OpAdd
	case "upsert":
		op = OpUpsert
	case "update":
		op = OpUpdate
	case "delete":
		op = OpDelete
	case "get":
		op = OpGet
	case "query":
		op = OpQuery
	default:
		return OpNone
	}
	// .../collections/{c}/{op}: "collections" two segments up.
	j := strings.LastIndexByte(p[:i], '/')
	if j < 0 || !strings.HasSuffix(p[:j], "/collections") {
		return OpNone
	}
	return op
}

// wants are the members of an op's body that the limits l bound.
type wants struct {
	ids, results, where bool
	resultsKey          string // "n_results" or "limit"
}

func wantsOf(op Op, l Limits) wants {
	var w wants
	switch op {
	case OpAdd, OpUpsert, OpUpdate:
		w.ids = l.MaxBatch > 0
	case OpDelete:
		w.ids = l.MaxBatch > 0
		w.where = l.MaxWhere > 0
	case OpGet:
		w.results, w.resultsKey = l.MaxResults > 0, "limit"
		w.where = l.MaxWhere > 0
	case OpQuery:
		w.results, w.resultsKey = l.MaxResults > 0, "n_results"
		w.where = l.MaxWhere > 0
	}
	return w
}

func (w wants) none() bool { return !w.ids && !w.results && !w.where }

// Applies reports whether any size limit of l bounds op's body: when not,
// the body is never read.
func Applies(op Op, l Limits) bool { return op != OpNone && !wantsOf(op, l).none() }

// Violation is a size limit a request's body is over.
type Violation struct {
	Limit string // max_batch, max_results, max_where, or "" (too large to check)
	Op    Op
	Got   int
	Max   int
}

// Message is the message of the error body: it names the limit.
func (v *Violation) Message() string {
	switch v.Limit {
	case "max_batch":
		return fmt.Sprintf("Quota exceeded: %d records in one %s, over the gateway's max_batch of %d", v.Got, v.Op, v.Max)
	case "max_results":
		return fmt.Sprintf("Quota exceeded: %d results asked of one %s, over the gateway's max_results of %d", v.Got, v.Op, v.Max)
	case "max_where":
		return fmt.Sprintf("Quota exceeded: %d predicates in the filters of one %s, over the gateway's max_where of %d", v.Got, v.Op, v.Max)
	}
	return fmt.Sprintf("Quota exceeded: request body over %d bytes before the gateway could check its size limits", v.Max)
}
