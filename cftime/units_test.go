package cftime

import (
	"math"
	"strings"
	"testing"
)

func TestParseUnits(t *testing.T) {
	for _, c := range []struct {
		units, cal string
		unit       string
		scale      float64
		epoch      string
		want       Calendar
	}{
		{"days since 1900-01-01", "", "days", 86400, "1900-01-01T00:00:00Z", Standard},
		{"days since 1900-1-1", "gregorian", "days", 86400, "1900-01-01T00:00:00Z", Standard},
		{"days since 1900-01-01 00:00:00", "noleap", "days", 86400, "1900-01-01T00:00:00Z", NoLeap},
		{"hours since 1900-01-01T00:00:00Z", "365_day", "hours", 3600, "1900-01-01T00:00:00Z", NoLeap},
		{"seconds since 1970-01-01 00:00:00.0", "proleptic_gregorian", "seconds", 1, "1970-01-01T00:00:00Z", ProlepticGregorian},
		{"seconds since 2000-01-01 00:00:00 UTC", "standard", "seconds", 1, "2000-01-01T00:00:00Z", Standard},
		{"days since 1-1-1 0:0:0", "julian", "days", 86400, "0001-01-01T00:00:00Z", Julian},
		{"days since 0001-01-01", "360_day", "days", 86400, "0001-01-01T00:00:00Z", Day360},
		{"hours since 1900-01-01 00:00:0.0", "all_leap", "hours", 3600, "1900-01-01T00:00:00Z", AllLeap},
		{"days since 1900-01-01 00:00:00 +00:00", "", "days", 86400, "1900-01-01T00:00:00Z", Standard},
		{"days since 1900-01-01 00:00:00 -6:00", "", "days", 86400, "1900-01-01T06:00:00Z", Standard},
		{"days since 1900-01-01 00:00:00 +06:00", "", "days", 86400, "1899-12-31T18:00:00Z", Standard},
		{"days since 1900-01-01T12:00:00+0530", "", "days", 86400, "1900-01-01T06:30:00Z", Standard},
		// The offset is applied in the calendar: 2001-03-01 minus 6 hours.
		{"days since 2001-03-01 00:00:00 +06:00", "noleap", "days", 86400, "2001-02-28T18:00:00Z", NoLeap},
		{"days since 2001-03-01 00:00:00 +06:00", "all_leap", "days", 86400, "2001-02-29T18:00:00Z", AllLeap},
		{"days since 2001-03-01 00:00:00 +06:00", "360_day", "days", 86400, "2001-02-30T18:00:00Z", Day360},
		{"days since 1582-10-15 00:00:00 +06:00", "standard", "days", 86400, "1582-10-04T18:00:00Z", Standard},
		{"days since 1900-01-01 00:00:00.5", "", "days", 86400, "1900-01-01T00:00:00.5Z", Standard},
		{"days since -0001-01-01", "julian", "days", 86400, "-0001-01-01T00:00:00Z", Julian},
		{"days since 0000-01-01", "proleptic_gregorian", "days", 86400, "0000-01-01T00:00:00Z", ProlepticGregorian},
		{"days since 2000-01-01 UTC", "", "days", 86400, "2000-01-01T00:00:00Z", Standard},
		// Case and spaces.
		{"Days Since 1900-01-01", "", "days", 86400, "1900-01-01T00:00:00Z", Standard},
		{"  DAYS   SINCE   1900-01-01   00:00:00  ", "", "days", 86400, "1900-01-01T00:00:00Z", Standard},
		{"days since 1900-01-01  00:00:00", "", "days", 86400, "1900-01-01T00:00:00Z", Standard},
		{"days since 1900-01-01t00:00:00z", "", "days", 86400, "1900-01-01T00:00:00Z", Standard},
		// Unit spellings.
		{"day since 2000-01-01", "", "days", 86400, "2000-01-01T00:00:00Z", Standard},
		{"d since 2000-01-01", "", "days", 86400, "2000-01-01T00:00:00Z", Standard},
		{"hour since 2000-01-01", "", "hours", 3600, "2000-01-01T00:00:00Z", Standard},
		{"hr since 2000-01-01", "", "hours", 3600, "2000-01-01T00:00:00Z", Standard},
		{"h since 2000-01-01", "", "hours", 3600, "2000-01-01T00:00:00Z", Standard},
		{"minutes since 2000-01-01", "", "minutes", 60, "2000-01-01T00:00:00Z", Standard},
		{"minute since 2000-01-01", "", "minutes", 60, "2000-01-01T00:00:00Z", Standard},
		{"min since 2000-01-01", "", "minutes", 60, "2000-01-01T00:00:00Z", Standard},
		{"second since 2000-01-01", "", "seconds", 1, "2000-01-01T00:00:00Z", Standard},
		{"sec since 2000-01-01", "", "seconds", 1, "2000-01-01T00:00:00Z", Standard},
		{"s since 2000-01-01", "", "seconds", 1, "2000-01-01T00:00:00Z", Standard},
		{"milliseconds since 2000-01-01", "", "milliseconds", 1e-3, "2000-01-01T00:00:00Z", Standard},
		{"msec since 2000-01-01", "", "milliseconds", 1e-3, "2000-01-01T00:00:00Z", Standard},
		{"ms since 2000-01-01", "", "milliseconds", 1e-3, "2000-01-01T00:00:00Z", Standard},
		{"microseconds since 2000-01-01", "", "microseconds", 1e-6, "2000-01-01T00:00:00Z", Standard},
		{"us since 2000-01-01", "", "microseconds", 1e-6, "2000-01-01T00:00:00Z", Standard},
		{"weeks since 2000-01-01", "", "weeks", 7 * 86400, "2000-01-01T00:00:00Z", Standard},
		{"months since 2000-01-01", "360_day", "months", 30 * 86400, "2000-01-01T00:00:00Z", Day360},
		{"years since 2000-01-01", "360_day", "years", 360 * 86400, "2000-01-01T00:00:00Z", Day360},
		{"common_years since 2000-01-01", "noleap", "common_years", 365 * 86400, "2000-01-01T00:00:00Z", NoLeap},
		// Calendar none: parsed, not checked.
		{"days since 2001-02-29", "none", "days", 86400, "2001-02-29T00:00:00Z", None},
	} {
		u, err := ParseUnits(c.units, c.cal)
		if err != nil {
			t.Errorf("ParseUnits(%q, %q): %v", c.units, c.cal, err)
			continue
		}
		if u.Unit != c.unit || u.Scale != c.scale || u.Epoch.String() != c.epoch || u.Calendar != c.want {
			t.Errorf("ParseUnits(%q, %q) = %s %v since %s in %s; want %s %v since %s in %s",
				c.units, c.cal, u.Unit, u.Scale, u.Epoch, u.Calendar, c.unit, c.scale, c.epoch, c.want)
		}
	}

	for _, c := range []struct{ units, cal, want string }{
		{"furlongs since 1900", "", `time units "furlongs since 1900": unknown unit "furlongs": want days, hours, minutes, seconds, milliseconds, microseconds or weeks`},
		{"days", "", `time units "days": no "since <date>"`},
		{"days after 1900-01-01", "", `time units "days after 1900-01-01": no "since <date>"`},
		{"days since", "", `time units "days since": no date after "since"`},
		{"", "", `time units "": empty, want "<unit> since <date>" like "days since 1900-01-01"`},
		{"   ", "", `time units "   ": empty, want "<unit> since <date>" like "days since 1900-01-01"`},
		{"days since 1900-01-01", "lunar", `time units "days since 1900-01-01": unknown calendar "lunar": want one of standard, gregorian, proleptic_gregorian, julian, noleap, 365_day, all_leap, 366_day, 360_day, none`},
		{"months since 1900-01-01", "", `time units "months since 1900-01-01": "months" are ambiguous in the standard calendar, where months and years vary in length; use days (months and years are accepted only with the 360_day calendar)`},
		{"months since 1900-01-01", "noleap", `time units "months since 1900-01-01": "months" are ambiguous in the noleap calendar, where months and years vary in length; use days (months and years are accepted only with the 360_day calendar)`},
		{"Years since 1900-01-01", "julian", `time units "Years since 1900-01-01": "Years" are ambiguous in the julian calendar, where months and years vary in length; use days (months and years are accepted only with the 360_day calendar)`},
		{"common_years since 1900-01-01", "360_day", `time units "common_years since 1900-01-01": "common_years" are only defined in the noleap calendar, not in 360_day; use days`},
		{"days since yesterday", "", `time units "days since yesterday": bad reference date "yesterday": want a date like 1900-01-01 or 1900-01-01 00:00:00`},
		{"days since 1900-13-01", "", `time units "days since 1900-13-01": bad reference date "1900-13-01": month 13 is out of range`},
		{"days since 1900-01-01 25:00", "", `time units "days since 1900-01-01 25:00": bad reference date "1900-01-01 25:00": hour 25 is out of range`},
		{"days since 1900-01-01 00:00:00 PST", "", `time units "days since 1900-01-01 00:00:00 PST": bad reference date "1900-01-01 00:00:00 PST": want a date like 1900-01-01 or 1900-01-01 00:00:00`},
		{"days since 2001-02-29", "", `time units "days since 2001-02-29": reference date: 2001-02-29 does not exist in the standard calendar`},
		{"days since 2000-02-29", "noleap", `time units "days since 2000-02-29": reference date: 2000-02-29 does not exist in the noleap calendar`},
		{"days since 1582-10-10", "standard", `time units "days since 1582-10-10": reference date: 1582-10-10 does not exist in the standard calendar (1582-10-04 is followed by 1582-10-15)`},
		{"days since 0000-01-01", "standard", `time units "days since 0000-01-01": reference date: year 0 does not exist in the standard calendar (year -1, 1 BC, is followed by year 1)`},
		{"days since 1900-01-01 00:00:60", "", `time units "days since 1900-01-01 00:00:60": reference date: second 60 is out of range (CF calendars have no leap seconds)`},
	} {
		_, err := ParseUnits(c.units, c.cal)
		if err == nil || err.Error() != c.want {
			t.Errorf("ParseUnits(%q, %q) error = %v;\nwant %s", c.units, c.cal, err, c.want)
		}
	}
}

