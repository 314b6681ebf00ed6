package cftime

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"
)

// Units are parsed CF time units: values count Unit (of Scale seconds)
// since Epoch in Calendar.
type Units struct {
	Scale    float64  // seconds per unit
	Epoch    Date     // the reference date, in UTC
	Calendar Calendar // normalised calendar
	Unit     string   // normalised unit name: "days", "hours", "minutes", "seconds", ...
}

// unitScales maps the unit spellings ParseUnits accepts to the normalised
// name and the seconds per unit. Months and years are handled apart.
var unitScales = map[string]struct {
	name  string
	scale float64
}{
	"weeks": {"weeks", 7 * 86400}, "week": {"weeks", 7 * 86400},
	"days": {"days", 86400}, "day": {"days", 86400}, "d": {"days", 86400},
	"hours": {"hours", 3600}, "hour": {"hours", 3600}, "hrs": {"hours", 3600}, "hr": {"hours", 3600}, "h": {"hours", 3600},
	"minutes": {"minutes", 60}, "minute": {"minutes", 60}, "mins": {"minutes", 60}, "min": {"minutes", 60},
	"seconds": {"seconds", 1}, "second": {"seconds", 1}, "secs": {"seconds", 1}, "sec": {"seconds", 1}, "s": {"seconds", 1},
	"milliseconds": {"milliseconds", 1e-3}, "millisecond": {"milliseconds", 1e-3}, "msecs": {"milliseconds", 1e-3}, "msec": {"milliseconds", 1e-3}, "ms": {"milliseconds", 1e-3},
	"microseconds": {"microseconds", 1e-6}, "microsecond": {"microseconds", 1e-6}, "usecs": {"microseconds", 1e-6}, "usec": {"microseconds", 1e-6}, "us": {"microseconds", 1e-6},
}

// ParseUnits parses CF time units "<unit> since <reference date>" together
// with the value of the variable's calendar attribute (see ParseCalendar).
//
// Units are weeks, days, hours, minutes, seconds, milliseconds and
// microseconds with their usual abbreviations (d, h, hr, min, s, sec, ms,
// msec, us, ...). Months and years have no fixed length in real calendars
// and are accepted only in the 360_day calendar (30 and 360 days), like
// "common_years" (365 days) only in noleap; cftime does the same for months
// and common years (it rejects weeks and years, which are accepted here).
//
// The reference date may be written loosely, as in real files:
// "1900-1-1", "1-1-1 0:0:0", "1970-01-01 00:00:00.0", "2000-01-01T00:00:00Z",
// "2000-01-01 00:00:00 UTC", and with an offset from UTC ("+05:30", "-6:00")
// which is applied in the calendar, so Epoch is in UTC. The reference date
// must exist in the calendar (except with calendar none, where nothing is
// checked). Case and extra spaces are ignored.
func ParseUnits(units, calendar string) (Units, error) {
	fail := func(format string, args ...any) (Units, error) {
		return Units{}, fmt.Errorf("time units %q: %s", units, fmt.Sprintf(format, args...))
	}
	cal, err := ParseCalendar(calendar)
	if err != nil {
		return fail("%v", err)
	}
	f := strings.Fields(units)
	if len(f) == 0 {
		return fail("empty, want \"<unit> since <date>\" like \"days since 1900-01-01\"")
	}
	if len(f) < 3 || !strings.EqualFold(f[1], "since") {
		if len(f) >= 2 && strings.EqualFold(f[1], "since") {
			return fail("no date after \"since\"")
		}
		return fail("no \"since <date>\"")
	}
	unit := strings.ToLower(f[0])
	u := Units{Calendar: cal}
	if s, ok := unitScales[unit]; ok {
		u.Unit, u.Scale = s.name, s.scale
	} else {
		switch unit {
		case "months", "month", "years", "year", "common_years", "common_year":
			name := strings.TrimSuffix(unit, "s") + "s"
			switch {
			case cal == Day360 && (name == "months"):
				u.Unit, u.Scale = name, 30*86400
			case cal == Day360 && name == "years":
				u.Unit, u.Scale = name, 360*86400
			case cal == NoLeap && name == "common_years":
				u.Unit, u.Scale = name, 365*86400
			case name == "common_years":
				return fail("%q are only defined in the noleap calendar, not in %s; use days", f[0], cal)
			default:
				return fail("%q are ambiguous in the %s calendar, where months and years vary in length; use days (months and years are accepted only with the 360_day calendar)", f[0], cal)
			}
		default:
			return fail("unknown unit %q: want days, hours, minutes, seconds, milliseconds, microseconds or weeks", f[0])
		}
	}
	ref := strings.Join(f[2:], " ")
	p, msg := parseInstant(ref, true)
	if msg != "" {
		if msg == isoHint {
			return fail("bad reference date %q: want a date like 1900-01-01 or 1900-01-01 00:00:00", ref)
		}
		return fail("bad reference date %q: %s", ref, msg)
	}
	u.Epoch = p.date
	if cal == None {
		if p.offset != 0 {
			u.Epoch = shiftGregorian(u.Epoch, -p.offset)
		}
		return u, nil
	}
	if err := Validate(u.Epoch, cal); err != nil {
		return fail("reference date: %v", err)
	}
	if p.offset != 0 {
		day, us := u.Epoch.split(cal)
		u.Epoch = cal.join(day, us-int64(p.offset)*60e6)
	}
	return u, nil
}

