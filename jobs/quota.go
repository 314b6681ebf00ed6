package jobs

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/subsetd/subsetd/internal/errs"
	"github.com/subsetd/subsetd/regions"
)

// Quota is what one key may use. Zero in a field: no limit of the key's
// own (the server's queue_limit and max_regions still apply).
//
// JobLimits is the one rule of what a job may hold.
type Quota struct {
	ActiveJobs        int     `json:"active_jobs"`          // jobs accepted or running at once
	RegionsPerJob     int     `json:"regions_per_job"`      // regions in one job
	RequestsPerSecond float64 `json:"requests_per_second"`  // the rate of a token bucket...
	Burst             int     `json:"burst"`                // ...of this many requests (0: max(1, 2 × the rate))
	OutputBytesPerDay int64   `json:"output_bytes_per_day"` // bytes of output files per UTC day
	MaxOutputBytes    int64   `json:"max_output_bytes"`     // bytes of output files one job may write, as its dry run estimates them
}

// QuotaFields are the names of a quota's fields, as the configuration and
// `subsetd keys --quota` write them.
var QuotaFields = []string{"active_jobs", "regions_per_job", "requests_per_second", "burst", "output_bytes_per_day", "max_output_bytes"}

// Check refuses negative and non-finite values.
func (q Quota) Check() error {
	if q.ActiveJobs < 0 || q.RegionsPerJob < 0 || q.Burst < 0 || q.OutputBytesPerDay < 0 || q.MaxOutputBytes < 0 ||
		q.RequestsPerSecond < 0 || math.IsNaN(q.RequestsPerSecond) || math.IsInf(q.RequestsPerSecond, 0) {
		return errs.F(errs.Invalid, "quota", "quota values must be zero (no limit) or positive: %+v", q)
	}
	return nil
}

// BurstSize is the size of the token bucket of the request rate.
func (q Quota) BurstSize() int {
	if q.Burst > 0 {
		return q.Burst
	}
	return max(1, int(math.Ceil(2*q.RequestsPerSecond)))
}

// QuotaOverrides are a key's own quota values; nil fields take the
// server's defaults.
type QuotaOverrides struct {
	ActiveJobs        *int
	RegionsPerJob     *int
	RequestsPerSecond *float64
	Burst             *int
	OutputBytesPerDay *int64
	MaxOutputBytes    *int64
}

// Apply returns def with the overrides in place.
func (o QuotaOverrides) Apply(def Quota) Quota {
	if o.ActiveJobs != nil {
		def.ActiveJobs = *o.ActiveJobs
	}
	if o.RegionsPerJob != nil {
		def.RegionsPerJob = *o.RegionsPerJob
	}
	if o.RequestsPerSecond != nil {
		def.RequestsPerSecond = *o.RequestsPerSecond
	}
	if o.Burst != nil {
		def.Burst = *o.Burst
	}
	if o.OutputBytesPerDay != nil {
		def.OutputBytesPerDay = *o.OutputBytesPerDay
	}
	if o.MaxOutputBytes != nil {
		def.MaxOutputBytes = *o.MaxOutputBytes
	}
	return def
}

// Merge returns o with the fields set in p replaced.
func (o QuotaOverrides) Merge(p QuotaOverrides) QuotaOverrides {
	o.ActiveJobs = cmpOr(p.ActiveJobs, o.ActiveJobs)
	o.RegionsPerJob = cmpOr(p.RegionsPerJob, o.RegionsPerJob)
	o.RequestsPerSecond = cmpOr(p.RequestsPerSecond, o.RequestsPerSecond)
	o.Burst = cmpOr(p.Burst, o.Burst)
	o.OutputBytesPerDay = cmpOr(p.OutputBytesPerDay, o.OutputBytesPerDay)
	o.MaxOutputBytes = cmpOr(p.MaxOutputBytes, o.MaxOutputBytes)
	return o
}

func cmpOr[T any](a, b *T) *T {
	if a != nil {
		return a
	}
	return b
}

// clear unsets the named fields.
func (o *QuotaOverrides) clear(names []string) error {
	for _, n := range names {
		switch n {
		case "active_jobs":
			o.ActiveJobs = nil
		case "regions_per_job":
			o.RegionsPerJob = nil
		case "requests_per_second":
			o.RequestsPerSecond = nil
		case "burst":
			o.Burst = nil
		case "output_bytes_per_day":
			o.OutputBytesPerDay = nil
		case "max_output_bytes":
			o.MaxOutputBytes = nil
		default:
			return unknownQuota(n)
		}
	}
	return nil
}