func mustUnits(t *testing.T, units, cal string) Units {
	t.Helper()
	u, err := ParseUnits(units, cal)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestDecodeEncode(t *testing.T) {
	for _, c := range []struct {
		units, cal string
		v          float64
		want       string
	}{
		{"days since 1900-01-01", "noleap", 59, "1900-03-01T00:00:00Z"},
		{"days since 2000-01-01", "noleap", 59, "2000-03-01T00:00:00Z"},
		{"days since 2000-01-01", "standard", 59, "2000-02-29T00:00:00Z"},
		{"days since 2000-01-01", "all_leap", 59, "2000-02-29T00:00:00Z"},
		{"days since 2000-01-01", "360_day", 59, "2000-02-30T00:00:00Z"},
		{"days since 2000-01-01", "360_day", 360, "2001-01-01T00:00:00Z"},
		{"days since 1582-10-04", "standard", 1, "1582-10-15T00:00:00Z"},
		{"days since 1582-10-04", "julian", 1, "1582-10-05T00:00:00Z"},
		{"hours since 2000-01-01", "standard", -0.5, "1999-12-31T23:30:00Z"},
		{"days since 2000-01-01", "standard", 1.0 / 3, "2000-01-01T08:00:00Z"},
		{"seconds since 2000-01-01", "standard", 59.9999999, "2000-01-01T00:01:00Z"}, // no 00:00:59.9999999
		{"seconds since 2000-01-01", "standard", 0.0000015, "2000-01-01T00:00:00.000002Z"},
		{"weeks since 2000-01-01", "noleap", 9, "2000-03-05T00:00:00Z"},
		{"months since 2000-01-01", "360_day", 1.5, "2000-02-16T00:00:00Z"},
		{"common_years since 2000-01-01", "noleap", 1.5, "2001-07-02T12:00:00Z"},
		{"days since 2000-01-01 00:00:00 -6:00", "standard", 0, "2000-01-01T06:00:00Z"},
	} {
		u := mustUnits(t, c.units, c.cal)
		d, err := u.Decode(c.v)
		if err != nil || d.String() != c.want {
			t.Errorf("%q %s: Decode(%v) = %s, %v; want %s", c.units, c.cal, c.v, d, err, c.want)
			continue
		}
		n, err := u.Encode(d)
		if err != nil || math.Abs(n-c.v)*u.Scale > 1e-6 { // to the microsecond
			t.Errorf("%q %s: Encode(%s) = %v, %v; want %v", c.units, c.cal, d, n, err, c.v)
		}
	}
}

func TestDecodeEncodeErrors(t *testing.T) {
	none := mustUnits(t, "days since 2000-01-01", "none")
	if _, err := none.Decode(1); err == nil || err.Error() != "calendar none: time values cannot be turned into dates" {
		t.Errorf("none.Decode: %v", err)
	}
	if _, err := none.Encode(Date{2000, 1, 1, 0, 0, 0}); err == nil || err.Error() != "calendar none: time values cannot be turned into dates" {
		t.Errorf("none.Encode: %v", err)
	}
	u := mustUnits(t, "days since 2000-01-01", "noleap")
	for v, want := range map[float64]string{
		math.NaN():     "time value NaN is not a finite number",
		math.Inf(1):    "time value +Inf is not a finite number",
		math.Inf(-1):   "time value -Inf is not a finite number",
		9.969209968e36: "time value 9.969209968e+36 days since 2000-01-01T00:00:00Z is out of range", // the netCDF float fill value
		-1e9:           "time value -1e+09 days since 2000-01-01T00:00:00Z is out of range",
		5e7:            "time value 5e+07 days since 2000-01-01T00:00:00Z is out of range", // year 138987
	} {
		if _, err := u.Decode(v); err == nil || err.Error() != want {
			t.Errorf("Decode(%v) = %v; want %s", v, err, want)
		}
	}
	for d, want := range map[Date]string{
		{2000, 2, 29, 0, 0, 0}:     "2000-02-29 does not exist in the noleap calendar",
		{2000, 1, 1, 24, 0, 0}:     "hour 24 is out of range",
		{2000, 1, 1, 0, 0, 60}:     "second 60 is out of range (CF calendars have no leap seconds)",
		{-100000, 1, 1, 0, 0, 0}:   "",
		{-100001, 1, 1, 0, 0, 0}:   "year -100001 is out of range (-100000 to 100000)",
		{2000, 1, 1, 0, 0, -1e-12}: "second -0.000000000001 is out of range (CF calendars have no leap seconds)",
	} {
		_, err := u.Encode(d)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("Encode(%s) = %q; want %q", d, got, want)
		}
	}
	// Hand-made Units are checked too.
	bad := Units{Scale: 86400, Epoch: Date{2001, 2, 29, 0, 0, 0}, Calendar: NoLeap, Unit: "days"}
	if _, err := bad.Decode(0); err == nil || !strings.Contains(err.Error(), "2001-02-29 does not exist") {
		t.Errorf("Decode with a bad epoch: %v", err)
	}
	if _, err := (Units{Scale: 1, Epoch: Date{2000, 1, 1, 0, 0, 0}, Calendar: "lunar"}).Decode(0); err == nil {
		t.Error("Decode with an unknown calendar: no error")
	}
}

