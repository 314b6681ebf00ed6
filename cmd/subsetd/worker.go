package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/jobs/pool"
	"github.com/subsetd/subsetd/readers/open"
	"github.com/subsetd/subsetd/worker"
)

const workerAbout = `Runs one task for 'subsetd serve' and exits: reads the task as JSON on
standard input, cuts the regions with the C readers, checks the files it wrote
(size, sha256 and md5, dimensions, values read back) and prints the reply as
JSON on standard output. Logs go to standard error. The regions of a task come
with their areas written out (a ref with the geometry it had when the job was
submitted): the worker reads no region set.

It is started by the server, one process per task, so that a crash of the C
libraries on a bad file fails one task and never the server. Not meant to be
run by hand, except to debug a task:

  echo '{"files":["/data/sst.nc"],"out_dir":"/tmp/out",
        "regions":[{"name":"a","bbox":[0,0,10,10]}]}' | subsetd worker

Exit status: 0 when a reply was printed (including a reply carrying an
error), 1 otherwise.`

func runWorker(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("worker", "subsetd worker < task.json", workerAbout, stderr)
	if code, stop := parseFlags(fs, args, stdout); stop {
		return code
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "subsetd worker: unexpected arguments %q\n", fs.Args())
		return 2
	}
	env := readersEnv(zerolog.New(stderr).With().Timestamp().Str("component", "worker").Int("pid", os.Getpid()).Logger())
	if os.Getenv(pool.WarmEnv) == "1" {
		// Started ahead of its task: ready the libraries while waiting.
		if err := worker.Warm(env); err != nil {
			env.Log.Warn().Err(err).Msg("warm up")
		}
	}
	return worker.Main(context.Background(), os.Stdin, stdout, env)
}

// readersEnv is the environment of the worker's protocols over the C
// readers: what `subsetd worker` and `subsetd inspect --stdin` run on.
func readersEnv(log zerolog.Logger) worker.Env {
	return worker.Env{Open: open.Source, Create: open.Sink, Version: version, Log: log}
}
