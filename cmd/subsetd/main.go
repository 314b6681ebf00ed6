// Command subsetd cuts regions of interest out of NetCDF and HDF5 files.
// One binary: serve, worker, subset, submit, status, fetch, cancel, inspect,
// index, regions, keys, version.
package main

import (
	"fmt"
	"io"
	"os"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

func commands() []command {
	return []command{
		{"subset", "cut regions out of NetCDF/HDF5 files into one file per region", runSubset},
		{"serve", "serve datasets over HTTP: jobs of many regions, worker processes, downloads", runServe},
		{"worker", "run one task for 'subsetd serve' (JSON on stdin, reply on stdout)", runWorker},
		{"submit", "submit a job to a server (the flags of subset), print its id; --wait follows it", runSubmit},
		{"status", "print a job of a server: status, progress, its regions' results", runStatus},
		{"fetch", "download a job's files (sha256 checked, resumable) laid out as subset writes them", runFetch},
		{"cancel", "cancel a job of a server that is accepted or running", runCancel},
		{"inspect", "describe a file: format, groups, variables, coordinates, extent, time coverage", runInspect},
		{"index", "index the data directory: each file's variables, lat/lon box or footprint, time coverage", runIndex},
		{"regions", "list the named region sets and their regions", runRegions},
		{"keys", "create, list and revoke the API keys of a server, set their quotas", runKeys},
		{"version", "print the version", runVersion},
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "subsetd cuts regions of interest out of NetCDF and HDF5 files.\n\nUsage:\n  subsetd <command> [flags] [args]\n\nCommands:\n")
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun 'subsetd <command> --help' for a command's flags.\n")
}

func main() {
	selfExe, _ = os.Executable()
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "--help", "help":
		usage(stdout)
		return 0
	case "--version", "-version":
		return runVersion(nil, stdout, stderr)
	}
	for _, c := range commands() {
		if c.name == args[0] {
			return c.run(args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "subsetd: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

func runVersion(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("version", "subsetd version", "Prints the version of subsetd.", stderr)
	if code, stop := parseFlags(fs, args, stdout); stop {
		return code
	}
	fmt.Fprintf(stdout, "subsetd %s\n", version)
	return 0
}
