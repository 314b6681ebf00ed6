// Package openapitest checks HTTP responses against an OpenAPI 3.1
// document: the operation exists, the status is documented, the content
// type is one the document lists, required headers are present, and a JSON
// body matches its schema; a response may be a $ref to a component. It
// understands the subset of JSON Schema the subsetd document uses: $ref,
// type (one or a list), properties, required, additionalProperties (false
// or a schema), items, enum, minimum, maximum, minItems, maxItems,
// maxLength, pattern and format date-time.
//
// It is a test helper shared by the API's unit tests and the end-to-end
// tests; the server does not use it.
package openapitest

import (
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
)

// Doc is a loaded OpenAPI document.
type Doc struct {
	root  map[string]any
	paths []pathT
}

type pathT struct {
	template string
	parts    []string
	item     map[string]any
}

// Load parses a document.
func Load(b []byte) (*Doc, error) {
	var root map[string]any
	if err := json.Unmarshal(b, &root); err != nil {
		return nil, err
	}
	if v, _ := root["openapi"].(string); !strings.HasPrefix(v, "3.") {
		return nil, fmt.Errorf("not an OpenAPI 3 document (openapi: %q)", v)
	}
	d := &Doc{root: root}
	paths, _ := root["paths"].(map[string]any)
	for t, it := range paths {
		item, _ := it.(map[string]any)
		d.paths = append(d.paths, pathT{template: t, parts: strings.Split(strings.Trim(t, "/"), "/"), item: item})
	}
	// Literal paths before templated ones.
	sort.Slice(d.paths, func(i, j int) bool {
		return strings.Count(d.paths[i].template, "{") < strings.Count(d.paths[j].template, "{")
	})
	if err := d.checkRefs(root, "#"); err != nil {
		return nil, err
	}
	return d, nil
}

func (d *Doc) checkRefs(v any, at string) error {
	switch x := v.(type) {
	case map[string]any:
		if r, ok := x["$ref"].(string); ok {
			if _, err := d.resolve(r); err != nil {
				return fmt.Errorf("%s: %w", at, err)
			}
		}
		for k, c := range x {
			if err := d.checkRefs(c, at+"/"+k); err != nil {
				return err
			}
		}
	case []any:
		for i, c := range x {
			if err := d.checkRefs(c, fmt.Sprintf("%s/%d", at, i)); err != nil {
				return err
			}
		}
	}
	return nil
}

func (d *Doc) resolve(ref string) (map[string]any, error) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("unsupported $ref %q", ref)
	}
	var cur any = d.root
	for _, p := range strings.Split(ref[2:], "/") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("dangling $ref %q", ref)
		}
		cur = m[p]
	}
	m, ok := cur.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("dangling $ref %q", ref)
	}
	return m, nil
}

