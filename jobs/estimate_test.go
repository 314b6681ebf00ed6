package jobs

import (
	"testing"
	"time"
)

// SplitHint: consecutive regions in groups under the limit when each
// region fits; else the time range in parts; nothing when neither is
// possible.
func TestSplitHint(t *testing.T) {
	e := &Estimate{Bytes: 100}
	for i, b := range []int64{30, 30, 30, 10} {
		e.Regions = append(e.Regions, RegionEstimate{Name: string(rune('a' + i)), Bytes: b})
	}
	s := e.SplitHint(60, time.Time{}, time.Time{})
	if len(s) != 2 || len(s[0].Regions) != 2 || s[0].EstimatedBytes != 60 || s[1].Regions[0] != "c" || s[1].EstimatedBytes != 40 {
		t.Fatalf("region groups %+v", s)
	}
	e.Regions[0].Bytes = 70
	if s := e.SplitHint(60, time.Time{}, time.Time{}); s != nil {
		t.Fatalf("a region over the limit and no times: %+v", s)
	}
	from := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	s = e.SplitHint(60, from, from.Add(30*24*time.Hour))
	if len(s) != 2 || s[0].Time.Start != "2020-01-01T00:00:00Z" || s[0].Time.End != "2020-01-15T23:59:59Z" ||
		s[1].Time.Start != "2020-01-16T00:00:00Z" || s[1].Time.End != "2020-01-31T00:00:00Z" || s[0].EstimatedBytes != 50 {
		t.Fatalf("time parts %+v %+v", s[0].Time, s[1].Time)
	}
}
