package subsetd_test

// The layering of ARCHITECTURE.md, checked from `go list` instead of kept
// as prose: a change that breaks a rule fails here with the rule's name and
// the offending import.

import (
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/subsetd/subsetd"

// pkg is what the rules need of `go list -json`.
type pkg struct {
	ImportPath string
	CgoFiles   []string
	Imports    []string // production imports only (test imports are TestImports)
	Deps       []string
}

// rule is one layering rule: packages matching From (and not Exempt) must
// not import, directly or through others (Deps), any module package matching
// Forbidden unless it matches Allowed.
type rule struct {
	Name      string
	From      []string // patterns: "engine" is that package, "engine/..." it and those below
	Exempt    []string
	Forbidden []string
	Allowed   []string
	Direct    bool // check Imports instead of Deps
}

// pure packages: the layers below everything else.
var pure = []string{"cftime/...", "ncmodel/...", "regions/...", "internal/errs/...", "internal/datafile/...", "internal/proc/...", "internal/sqlmigrate/...", "internal/pgsql/...", "internal/webhook/..."}

var rules = []rule{
	{
		Name:      "pure layers import nothing of the module above them",
		From:      []string{"cftime/...", "internal/errs/...", "internal/datafile/...", "internal/proc/...", "internal/pgsql/...", "internal/webhook/..."},
		Forbidden: []string{"..."},
	},
	{
		Name:      "ncmodel imports only ncmodel",
		From:      []string{"ncmodel/..."},
		Forbidden: []string{"..."},
		Allowed:   []string{"ncmodel/..."},
	},
	{
		Name:      "regions imports only cftime, ncmodel and internal error codes",
		From:      []string{"regions/..."},
		Forbidden: []string{"..."},
		Allowed:   []string{"regions/...", "cftime/...", "ncmodel", "internal/errs"},
	},
	{
		Name:      "internal packages import only pure layers",
		From:      []string{"internal/sqlmigrate/..."},
		Forbidden: []string{"..."},
		Allowed:   pure,
	},
	{
		Name:      "the engine does not know about jobs, the API, the server or the catalog",
		From:      []string{"engine/..."},
		Forbidden: []string{"jobs/...", "api/...", "server/...", "catalog/...", "worker/...", "cmd/..."},
	},
	{
		Name:      "only the commands wire in the C readers",
		From:      []string{"..."},
		Exempt:    []string{"readers/...", "cmd/...", "bench/...", "e2e/...", "internal/testutil/..."},
		Forbidden: []string{"readers/..."},
	},
	{
		Name:      "the worker is the child side: it does not import the server's layers",
		From:      []string{"worker/..."},
		Forbidden: []string{"jobs/...", "api/...", "server/...", "cmd/..."},
	},
	{
		Name:      "the catalog does not import jobs, the API or the server",
		From:      []string{"catalog/..."},
		Forbidden: []string{"jobs/...", "api/...", "server/...", "cmd/..."},
	},
	{
		Name:      "jobs does not import the API or the server",
		From:      []string{"jobs/..."},
		Forbidden: []string{"api/...", "server/...", "cmd/..."},
	},
	{
		Name:      "the API does not import the server or the commands",
		From:      []string{"api/..."},
		Forbidden: []string{"server/...", "cmd/..."},
	},
	{
		Name:      "production code does not import test helpers",
		From:      []string{"..."},
		Exempt:    []string{"internal/testutil/...", "ncmodel/ncmodeltest", "readers/oracle/...", "e2e/..."},
		Forbidden: []string{"internal/testutil/...", "ncmodel/ncmodeltest"},
		Direct:    true,
	},
}

// match reports whether a module-relative path matches one pattern.
func match(rel, pattern string) bool {
	if pattern == "..." {
		return true
	}
	if p, ok := strings.CutSuffix(pattern, "/..."); ok {
		return rel == p || strings.HasPrefix(rel, p+"/")
	}
	return rel == pattern
}

func matchAny(rel string, patterns []string) bool {
	for _, p := range patterns {
		if match(rel, p) {
			return true
		}
	}
	return false
}

// rel turns an import path into a module-relative one ("" for the root,
// ok false for packages outside the module).
func rel(path string) (string, bool) {
	if path == module {
		return "", true
	}
	r, ok := strings.CutPrefix(path, module+"/")
	return r, ok
}

// violations lists every broken rule over pkgs.
func violations(pkgs []pkg) []string {
	var out []string
	for _, p := range pkgs {
		from, ok := rel(p.ImportPath)
		if !ok {
			continue
		}
		if len(p.CgoFiles) > 0 && !match(from, "readers/...") {
			out = append(out, fmt.Sprintf("only readers/ uses cgo: %s has cgo files %v", from, p.CgoFiles))
		}
		for _, r := range rules {
			if !matchAny(from, r.From) || matchAny(from, r.Exempt) {
				continue
			}
			deps := p.Deps
			if r.Direct {
				deps = p.Imports
			}
			for _, d := range deps {
				to, ok := rel(d)
				if !ok || to == from {
					continue
				}
				if matchAny(to, r.Forbidden) && !matchAny(to, r.Allowed) {
					out = append(out, fmt.Sprintf("%s: %s imports %s", r.Name, from, to))
				}
			}
		}
	}
	return out
}

func listPackages(t *testing.T) []pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps=false", "-json", "./...")
	out, err := cmd.Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []pkg
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	if len(pkgs) < 10 {
		t.Fatalf("go list found only %d packages", len(pkgs))
	}
	return pkgs
}

