package cftime

import (
	"math"
	"testing"
)

var isoSeeds = []string{
	"2020", "2020-01", "2020-01-31", "2020-01-31T12", "2020-01-31T12:30",
	"2020-01-31T12:30:45", "2020-01-31T12:30:45.25", "2020-01-31 12:30:45Z",
	"2020-01-31T12:00:00+05:30", "2020-12-31T23:30:00-0045", "2020-01-31T12 -6:00",
	"-0001-12-31", "+10000-01-01", "2016-12-31T23:59:60.999", "2020-13-01", "yesterday",
	"2020-01-31T12:30:45.123456789012345678901234567890", "",
}

func FuzzParseISO(f *testing.F) {
	for _, s := range isoSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, p, err := ParseISO(s)
		if err != nil {
			return
		}
		if p < Year || p > Second {
			t.Fatalf("ParseISO(%q): precision %d", s, p)
		}
		again, _, err := ParseISO(d.String())
		if err != nil {
			t.Fatalf("ParseISO(%q) = %s, which does not parse: %v", s, d, err)
		}
		if again != d {
			t.Fatalf("ParseISO(%q) = %#v, String %s parses to %#v", s, d, d, again)
		}
		// Nothing below may panic whatever the date.
		for _, cal := range []Calendar{Standard, ProlepticGregorian, Julian, NoLeap, AllLeap, Day360, None} {
			next := NextPeriod(d, p, cal)
			if Validate(d, cal) == nil && !d.Before(next) {
				t.Fatalf("NextPeriod(%s, %s, %s) = %s is not after it", d, p, cal, next)
			}
		}
	})
}

func FuzzParseUnits(f *testing.F) {
	for _, s := range []string{
		"days since 1900-01-01", "hours since 1-1-1 0:0:0", "seconds since 1970-01-01 00:00:00.0",
		"minutes since 2000-01-01T00:00:00Z", "days since 2000-01-01 00:00:00 UTC",
		"Days Since 1900-1-1 00:00:0.0", "days since 1900-01-01 00:00:00 -6:00", "months since 2000-01",
		"furlongs since 1900", "days", "ms since -99999-12-31T23:59:59.999999-23:59",
	} {
		for _, cal := range []string{"", "noleap", "360_day", "julian", "none"} {
			f.Add(s, cal, 1.5)
		}
	}
	f.Fuzz(func(t *testing.T, units, cal string, v float64) {
		u, err := ParseUnits(units, cal)
		if err != nil {
			return
		}
		if u.Scale <= 0 || u.Unit == "" {
			t.Fatalf("ParseUnits(%q, %q) = %+v", units, cal, u)
		}
		if u.Calendar == None {
			return
		}
		if err := Validate(u.Epoch, u.Calendar); err != nil {
			t.Fatalf("ParseUnits(%q, %q): epoch %s: %v", units, cal, u.Epoch, err)
		}
		d, err := u.Decode(v)
		if err != nil {
			return
		}
		if err := Validate(d, u.Calendar); err != nil {
			t.Fatalf("%q %s: Decode(%v) = %s: %v", units, u.Calendar, v, d, err)
		}
		n, err := u.Encode(d)
		if err != nil {
			t.Fatalf("%q %s: Encode(Decode(%v) = %s): %v", units, u.Calendar, v, d, err)
		}
		// Within a microsecond, or the float64's own precision.
		tol := 1e-6/u.Scale + 2*(math.Nextafter(math.Abs(v), math.Inf(1))-math.Abs(v))
		if math.Abs(n-v) > tol {
			t.Fatalf("%q %s: Encode(Decode(%v) = %s) = %v", units, u.Calendar, v, d, n)
		}
	})
}
