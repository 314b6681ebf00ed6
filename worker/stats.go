package worker

import (
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
)

// writeStatsPart writes the statistics of a cutting task's regions to
// OutDir/StatsPartName, synced: the server moves it beside its job's other
// parts once the task is done. A task whose regions met no file writes
// them without moments.
func writeStatsPart(task *Task, res *engine.Result) error {
	t := res.Stats
	if t == nil {
		var err error
		if t, err = engine.NewStatsTableFor(task.Statistics, task.Regions); err != nil {
			return err
		}
	}
	b, err := json.Marshal(t)
	if err != nil {
		return errs.Wrap(errs.Internal, err, "encode statistics")
	}
	f, err := os.Create(filepath.Join(task.OutDir, StatsPartName))
	if err == nil {
		if _, err = f.Write(b); err == nil {
			err = f.Sync()
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return engine.NoSpace(errs.Wrap(errs.Internal, err, "write statistics"), StatsPartName)
	}
	return nil
}

// runStats runs a statistics task: the table at task.StatsTable becomes
// stats.nc and stats.csv in task.OutDir, checked by the engine as the
// outputs of a cut are (engine.WriteStats).
func runStats(task *Task, env Env) ([]engine.OutFile, error) {
	if task.OutDir == "" {
		return nil, errs.E(errs.Internal, "a task without an output directory")
	}
	b, err := os.ReadFile(task.StatsTable)
	if err != nil {
		return nil, errs.Wrap(errs.Internal, err, "read statistics")
	}
	var t engine.StatsTable
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, errs.Wrap(errs.Internal, err, "decode statistics %s", filepath.Base(task.StatsTable))
	}
	files, err := engine.WriteStats(&t, task.Files, engine.Options{OutDir: task.OutDir, Open: env.Open, Create: env.Create,
		Version: env.Version, Command: task.Command})
	if err != nil {
		if full := engine.DiskFull(task.OutDir); full != nil && !engine.IsNoSpace(err) {
			err = engine.NoSpace(full, "the statistics files")
		}
		return nil, err
	}
	return files, nil
}
