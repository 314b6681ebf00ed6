package openapitest

import (
	"net/http"
	"strings"
	"testing"
)

const doc = `{"openapi": "3.1.0", "paths": {
 "/a/{id}": {"get": {"responses": {"200": {"description": "", "headers": {"X-H": {"required": true, "schema": {}}},
   "content": {"application/json": {"schema": {"$ref": "#/components/schemas/T"}}}}}}},
 "/a/{id}/files/{name}": {"get": {"responses": {"200": {"description": ""}}}}},
 "components": {"schemas": {"T": {"type": "object", "required": ["n"], "additionalProperties": false,
   "properties": {"n": {"type": "integer", "minimum": 1}, "s": {"type": "string", "enum": ["x", "y"]},
   "t": {"type": "string", "format": "date-time"}, "l": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"}, "maxItems": 2}}}}}}`

func resp(h string) *http.Response {
	r := &http.Response{StatusCode: 200, Header: http.Header{}}
	r.Header.Set("Content-Type", "application/json; charset=utf-8")
	if h != "" {
		r.Header.Set("X-H", h)
	}
	return r
}

func TestCheck(t *testing.T) {
	d, err := Load([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	good := `{"n": 2, "s": "x", "t": "2024-01-02T03:04:05Z", "l": ["ab"]}`
	if err := d.CheckResponse("GET", "/a/1", resp("v"), []byte(good)); err != nil {
		t.Fatal(err)
	}
	for body, want := range map[string]string{
		`{"s": "x"}`:                   "required property",
		`{"n": 1.5}`:                   "not of type",
		`{"n": 0}`:                     "minimum",
		`{"n": 1, "s": "z"}`:           "not one of",
		`{"n": 1, "extra": 1}`:         "not documented",
		`{"n": 1, "t": "now"}`:         "date-time",
		`{"n": 1, "l": ["A"]}`:         "does not match",
		`{"n": 1, "l": ["a","b","c"]}`: "more than",
		`[1]`:                          "not of type",
	} {
		err := d.CheckResponse("GET", "/a/1", resp("v"), []byte(body))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", body, err, want)
		}
	}
	if err := d.CheckResponse("GET", "/a/1", resp(""), []byte(good)); err == nil || !strings.Contains(err.Error(), "X-H") {
		t.Errorf("missing header: %v", err)
	}
	r := resp("v")
	r.StatusCode = 404
	if err := d.CheckResponse("GET", "/a/1", r, nil); err == nil || !strings.Contains(err.Error(), "404 not documented") {
		t.Errorf("status: %v", err)
	}
	if err := d.CheckResponse("POST", "/a/1", resp("v"), nil); err == nil {
		t.Error("undocumented operation accepted")
	}
	if err := d.CheckResponse("GET", "/b", resp("v"), nil); err == nil {
		t.Error("undocumented path accepted")
	}
	if tmpl, _, ok := d.Match("/a/1/files/r/x.nc"); !ok || tmpl != "/a/{id}/files/{name}" {
		t.Errorf("file path: %q %v", tmpl, ok)
	}
	if _, err := Load([]byte(`{"openapi": "3.1.0", "x": {"$ref": "#/components/schemas/Nope"}}`)); err == nil {
		t.Error("dangling $ref accepted")
	}
}
