package jobs

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/regions"
)

// Each change records the notifications it owes in its own transaction,
// once: a region event per final region, a finished event at the end; a
// rolled-back change records none. Attempts show in the job, final or not.
func TestNotifications(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	var queued []string
	fail := false
	s.Enqueue = func(ctx context.Context, tx *sql.Tx, jobID, id string) error {
		if fail {
			return errors.New("queue down")
		}
		queued = append(queued, id)
		return nil
	}
	rs := []regions.Fixed{{Name: "a", BBox: []float64{0, 0, 1, 1}}, {Name: "b", BBox: []float64{0, 0, 1, 1}}}
	j := &Job{ID: "n1", Dataset: "sst", Spec: Spec{Dataset: "sst", Regions: rs, Notify: &Notify{URL: "http://127.0.0.1/", Events: []string{"region", "finished"}}}, Created: s.Now()}
	if err := s.InTx(ctx, func(tx *sql.Tx) error {
		return s.Insert(ctx, tx, j, []Task{{ID: 0, Regions: []int{0}}, {ID: 1, Regions: []int{1}}}, "", "")
	}); err != nil {
		t.Fatal(err)
	}
	if len(queued) != 0 {
		t.Fatalf("queued at insert: %v", queued)
	}
	if _, _, err := s.StartTask(ctx, "n1", 0); err != nil {
		t.Fatal(err)
	}
	// The queue failing fails the change: no region is final without its notification.
	fail = true
	if err := s.FinishTask(ctx, "n1", 0, []RegionOutcome{{Index: 0, Status: Successful, Files: []File{{Name: "a.nc", Size: 1}}}}, TaskStats{}); err == nil || !strings.Contains(err.Error(), "queue down") {
		t.Fatalf("finish with the queue down: %v", err)
	}
	if r := mustGet(t, s, "n1").Regions[0]; r.Status != Running {
		t.Fatalf("region after a rolled-back change: %+v", r)
	}
	fail = false
	if err := s.FinishTask(ctx, "n1", 0, []RegionOutcome{{Index: 0, Status: Successful, Files: []File{{Name: "a.nc", Size: 1}}}}, TaskStats{}); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(queued, ","); got != "msg_n1_region_0" {
		t.Fatalf("queued %s", got)
	}
	if _, _, err := s.StartTask(ctx, "n1", 1); err != nil {
		t.Fatal(err)
	}
	if err := s.FailTask(ctx, "n1", 1, "boom"); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(queued, ","); got != "msg_n1_region_0,msg_n1_region_1,msg_n1_finished" {
		t.Fatalf("queued %s", got)
	}
	// The final job is cached; an attempt shows in it all the same.
	j1, err := s.Get(ctx, "n1")
	if err != nil || len(j1.Deliveries) != 3 || j1.Deliveries[2].Event != NotifyFinished || j1.Deliveries[2].Region != -1 || j1.Deliveries[1].Region != 1 {
		t.Fatalf("deliveries %+v %v", j1.Deliveries, err)
	}
	if b, err := s.SetDeliveryBody(ctx, "n1", "msg_n1_finished", []byte(`{"a":1}`)); err != nil || string(b) != `{"a":1}` {
		t.Fatalf("body %s %v", b, err)
	}
	if b, _ := s.SetDeliveryBody(ctx, "n1", "msg_n1_finished", []byte(`{"a":2}`)); string(b) != `{"a":1}` {
		t.Fatalf("the body changed: %s", b)
	}
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := s.RecordAttempt(ctx, "n1", "msg_n1_finished", Attempt{At: at, Status: 500, Error: "500", MS: 3}, DeliveryPending); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordAttempt(ctx, "n1", "msg_n1_finished", Attempt{At: at.Add(time.Second), Status: 200, MS: 2}, DeliveryDelivered); err != nil {
		t.Fatal(err)
	}
	j2, _ := s.Get(ctx, "n1")
	if d := j2.Deliveries[2]; d.Status != DeliveryDelivered || len(d.Attempts) != 2 || d.Attempts[0].Status != 500 || !d.Attempts[1].At.Equal(at.Add(time.Second)) {
		t.Fatalf("after attempts: %+v", d)
	}
	// No more: later changes owe nothing new.
	if _, err := s.DismissJob(ctx, "n1", "x"); errs.CodeOf(err) != errs.Conflict || len(queued) != 3 {
		t.Fatalf("%v %v", err, queued)
	}
	if err := s.Delete(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delivery(ctx, "n1", "msg_n1_finished"); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("delivery of a deleted job: %v", err)
	}
}

func TestNotifyValidate(t *testing.T) {
	n := &Notify{URL: "http://x/"}
	if err := n.Validate(); err != nil || len(n.Events) != 1 || n.Events[0] != NotifyFinished {
		t.Fatalf("%v %v", err, n.Events)
	}
	for _, bad := range []*Notify{{}, {URL: "http://x/", Events: []string{"done"}}, {URL: "http://x/", Events: []string{"region", "region"}}} {
		if err := bad.Validate(); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}
