package queue

import (
	"github.com/subsetd/subsetd/catalog"
	"github.com/subsetd/subsetd/jobs"
	"github.com/subsetd/subsetd/regions"
)

// planTasks groups the regions of a job into tasks (nearby regions
// together, jobs.Plan) and gives each task the input files the index
// selected: every selected file for a file or a time series (joined along
// time), and for granules the files its regions meet, each region with its
// own list. Granule regions that meet no file get no task: they are
// returned as decided (empty, with why), indexed like rs.
//
// Only granule jobs are spread over the workers. The tasks of a file or a
// time series all read the same files, where neighbouring regions share
// input chunks: one worker decodes and encodes chunks on every core, and a
// second task beside it would decode many of the same chunks again for
// the same cores (the 14 regions of bench/africa14.json: 0.20x the ncks
// calls as one task, 0.23-0.25x as two). Such a job has as few tasks as
// perTask allows; the workers run other jobs' tasks beside it.
func planTasks(jobID string, rs []regions.Fixed, sel *catalog.Selection, workers, perTask int) (tasks []jobs.Task, decided []jobs.Region) {
	var live []int // regions that get a task
	if sel.RegionFiles == nil {
		workers = 1
		for i := range rs {
			live = append(live, i)
		}
	} else {
		decided = make([]jobs.Region, len(rs))
		for i := range rs {
			if len(sel.RegionFiles[i]) == 0 {
				decided[i] = jobs.Region{Index: i, Status: jobs.Empty, Message: sel.Empty[i]}
				continue
			}
			live = append(live, i)
		}
	}
	sub := make([]regions.Fixed, len(live))
	for k, i := range live {
		sub[k] = rs[i]
	}
	for _, g := range jobs.Plan(sub, workers, perTask) {
		t := jobs.Task{JobID: jobID, ID: len(tasks), Concat: sel.Kind == catalog.KindTimeSeries}
		for _, k := range g {
			t.Regions = append(t.Regions, live[k])
		}
		if sel.RegionFiles == nil {
			t.Files = sel.Files
			tasks = append(tasks, t)
			continue
		}
		// The union of the regions' files, in the selection's time order;
		// each file is opened once for every region of the task needing it.
		need := map[int]bool{}
		for _, i := range t.Regions {
			for _, f := range sel.RegionFiles[i] {
				need[f] = true
			}
		}
		local := map[int]int{}
		for f, name := range sel.Files {
			if need[f] {
				local[f] = len(t.Files)
				t.Files = append(t.Files, name)
			}
		}
		for _, i := range t.Regions {
			var l []int
			for _, f := range sel.RegionFiles[i] {
				l = append(l, local[f])
			}
			t.RegionFiles = append(t.RegionFiles, l)
		}
		tasks = append(tasks, t)
	}
	return tasks, decided
}
