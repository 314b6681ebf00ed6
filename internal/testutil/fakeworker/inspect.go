package fakeworker

import (
	"os"
	"slices"

	"github.com/rs/zerolog"

	"github.com/subsetd/subsetd/worker"
)

// InspectArg, as the first argument of a test binary, makes it the fake
// inspector of the index (`subsetd inspect --stdin` without the C readers):
// test binaries call InspectMain from TestMain when they see it.
const InspectArg = "fake-inspect"

// InspectMain runs the worker's inspector over the fake files and exits.
func InspectMain() {
	log := zerolog.New(os.Stderr).With().Timestamp().Logger()
	if err := worker.Inspect(os.Stdin, os.Stdout, worker.Env{Open: open, Log: log}, slices.Contains(os.Args, "--sha256")); err != nil {
		log.Error().Err(err).Msg("inspect")
		os.Exit(1)
	}
	os.Exit(0)
}
