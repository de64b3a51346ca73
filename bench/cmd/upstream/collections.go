package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// collections is every database's list of collections, as Chroma answers
// it: the same n collections whatever the tenant and database (the tenant
// and database fields follow the request).
type collections struct {
	n    int
	byID map[string]int
	// answers keeps each answer made, by request URI: encoding 1,000
	// collections on every request would make the upstream, not the
	// gateways, what a listing measures.
	answers sync.Map
}

func newCollections(n int) *collections {
	c := &collections{n: n, byID: make(map[string]int, n)}
	for i := 0; i < n; i++ {
		c.byID[collectionID(i)] = i
	}
	return c
}

// collectionID is the id of collection i: a UUID, as Chroma's.
func collectionID(i int) string { return fmt.Sprintf("00000000-0000-4000-8000-%012d", i) }

func (c *collections) one(i int, tenant, database string) map[string]any {
	return map[string]any{
		"id": collectionID(i), "name": fmt.Sprintf("bench-%04d", i),
		"configuration_json": map[string]any{}, "metadata": nil, "dimension": 1536,
		"tenant": tenant, "database": database, "log_position": 0, "version": 0,
	}
}

// serve answers the listing and by-id routes; false for any other request.
func (c *collections) serve(w http.ResponseWriter, r *http.Request) bool {
	parts := strings.Split(r.URL.Path, "/")
	// "", api, v2, tenants, {t}, databases, {d}, collections[, by-id, {id}]
	if r.Method != http.MethodGet || len(parts) < 8 || parts[3] != "tenants" || parts[5] != "databases" || parts[7] != "collections" {
		return false
	}
	if b, ok := c.answers.Load(r.URL.RequestURI()); ok {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b.([]byte))
		return true
	}
	tenant, database := parts[4], parts[6]
	var body any
	switch {
	case len(parts) == 8:
		limit, offset := c.n, 0
		if v, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && v >= 0 {
			limit = v
		}
		if v, err := strconv.Atoi(r.URL.Query().Get("offset")); err == nil && v >= 0 {
			offset = v
		}
		list := []map[string]any{}
		for i := offset; i < c.n && i < offset+limit; i++ {
			list = append(list, c.one(i, tenant, database))
		}
		body = list
	case len(parts) == 10 && parts[8] == "by-id":
		i, ok := c.byID[parts[9]]
		if !ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":"NotFoundError","message":"Collection not found"}`))
			return true
		}
		body = c.one(i, tenant, database)
	default:
		return false
	}
	b, err := json.Marshal(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return true
	}
	c.answers.Store(r.URL.RequestURI(), b)
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(b)
	return true
}