const usPerDay = 86400e6

// split turns a valid date into its day number and microseconds of day.
func (d Date) split(cal Calendar) (day, us int64) {
	day = cal.dayNumber(cal.astroYear(d.Year), d.Month, d.Day)
	us = (int64(d.Hour)*60+int64(d.Minute))*60e6 + secondsMicro(d.Second)
	return day, us
}

// join is the inverse of split; us may be any value, it carries into day.
func (cal Calendar) join(day, us int64) Date {
	day += floorDiv64(us, usPerDay)
	us -= floorDiv64(us, usPerDay) * usPerDay
	a, m, d := cal.fromDayNumber(day)
	min := us / 60e6
	return Date{
		Year: cal.calYear(a), Month: m, Day: d,
		Hour: int(min / 60), Minute: int(min % 60),
		Second: float64(us-min*60e6) / 1e6,
	}
}

var errNone = errors.New("calendar none: time values cannot be turned into dates")

// factor returns the microseconds per unit as an integer, if it is one.
func (u Units) factor() (int64, bool) {
	f := u.Scale * 1e6
	r := math.Round(f)
	if r >= 1 && r < 1e15 && math.Abs(f-r) <= 1e-9*r {
		return int64(r), true
	}
	return 0, false
}

// maxDelta bounds offsets from the epoch (about 200,000 years) so that
// day numbers and microseconds never overflow.
const maxDelta = 200000 * 366 * usPerDay

// Decode converts a value of the time variable to a date in the units'
// calendar. Values may be fractional or negative; the result is rounded to
// the microsecond (half to even, like cftime), which also avoids
// 23:59:59.9999999 artefacts.
func (u Units) Decode(v float64) (Date, error) {
	if u.Calendar == None {
		return Date{}, errNone
	}
	if !u.Calendar.known() {
		return Date{}, fmt.Errorf("unknown calendar %q: want one of %s", string(u.Calendar), accepted)
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return Date{}, fmt.Errorf("time value %v is not a finite number", v)
	}
	if err := Validate(u.Epoch, u.Calendar); err != nil {
		return Date{}, fmt.Errorf("reference date: %v", err)
	}
	outOfRange := func() error {
		return fmt.Errorf("time value %v %s since %s is out of range", v, u.Unit, u.Epoch)
	}
	var delta int64
	if f, ok := u.factor(); ok {
		// Exact up to the final rounding: whole units times the integer
		// factor, plus the fraction (v - floor(v) is exact in float64).
		fl := math.Floor(v)
		if math.Abs(fl) > maxDelta/float64(f) {
			return Date{}, outOfRange()
		}
		ip := int64(fl) * f
		x := (v - fl) * float64(f)
		r := math.Floor(x)
		ir := int64(r)
		if rem := x - r; rem > 0.5 || (rem == 0.5 && (ip+ir)%2 != 0) {
			ir++
		}
		delta = ip + ir
	} else {
		x := math.RoundToEven(v * u.Scale * 1e6)
		if math.Abs(x) > maxDelta {
			return Date{}, outOfRange()
		}
		delta = int64(x)
	}
	day, us := u.Epoch.split(u.Calendar)
	d := u.Calendar.join(day, us+delta)
	if d.Year < minYear || d.Year > maxYear {
		return Date{}, outOfRange()
	}
	return d, nil
}

// Encode converts a date to a value of the time variable: the inverse of
// Decode. The date must exist in the calendar (see Validate). The result
// is the correctly rounded quotient of the microseconds since the epoch
// by the microseconds per unit, as cftime's date2num computes it.
func (u Units) Encode(d Date) (float64, error) {
	if u.Calendar == None {
		return 0, errNone
	}
	if err := Validate(d, u.Calendar); err != nil {
		return 0, err
	}
	if err := Validate(u.Epoch, u.Calendar); err != nil {
		return 0, fmt.Errorf("reference date: %v", err)
	}
	day, us := d.split(u.Calendar)
	eday, eus := u.Epoch.split(u.Calendar)
	delta := (day-eday)*usPerDay + (us - eus)
	f, ok := u.factor()
	switch {
	case !ok:
		return float64(delta) / (u.Scale * 1e6), nil
	case delta%f == 0:
		return float64(delta / f), nil
	case delta > -1<<53 && delta < 1<<53:
		return float64(delta) / float64(f), nil // both exact: one rounding
	}
	q, _ := new(big.Rat).SetFrac64(delta, f).Float64()
	return q, nil
}
