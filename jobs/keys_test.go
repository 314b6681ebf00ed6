package jobs

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/regions"
)

func TestKeys(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	secret, k, err := s.CreateKey(ctx, "alice", RoleUser, QuotaOverrides{})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^sd_[0-9A-Za-z]{43}$`).MatchString(secret) || k.Hint != secret[:9] {
		t.Fatalf("secret %q, hint %q", secret, k.Hint)
	}
	// Only the hash is stored.
	var n int
	s.db.QueryRow(`SELECT count(*) FROM subsetd_key WHERE hash = ? OR hint = ? OR name = ?`, secret, secret, secret).Scan(&n)
	if n != 0 {
		t.Fatal("the secret is stored")
	}
	got, err := s.Authenticate(ctx, secret)
	if err != nil || got.Name != "alice" || got.Admin() {
		t.Fatalf("authenticate: %+v %v", got, err)
	}
	for _, bad := range []string{"", "sd_", secret + "x", strings.Replace(secret, "sd_", "xx_", 1)} {
		if _, err := s.Authenticate(ctx, bad); errs.CodeOf(err) != errs.Unauthorized {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if _, _, err := s.CreateKey(ctx, "alice", RoleAdmin, QuotaOverrides{}); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("a second active alice: %v", err)
	}
	for _, name := range []string{"", "-x", "a b", strings.Repeat("a", 65), "é"} {
		if _, _, err := s.CreateKey(ctx, name, RoleUser, QuotaOverrides{}); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("name %q: %v", name, err)
		}
	}
	if _, _, err := s.CreateKey(ctx, "x", "root", QuotaOverrides{}); errs.CodeOf(err) != errs.Invalid {
		t.Errorf("role root: %v", err)
	}
	seven := 7
	admin, _, err := s.CreateKey(ctx, "ops", RoleAdmin, QuotaOverrides{ActiveJobs: &seven})
	if err != nil {
		t.Fatal(err)
	}
	if k, err := s.Authenticate(ctx, admin); err != nil || !k.Admin() || k.Quota.Apply(Quota{ActiveJobs: 2, RegionsPerJob: 9}) != (Quota{ActiveJobs: 7, RegionsPerJob: 9}) {
		t.Fatalf("admin: %+v %v", k, err)
	}

	// Revoked: refused at once in this process, and the name is free.
	if _, err := s.RevokeKey(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, secret); errs.CodeOf(err) != errs.Unauthorized {
		t.Fatalf("revoked key: %v", err)
	}
	if _, err := s.RevokeKey(ctx, "alice"); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("revoke twice: %v", err)
	}
	again, _, err := s.CreateKey(ctx, "alice", RoleUser, QuotaOverrides{})
	if err != nil || again == secret {
		t.Fatalf("a new alice: %v", err)
	}
	keys, err := s.Keys(ctx)
	if err != nil || len(keys) != 3 || keys[0].Name != "alice" || !keys[0].Revoked.IsZero() || keys[2].Name != "alice" || keys[2].Revoked.IsZero() {
		t.Fatalf("keys %+v %v", keys, err)
	}

	// Quotas changed and cleared.
	q, clear, err := ParseQuota("regions_per_job=50, output_bytes_per_day=2GiB,active_jobs=default")
	if err != nil || clear[0] != "active_jobs" {
		t.Fatal(err, clear)
	}
	k, err = s.SetQuota(ctx, "ops", q, clear)
	if err != nil || k.Quota.String() != "regions_per_job=50,output_bytes_per_day=2147483648" {
		t.Fatalf("set quota: %+v %v", k, err)
	}
	if k, _ := s.Authenticate(ctx, admin); k.Quota.String() != "regions_per_job=50,output_bytes_per_day=2147483648" {
		t.Fatalf("after set quota: %s", k.Quota)
	}
}

func TestParseQuota(t *testing.T) {
	o, _, err := ParseQuota("active_jobs=3,regions_per_job=0,requests_per_second=2.5,burst=10,output_bytes_per_day=5MiB")
	if err != nil {
		t.Fatal(err)
	}
	if got := o.Apply(Quota{RegionsPerJob: 100}); got != (Quota{ActiveJobs: 3, RequestsPerSecond: 2.5, Burst: 10, OutputBytesPerDay: 5 << 20}) {
		t.Fatalf("%+v", got)
	}
	for _, bad := range []string{"active_jobs", "colour=3", "active_jobs=-1", "requests_per_second=NaN", "output_bytes_per_day=3PB", "burst=1.5"} {
		if _, _, err := ParseQuota(bad); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if (Quota{RequestsPerSecond: 0.2}).BurstSize() != 1 || (Quota{RequestsPerSecond: 10}).BurstSize() != 20 {
		t.Fatal("burst sizes")
	}
}

// insertOwned stores a one-region, one-task job of owner.
func insertOwned(t *testing.T, s *Store, id, owner string, a Admission) error {
	t.Helper()
	j := &Job{ID: id, Owner: owner, Dataset: "sst", Created: s.Now(),
		Spec: Spec{Dataset: "sst", Regions: []regions.Fixed{{Name: "a", BBox: []float64{0, 0, 1, 1}}}}}
	return s.InTx(context.Background(), func(tx *sql.Tx) error {
		a.Owner = owner
		if err := s.Admit(context.Background(), tx, a); err != nil {
			return err
		}
		return s.Insert(context.Background(), tx, j, []Task{{ID: 0, Regions: []int{0}}}, "", "")
	})
}

// Quotas are per owner; output bytes are counted per UTC day and survive
// the job's deletion; every status change is an event after its commit.
func TestQuotasUsageAndEvents(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	var events []string
	s.OnJobEvent = func(ev JobEvent) { events = append(events, ev.Job+" "+ev.Owner+" "+ev.To) }
	now := time.Date(2025, 3, 1, 22, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }

	a := Admission{QueueLimit: 100, Quota: Quota{ActiveJobs: 1, OutputBytesPerDay: 1000}}
	if err := insertOwned(t, s, "a1", "alice", a); err != nil {
		t.Fatal(err)
	}
	var ex *ExceededError
	if err := insertOwned(t, s, "a2", "alice", a); !errors.As(err, &ex) || ex.Limit.Policy != "active_jobs" || !strings.Contains(err.Error(), `key "alice" has 1 jobs`) {
		t.Fatalf("alice's second job: %v", err)
	}
	if err := insertOwned(t, s, "b1", "bob", a); err != nil {
		t.Fatalf("bob's first job: %v", err)
	}
	// Regions per job: the key's quota when lower than the server's
	// limit, one rule for both.
	if l := JobLimits(1000, 5000, Submitter{Owner: "bob", Quota: Quota{RegionsPerJob: 2}}); l.Regions != 2 || l.RegionsBy != `the quota of key "bob" (regions_per_job)` || l.Vertices != 5000 {
		t.Errorf("bob's limits %+v", l)
	}
	if l := JobLimits(10, 5000, Submitter{Owner: "bob", Quota: Quota{RegionsPerJob: 20}}); l.Regions != 10 || l.RegionsBy != "the server's limit (max_regions)" {
		t.Errorf("a quota above the server's limit: %+v", l)
	}
	if _, err := regions.FixListWithin("regions", make([]regions.Region, 3), JobLimits(1000, 5000, Submitter{Owner: "bob", Quota: Quota{RegionsPerJob: 2}})); errs.CodeOf(err) != errs.TooLarge ||
		err.Error() != `regions: 3 regions: at most 2 per job, the quota of key "bob" (regions_per_job)` {
		t.Errorf("regions per job: %v", err)
	}

	if _, _, err := s.StartTask(ctx, "a1", 0); err != nil {
		t.Fatal(err)
	}
	out := []RegionOutcome{{Index: 0, Status: Successful, Files: []File{{Name: "a.nc", Size: 1200}}}}
	if err := s.FinishTask(ctx, "a1", 0, out, TaskStats{}); err != nil {
		t.Fatal(err)
	}
	if used, _ := s.Usage(ctx, "alice", now); used != 1200 {
		t.Fatalf("usage %d", used)
	}
	if err := s.Delete(ctx, "a1"); err != nil {
		t.Fatal(err)
	}
	err := insertOwned(t, s, "a3", "alice", a)
	if !errors.As(err, &ex) || ex.Limit.Policy != "output_bytes" || ex.RetryAfter != 2*time.Hour || ex.Limit.Window != 24*time.Hour {
		t.Fatalf("over the bytes of the day: %v", err)
	}
	now = now.Add(2 * time.Hour) // the next UTC day
	if err := insertOwned(t, s, "a4", "alice", a); err != nil {
		t.Fatalf("the next day: %v", err)
	}
	if err := s.Delete(ctx, "b1"); errs.CodeOf(err) != errs.Conflict {
		t.Fatalf("delete an active job: %v", err)
	}
	if err := s.Delete(ctx, "zz"); errs.CodeOf(err) != errs.NotFound {
		t.Fatalf("delete no job: %v", err)
	}
	if _, err := s.DismissJob(ctx, "b1", "by the user"); err != nil {
		t.Fatal(err)
	}
	want := []string{"a1 alice accepted", "b1 bob accepted", "a1 alice running", "a1 alice successful", "a1 alice deleted",
		"a4 alice accepted", "b1 bob dismissed"}
	if !reflect.DeepEqual(events, want) {
		t.Fatalf("events\n%q\nwant\n%q", events, want)
	}

	// Listings by owner.
	page, err := s.List(ctx, ListParams{Owner: "bob", Limit: 10})
	if err != nil || len(page) != 1 || page[0].ID != "b1" || page[0].Owner != "bob" {
		t.Fatalf("bob's jobs: %v %v", page, err)
	}
	if page, _ := s.List(ctx, ListParams{AnyOwner: true, Limit: 10}); len(page) != 2 {
		t.Fatalf("every job: %v", page)
	}
}
