package worker_test

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/subsetd/subsetd/engine"
	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/regions"
	"github.com/subsetd/subsetd/worker"
)

// A task's request is the engine's: its regions and options, none of the
// task's own fields.
func TestTaskRequest(t *testing.T) {
	one, no := 1.0, false
	task := worker.Task{JobID: "j", TaskID: 2, Files: []string{"/d/a.nc"}, OutDir: "/o", Concat: true,
		Regions: []regions.Fixed{{Name: "a", BBox: []float64{0, 0, 1, 1}, Mask: &no},
			{Ref: "africa/red_sea", Geometry: json.RawMessage(`{"type":"Polygon","coordinates":[[[32,12],[44,12],[44,30],[32,12]]]}`)}},
		Variables: []string{"sst"}, Time: &engine.TimeRange{End: "2020-02"}, Vertical: &engine.VerticalRange{Min: &one},
		Stride: map[string]int{"time": 3}, Select: engine.SelectOverlap, Output: engine.Output{Format: engine.FormatNetCDF3},
		Statistics: &engine.Statistics{Ops: []string{engine.OpMax}}}
	want := &engine.Request{Regions: task.Regions, Variables: task.Variables, Time: task.Time, Vertical: task.Vertical,
		Stride: task.Stride, Select: engine.SelectOverlap, Output: task.Output, Statistics: task.Statistics}
	if got := task.Request(); !reflect.DeepEqual(got, want) {
		t.Fatalf("request %+v", got)
	}
	if err := task.Request().Validate(); err != nil {
		t.Fatal(err)
	}
	var empty worker.Task
	if got := empty.Request(); !reflect.DeepEqual(got, &engine.Request{}) {
		t.Fatalf("empty task: %+v", got)
	}
}

// An error crosses the process boundary with its field said once.
func TestReplyErrorSaysTheFieldOnce(t *testing.T) {
	re := worker.NewReplyError(errs.F(errs.Invalid, "vertical", "x.nc has no vertical axis"))
	if re.Field != "vertical" || re.Message != "x.nc has no vertical axis" {
		t.Fatalf("%+v", re)
	}
	back := re.Err()
	if back.Error() != "vertical: x.nc has no vertical axis" || errs.FieldOf(back) != "vertical" || errs.CodeOf(back) != errs.Invalid {
		t.Errorf("%q", back.Error())
	}
}
