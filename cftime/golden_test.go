package cftime

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/subsetd/subsetd/internal/testutil/fixtures"
)

// golden is testdata/golden.json, written by testdata/gen_golden.py from
// Python's cftime.
type golden struct {
	CftimeVersion string       `json:"cftime_version"`
	Decode        []goldenCase `json:"decode"`
	Encode        []goldenCase `json:"encode"`
}

type goldenCase struct {
	Calendar string   `json:"calendar"`
	Units    string   `json:"units"`
	Value    *float64 `json:"value"` // decode cases only
	Date     string   `json:"date"`  // with microseconds, as iso() in the script
	Num      *float64 `json:"num"`   // date2num of Date
	Error    string   `json:"error"` // cftime raised ValueError
}

func (c goldenCase) String() string {
	s := fmt.Sprintf("%s %q", c.Calendar, c.Units)
	if c.Value != nil {
		s += fmt.Sprintf(" value %v", *c.Value)
	}
	return s
}

// isoMicro formats d like the generator: always six fraction digits.
func isoMicro(d Date) string {
	us := secondsMicro(d.Second)
	return fmt.Sprintf("%sT%02d:%02d:%02d.%06dZ", formatDay(d), d.Hour, d.Minute, us/1e6, us%1e6)
}

func loadGolden(t *testing.T) golden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Decode) < 100 || len(g.Encode) < 50 {
		t.Fatalf("golden.json has only %d decode and %d encode cases", len(g.Decode), len(g.Encode))
	}
	return g
}

func TestGoldenDecode(t *testing.T) {
	g := loadGolden(t)
	for _, c := range g.Decode {
		u, err := ParseUnits(c.Units, c.Calendar)
		if c.Error != "" {
			if err == nil {
				_, err = u.Decode(*c.Value)
			}
			if err == nil {
				t.Errorf("%s: no error, cftime says %s", c, c.Error)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c, err)
			continue
		}
		d, err := u.Decode(*c.Value)
		if err != nil {
			t.Errorf("%s: %v", c, err)
			continue
		}
		if got := isoMicro(d); got != c.Date {
			t.Errorf("%s: Decode = %s, cftime %s", c, got, c.Date)
		}
		n, err := u.Encode(d)
		if err != nil {
			t.Errorf("%s: Encode(%s): %v", c, d, err)
			continue
		}
		if n != *c.Num {
			t.Errorf("%s: Encode(%s) = %v, cftime %v", c, d, n, *c.Num)
		}
	}
}

func TestGoldenEncode(t *testing.T) {
	g := loadGolden(t)
	for _, c := range g.Encode {
		u, err := ParseUnits(c.Units, c.Calendar)
		if err != nil {
			t.Errorf("%s: %v", c, err)
			continue
		}
		d, _, err := ParseISO(c.Date)
		if err != nil {
			t.Errorf("%s: %v", c, err)
			continue
		}
		n, err := u.Encode(d)
		if c.Error != "" {
			if err == nil {
				t.Errorf("%s: Encode(%s) = %v, cftime says %s", c, c.Date, n, c.Error)
			} else if verr := Validate(d, u.Calendar); verr == nil {
				t.Errorf("%s: Encode(%s) fails (%v) but Validate accepts it", c, c.Date, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: Encode(%s): %v", c, c.Date, err)
			continue
		}
		if n != *c.Num {
			t.Errorf("%s: Encode(%s) = %v, cftime %v", c, c.Date, n, *c.Num)
		}
		// And back.
		back, err := u.Decode(n)
		if err != nil {
			t.Errorf("%s: Decode(%v): %v", c, n, err)
		} else {
			// A float64 holds the value to within half an ulp, so the
			// round trip is exact to within one ulp in microseconds.
			f, _ := u.factor()
			tol := (math.Nextafter(math.Abs(n), math.Inf(1)) - math.Abs(n)) * float64(f)
			bd, bus := back.split(u.Calendar)
			dd, dus := d.split(u.Calendar)
			if diff := float64((bd-dd)*usPerDay + bus - dus); math.Abs(diff) > tol {
				t.Errorf("%s: Decode(Encode(%s)) = %s, %v µs off, more than the %v µs of one ulp", c, c.Date, back, diff, tol)
			}
		}
	}
}

// TestGoldenCurrent re-runs the generator and checks that golden.json is
// what it writes, so the reference values cannot drift from cftime.
func TestGoldenCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	py := fixtures.NeedPython(t, "netCDF4", "cftime")
	var stderr bytes.Buffer
	cmd := exec.Command(py, filepath.Join("testdata", "gen_golden.py"))
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("gen_golden.py: %v\n%s", err, stderr.Bytes())
	}
	want, err := os.ReadFile(filepath.Join("testdata", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, want) {
		ol, wl := bytes.Split(out, []byte("\n")), bytes.Split(want, []byte("\n"))
		for i := 0; i < len(ol) || i < len(wl); i++ {
			var o, w []byte
			if i < len(ol) {
				o = ol[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if !bytes.Equal(o, w) {
				t.Fatalf("testdata/golden.json is not what gen_golden.py writes now; first difference on line %d:\n generated: %s\n checked-in: %s\nregenerate with: %s testdata/gen_golden.py > testdata/golden.json", i+1, o, w, py)
			}
		}
	}
}
