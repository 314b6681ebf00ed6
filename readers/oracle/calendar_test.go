package oracle

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/testutil/fixtures"
	"github.com/subsetd/subsetd/ncmodel/nccompare"
	"github.com/subsetd/subsetd/regions"
)

// calendarFile is the cal_steps case with a test's time units, calendar
// attribute (none when "") and time values.
func calendarFile(t *testing.T, units, calendar string, values []float64) string {
	t.Helper()
	v := fixtures.Values{Attrs: map[string]any{"time:units": units}, Data: map[string][]float64{"time": values}}
	if calendar != "" {
		v.Attrs["time:calendar"] = calendar
	}
	return fixtures.Variant(t, "cal_steps", v)
}

// pythonSelect asks cftime (python3-netcdf4) which time indices fall in
// [start, end) given as ISO dates: an oracle independent of cftime.
func pythonSelect(t *testing.T, values []float64, units, calendar, start, endExclusive string) []int {
	t.Helper()
	py := fixtures.NeedPython(t, "cftime")
	script := `
import json, sys, cftime
vals, units, cal, start, end = json.loads(sys.argv[1])
c = cal or "standard"
s = cftime.datetime.strptime(start, "%Y-%m-%dT%H:%M:%S", calendar=c)
e = cftime.datetime.strptime(end, "%Y-%m-%dT%H:%M:%S", calendar=c)
ds = cftime.num2date(vals, units, calendar=c)
print(json.dumps([i for i, d in enumerate(ds) if s <= d < e]))
`
	arg, _ := json.Marshal([]any{values, units, calendar, start, endExclusive})
	out, err := exec.Command(py, "-c", script, string(arg)).CombinedOutput()
	if err != nil {
		t.Fatalf("python3 cftime: %v %s", err, out)
	}
	var idx []int
	if err := json.Unmarshal(out, &idx); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return idx
}

func TestCalendarsAgainstCftimeAndNCKS(t *testing.T) {
	needNCO(t)
	// Daily steps from Feb 25 to Mar 4 2001 in units of the calendar, plus
	// a step in the middle of a day; request Feb 28 .. Mar 1 (whole days).
	tests := []struct {
		calendar string // attribute value; "" = none
		units    string
		values   []float64
		end      string // the exclusive end of "2001-03-01" as a day
	}{
		{"", "days since 2001-02-25", []float64{0, 1, 2, 3, 3.5, 4, 5, 6, 7}, "2001-03-02T00:00:00"},
		{"Gregorian", "hours since 2001-02-25 00:00:00", []float64{0, 24, 48, 72, 84, 96, 120, 144}, "2001-03-02T00:00:00"},
		{"proleptic_gregorian", "days since 1970-01-01", []float64{11378, 11379, 11380, 11381, 11381.5, 11382, 11383}, "2001-03-02T00:00:00"},
		{"julian", "days since 2001-02-25", []float64{0, 1, 2, 3, 3.5, 4, 5, 6}, "2001-03-02T00:00:00"},
		{"noleap", "days since 2001-01-01", []float64{55, 56, 57, 58, 58.5, 59, 60, 61}, "2001-03-02T00:00:00"},
		{"365_day", "days since 2001-01-01", []float64{55, 56, 57, 58, 59, 60}, "2001-03-02T00:00:00"},
		{"all_leap", "days since 2001-01-01", []float64{55, 56, 57, 58, 59, 59.5, 60, 61}, "2001-03-02T00:00:00"},
		{"366_day", "days since 2001-01-01", []float64{57, 58, 59, 60, 61}, "2001-03-02T00:00:00"},
		{"360_day", "days since 2001-01-01", []float64{55, 56, 57, 58, 59, 59.5, 60, 61}, "2001-03-02T00:00:00"},
	}
	for _, tc := range tests {
		name := tc.calendar
		if name == "" {
			name = "no_attribute"
		}
		t.Run(name, func(t *testing.T) {
			in := calendarFile(t, tc.units, tc.calendar, tc.values)
			want := pythonSelect(t, tc.values, tc.units, strings.ToLower(tc.calendar), "2001-02-28T00:00:00", tc.end)
			req := &engine.Request{Regions: []regions.Fixed{{Name: "all", BBox: []float64{-180, -90, 180, 90}}},
				Time: &engine.TimeRange{Start: "2001-02-28", End: "2001-03-01"}}
			_, res := cut(t, in, req)
			if len(want) == 0 {
				t.Fatalf("oracle selected nothing: the test data is wrong")
			}
			r := res.Regions[0]
			if r.Status != engine.StatusSuccessful {
				t.Fatalf("%s: %s", r.Status, r.Message)
			}
			if got := r.Files[0].Shape["time"]; got != len(want) {
				t.Fatalf("selected %d steps, cftime selects indices %v", got, want)
			}
			oracle := ncks(t, in, "-d", fmt.Sprintf("time,%d,%d", want[0], want[len(want)-1]))
			compare(t, r.Files[0].Path, oracle, nccompare.Options{})
		})
	}
}

func TestCalendarNoneRefusesDates(t *testing.T) {
	in := calendarFile(t, "days since 2001-01-01", "none", []float64{0, 1, 2})
	req := &engine.Request{Regions: []regions.Fixed{{Name: "a", BBox: []float64{-180, -90, 180, 90}}}, Time: &engine.TimeRange{Start: "2001-01-01"}}
	_, err := engine.Run(t.Context(), []string{in}, req, engine.Options{OutDir: t.TempDir(), Open: openSource, Create: openSink})
	if err == nil || !strings.Contains(err.Error(), "calendar none") {
		t.Errorf("calendar none: %v", err)
	}
	// Without a time range the file is cut normally.
	req.Time = nil
	_, res := cut(t, in, req)
	if res.Regions[0].Status != engine.StatusSuccessful {
		t.Errorf("%+v", res.Regions[0])
	}
}

func pythonRun(t *testing.T, script string, arg any) string {
	t.Helper()
	py := fixtures.NeedPython(t, "cftime")
	b, _ := json.Marshal(arg)
	out, err := exec.Command(py, "-c", script, string(b)).CombinedOutput()
	if err != nil {
		t.Fatalf("python3 cftime: %v %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// pythonDays decodes values with cftime and returns their dates (YYYY-MM-DD).
func pythonDays(t *testing.T, values []float64, units, calendar string) []string {
	out := pythonRun(t, `
import json, sys, cftime
vals, units, cal = json.loads(sys.argv[1])
print(json.dumps(["%04d-%02d-%02d" % (d.year, d.month, d.day) for d in cftime.num2date(vals, units, calendar=cal or "standard")]))
`, []any{values, units, calendar})
	var days []string
	if err := json.Unmarshal([]byte(out), &days); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return days
}

// pythonNextDay returns the date after day in the calendar.
func pythonNextDay(t *testing.T, day, calendar string) string {
	return pythonRun(t, `
import json, sys, cftime, datetime
day, cal = json.loads(sys.argv[1])
d = cftime.datetime.strptime(day, "%Y-%m-%d", calendar=cal or "standard") + datetime.timedelta(days=1)
print("%04d-%02d-%02d" % (d.year, d.month, d.day))
`, []any{day, calendar})
}
