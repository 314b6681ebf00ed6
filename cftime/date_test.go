package cftime

import (
	"testing"
)

func TestParseISO(t *testing.T) {
	for _, c := range []struct {
		in   string
		want string
		p    Precision
	}{
		{"2020", "2020-01-01T00:00:00Z", Year},
		{"2020-01", "2020-01-01T00:00:00Z", Month},
		{"2020-01-31", "2020-01-31T00:00:00Z", Day},
		{"2020-01-31T12", "2020-01-31T12:00:00Z", Hour},
		{"2020-01-31T12:30", "2020-01-31T12:30:00Z", Minute},
		{"2020-01-31T12:30:45", "2020-01-31T12:30:45Z", Second},
		{"2020-01-31T12:30:45.25", "2020-01-31T12:30:45.25Z", Second},
		{"2020-01-31T12:30:45,25", "2020-01-31T12:30:45.25Z", Second},
		{"2020-01-31T12:30:05.5Z", "2020-01-31T12:30:05.5Z", Second},
		{"2020-01-31T12:30:45.123456789", "2020-01-31T12:30:45.123456789Z", Second},
		{"2020-01-31 12:30:45", "2020-01-31T12:30:45Z", Second},
		{"2020-01-31t12:30", "2020-01-31T12:30:00Z", Minute},
		{"  2020-01-31T12:30Z  ", "2020-01-31T12:30:00Z", Minute},
		{"2020-01-31T12:30:45Z", "2020-01-31T12:30:45Z", Second},
		{"2020-01-31T12:30:45z", "2020-01-31T12:30:45Z", Second},
		{"2020-01-31T12:30:45 UTC", "2020-01-31T12:30:45Z", Second},
		{"2020-01-31T12:00:00+00:00", "2020-01-31T12:00:00Z", Second},
		{"2020-01-31T12:00:00+02:00", "2020-01-31T10:00:00Z", Second},
		{"2020-01-31T12:00:00-02:00", "2020-01-31T14:00:00Z", Second},
		{"2020-01-31T12:00:00+0530", "2020-01-31T06:30:00Z", Second},
		{"2020-01-31T12:00+05", "2020-01-31T07:00:00Z", Minute},
		{"2020-01-31T12 -6:00", "2020-01-31T18:00:00Z", Hour},
		// Offsets crossing day, month and year boundaries (Gregorian).
		{"2020-01-31T22:00:00-03:00", "2020-02-01T01:00:00Z", Second},
		{"2020-02-28T23:00:00-02:00", "2020-02-29T01:00:00Z", Second},
		{"2021-02-28T23:00:00-02:00", "2021-03-01T01:00:00Z", Second},
		{"2020-12-31T23:30:00-00:45", "2021-01-01T00:15:00Z", Second},
		{"2020-01-01T01:00:00+02:00", "2019-12-31T23:00:00Z", Second},
		{"2020-03-01T00:30+01:00", "2020-02-29T23:30:00Z", Minute},
		{"2100-03-01T00:30+01:00", "2100-02-28T23:30:00Z", Minute},
		{"2020-02-30T23:00-02:00", "2020-03-01T01:00:00Z", Minute}, // 360_day Feb 30 moves on as in Gregorian
		// Years.
		{"0001-01-01", "0001-01-01T00:00:00Z", Day},
		{"0000-06", "0000-06-01T00:00:00Z", Month},
		{"-0001-12-31", "-0001-12-31T00:00:00Z", Day},
		{"+10000-01-01", "+10000-01-01T00:00:00Z", Day},
		{"+2020-01-01", "2020-01-01T00:00:00Z", Day},
		{"+12345", "+12345-01-01T00:00:00Z", Year},
		{"-12345-06", "-12345-06-01T00:00:00Z", Month},
		// One-digit fields and leap seconds are taken.
		{"2020-1-5T1:2:3", "2020-01-05T01:02:03Z", Second},
		{"2016-12-31T23:59:60", "2016-12-31T23:59:60Z", Second},
		{"2020-02-31", "2020-02-31T00:00:00Z", Day}, // Validate's business
	} {
		d, p, err := ParseISO(c.in)
		if err != nil {
			t.Errorf("ParseISO(%q): %v", c.in, err)
			continue
		}
		if d.String() != c.want || p != c.p {
			t.Errorf("ParseISO(%q) = %s, %s; want %s, %s", c.in, d, p, c.want, c.p)
		}
	}

	hint := ": want ISO 8601 like 2020-01-31 or 2020-01-31T12:00:00Z"
	for _, c := range []struct{ in, want string }{
		{"2020-13-01", `bad time "2020-13-01": month 13 is out of range`},
		{"2020-00", `bad time "2020-00": month 0 is out of range`},
		{"2020-01-32", `bad time "2020-01-32": day 32 is out of range`},
		{"2020-01-00", `bad time "2020-01-00": day 0 is out of range`},
		{"2020-01-31T24:00:00", `bad time "2020-01-31T24:00:00": hour 24 is out of range`},
		{"2020-01-31T12:60", `bad time "2020-01-31T12:60": minute 60 is out of range`},
		{"2020-01-31T12:30:61", `bad time "2020-01-31T12:30:61": second 61 is out of range`},
		{"2020-01-31T12:30:99.5", `bad time "2020-01-31T12:30:99.5": second 99.5 is out of range`},
		{"2020-01-31T12:00+24:00", `bad time "2020-01-31T12:00+24:00": time zone offset +24:00 is out of range`},
		{"2020-01-31T12:00-05:60", `bad time "2020-01-31T12:00-05:60": time zone offset -05:60 is out of range`},
		{"2020-01-31+05:00", `bad time "2020-01-31+05:00": a time zone offset needs a time of day`},
		{"yesterday", `bad time "yesterday"` + hint},
		{"", `bad time ""` + hint},
		{"20", `bad time "20"` + hint},
		{"99-01-01", `bad time "99-01-01"` + hint},
		{"2020-", `bad time "2020-"` + hint},
		{"2020-01-", `bad time "2020-01-"` + hint},
		{"2020-01-31T", `bad time "2020-01-31T"` + hint},
		{"2020-01-31T12:", `bad time "2020-01-31T12:"` + hint},
		{"2020-01-31T12:30:", `bad time "2020-01-31T12:30:"` + hint},
		{"2020-01-31T12:30:45.", `bad time "2020-01-31T12:30:45."` + hint},
		{"2020-01-31T12:30:45 PST", `bad time "2020-01-31T12:30:45 PST"` + hint},
		{"2020-01-31T12:30:45+", `bad time "2020-01-31T12:30:45+"` + hint},
		{"2020-01-31T12:30:45+5:3", `bad time "2020-01-31T12:30:45+5:3"` + hint},
		{"2020-01-31T12:30:45+05:00x", `bad time "2020-01-31T12:30:45+05:00x"` + hint},
		{"2020-01-31 UTC", `bad time "2020-01-31 UTC"` + hint},
		{"2020-01-31X", `bad time "2020-01-31X"` + hint},
		{"20200131", `bad time "20200131"` + hint},
		{"2020/01/31", `bad time "2020/01/31"` + hint},
		{"2020-001-01", `bad time "2020-001-01"` + hint},
		{"2020-01-31T123", `bad time "2020-01-31T123"` + hint},
		{"1234567890", `bad time "1234567890"` + hint},
		{"+1234567890", `bad time "+1234567890"` + hint},
		{"12345", `bad time "12345"` + hint},
		{"+123", `bad time "+123"` + hint},
		{"2020-01-31T12:00+053", `bad time "2020-01-31T12:00+053"` + hint},
		{"2020-01-31T12:00+05300", `bad time "2020-01-31T12:00+05300"` + hint},
		{"--2020", `bad time "--2020"` + hint},
	} {
		_, _, err := ParseISO(c.in)
		if err == nil || err.Error() != c.want {
			t.Errorf("ParseISO(%q) error = %v; want %s", c.in, err, c.want)
		}
	}
}