// TestRoundTrip encodes and decodes every hour over a few years around
// leap days and the 1582 reform, in every calendar, with awkward units.
func TestRoundTrip(t *testing.T) {
	for _, cal := range []string{"standard", "proleptic_gregorian", "julian", "noleap", "all_leap", "360_day"} {
		for _, units := range []string{"days since 1850-01-01", "hours since 1582-10-01 12:00:00", "seconds since 1970-01-01", "minutes since 2000-03-01 00:00 +05:30"} {
			u := mustUnits(t, units, cal)
			for _, start := range []Date{{1580, 1, 1, 0, 0, 0}, {1899, 1, 1, 0, 0, 0}, {1999, 11, 1, 0, 0, 0}} {
				d := start
				for i := 0; i < 24*400; i++ {
					n, err := u.Encode(d)
					if err != nil {
						t.Fatalf("%s %q: Encode(%s): %v", cal, units, d, err)
					}
					back, err := u.Decode(n)
					if err != nil || back != d {
						t.Fatalf("%s %q: Decode(Encode(%s) = %v) = %s, %v", cal, units, d, n, back, err)
					}
					next := NextPeriod(d, Hour, u.Calendar)
					if m, _ := u.Encode(next); m <= n {
						t.Fatalf("%s %q: Encode(%s) = %v is not after Encode(%s) = %v", cal, units, next, m, d, n)
					}
					d = next
				}
			}
		}
	}
}