func TestLayering(t *testing.T) {
	for _, v := range violations(listPackages(t)) {
		t.Error(v)
	}
}

// TestLayeringRulesBite holds the checker to the rules on made-up packages:
// each breaks one rule, and the checker must name it.
func TestLayeringRulesBite(t *testing.T) {
	m := func(s string) string { return module + "/" + s }
	cases := []struct {
		p    pkg
		want string
	}{
		{pkg{ImportPath: m("engine"), CgoFiles: []string{"x.go"}}, "only readers/ uses cgo"},
		{pkg{ImportPath: m("cftime"), Deps: []string{m("ncmodel")}}, "pure layers"},
		{pkg{ImportPath: m("internal/errs"), Deps: []string{m("jobs")}}, "pure layers"},
		{pkg{ImportPath: m("ncmodel"), Deps: []string{m("regions")}}, "ncmodel imports only ncmodel"},
		{pkg{ImportPath: m("regions"), Deps: []string{m("engine")}}, "regions imports only"},
		{pkg{ImportPath: m("engine"), Deps: []string{m("jobs")}}, "the engine does not know"},
		{pkg{ImportPath: m("engine"), Deps: []string{m("catalog/index")}}, "the engine does not know"},
		{pkg{ImportPath: m("engine"), Deps: []string{m("readers/netcdf")}}, "only the commands wire in the C readers"},
		{pkg{ImportPath: m("server"), Deps: []string{m("readers/open")}}, "only the commands wire in the C readers"},
		{pkg{ImportPath: m("worker"), Deps: []string{m("jobs")}}, "the worker is the child side"},
		{pkg{ImportPath: m("catalog/index"), Deps: []string{m("jobs/pool")}}, "the catalog does not import jobs"},
		{pkg{ImportPath: m("jobs/queue"), Deps: []string{m("api")}}, "jobs does not import the API"},
		{pkg{ImportPath: m("api"), Deps: []string{m("server")}}, "the API does not import the server"},
		{pkg{ImportPath: m("server"), Imports: []string{m("internal/testutil/fakeworker")}}, "production code does not import test helpers"},
	}
	for _, c := range cases {
		got := strings.Join(violations([]pkg{c.p}), "\n")
		if !strings.Contains(got, c.want) {
			t.Errorf("%s with deps %v imports %v: want a violation of %q, got %q", c.p.ImportPath, c.p.Deps, c.p.Imports, c.want, got)
		}
	}
	ok := []pkg{
		{ImportPath: m("readers/hdf5"), CgoFiles: []string{"cgo.go"}, Deps: []string{m("ncmodel")}},
		{ImportPath: m("cmd/subsetd"), Deps: []string{m("readers/open"), m("server"), m("engine")}},
		{ImportPath: m("engine"), Deps: []string{m("ncmodel"), m("regions"), m("cftime"), m("internal/errs")}},
		{ImportPath: m("ncmodel/memfile"), Deps: []string{m("ncmodel")}},
	}
	if v := violations(ok); len(v) > 0 {
		t.Errorf("allowed imports reported: %v", v)
	}
}
