package audit

import (
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/caddy-chroma-auth/caddy-chroma-auth/authz"
)

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

// touched are the collections of a line: the route's (by name, or by id
// with the name the gateway knows), then those the decision found in the
// body.
func (w Writer) touched(d *authz.Decision, rt *authz.Route) []authz.Touched {
	if rt == nil {
		return nil
	}
	var out []authz.Touched
	if d.Route == rt {
		out = d.Collections()
	} else if rt.Collection != "" {
		if rt.CollectionByID || rt.Unscoped {
			out = append(out, authz.Touched{ID: rt.Collection, Name: rt.CollectionName})
		} else {
			out = append(out, authz.Touched{Name: rt.Collection})
		}
	}
	for i := range out {
		if out[i].ID != "" && out[i].Name == "" && w.Owners != nil {
			o, _ := w.Owners.Get(out[i].ID)
			out[i].Name = o.Name
		}
	}
	return out
}

// collectionFields are the fields of the collections a request touches:
// the path's as collection (its name) and collection_id (when named by
// id), every other one (a name the body asks for, an id it names) in
// collections.
func collectionFields(touched []authz.Touched) []zap.Field {
	var out []zap.Field
	var others []authz.Touched
	for i, t := range touched {
		if i > 0 || t.New || t.InBody {
			others = append(others, t)
			continue
		}
		out = appendNonEmpty(out, "collection", t.Name)
		out = appendNonEmpty(out, "collection_id", t.ID)
	}
	if len(others) > 0 {
		out = append(out, zap.Array("collections", touchedList(others)))
	}
	return out
}