func unknownQuota(name string) error {
	return errs.F(errs.Invalid, "quota", "unknown quota %q: use %s", name, strings.Join(QuotaFields, ", "))
}

// Check refuses negative and non-finite values.
func (o QuotaOverrides) Check() error { return o.Apply(Quota{}).Check() }

// String writes the overrides as ParseQuota reads them ("" for none).
func (o QuotaOverrides) String() string {
	var parts []string
	add := func(name string, set bool, v string) {
		if set {
			parts = append(parts, name+"="+v)
		}
	}
	q := o.Apply(Quota{})
	add("active_jobs", o.ActiveJobs != nil, strconv.Itoa(q.ActiveJobs))
	add("regions_per_job", o.RegionsPerJob != nil, strconv.Itoa(q.RegionsPerJob))
	add("requests_per_second", o.RequestsPerSecond != nil, strconv.FormatFloat(q.RequestsPerSecond, 'g', -1, 64))
	add("burst", o.Burst != nil, strconv.Itoa(q.Burst))
	add("output_bytes_per_day", o.OutputBytesPerDay != nil, strconv.FormatInt(q.OutputBytesPerDay, 10))
	add("max_output_bytes", o.MaxOutputBytes != nil, strconv.FormatInt(q.MaxOutputBytes, 10))
	return strings.Join(parts, ",")
}

// ParseQuota reads "active_jobs=5,requests_per_second=2.5,
// output_bytes_per_day=10GiB": fields of Quota by their JSON names, 0 for
// no limit, sizes in bytes or with a KiB, MiB, GiB or TiB suffix. A value
// "default" is returned in clear: the server's default applies again.
func ParseQuota(s string) (o QuotaOverrides, clear []string, err error) {
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, val, ok := strings.Cut(part, "=")
		if !ok {
			return o, nil, errs.F(errs.Invalid, "quota", "quota %q: write NAME=VALUE", part)
		}
		name, val = strings.TrimSpace(name), strings.TrimSpace(val)
		if !slices.Contains(QuotaFields, name) {
			return o, nil, unknownQuota(name)
		}
		if val == "default" {
			clear = append(clear, name)
			continue
		}
		bad := func() error {
			return errs.F(errs.Invalid, "quota", "quota %s=%s: expected a number, zero (no limit) or more", name, val)
		}
		switch name {
		case "requests_per_second":
			f, err := strconv.ParseFloat(val, 64)
			if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) {
				return o, nil, bad()
			}
			o.RequestsPerSecond = &f
		case "output_bytes_per_day", "max_output_bytes":
			n, err := parseBytes(val)
			if err != nil {
				return o, nil, bad()
			}
			if name == "max_output_bytes" {
				o.MaxOutputBytes = &n
			} else {
				o.OutputBytesPerDay = &n
			}
		default:
			n, err := strconv.Atoi(val)
			if err != nil || n < 0 {
				return o, nil, bad()
			}
			switch name {
			case "active_jobs":
				o.ActiveJobs = &n
			case "regions_per_job":
				o.RegionsPerJob = &n
			case "burst":
				o.Burst = &n
			}
		}
	}
	return o, clear, nil
}

func parseBytes(s string) (int64, error) {
	mult := int64(1)
	for i, suf := range []string{"KiB", "MiB", "GiB", "TiB"} {
		if strings.HasSuffix(s, suf) {
			mult, s = int64(1)<<(10*(i+1)), strings.TrimSuffix(s, suf)
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return n * mult, nil
}

// JobLimits are what one job of a submitter may hold, checked as its
// regions are read, before any polygon is prepared: at most maxRegions
// regions (the server's max_regions), or the key's regions_per_job when
// lower, and maxVertices vertices (max_vertices). Over them a request is
// TooLarge (413): waiting would not help.
func JobLimits(maxRegions, maxVertices int, by Submitter) regions.Limits {
	l := regions.Limits{Regions: maxRegions, RegionsBy: "the server's limit (max_regions)", Vertices: maxVertices, VerticesBy: "the server's limit (max_vertices)"}
	if q := by.Quota.RegionsPerJob; q > 0 && (l.Regions <= 0 || q < l.Regions) {
		l.Regions, l.RegionsBy = q, fmt.Sprintf("the quota of key %q (regions_per_job)", by.Owner)
	}
	return l
}
