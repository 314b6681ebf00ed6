package regions

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
)

// Named region sets: GeoJSON FeatureCollections, one region per feature,
// named by properties.name. Sets ship inside the binary (sets/*.geojson)
// and more are loaded from a folder (--regions-dir).

//go:embed sets/*.geojson
var builtin embed.FS

// Set is a named collection of regions.
type Set struct {
	Name        string       `json:"name"`
	Title       string       `json:"title,omitempty"`
	Description string       `json:"description,omitempty"`
	Regions     []NamedShape `json:"regions"`
	Source      string       `json:"source"` // "builtin" or the file it was read from
	raw         []byte
}

// NamedShape is one region of a set.
type NamedShape struct {
	Name  string `json:"name"`
	Title string `json:"title,omitempty"`
	Area  Area   `json:"-"`
	Box   BBox   `json:"-"`
	// Geometry is the feature's geometry as the set has it: what a ref to
	// it is fixed to.
	Geometry json.RawMessage `json:"-"`
}

// GeoJSON returns the set as its FeatureCollection.
func (s *Set) GeoJSON() []byte { return s.raw }

var (
	setsMu sync.RWMutex
	sets   map[string]*Set
)

func loadBuiltin() {
	if sets != nil {
		return
	}
	sets = map[string]*Set{}
	entries, _ := fs.ReadDir(builtin, "sets")
	for _, e := range entries {
		b, err := builtin.ReadFile("sets/" + e.Name())
		if err != nil {
			panic(err)
		}
		s, err := ParseSet(strings.TrimSuffix(e.Name(), ".geojson"), b)
		if err != nil {
			panic(fmt.Sprintf("built-in region set %s: %v", e.Name(), err))
		}
		s.Source = "builtin"
		sets[s.Name] = s
	}
}

// ParseSet reads a FeatureCollection of Polygon/MultiPolygon features.
func ParseSet(name string, data []byte) (*Set, error) {
	if err := ValidateName("set", name); err != nil {
		return nil, err
	}
	var fc struct {
		Type       string `json:"type"`
		Properties struct {
			Title       string `json:"title"`
			Description string `json:"description"`
		} `json:"properties"`
		Features []struct {
			Type       string          `json:"type"`
			Properties map[string]any  `json:"properties"`
			Geometry   json.RawMessage `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(data, &fc); err != nil {
		return nil, fmt.Errorf("region set %s: not GeoJSON: %w", name, err)
	}
	if fc.Type != "FeatureCollection" {
		return nil, fmt.Errorf("region set %s: want a FeatureCollection, got %q", name, fc.Type)
	}
	s := &Set{Name: name, Title: fc.Properties.Title, Description: fc.Properties.Description, raw: data}
	seen := map[string]bool{}
	for i, f := range fc.Features {
		rname, _ := f.Properties["name"].(string)
		if rname == "" {
			rname = fmt.Sprintf("%s_%d", name, i+1)
		}
		field := fmt.Sprintf("set %s feature %d", name, i)
		if err := ValidateName(field, rname); err != nil {
			return nil, err
		}
		if seen[rname] {
			return nil, fmt.Errorf("%s: name %q used twice", field, rname)
		}
		seen[rname] = true
		p, err := ParseGeometry(field, f.Geometry)
		if err != nil {
			return nil, err
		}
		title, _ := f.Properties["title"].(string)
		var geom bytes.Buffer
		if err := json.Compact(&geom, f.Geometry); err != nil {
			return nil, fmt.Errorf("%s: %w", field, err)
		}
		s.Regions = append(s.Regions, NamedShape{Name: rname, Title: title, Area: p, Box: p.Bounds(), Geometry: geom.Bytes()})
	}
	if len(s.Regions) == 0 {
		return nil, fmt.Errorf("region set %s has no features", name)
	}
	return s, nil
}

// LoadDir adds every *.geojson and *.json file of dir as a set named after
// the file; a set of the same name replaces a built-in one.
func LoadDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("regions folder: %w", err)
	}
	setsMu.Lock()
	defer setsMu.Unlock()
	loadBuiltin()
	for _, e := range entries {
		ext := filepath.Ext(e.Name())
		if e.IsDir() || (ext != ".geojson" && ext != ".json") {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return err
		}
		s, err := ParseSet(strings.TrimSuffix(e.Name(), ext), b)
		if err != nil {
			return err
		}
		s.Source = filepath.Join(dir, e.Name())
		sets[s.Name] = s
	}
	return nil
}

// Sets lists the known sets by name.
func Sets() []*Set {
	setsMu.Lock()
	loadBuiltin()
	out := make([]*Set, 0, len(sets))
	for _, s := range sets {
		out = append(out, s)
	}
	setsMu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// GetSet returns a set by name, or nil.
func GetSet(name string) *Set {
	setsMu.Lock()
	defer setsMu.Unlock()
	loadBuiltin()
	return sets[name]
}

// Lookup finds "<set>/<name>".
func Lookup(ref string) (NamedShape, error) {
	setName, name, ok := strings.Cut(ref, "/")
	if !ok {
		return NamedShape{}, fmt.Errorf("ref %q must be <set>/<name>", ref)
	}
	s := GetSet(setName)
	if s == nil {
		var names []string
		for _, x := range Sets() {
			names = append(names, x.Name)
		}
		return NamedShape{}, fmt.Errorf("unknown region set %q; known sets: %s", setName, strings.Join(names, ", "))
	}
	for _, r := range s.Regions {
		if r.Name == name {
			return r, nil
		}
	}
	var names []string
	for _, r := range s.Regions {
		names = append(names, r.Name)
	}
	return NamedShape{}, fmt.Errorf("region set %s has no region %q; it has: %s", setName, name, strings.Join(names, ", "))
}