// Operations lists "METHOD /template" for every documented operation.
func (d *Doc) Operations() []string {
	var out []string
	for _, p := range d.paths {
		for m := range p.item {
			switch m {
			case "get", "post", "put", "delete", "patch", "head":
				out = append(out, strings.ToUpper(m)+" "+p.template)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Match finds the template of a concrete path. The last parameter of a
// template named {name} also matches the rest of the path (file names
// with slashes).
func (d *Doc) Match(path string) (string, map[string]any, bool) {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	for _, p := range d.paths {
		if matchParts(p.parts, parts, false) {
			return p.template, p.item, true
		}
	}
	// The longest template whose last parameter takes the rest.
	best := -1
	for i, p := range d.paths {
		if matchParts(p.parts, parts, true) && (best < 0 || len(p.parts) > len(d.paths[best].parts)) {
			best = i
		}
	}
	if best >= 0 {
		return d.paths[best].template, d.paths[best].item, true
	}
	return "", nil, false
}

func matchParts(tmpl, parts []string, rest bool) bool {
	for i, t := range tmpl {
		if i >= len(parts) {
			return false
		}
		if strings.HasPrefix(t, "{") {
			if parts[i] == "" {
				return false
			}
			if rest && i == len(tmpl)-1 && t == "{name}" {
				return true
			}
			continue
		}
		if t != parts[i] {
			return false
		}
	}
	return len(tmpl) == len(parts)
}

// CheckResponse checks a response to method on path (the request's path,
// without query) against the document; body is the response body.
func (d *Doc) CheckResponse(method, path string, resp *http.Response, body []byte) error {
	tmpl, item, ok := d.Match(path)
	if !ok {
		return fmt.Errorf("%s %s: path not documented", method, path)
	}
	opm := strings.ToLower(method)
	if opm == "options" && resp.StatusCode == http.StatusNoContent && len(body) == 0 {
		// OPTIONS (and CORS preflights) are answered on every path alike,
		// outside the operations.
		return nil
	}
	if opm == "head" {
		opm = "get"
		body = nil
	}
	op, ok := item[opm].(map[string]any)
	if !ok {
		if resp.StatusCode == http.StatusMethodNotAllowed {
			return nil
		}
		return fmt.Errorf("%s %s: operation not documented", method, tmpl)
	}
	responses, _ := op["responses"].(map[string]any)
	r, ok := responses[fmt.Sprint(resp.StatusCode)].(map[string]any)
	if !ok {
		if r, ok = responses["default"].(map[string]any); !ok {
			return fmt.Errorf("%s %s: status %d not documented", method, tmpl, resp.StatusCode)
		}
	}
	if ref, ok := r["$ref"].(string); ok {
		var err error
		if r, err = d.resolve(ref); err != nil {
			return err
		}
	}
	where := fmt.Sprintf("%s %s %d", method, tmpl, resp.StatusCode)
	if hs, ok := r["headers"].(map[string]any); ok {
		for name, h := range hs {
			hm, _ := h.(map[string]any)
			if req, _ := hm["required"].(bool); req && resp.Header.Get(name) == "" {
				return fmt.Errorf("%s: header %s is missing", where, name)
			}
		}
	}
	content, _ := r["content"].(map[string]any)
	if len(content) == 0 {
		if len(body) > 0 {
			return fmt.Errorf("%s: undocumented body", where)
		}
		return nil
	}
	ct, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	mt, ok := content[ct].(map[string]any)
	if !ok {
		return fmt.Errorf("%s: content type %q not documented", where, ct)
	}
	schema, _ := mt["schema"].(map[string]any)
	if schema == nil || !(strings.HasSuffix(ct, "json")) || len(body) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return fmt.Errorf("%s: body is not JSON: %v", where, err)
	}
	if err := d.Validate(schema, v, "$"); err != nil {
		return fmt.Errorf("%s: %w", where, err)
	}
	return nil
}

// ValidateRef checks a value against a named component schema.
func (d *Doc) ValidateRef(name string, v any) error {
	s, err := d.resolve("#/components/schemas/" + name)
	if err != nil {
		return err
	}
	return d.Validate(s, v, "$")
}

// Validate checks v (decoded JSON) against schema; at names v in errors.
func (d *Doc) Validate(schema map[string]any, v any, at string) error {
	if r, ok := schema["$ref"].(string); ok {
		s, err := d.resolve(r)
		if err != nil {
			return err
		}
		return d.Validate(s, v, at)
	}
	if alts, ok := schema["oneOf"].([]any); ok {
		var errs []string
		for _, a := range alts {
			as, _ := a.(map[string]any)
			if err := d.Validate(as, v, at); err != nil {
				errs = append(errs, err.Error())
			}
		}
		if n := len(alts) - len(errs); n != 1 {
			return fmt.Errorf("%s: %d of the %d schemas of oneOf match, want 1 (%s)", at, n, len(alts), strings.Join(errs, "; "))
		}
	}
	if t, ok := schema["type"]; ok {
		var types []string
		switch x := t.(type) {
		case string:
			types = []string{x}
		case []any:
			for _, y := range x {
				s, _ := y.(string)
				types = append(types, s)
			}
		}
		okType := false
		for _, ty := range types {
			okType = okType || hasType(v, ty)
		}
		if !okType {
			return fmt.Errorf("%s: %s is not of type %v", at, short(v), types)
		}
	}
	if e, ok := schema["enum"].([]any); ok {
		found := false
		for _, x := range e {
			found = found || fmt.Sprint(x) == fmt.Sprint(v)
		}
		if !found {
			return fmt.Errorf("%s: %s is not one of %v", at, short(v), e)
		}
	}
	switch x := v.(type) {
	case float64:
		if m, ok := schema["minimum"].(float64); ok && x < m {
			return fmt.Errorf("%s: %v < minimum %v", at, x, m)
		}
		if m, ok := schema["maximum"].(float64); ok && x > m {
			return fmt.Errorf("%s: %v > maximum %v", at, x, m)
		}
	case string:
		if m, ok := schema["maxLength"].(float64); ok && float64(len([]rune(x))) > m {
			return fmt.Errorf("%s: longer than %v", at, m)
		}
		if p, ok := schema["pattern"].(string); ok {
			re, err := regexp.Compile(p)
			if err != nil {
				return fmt.Errorf("%s: bad pattern %q in the document: %v", at, p, err)
			}
			if !re.MatchString(x) {
				return fmt.Errorf("%s: %q does not match %s", at, x, p)
			}
		}
		if f, _ := schema["format"].(string); f == "date-time" {
			if _, err := time.Parse(time.RFC3339Nano, x); err != nil {
				return fmt.Errorf("%s: %q is not a date-time", at, x)
			}
		}
	case []any:
		if m, ok := schema["minItems"].(float64); ok && float64(len(x)) < m {
			return fmt.Errorf("%s: fewer than %v items", at, m)
		}
		if m, ok := schema["maxItems"].(float64); ok && float64(len(x)) > m {
			return fmt.Errorf("%s: more than %v items", at, m)
		}
		if items, ok := schema["items"].(map[string]any); ok {
			for i, y := range x {
				if err := d.Validate(items, y, fmt.Sprintf("%s[%d]", at, i)); err != nil {
					return err
				}
			}
		}
	case map[string]any:
		props, _ := schema["properties"].(map[string]any)
		if req, ok := schema["required"].([]any); ok {
			for _, r := range req {
				if _, ok := x[r.(string)]; !ok {
					return fmt.Errorf("%s: required property %q is missing", at, r)
				}
			}
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if ps, ok := props[k].(map[string]any); ok {
				if err := d.Validate(ps, x[k], at+"."+k); err != nil {
					return err
				}
				continue
			}
			switch ap := schema["additionalProperties"].(type) {
			case bool:
				if !ap {
					return fmt.Errorf("%s: property %q is not documented", at, k)
				}
			case map[string]any:
				if err := d.Validate(ap, x[k], at+"."+k); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func hasType(v any, t string) bool {
	switch t {
	case "null":
		return v == nil
	case "object":
		_, ok := v.(map[string]any)
		return ok
	case "array":
		_, ok := v.([]any)
		return ok
	case "string":
		_, ok := v.(string)
		return ok
	case "boolean":
		_, ok := v.(bool)
		return ok
	case "number":
		_, ok := v.(float64)
		return ok
	case "integer":
		f, ok := v.(float64)
		return ok && f == float64(int64(f))
	}
	return false
}

func short(v any) string {
	b, _ := json.Marshal(v)
	if len(b) > 80 {
		return string(b[:80]) + "..."
	}
	return string(b)
}
