package audit

import (
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

// touched appends to dst the collections of a line: the route's (by
// name, or by id with the name the gateway knows), then those the
// decision found in the body.
func (w Writer) touched(dst []authz.Touched, d *authz.Decision, rt *authz.Route) []authz.Touched {
	switch {
	case rt == nil:
		return dst
	case d.Route == rt && (rt.NewName != "" || len(rt.BodyIDs) > 0):
		dst = append(dst, d.Collections()...)
	case rt.Collection == "":
		return dst
	case rt.CollectionByID || rt.Unscoped:
		dst = append(dst, authz.Touched{ID: rt.Collection, Name: rt.CollectionName})
	default:
		dst = append(dst, authz.Touched{Name: rt.Collection})
	}
	for i := range dst {
		if dst[i].ID != "" && dst[i].Name == "" && w.Owners != nil {
			o, _ := w.Owners.Get(dst[i].ID)
			dst[i].Name = o.Name
		}
	}
	return dst
}

// addCollections adds the fields of the collections a request touches:
// the path's as collection (its name) and collection_id (when named by
// id), every other one (a name the body asks for, an id it names) in
// collections.
func addCollections(enc zapcore.ObjectEncoder, touched []authz.Touched) error {
	others := touched
	if len(touched) > 0 && !touched[0].New && !touched[0].InBody {
		addNonEmpty(enc, "collection", touched[0].Name)
		addNonEmpty(enc, "collection_id", touched[0].ID)
		others = touched[1:]
	}
	if len(others) > 0 {
		return enc.AddArray("collections", touchedList(others))
	}
	return nil
}
