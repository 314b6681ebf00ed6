package cftime

import (
	"fmt"
	"strings"
)

// Calendar is a CF calendar, as normalised by ParseCalendar.
type Calendar string

// The CF calendars. Aliases (gregorian, 365_day, 366_day) are mapped onto
// these by ParseCalendar.
const (
	Standard           Calendar = "standard"            // Julian before 1582-10-15, Gregorian from then on
	ProlepticGregorian Calendar = "proleptic_gregorian" // Gregorian for all time
	Julian             Calendar = "julian"              // Julian leap years for all time
	NoLeap             Calendar = "noleap"              // 365 days every year
	AllLeap            Calendar = "all_leap"            // 366 days every year
	Day360             Calendar = "360_day"             // 12 months of 30 days
	None               Calendar = "none"                // no calendar: values are not dates
)

// accepted lists the calendar names ParseCalendar takes, for error messages.
const accepted = "standard, gregorian, proleptic_gregorian, julian, noleap, 365_day, all_leap, 366_day, 360_day, none"

// ParseCalendar normalises the value of a CF calendar attribute. An empty
// value means the CF default, standard. Case and surrounding white space are
// ignored; gregorian, 365_day and 366_day are aliases of standard, noleap and
// all_leap.
func ParseCalendar(s string) (Calendar, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "standard", "gregorian":
		return Standard, nil
	case "proleptic_gregorian":
		return ProlepticGregorian, nil
	case "julian":
		return Julian, nil
	case "noleap", "365_day":
		return NoLeap, nil
	case "all_leap", "366_day":
		return AllLeap, nil
	case "360_day":
		return Day360, nil
	case "none":
		return None, nil
	}
	return "", fmt.Errorf("unknown calendar %q: want one of %s", s, accepted)
}

// known reports whether cal is one of the normalised calendar constants.
func (cal Calendar) known() bool {
	switch cal {
	case Standard, ProlepticGregorian, Julian, NoLeap, AllLeap, Day360, None:
		return true
	}
	return false
}

// hasYearZero reports whether year 0 exists in cal. This follows cftime's
// defaults (has_year_zero=None, which cftime 1.6 resolves as CF 1.9 says):
// the real-world calendars standard and julian have no year 0 (year -1,
// i.e. 1 BC, is followed by year 1, and year -1 is a leap year), while
// proleptic_gregorian (as in ISO 8601) and the idealised calendars count
// years astronomically, with a year 0.
func (cal Calendar) hasYearZero() bool {
	return cal != Standard && cal != Julian
}

// astroYear converts a year as written in cal to an astronomical year
// (with a year 0). Year 0 itself, which does not exist in calendars
// without one, maps to 1 so callers must reject it before.
func (cal Calendar) astroYear(y int) int {
	if y < 0 && !cal.hasYearZero() {
		return y + 1
	}
	return y
}

// calYear is the inverse of astroYear.
func (cal Calendar) calYear(a int) int {
	if a <= 0 && !cal.hasYearZero() {
		return a - 1
	}
	return a
}

// The Gregorian reform in the standard calendar: 1582-10-04 (Julian) is
// followed by 1582-10-15 (Gregorian).
const (
	reformYear, reformMonth, reformFirstDay, reformLastJulian = 1582, 10, 15, 4
)

// gregorianAt reports whether the astronomical date y-m-d is on the
// Gregorian side of the standard calendar.
func gregorianAt(y, m, d int) bool {
	if y != reformYear {
		return y > reformYear
	}
	if m != reformMonth {
		return m > reformMonth
	}
	return d >= reformFirstDay
}

func julianLeap(a int) bool { return floorMod(a, 4) == 0 }
func gregorianLeap(a int) bool {
	return floorMod(a, 4) == 0 && (floorMod(a, 100) != 0 || floorMod(a, 400) == 0)
}

var monthDays = [13]int{0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31}

// monthLen is the number of days in month m (1..12) of astronomical year a.
func (cal Calendar) monthLen(a, m int) int {
	if cal == Day360 {
		return 30
	}
	if m != 2 {
		return monthDays[m]
	}
	leap := false
	switch cal {
	case AllLeap:
		leap = true
	case NoLeap:
		leap = false
	case Julian:
		leap = julianLeap(a)
	case Standard:
		if a < reformYear {
			leap = julianLeap(a)
		} else {
			leap = gregorianLeap(a)
		}
	default: // ProlepticGregorian, and None where a calendar is needed anyway
		leap = gregorianLeap(a)
	}
	if leap {
		return 29
	}
	return 28
}

