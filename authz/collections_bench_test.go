package authz

import (
	"fmt"
	"strings"
	"testing"
)

func BenchmarkParseCollections1000(b *testing.B) {
	var sb strings.Builder
	sb.WriteByte('[')
	for i := 0; i < 1000; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"id":"%08x-0000-4000-8000-000000000000","name":"team-%04d","tenant":"acme","database":"prod","metadata":{"a":"b","n":1},"configuration_json":{"hnsw":{"space":"l2","ef_construction":100}},"dimension":384,"log_position":0,"version":0}`, i, i)
	}
	sb.WriteByte(']')
	body := []byte(sb.String())
	b.SetBytes(int64(len(body)))
	for i := 0; i < b.N; i++ {
		if l, ok := ParseCollections(body); !ok || len(l) != 1000 {
			b.Fatal("parse")
		}
	}
}
