package cftime

import (
	"strings"
	"testing"
)

func TestParseCalendar(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Calendar
	}{
		{"", Standard},
		{"  ", Standard},
		{"standard", Standard},
		{"Standard", Standard},
		{"gregorian", Standard},
		{"Gregorian", Standard},
		{"GREGORIAN", Standard},
		{" gregorian\n", Standard},
		{"proleptic_gregorian", ProlepticGregorian},
		{"Proleptic_Gregorian", ProlepticGregorian},
		{"julian", Julian},
		{"noleap", NoLeap},
		{"NoLeap", NoLeap},
		{"365_day", NoLeap},
		{"all_leap", AllLeap},
		{"366_day", AllLeap},
		{"360_day", Day360},
		{"360_DAY", Day360},
		{"none", None},
	} {
		got, err := ParseCalendar(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseCalendar(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
	for _, in := range []string{"gregorian_proleptic", "365", "no_leap", "lunar", "360-day"} {
		_, err := ParseCalendar(in)
		want := `unknown calendar "` + in + `": want one of standard, gregorian, proleptic_gregorian, julian, noleap, 365_day, all_leap, 366_day, 360_day, none`
		if err == nil || err.Error() != want {
			t.Errorf("ParseCalendar(%q) error = %v; want %s", in, err, want)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := func(y, m, d int) Date { return Date{Year: y, Month: m, Day: d} }
	for _, c := range []struct {
		d    Date
		cal  Calendar
		want string // "" for valid
	}{
		{ok(2020, 2, 29), Standard, ""},
		{ok(2020, 2, 29), NoLeap, "2020-02-29 does not exist in the noleap calendar"},
		{ok(2021, 2, 29), NoLeap, "2021-02-29 does not exist in the noleap calendar"},
		{ok(2021, 2, 29), Standard, "2021-02-29 does not exist in the standard calendar"},
		{ok(2021, 2, 29), AllLeap, ""},
		{ok(2021, 2, 30), AllLeap, "2021-02-30 does not exist in the all_leap calendar"},
		{ok(2021, 2, 30), Day360, ""},
		{ok(2021, 1, 31), Day360, "2021-01-31 does not exist in the 360_day calendar"},
		{ok(2021, 12, 30), Day360, ""},
		{ok(1900, 2, 29), Standard, "1900-02-29 does not exist in the standard calendar"},
		{ok(1900, 2, 29), ProlepticGregorian, "1900-02-29 does not exist in the proleptic_gregorian calendar"},
		{ok(1900, 2, 29), Julian, ""},
		{ok(2000, 2, 29), ProlepticGregorian, ""},
		{ok(1500, 2, 29), Standard, ""}, // Julian rules before 1582
		{ok(1500, 2, 29), ProlepticGregorian, "1500-02-29 does not exist in the proleptic_gregorian calendar"},
		{ok(1582, 10, 4), Standard, ""},
		{ok(1582, 10, 5), Standard, "1582-10-05 does not exist in the standard calendar (1582-10-04 is followed by 1582-10-15)"},
		{ok(1582, 10, 10), Standard, "1582-10-10 does not exist in the standard calendar (1582-10-04 is followed by 1582-10-15)"},
		{ok(1582, 10, 14), Standard, "1582-10-14 does not exist in the standard calendar (1582-10-04 is followed by 1582-10-15)"},
		{ok(1582, 10, 15), Standard, ""},
		{ok(1582, 10, 10), Julian, ""},
		{ok(1582, 10, 10), ProlepticGregorian, ""},
		{ok(0, 1, 1), Standard, "year 0 does not exist in the standard calendar (year -1, 1 BC, is followed by year 1)"},
		{ok(0, 1, 1), Julian, "year 0 does not exist in the julian calendar (year -1, 1 BC, is followed by year 1)"},
		{ok(0, 1, 1), ProlepticGregorian, ""},
		{ok(0, 2, 29), ProlepticGregorian, ""},
		{ok(0, 2, 29), NoLeap, "0000-02-29 does not exist in the noleap calendar"},
		{ok(-1, 2, 29), Julian, ""}, // 1 BC is a leap year
		{ok(-2, 2, 29), Julian, "-0002-02-29 does not exist in the julian calendar"},
		{ok(-1, 2, 29), ProlepticGregorian, "-0001-02-29 does not exist in the proleptic_gregorian calendar"},
		{ok(2020, 13, 1), Standard, "month 13 is out of range"},
		{ok(2020, 0, 1), Day360, "month 0 is out of range"},
		{ok(2020, 1, 0), Day360, "2020-01-00 does not exist in the 360_day calendar"},
		{Date{2020, 1, 1, 24, 0, 0}, NoLeap, "hour 24 is out of range"},
		{Date{2020, 1, 1, 23, 60, 0}, NoLeap, "minute 60 is out of range"},
		{Date{2020, 1, 1, 23, 59, 60}, NoLeap, "second 60 is out of range (CF calendars have no leap seconds)"},
		{Date{2020, 1, 1, 23, 59, -0.5}, NoLeap, "second -0.5 is out of range (CF calendars have no leap seconds)"},
		{Date{2020, 1, 1, 23, 59, 59.999999}, NoLeap, ""},
		{ok(2020, 1, 1), None, "calendar none has no dates"},
		{ok(2020, 1, 1), Calendar("gregorian"), `unknown calendar "gregorian": want one of standard, gregorian, proleptic_gregorian, julian, noleap, 365_day, all_leap, 366_day, 360_day, none`},
		{ok(100001, 1, 1), ProlepticGregorian, "year 100001 is out of range (-100000 to 100000)"},
	} {
		err := Validate(c.d, c.cal)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != c.want {
			t.Errorf("Validate(%s, %s) = %q; want %q", c.d, c.cal, got, c.want)
		}
	}
}

func TestNextPeriod(t *testing.T) {
	d := func(s string) Date {
		t.Helper()
		x, _, err := ParseISO(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	for _, c := range []struct {
		in   string
		p    Precision
		cal  Calendar
		want string
	}{
		{"2020-01-31", Day, NoLeap, "2020-02-01T00:00:00Z"},
		{"2020-01-31", Day, Standard, "2020-02-01T00:00:00Z"},
		{"2020-02-28", Day, Standard, "2020-02-29T00:00:00Z"},
		{"2020-02-28", Day, NoLeap, "2020-03-01T00:00:00Z"},
		{"2021-02-28", Day, AllLeap, "2021-02-29T00:00:00Z"},
		{"2020-02-29", Day, Day360, "2020-02-30T00:00:00Z"},
		{"2020-02-30", Day, Day360, "2020-03-01T00:00:00Z"},
		{"2020-12-30", Day, Day360, "2021-01-01T00:00:00Z"},
		{"2020-12-31", Day, ProlepticGregorian, "2021-01-01T00:00:00Z"},
		{"1900-02-28", Day, Julian, "1900-02-29T00:00:00Z"},
		{"1900-02-28", Day, Standard, "1900-03-01T00:00:00Z"},
		{"1582-10-04", Day, Standard, "1582-10-15T00:00:00Z"},
		{"1582-10-04", Day, Julian, "1582-10-05T00:00:00Z"},
		{"1582-10-04", Day, ProlepticGregorian, "1582-10-05T00:00:00Z"},
		{"2020-01-31T12:30", Day, NoLeap, "2020-02-01T00:00:00Z"},
		{"2020-02", Month, Day360, "2020-03-01T00:00:00Z"},
		{"2020-02", Month, Standard, "2020-03-01T00:00:00Z"},
		{"2020-12", Month, NoLeap, "2021-01-01T00:00:00Z"},
		{"2020", Year, Standard, "2021-01-01T00:00:00Z"},
		{"2020", Year, Day360, "2021-01-01T00:00:00Z"},
		{"-0001", Year, Standard, "0001-01-01T00:00:00Z"},
		{"-0001", Year, ProlepticGregorian, "0000-01-01T00:00:00Z"},
		{"-0001-12", Month, Julian, "0001-01-01T00:00:00Z"},
		{"2020-12-31T23", Hour, NoLeap, "2021-01-01T00:00:00Z"},
		{"2020-02-28T23", Hour, NoLeap, "2020-03-01T00:00:00Z"},
		{"2020-02-28T23", Hour, Standard, "2020-02-29T00:00:00Z"},
		{"2020-02-30T23", Hour, Day360, "2020-03-01T00:00:00Z"},
		{"2020-01-31T12+05:30", Hour, Standard, "2020-01-31T07:30:00Z"}, // 06:30Z plus an hour
		{"2020-01-31T12:59", Minute, Standard, "2020-01-31T13:00:00Z"},
		{"2020-12-31T23:59", Minute, Day360, "2021-01-01T00:00:00Z"},
		{"2020-12-30T23:59:59", Second, Day360, "2021-01-01T00:00:00Z"},
		{"2020-01-31T12:30:45.25", Second, Standard, "2020-01-31T12:30:46Z"},
	} {
		if got := NextPeriod(d(c.in), c.p, c.cal).String(); got != c.want {
			t.Errorf("NextPeriod(%s, %s, %s) = %s; want %s", c.in, c.p, c.cal, got, c.want)
		}
	}
}

// TestDayNumbers checks that day numbers and dates convert back and forth
// over long ranges in every calendar, that consecutive day numbers are
// consecutive valid dates, and the calendars' year lengths.
func TestDayNumbers(t *testing.T) {
	for _, cal := range []Calendar{Standard, ProlepticGregorian, Julian, NoLeap, AllLeap, Day360} {
		prev := Date{}
		for n := int64(-800000); n < 800000; n++ {
			a, m, d := cal.fromDayNumber(n)
			date := Date{Year: cal.calYear(a), Month: m, Day: d}
			if err := Validate(date, cal); err != nil {
				t.Fatalf("%s: day %d is %s: %v", cal, n, date, err)
			}
			if back := cal.dayNumber(a, m, d); back != n {
				t.Fatalf("%s: day %d is %s, which is day %d", cal, n, date, back)
			}
			if n > -800000 && NextPeriod(prev, Day, cal) != date {
				t.Fatalf("%s: day %d is %s, NextPeriod of the day before (%s) is %s", cal, n, date, prev, NextPeriod(prev, Day, cal))
			}
			prev = date
		}
	}
	yearLen := func(cal Calendar, y int) int64 {
		a := cal.astroYear(y)
		return cal.dayNumber(a+1, 1, 1) - cal.dayNumber(a, 1, 1)
	}
	for _, c := range []struct {
		cal  Calendar
		y    int
		want int64
	}{
		{Standard, 1582, 355}, {Standard, 1900, 365}, {Standard, 2000, 366}, {Standard, 1500, 366},
		{ProlepticGregorian, 1900, 365}, {ProlepticGregorian, 1500, 365}, {ProlepticGregorian, 0, 366},
		{Julian, 1900, 366}, {Julian, -1, 366},
		{NoLeap, 2000, 365}, {AllLeap, 2001, 366}, {Day360, 2000, 360},
	} {
		if got := yearLen(c.cal, c.y); got != c.want {
			t.Errorf("%s: year %d has %d days; want %d", c.cal, c.y, got, c.want)
		}
	}
	// The standard calendar's two halves meet at the reform.
	if n, m := Standard.dayNumber(1582, 10, 4), Standard.dayNumber(1582, 10, 15); m-n != 1 {
		t.Errorf("standard: 1582-10-04 is day %d, 1582-10-15 day %d", n, m)
	}
	// 1970-01-01 Gregorian is day 0, and 13 days after Julian 1970-01-01.
	if n := ProlepticGregorian.dayNumber(1970, 1, 1); n != 0 {
		t.Errorf("1970-01-01 is day %d", n)
	}
	if n := Julian.dayNumber(1970, 1, 1); n != 13 {
		t.Errorf("Julian 1970-01-01 is day %d, want 13", n)
	}
}

func TestCalendarNames(t *testing.T) {
	// Every constant parses to itself.
	for _, cal := range []Calendar{Standard, ProlepticGregorian, Julian, NoLeap, AllLeap, Day360, None} {
		if got, err := ParseCalendar(strings.ToUpper(string(cal))); err != nil || got != cal {
			t.Errorf("ParseCalendar(%q) = %q, %v", cal, got, err)
		}
	}
}