func TestDateString(t *testing.T) {
	for _, c := range []struct {
		d    Date
		want string
	}{
		{Date{2020, 1, 31, 12, 0, 0}, "2020-01-31T12:00:00Z"},
		{Date{2020, 1, 31, 12, 0, 5.5}, "2020-01-31T12:00:05.5Z"},
		{Date{2020, 1, 31, 12, 0, 45.123456}, "2020-01-31T12:00:45.123456Z"},
		{Date{1, 1, 1, 0, 0, 0}, "0001-01-01T00:00:00Z"},
		{Date{0, 1, 1, 0, 0, 0}, "0000-01-01T00:00:00Z"},
		{Date{-1, 12, 31, 23, 59, 59}, "-0001-12-31T23:59:59Z"},
		{Date{-12345, 1, 1, 0, 0, 0}, "-12345-01-01T00:00:00Z"},
		{Date{10000, 1, 1, 0, 0, 0}, "+10000-01-01T00:00:00Z"},
		{Date{9999, 12, 31, 0, 0, 0}, "9999-12-31T00:00:00Z"},
	} {
		if got := c.d.String(); got != c.want {
			t.Errorf("%#v.String() = %s; want %s", c.d, got, c.want)
		}
	}
}

func TestBefore(t *testing.T) {
	ds := []Date{
		{-1, 12, 31, 23, 59, 59.5},
		{0, 1, 1, 0, 0, 0},
		{2020, 1, 31, 0, 0, 0},
		{2020, 1, 31, 0, 0, 0.000001},
		{2020, 1, 31, 0, 1, 0},
		{2020, 1, 31, 1, 0, 0},
		{2020, 2, 1, 0, 0, 0},
		{2020, 2, 30, 0, 0, 0},
		{2020, 3, 1, 0, 0, 0},
		{2021, 1, 1, 0, 0, 0},
	}
	for i, a := range ds {
		for j, b := range ds {
			if got := a.Before(b); got != (i < j) {
				t.Errorf("%s.Before(%s) = %v", a, b, got)
			}
		}
	}
}

func TestPrecisionString(t *testing.T) {
	for p, want := range []string{"year", "month", "day", "hour", "minute", "second"} {
		if got := Precision(p).String(); got != want {
			t.Errorf("Precision(%d) = %s; want %s", p, got, want)
		}
	}
}
