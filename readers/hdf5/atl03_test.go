package hdf5

import (
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/internal/testutil/fixtures"
	"github.com/subsetd/subsetd/ncmodel"
)

// atl03 is the real ICESat-2 file of ../shared/realdata (see its README).
const atl03Name = "nasa+harmony-trajectory-subsetter__ATL03_gt1l.h5"

func openATL03(t *testing.T) *Reader {
	t.Helper()
	return open(t, fixtures.RealData(t, atl03Name))
}

// h5dumpValues runs h5dump on a 1-D hyperslab of a dataset, with full
// precision, and parses the values.
func h5dumpValues(t *testing.T, file, dset string, start, stride, count int) []float64 {
	t.Helper()
	fixtures.NeedTool(t, "h5dump")
	out, err := exec.Command("h5dump", "-m", "%.17g", "-d", dset,
		"-s", strconv.Itoa(start), "-S", strconv.Itoa(stride), "-c", strconv.Itoa(count), file).CombinedOutput()
	if err != nil {
		t.Fatalf("h5dump: %v\n%s", err, out)
	}
	// DATA { (0): 87.29..., 87.29..., ... } inside the SUBSET block.
	m := regexp.MustCompile(`(?s)SUBSET \{.*?DATA \{(.*?)\}`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no data in h5dump output:\n%s", out)
	}
	var vals []float64
	for _, line := range strings.Split(string(m[1]), "\n") {
		line = strings.TrimSpace(line)
		if i := strings.Index(line, "):"); i >= 0 {
			line = line[i+2:]
		}
		for _, f := range strings.Split(line, ",") {
			if f = strings.TrimSpace(f); f == "" {
				continue
			}
			v, err := strconv.ParseFloat(f, 64)
			if err != nil {
				t.Fatalf("h5dump value %q: %v", f, err)
			}
			vals = append(vals, v)
		}
	}
	if len(vals) != count {
		t.Fatalf("h5dump gave %d values, want %d:\n%s", len(vals), count, out)
	}
	return vals
}

func TestATL03Structure(t *testing.T) {
	r := openATL03(t)
	f := r.File()
	if f.Format != ncmodel.FormatHDF5 {
		t.Errorf("format %q", f.Format)
	}
	gt := f.Root.Group("gt1l")
	if gt == nil {
		t.Fatal("no group /gt1l")
	}
	for _, g := range []string{"heights", "geolocation", "geophys_corr", "bckgrd_atlas", "signal_find_output"} {
		if gt.Group(g) == nil {
			t.Errorf("no group /gt1l/%s", g)
		}
	}
	h := gt.Group("heights")
	dt := h.Dim("delta_time")
	if dt == nil || dt.Len != 2909 || !dt.Unlimited || dt.Group != h {
		t.Fatalf("/gt1l/heights dimension delta_time: %+v", dt)
	}
	for _, name := range []string{"lat_ph", "lon_ph", "h_ph", "delta_time"} {
		v := mustVar(t, r, "/gt1l/heights/"+name)
		if len(v.Dims) != 1 || v.Dims[0] != dt {
			t.Errorf("%s dims %v", name, v.Dims)
		}
		if v.Deflate != 6 || len(v.Chunks) != 1 || v.Chunks[0] != 10000 {
			t.Errorf("%s storage: chunks %v deflate %d", name, v.Chunks, v.Deflate)
		}
	}
	lat := mustVar(t, r, "/gt1l/heights/lat_ph")
	if lat.Type != ncmodel.Double || lat.AttrString("units") != "degrees_north" || lat.AttrString("coordinates") != "delta_time lon_ph" {
		t.Errorf("lat_ph: %v units %q coordinates %q", lat.Type, lat.AttrString("units"), lat.AttrString("coordinates"))
	}
	if a, ok := lat.Attr("valid_max"); !ok || a.Type != ncmodel.Double || a.Float64s()[0] != 90 {
		t.Errorf("lat_ph:valid_max %#v", a)
	}
	if _, ok := lat.Attr("DIMENSION_LIST"); ok {
		t.Error("DIMENSION_LIST is shown")
	}
	// The second dimension of signal_conf_ph has no scale: the one
	// netCDF-C cannot resolve. It gets a phony dimension of length 5.
	sc := mustVar(t, r, "/gt1l/heights/signal_conf_ph")
	if len(sc.Dims) != 2 || sc.Dims[0] != dt || sc.Dims[1].Len != 5 || !strings.HasPrefix(sc.Dims[1].Name, "phony_dim_") || sc.Dims[1].Group != h {
		t.Errorf("signal_conf_ph dims %+v %+v", sc.Dims[0], sc.Dims[1])
	}
	if a, _ := gt.Attr("atlas_beam_type"); a.Type != ncmodel.Char || a.Text() != "weak" {
		got := a.Value
		t.Errorf("/gt1l:atlas_beam_type = %q", got)
	}
	anc := f.Root.Group("METADATA").Group("Lineage").Group("ATL02")
	if a, ok := anc.Attr("version"); !ok || a.Type != ncmodel.String || len(a.Value.([]string)) != 3 || a.Value.([]string)[0] != "006" {
		t.Errorf("/METADATA/Lineage/ATL02:version %#v", a)
	}
}

func TestATL03Values(t *testing.T) {
	r := openATL03(t)
	lat := mustVar(t, r, "/gt1l/heights/lat_ph")
	a, err := r.Read(lat, []int{0}, []int{5}, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := values(t, a).([]float64)
	for _, v := range got {
		if v < 87 || v > 87.5 {
			t.Errorf("lat_ph %v is not near 87N", v)
		}
	}
	atl03 := fixtures.RealData(t, atl03Name)
	want := h5dumpValues(t, atl03, "/gt1l/heights/lat_ph", 0, 1, 5)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("lat_ph[%d] = %.17g, h5dump says %.17g", i, got[i], want[i])
		}
	}

	// A strided read across chunk-internal positions, and lon_ph.
	a, err = r.Read(lat, []int{10}, []int{7}, []int{400})
	if err != nil {
		t.Fatal(err)
	}
	want = h5dumpValues(t, atl03, "/gt1l/heights/lat_ph", 10, 400, 7)
	for i, v := range values(t, a).([]float64) {
		if v != want[i] {
			t.Errorf("lat_ph[10+400*%d] = %.17g, h5dump says %.17g", i, v, want[i])
		}
	}
	lon := readAll(t, r, "/gt1l/heights/lon_ph")
	lons := values(t, lon).([]float64)
	if len(lons) != 2909 {
		t.Fatalf("%d longitudes", len(lons))
	}
	want = h5dumpValues(t, atl03, "/gt1l/heights/lon_ph", 2904, 1, 5)
	for i := range want {
		if lons[2904+i] != want[i] {
			t.Errorf("lon_ph[%d] = %.17g, h5dump says %.17g", 2904+i, lons[2904+i], want[i])
		}
	}

	// A 2-D byte variable with a phony dimension.
	a, err = r.Read(mustVar(t, r, "/gt1l/heights/signal_conf_ph"), []int{0, 0}, []int{3, 5}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range values(t, a).([]int8) {
		if v < -2 || v > 4 {
			t.Errorf("signal_conf_ph value %d outside -2..4", v)
		}
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }
