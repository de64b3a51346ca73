package chromaauth

import (
	"go.uber.org/zap/zapcore"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
)

// maxAuditWaiting bounds the audit lines waiting for collection names;
// past it a line is written with the names the gateway knows.
const maxAuditWaiting = 1024

// touchedList is the audit's collections field: each collection with its
// name and id (as far as known), new for a name the body asks for (a
// collection to create, a rename's or a fork's new name), in_body for an
// id the body names.
type touchedList []authz.Touched

func (l touchedList) MarshalLogArray(enc zapcore.ArrayEncoder) error {
	for _, t := range l {
		if err := enc.AppendObject(touchedEntry(t)); err != nil {
			return err
		}
	}
	return nil
}

type touchedEntry authz.Touched

func (t touchedEntry) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	if t.Name != "" {
		enc.AddString("name", t.Name)
	}
	if t.ID != "" {
		enc.AddString("id", t.ID)
	}
	if t.New {
		enc.AddBool("new", true)
	}
	if t.InBody {
		enc.AddBool("in_body", true)
	}
	return nil
}
