package cftime

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Date is a calendar-agnostic date and time of day in UTC. Its fields are
// meant to be valid in some calendar (Feb 30 is a valid 360_day date); see
// Validate. Years are numbered as the calendar numbers them: in standard
// and julian, which have no year 0, year -1 is 1 BC.
type Date struct {
	Year, Month, Day, Hour, Minute int
	Second                         float64
}

// String formats d as ISO 8601 in UTC, e.g. "2020-01-31T12:00:00Z".
// Fractional seconds are printed only when non-zero ("...:05.5Z"), with as
// many digits as needed to read back the same float64. Years outside
// 0..9999 get a sign: "-0001-01-01T00:00:00Z", "+10000-01-01T00:00:00Z".
func (d Date) String() string {
	return fmt.Sprintf("%sT%02d:%02d:%sZ", formatDay(d), d.Hour, d.Minute, formatSecond(d.Second))
}

// formatDay formats the date part of d: "2020-01-31".
func formatDay(d Date) string {
	return fmt.Sprintf("%s-%02d-%02d", formatYear(d.Year), d.Month, d.Day)
}

func formatYear(y int) string {
	switch {
	case y < 0:
		return fmt.Sprintf("-%04d", -int64(y))
	case y > 9999:
		return fmt.Sprintf("+%d", y)
	}
	return fmt.Sprintf("%04d", y)
}

// formatSecond prints s with two integer digits and a fraction only if
// needed: 5 -> "05", 5.5 -> "05.5".
func formatSecond(s float64) string {
	t := strconv.FormatFloat(s, 'f', -1, 64)
	if s >= 0 && s < 10 {
		t = "0" + t
	}
	return t
}

// Before reports whether d is before o, comparing the fields from year to
// second (which is the chronological order within any one calendar).
func (d Date) Before(o Date) bool {
	switch {
	case d.Year != o.Year:
		return d.Year < o.Year
	case d.Month != o.Month:
		return d.Month < o.Month
	case d.Day != o.Day:
		return d.Day < o.Day
	case d.Hour != o.Hour:
		return d.Hour < o.Hour
	case d.Minute != o.Minute:
		return d.Minute < o.Minute
	}
	return d.Second < o.Second
}

// Precision is the smallest field an ISO 8601 instant was written with:
// "2020-01" has precision Month.
type Precision int

// The precisions, coarsest first.
const (
	Year Precision = iota
	Month
	Day
	Hour
	Minute
	Second
)

func (p Precision) String() string {
	switch p {
	case Year:
		return "year"
	case Month:
		return "month"
	case Day:
		return "day"
	case Hour:
		return "hour"
	case Minute:
		return "minute"
	case Second:
		return "second"
	}
	return fmt.Sprintf("Precision(%d)", int(p))
}

const isoHint = "want ISO 8601 like 2020-01-31 or 2020-01-31T12:00:00Z"

// ParseISO parses an ISO 8601 instant written with any precision from a
// year to fractional seconds: "2020", "2020-01", "2020-01-31",
// "2020-01-31T12", "2020-01-31T12:30", "2020-01-31T12:30:45",
// "2020-01-31T12:30:45.25". A space may replace the 'T'. A time of day may
// be followed by "Z" or an offset "+hh:mm", "-hh:mm", "+hhmm" or "+hh";
// the result is then converted to UTC, moving across day, month and year
// boundaries as in the proleptic Gregorian calendar. Years have at least
// four digits and may carry a sign ("-0001", "+10000").
//
// Only calendar-independent ranges are checked (month 1..12, day 1..31,
// hour 0..23, minute 0..59, second in [0, 61)): use Validate for the rest.
// The returned precision is that of what was written.
func ParseISO(s string) (Date, Precision, error) {
	p, msg := parseInstant(s, false)
	if msg != "" {
		return Date{}, 0, fmt.Errorf("bad time %q: %s", s, msg)
	}
	d := p.date
	if p.offset != 0 {
		d = shiftGregorian(d, -p.offset)
	}
	return d, p.prec, nil
}

// parsed is the result of parseInstant: the local date as written, its
// precision and the time-zone offset in minutes east of UTC.
type parsed struct {
	date   Date
	prec   Precision
	offset int
}

