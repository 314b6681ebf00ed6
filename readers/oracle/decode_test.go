package oracle

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// decodeScript reads a file with netCDF4-python (which masks values
// outside valid_range/valid_min/valid_max) and with xarray (CF decoding:
// fill values, packing, times), and prints per variable path the values
// each gives: masked or NaN values as null, times as ISO strings (cftime's
// for calendars numpy lacks).
const decodeScript = `
import json, sys, math
import netCDF4, xarray, numpy as np
result = {}
for arg in sys.argv[1:]:
    path, *names = arg.split("\n")
    out = result.setdefault(path, {})
    ds = netCDF4.Dataset(path)
    for n in names:
        g, _, v = n.rpartition("/")
        grp = ds[g] if g else ds
        a = np.ma.masked_invalid(np.ma.asarray(grp[v][:], dtype=float)).ravel()
        out["nc4:" + n] = [None if m else float(x) for x, m in zip(a.data, np.ma.getmaskarray(a))]
    for n in names:
        g, _, v = n.rpartition("/")
        with xarray.open_dataset(path, group=g.strip("/") or None, decode_timedelta=False) as x:
            vals = x[v].values.ravel()
            if np.issubdtype(vals.dtype, np.datetime64):
                out["xr:" + n] = [str(np.datetime_as_string(t, unit="s")) for t in vals]
            elif vals.dtype == object:  # cftime dates of non-standard calendars
                out["xr:" + n] = [t.isoformat() for t in vals]
            else:
                out["xr:" + n] = [None if math.isnan(float(t)) else float(t) for t in vals]
print(json.dumps(result))
`

// decode runs decodeScript once on several files: files maps a path to
// the variables (paths like "/g1/lon") to decode; the result maps a path
// to "nc4:"+name and "xr:"+name.
func decode(t *testing.T, files map[string][]string) map[string]map[string][]any {
	t.Helper()
	py := "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		t.Skip("no /usr/bin/python3 (python3-netcdf4, python3-xarray): run scripts/setup.sh")
	}
	args := []string{"-c", decodeScript}
	for path, names := range files {
		args = append(args, strings.Join(append([]string{path}, names...), "\n"))
	}
	b, err := exec.Command(py, args...).Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		if strings.Contains(string(stderr), "ModuleNotFoundError") {
			t.Skipf("python3-netcdf4 or python3-xarray missing: run scripts/setup.sh\n%s", stderr)
		}
		t.Fatalf("decoding in Python: %v\n%s", err, stderr)
	}
	var out map[string]map[string][]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("%v: %s", err, b)
	}
	return out
}