// Day numbers. Every calendar numbers its days with an int64; only
// differences between day numbers of the same calendar mean anything.
// The Julian and Gregorian numbering share their origin (1970-01-01
// Gregorian is day 0 in both) so the standard calendar can mix them.

// daysFromGregorian is Howard Hinnant's days_from_civil: days since
// 1970-01-01 of the proleptic Gregorian astronomical date a-m-d.
func daysFromGregorian(a, m, d int64) int64 {
	if m <= 2 {
		a--
	}
	era := floorDiv64(a, 400)
	yoe := a - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func gregorianFromDays(z int64) (a, m, d int64) {
	z += 719468
	era := floorDiv64(z, 146097)
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	a = yoe + era*400
	if m <= 2 {
		a++
	}
	return a, m, d
}

// julianOffset aligns the Julian day numbers with the Gregorian ones:
// Julian 1582-10-04 is the day before Gregorian 1582-10-15.
var julianOffset = daysFromGregorian(reformYear, reformMonth, reformFirstDay) - 1 - julianRaw(reformYear, reformMonth, reformLastJulian)

// julianRaw is days_from_civil for the Julian calendar (4-year cycles of
// 1461 days), with an arbitrary origin.
func julianRaw(a, m, d int64) int64 {
	if m <= 2 {
		a--
	}
	era := floorDiv64(a, 4)
	yoe := a - era*4
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	return era*1461 + yoe*365 + doy
}

func daysFromJulian(a, m, d int64) int64 { return julianRaw(a, m, d) + julianOffset }

func julianFromDays(z int64) (a, m, d int64) {
	z -= julianOffset
	era := floorDiv64(z, 1461)
	doe := z - era*1461
	yoe := (doe - doe/1460) / 365
	doy := doe - 365*yoe
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	if mp < 10 {
		m = mp + 3
	} else {
		m = mp - 9
	}
	a = yoe + era*4
	if m <= 2 {
		a++
	}
	return a, m, d
}

// cumDays[m] is the number of days before month m (1..12) in a 365-day year.
var cumDays = [13]int64{0, 0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334}

// dayNumber is the day number of the astronomical date a-m-d in cal. The
// date must be valid in cal (see Validate).
func (cal Calendar) dayNumber(a, m, d int) int64 {
	A, M, D := int64(a), int64(m), int64(d)
	switch cal {
	case Day360:
		return A*360 + (M-1)*30 + D - 1
	case NoLeap:
		return A*365 + cumDays[M] + D - 1
	case AllLeap:
		leap := int64(0)
		if M > 2 {
			leap = 1
		}
		return A*366 + cumDays[M] + leap + D - 1
	case Julian:
		return daysFromJulian(A, M, D)
	case Standard:
		if gregorianAt(a, m, d) {
			return daysFromGregorian(A, M, D)
		}
		return daysFromJulian(A, M, D)
	default:
		return daysFromGregorian(A, M, D)
	}
}

// reformDay is the day number of 1582-10-15 in the standard calendar.
var reformDay = daysFromGregorian(reformYear, reformMonth, reformFirstDay)

// fromDayNumber is the inverse of dayNumber: the astronomical date of day n.
func (cal Calendar) fromDayNumber(n int64) (a, m, d int) {
	var A, M, D int64
	switch cal {
	case Day360:
		A = floorDiv64(n, 360)
		r := n - A*360
		M, D = r/30+1, r%30+1
	case NoLeap, AllLeap:
		yl := int64(365)
		if cal == AllLeap {
			yl = 366
		}
		A = floorDiv64(n, yl)
		r := n - A*yl // day of year, 0-based
		M = 12
		for M > 1 {
			start := cumDays[M]
			if cal == AllLeap && M > 2 {
				start++
			}
			if r >= start {
				break
			}
			M--
		}
		start := cumDays[M]
		if cal == AllLeap && M > 2 {
			start++
		}
		D = r - start + 1
	case Julian:
		A, M, D = julianFromDays(n)
	case Standard:
		if n >= reformDay {
			A, M, D = gregorianFromDays(n)
		} else {
			A, M, D = julianFromDays(n)
		}
	default:
		A, M, D = gregorianFromDays(n)
	}
	return int(A), int(M), int(D)
}

// Validate checks that d exists in cal: month, day (per the calendar's
// month lengths, the standard calendar's 1582 reform gap and year 0 where
// the calendar has none), hour 0..23, minute 0..59 and second in [0, 60)
// (CF calendars have no leap seconds).
func Validate(d Date, cal Calendar) error {
	if cal == None {
		return fmt.Errorf("calendar none has no dates")
	}
	if !cal.known() {
		return fmt.Errorf("unknown calendar %q: want one of %s", string(cal), accepted)
	}
	if d.Year == 0 && !cal.hasYearZero() {
		return fmt.Errorf("year 0 does not exist in the %s calendar (year -1, 1 BC, is followed by year 1)", cal)
	}
	if d.Year < minYear || d.Year > maxYear {
		return fmt.Errorf("year %d is out of range (%d to %d)", d.Year, minYear, maxYear)
	}
	if d.Month < 1 || d.Month > 12 {
		return fmt.Errorf("month %d is out of range", d.Month)
	}
	a := cal.astroYear(d.Year)
	if d.Day < 1 || d.Day > cal.monthLen(a, d.Month) {
		return fmt.Errorf("%s does not exist in the %s calendar", formatDay(d), cal)
	}
	if cal == Standard && a == reformYear && d.Month == reformMonth && d.Day > reformLastJulian && d.Day < reformFirstDay {
		return fmt.Errorf("%s does not exist in the standard calendar (1582-10-04 is followed by 1582-10-15)", formatDay(d))
	}
	if d.Hour < 0 || d.Hour > 23 {
		return fmt.Errorf("hour %d is out of range", d.Hour)
	}
	if d.Minute < 0 || d.Minute > 59 {
		return fmt.Errorf("minute %d is out of range", d.Minute)
	}
	if !(d.Second >= 0 && d.Second < 60) { // also rejects NaN
		return fmt.Errorf("second %s is out of range (CF calendars have no leap seconds)", formatSecond(d.Second))
	}
	return nil
}

// Year bounds: wide enough for any real data set, narrow enough that day
// numbers times microseconds per day stay far from int64 overflow.
const (
	minYear = -100000
	maxYear = 100000
)

// NextPeriod returns the start of the period after the one d names at
// precision p, in cal. Fields below p are dropped first (NextPeriod of
// 2020-01-31T12:30 at Day is 2020-02-01T00:00), except that at Hour
// precision the minute is kept: a time-zone offset like +05:30 turns a
// whole hour into one starting at half past. Invalid days are advanced
// as if they existed (Feb 30 in noleap is followed by Mar 1), and in the
// standard calendar a result inside the 1582 gap moves to 1582-10-15.
func NextPeriod(d Date, p Precision, cal Calendar) Date {
	n := Date{Year: d.Year, Month: 1, Day: 1}
	if p >= Month {
		n.Month = d.Month
	}
	if p >= Day {
		n.Day = d.Day
	}
	if p >= Hour {
		n.Hour = d.Hour
		n.Minute = d.Minute
	}
	if p >= Second {
		n.Second = float64(int(d.Second))
	}
	switch p {
	case Year:
		n.Year = cal.nextYear(n.Year)
	case Month:
		n = cal.nextMonth(n)
	case Day:
		n = cal.nextDay(n)
	case Hour:
		n.Hour++
	case Minute:
		n.Minute++
	default:
		n.Second++
	}
	if n.Second >= 60 {
		n.Second -= 60
		n.Minute++
	}
	if n.Minute >= 60 {
		n.Minute -= 60
		n.Hour++
	}
	if n.Hour >= 24 {
		n.Hour -= 24
		n = cal.nextDay(n)
	}
	return n
}

func (cal Calendar) nextYear(y int) int {
	y++
	if y == 0 && !cal.hasYearZero() {
		y = 1
	}
	return y
}

func (cal Calendar) nextMonth(d Date) Date {
	d.Month++
	if d.Month > 12 {
		d.Month = 1
		d.Year = cal.nextYear(d.Year)
	}
	return d
}

// nextDay advances d by one calendar day, keeping the time of day.
func (cal Calendar) nextDay(d Date) Date {
	m := d.Month
	if m < 1 || m > 12 {
		m = 1
	}
	d.Day++
	if d.Day > cal.monthLen(cal.astroYear(d.Year), m) {
		d.Day = 1
		d = cal.nextMonth(d)
	}
	if cal == Standard && cal.astroYear(d.Year) == reformYear && d.Month == reformMonth && d.Day > reformLastJulian && d.Day < reformFirstDay {
		d.Day = reformFirstDay
	}
	return d
}

func floorDiv64(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int) int {
	r := a % b
	if r != 0 && (r < 0) != (b < 0) {
		r += b
	}
	return r
}