// parseInstant parses s as an ISO 8601 instant. It returns a message
// (without the input) describing what is wrong, or "". Lenient mode is for
// the reference dates of CF units: years of any number of digits and a
// date-only form followed by a zone name are allowed there ("1-1-1 0:0:0",
// "2000-01-01 UTC").
func parseInstant(s string, lenient bool) (parsed, string) {
	sc := scanner{s: strings.TrimSpace(s)}
	var p parsed
	bad := func() (parsed, string) { return parsed{}, isoHint }

	// Year.
	neg, signed := false, false
	if c := sc.peek(); c == '+' || c == '-' {
		neg, signed = c == '-', true
		sc.i++
	}
	// Years have four digits, more only with a sign (ISO 8601's expanded
	// form), so that "20200131" is not taken for a year. The reference
	// dates of units have any number.
	ys, ok := sc.digits(1, 9)
	if !ok || !lenient && (len(ys) < 4 || len(ys) > 4 && !signed) {
		return bad()
	}
	y, _ := strconv.Atoi(ys)
	if neg {
		y = -y
	}
	p.date = Date{Year: y, Month: 1, Day: 1}
	p.prec = Year
	if sc.done() {
		return p, ""
	}

	// Month and day.
	if !sc.eat('-') {
		return bad()
	}
	ms, ok := sc.digits(1, 2)
	if !ok {
		return bad()
	}
	p.date.Month, _ = strconv.Atoi(ms)
	p.prec = Month
	if p.date.Month < 1 || p.date.Month > 12 {
		return parsed{}, fmt.Sprintf("month %d is out of range", p.date.Month)
	}
	if sc.done() {
		return p, ""
	}
	if !sc.eat('-') {
		return bad()
	}
	ds, ok := sc.digits(1, 2)
	if !ok {
		return bad()
	}
	p.date.Day, _ = strconv.Atoi(ds)
	p.prec = Day
	if p.date.Day < 1 || p.date.Day > 31 {
		return parsed{}, fmt.Sprintf("day %d is out of range", p.date.Day)
	}
	if sc.done() {
		return p, ""
	}

	// Time of day, after 'T' or spaces.
	sawT := false
	if c := sc.peek(); c == '+' || c == '-' {
		return parsed{}, "a time zone offset needs a time of day"
	} else if c == 'T' || c == 't' {
		sc.i++
		sawT = true
	} else if !sc.spaces() {
		return bad()
	}
	if hs, ok := sc.digits(1, 2); ok {
		p.date.Hour, _ = strconv.Atoi(hs)
		p.prec = Hour
		if p.date.Hour > 23 {
			return parsed{}, fmt.Sprintf("hour %d is out of range", p.date.Hour)
		}
		if sc.eat(':') {
			mi, ok := sc.digits(1, 2)
			if !ok {
				return bad()
			}
			p.date.Minute, _ = strconv.Atoi(mi)
			p.prec = Minute
			if p.date.Minute > 59 {
				return parsed{}, fmt.Sprintf("minute %d is out of range", p.date.Minute)
			}
			if sc.eat(':') {
				ss, ok := sc.digits(1, 2)
				if !ok {
					return bad()
				}
				if c := sc.peek(); c == '.' || c == ',' {
					sc.i++
					fs, ok := sc.digits(1, 30)
					if !ok {
						return bad()
					}
					ss += "." + fs
				}
				p.date.Second, _ = strconv.ParseFloat(ss, 64)
				p.prec = Second
				if p.date.Second >= 61 {
					return parsed{}, fmt.Sprintf("second %s is out of range", ss)
				}
			}
		}
	} else if sawT || !lenient {
		return bad()
	}
	if sc.done() {
		return p, ""
	}

	// Time zone.
	sc.spaces()
	rest := sc.s[sc.i:]
	switch strings.ToUpper(rest) {
	case "Z", "UTC", "GMT":
		return p, ""
	}
	c := sc.peek()
	if c != '+' && c != '-' {
		return bad()
	}
	sc.i++
	oh, ok := sc.digits(1, 4) // h, hh or hhmm
	if !ok || len(oh) == 3 {
		return bad()
	}
	om := "0"
	if len(oh) == 4 {
		oh, om = oh[:2], oh[2:]
	} else if sc.eat(':') {
		if om, ok = sc.digits(2, 2); !ok {
			return bad()
		}
	}
	if !sc.done() {
		return bad()
	}
	if p.prec < Hour {
		return parsed{}, "a time zone offset needs a time of day"
	}
	h, _ := strconv.Atoi(oh)
	m, _ := strconv.Atoi(om)
	if h > 23 || m > 59 {
		return parsed{}, fmt.Sprintf("time zone offset %s is out of range", rest)
	}
	p.offset = h*60 + m
	if c == '-' {
		p.offset = -p.offset
	}
	return p, ""
}

type scanner struct {
	s string
	i int
}

func (sc *scanner) done() bool { return sc.i >= len(sc.s) }

func (sc *scanner) peek() byte {
	if sc.done() {
		return 0
	}
	return sc.s[sc.i]
}

func (sc *scanner) eat(c byte) bool {
	if sc.peek() == c {
		sc.i++
		return true
	}
	return false
}

// spaces skips spaces and tabs and reports whether there were any.
func (sc *scanner) spaces() bool {
	j := sc.i
	for !sc.done() && (sc.s[sc.i] == ' ' || sc.s[sc.i] == '\t') {
		sc.i++
	}
	return sc.i > j
}

// digits reads a run of ASCII digits and checks that it is at least min
// and at most max long.
func (sc *scanner) digits(min, max int) (string, bool) {
	j := sc.i
	for !sc.done() && sc.s[sc.i] >= '0' && sc.s[sc.i] <= '9' {
		sc.i++
	}
	if n := sc.i - j; n < min || n > max {
		return "", false
	}
	return sc.s[j:sc.i], true
}

// shiftGregorian adds min minutes (|min| < 1440) to d, carrying into the
// day, month and year as in the proleptic Gregorian calendar.
func shiftGregorian(d Date, min int) Date {
	t := d.Hour*60 + d.Minute + min
	switch {
	case t < 0:
		t += 1440
		d.Day--
		if d.Day < 1 {
			d.Month--
			if d.Month < 1 {
				d.Month = 12
				d.Year--
			}
			d.Day = ProlepticGregorian.monthLen(d.Year, d.Month)
		}
	case t >= 1440:
		t -= 1440
		d.Day++
		if d.Day > ProlepticGregorian.monthLen(d.Year, d.Month) {
			d.Day = 1
			d.Month++
			if d.Month > 12 {
				d.Month = 1
				d.Year++
			}
		}
	}
	d.Hour, d.Minute = t/60, t%60
	return d
}

// secondsMicro converts a Date's seconds to whole microseconds.
func secondsMicro(s float64) int64 { return int64(math.Round(s * 1e6)) }
