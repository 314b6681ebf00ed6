package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"

	"github.com/subsetd/subsetd/internal/errs"
)

// DecodeStrict decodes one JSON document into v, refusing what
// encoding/json lets pass: a member name that matches a field only when
// case is ignored ("DATASET"), a name given twice in one object (anywhere,
// inside a GeoJSON geometry too), a member v has no field for, and
// anything but white space after the document. Errors are Invalid and name
// the member ("regions[0].name"). The job body and the CLI's request files
// are read with it.
func DecodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := checkValue(dec, reflect.TypeOf(v), ""); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errs.E(errs.Invalid, "data after the JSON document (at byte %d): send one JSON object", dec.InputOffset())
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	err := d.Decode(v)
	var ute *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ute):
		return errs.F(errs.Invalid, ute.Field, "expected %s, got JSON %s", jsonType(ute.Type), ute.Value)
	}
	return errs.E(errs.Invalid, "the request body is not a valid job: %v", err)
}

var rawMessage = reflect.TypeFor[json.RawMessage]()

// memberPath is the path of a member of the object at path.
func memberPath(path, name string) string {
	if path == "" {
		return name
	}
	return path + "." + name
}

// checkValue reads one value from dec, checking it against t (nil: any
// JSON, where only names given twice are refused).
func checkValue(dec *json.Decoder, t reflect.Type, path string) error {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t != nil && (t == rawMessage || t.Kind() == reflect.Interface) {
		t = nil
	}
	tok, err := dec.Token()
	if err != nil {
		return syntaxError(err, dec)
	}
	switch tok {
	case json.Delim('{'):
		var fields map[string]reflect.Type
		var elem reflect.Type
		if t != nil {
			switch t.Kind() {
			case reflect.Struct:
				fields = jsonFields(t)
			case reflect.Map:
				elem = t.Elem()
			}
		}
		seen := map[string]bool{}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return syntaxError(err, dec)
			}
			name, _ := k.(string)
			p := memberPath(path, name)
			if seen[name] {
				return errs.F(errs.Invalid, p, "%q is given twice in one object", name)
			}
			seen[name] = true
			ft := elem
			if fields != nil {
				var ok bool
				if ft, ok = fields[name]; !ok {
					for f := range fields {
						if strings.EqualFold(f, name) {
							return errs.F(errs.Invalid, p, "unknown field %q: names are case-sensitive (%q)", name, f)
						}
					}
					return errs.F(errs.Invalid, p, "unknown field %q", name)
				}
			}
			if err := checkValue(dec, ft, p); err != nil {
				return err
			}
		}
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; dec.More(); i++ {
			if err := checkValue(dec, elem, fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	default:
		return nil
	}
	if _, err := dec.Token(); err != nil { // the closing delimiter
		return syntaxError(err, dec)
	}
	return nil
}

// jsonFields maps the JSON names of a struct's fields, as written, to their
// types.
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case name == "-":
			continue
		case f.Anonymous && name == "":
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for n, typ := range jsonFields(ft) {
					out[n] = typ
				}
				continue
			}
		case name == "":
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

func syntaxError(err error, dec *json.Decoder) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errs.E(errs.Invalid, "the request body is not valid JSON: it ends in the middle of the document")
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return errs.E(errs.Invalid, "the request body is not valid JSON: %v (at byte %d)", se, se.Offset)
	}
	return errs.E(errs.Invalid, "the request body is not valid JSON: %v (at byte %d)", err, dec.InputOffset())
}
