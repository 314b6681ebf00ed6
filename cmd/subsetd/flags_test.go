package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/subsetd/subsetd/server"
)

// TestHelpFlags: every command's --help lists its flags with two dashes,
// as the README writes them, says a default once, and shows no test hook.
func TestHelpFlags(t *testing.T) {
	oneDash := regexp.MustCompile(`(?m)^\s+-[a-z]`)
	for _, cmd := range commands() {
		_, stdout, _ := runCLI(cmd.name, "--help")
		if m := oneDash.FindString(stdout); m != "" {
			t.Errorf("%s --help: a flag with one dash: %q", cmd.name, m)
		}
		// Flag texts are wrapped: join each flag's lines before counting.
		for _, f := range strings.Split(stdout, "\n  --")[1:] {
			if n := strings.Count(f, "default"); n > 1 {
				t.Errorf("%s --help: a default said %d times: %q", cmd.name, n, f)
			}
		}
		if strings.Contains(stdout, "SUBSETD_TEST") {
			t.Errorf("%s --help shows a test hook", cmd.name)
		}
	}
	_, stdout, _ := runCLI("subset", "--help")
	for _, want := range []string{"  --concat\n", "  --region NAME=W,S,E,N\n", "A box is W,S,E,N: west, south, east, north", `(default "centre")`, "(default 1)"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("subset --help lacks %q:\n%s", want, stdout)
		}
	}
	_, stdout, _ = runCLI("serve", "--help")
	if !strings.Contains(stdout, "  --workers processes\n      worker processes running tasks at once (default: the number of CPUs)\n") {
		t.Errorf("serve --help, --workers:\n%s", stdout)
	}
	// A usage text that mentions "default" must not hide the flag's own.
	if !strings.Contains(stdout, "/v1/jobs/{id}/links without ?ttl= (duration) (default 24h0m0s)\n") {
		t.Errorf("serve --help, --link-ttl does not say its default:\n%s", stdout)
	}
	if n := strings.Count(stdout, `"public_url"`); n != 1 {
		t.Errorf("serve --help: the configuration example names public_url %d times", n)
	}
}

// TestUsageErrors: a usage error is one line and a pointer to --help,
// exit status 2.
func TestUsageErrors(t *testing.T) {
	in := smallFile(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"subset", "--region", "a=0,0,10,10"}, "subsetd subset: no input FILE given\nRun 'subsetd subset --help' for its flags.\n"},
		{[]string{"subset", "--deflate", "x", in}, "subsetd subset: invalid value \"x\" for flag --deflate: parse error\nRun 'subsetd subset --help' for its flags.\n"},
		{[]string{"subset", "--frobnicate", in}, "subsetd subset: unknown flag --frobnicate\nRun 'subsetd subset --help' for its flags.\n"},
		{[]string{"subset", "--out", t.TempDir(), "--region", "a=0,0,10,10", "--stride", "depth=2", in},
			"subsetd subset: --stride: small.nc has no dimension \"depth\": use time, lat, lon, vertical or one of its dimensions (time, lat, lon)\n"},
		{[]string{"subset", "--dry-run", "--region", "a=0,0,10,10", "--stride", "depth=2", in},
			"subsetd subset: --stride: small.nc has no dimension \"depth\": use time, lat, lon, vertical or one of its dimensions (time, lat, lon)\n"},
		{[]string{"subset", "--out", t.TempDir(), "--region", "a=0,0,10,10", "--vars", "sst,sst", in},
			"subsetd subset: --vars: variable \"sst\" is listed twice\n"},
		{[]string{"subset", "--region", "a=0,0,10", in},
			"subsetd subset: --region a: bbox \"0,0,10\" must be W,S,E,N (4 numbers)\nRun 'subsetd subset --help' for its flags.\n"},
	} {
		code, stdout, stderr := runCLI(tc.args...)
		if code != 2 || stdout != "" || stderr != tc.want {
			t.Errorf("%v: exit %d, stdout %q, stderr\n%s\nwant exit 2 and\n%s", tc.args, code, stdout, stderr, tc.want)
		}
	}
}

// TestFlagName: request fields named by the flag that gave them.
func TestFlagName(t *testing.T) {
	f := &requestFlags{origins: []string{"--regions r.json: region 1", "--region b"}}
	for field, want := range map[string]string{
		"variables[3]": "--vars", "time.start": "--time", "time": "--time", "stride.depth": "--stride",
		"output.deflate": "--deflate", "output.format": "--format", "statistics.ops[1]": "--stats",
		"statistics.variables": "--stats-vars", "statistics.weights": "--weights", "select": "--select",
		"vertical": "--vertical", "regions[1].bbox": "--region b", "regions[0].geometry": "--regions r.json: region 1",
		"regions[7]": "--region", "regions": "--region", "dataset": "DATASET", "Idempotency-Key": "Idempotency-Key",
	} {
		if got := f.flagName(field); got != want {
			t.Errorf("flagName(%q) = %q, want %q", field, got, want)
		}
	}
}

// TestServeHelpConfigExample: the configuration file shown by serve --help
// names every setting of the file once and loads as it is.
func TestServeHelpConfigExample(t *testing.T) {
	_, stdout, _ := runCLI("serve", "--help")
	start := strings.Index(stdout, `  {"data":`)
	end := strings.Index(stdout, `"max_output_bytes": 0}}`)
	if start < 0 || end < 0 {
		t.Fatalf("serve --help has no configuration example:\n%s", stdout)
	}
	example := stdout[start : end+len(`"max_output_bytes": 0}}`)]
	var named map[string]json.RawMessage
	if err := json.Unmarshal([]byte(example), &named); err != nil {
		t.Fatalf("the example is not JSON: %v\n%s", err, example)
	}
	ct := reflect.TypeOf(server.Config{})
	for i := 0; i < ct.NumField(); i++ {
		name, _, _ := strings.Cut(ct.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		if _, ok := named[name]; !ok {
			t.Errorf("serve --help's configuration example lacks %q", name)
		}
		if n := strings.Count(example, `"`+name+`":`); n != 1 {
			t.Errorf("serve --help's configuration example names %q %d times", name, n)
		}
	}
	path := filepath.Join(t.TempDir(), "subsetd.json")
	if err := os.WriteFile(path, []byte(example), 0o644); err != nil {
		t.Fatal(err)
	}
	c := server.Default()
	if err := c.LoadFile(path); err != nil {
		t.Fatalf("the example does not load: %v", err)
	}
}
