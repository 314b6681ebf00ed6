#!/usr/bin/python3
"""Generate golden.json: reference decodings and encodings from cftime.

Run with Debian's /usr/bin/python3 (which has netCDF4 and cftime):

    /usr/bin/python3 cftime/testdata/gen_golden.py > regions/cftime/testdata/golden.json

The Go tests compare every case with the package, and re-run this script
(when /usr/bin/python3 has netCDF4) to check that golden.json is current.
num2date/date2num are called with cftime's default arguments, as the
package is meant to match them (no year 0 in standard/julian, year 0 in
proleptic_gregorian and the idealised calendars).
"""

import json
import sys
import warnings

import cftime
import netCDF4  # noqa: F401  (netCDF4.num2date is cftime.num2date)

CALENDARS = ["standard", "gregorian", "proleptic_gregorian", "julian",
             "noleap", "365_day", "all_leap", "366_day", "360_day"]

# units -> values to decode, in every calendar. The values cross leap days,
# month and year ends, the 1582 reform, and are fractional and negative.
DECODE = [
    ("days since 1-1-1", [0, 1, -1, 58, 59, 59.5, 365, -365.25, 577735, 577736,
                          577737.75, 693595, 730119.5, 730119.123456789, 1e6]),
    ("days since 0001-01-01", [0, 31, 36524.5]),
    ("days since 1582-10-01", [0, 3, 3.5, 4, 5, 13, 14, 14.25, 20, -1, -0.5, 365, -36525]),
    ("hours since 1850-01-01", [0, 1.5, -12, 1415, 1416, 1416.5, 1439, 8760,
                                438287.25, 1e6, -1e5, 0.000277]),
    ("days since 1900-01-01", [0, 30.999999, 31, 58.75, 59, 59.5, 60, 365.25, 36524.75,
                               43829.999988, 44000.5, -0.1, -693961.5, 1 / 3]),
    ("days since 1900-1-1", [59.5]),
    ("hours since 1900-01-01 00:00:0.0", [1416.25]),
    ("hours since 1-1-1 0:0:0", [14016000.5]),
    ("seconds since 1970-01-01 00:00:00", [0, 1.5, -1, -0.0000015, 951782400,
                                           951868799.9999995, 1e9 + 0.123456, 4102444800,
                                           -2208988800.25]),
    ("days since 1970-01-01 00:00:00.0", [11016.5, -0.75]),
    ("minutes since 2000-01-01T00:00:00Z", [0, 0.25, -1, 84960, 86399.99, 525600,
                                            527040, 1e7, -1440.5]),
    ("milliseconds since 1970-01-01", [1, -1, 1.5e12, 951782400123.5, 0.0015]),
    ("microseconds since 2000-01-01", [0.5, 1.5, 2.5, -0.5, -1.5, 5097600e6]),
    ("days since 2000-01-01 00:00:00 +06:00", [0, 0.25, 59, 60]),
    ("Days Since 1850-01-01 12:00:00 UTC", [0, 59.5]),
    ("days since 1980-02-29T23:30:00-01:30", [0, 365]),
]

# Units only some calendars accept.
DECODE_ONLY = {
    "360_day": [("months since 2000-01-01", [0, 1, 1.5, -1, 12.25])],
    "noleap": [("common_years since 1900-01-01", [0, 1.5, -2])],
    "365_day": [("common_years since 1900-01-01", [1.5])],
}

# Dates to encode: (y, m, d, H, M, S, microseconds). Those that do not
# exist in a calendar are recorded as errors.
ENCODE_UNITS = ["days since 1-1-1", "seconds since 1970-01-01 00:00:00"]
ENCODE = [
    (2000, 2, 29, 12, 0, 0, 0), (2001, 2, 29, 0, 0, 0, 0), (2000, 2, 30, 0, 0, 0, 0),
    (1900, 2, 29, 0, 0, 0, 0), (1900, 3, 1, 6, 30, 0, 0), (2020, 12, 31, 23, 59, 59, 500000),
    (2100, 12, 31, 23, 59, 59, 999999), (1582, 10, 4, 23, 59, 59, 0), (1582, 10, 10, 0, 0, 0, 0),
    (1582, 10, 15, 0, 0, 0, 0), (1, 1, 1, 0, 0, 0, 0), (1970, 1, 1, 0, 0, 0, 1),
    (2000, 1, 1, 0, 0, 0, 1), (0, 6, 1, 0, 0, 0, 0), (-1, 12, 31, 0, 0, 0, 0),
    (1000, 2, 29, 0, 0, 0, 0),
]


def iso(d):
    y = d.year
    if y < 0:
        ys = "-%04d" % -y
    elif y > 9999:
        ys = "+%d" % y
    else:
        ys = "%04d" % y
    return "%s-%02d-%02dT%02d:%02d:%02d.%06dZ" % (
        ys, d.month, d.day, d.hour, d.minute, d.second, d.microsecond)


def num(x):
    """date2num's result as a plain int or float (it may be a numpy scalar)."""
    if float(x) == int(x) and abs(x) < 2**53:
        return int(x)
    return float(x)


def main():
    warnings.simplefilter("ignore")  # CFWarning about year 0 conventions
    decode, encode = [], []
    for cal in CALENDARS:
        for units, values in DECODE + DECODE_ONLY.get(cal, []):
            for v in values:
                c = {"calendar": cal, "units": units, "value": v}
                try:
                    d = cftime.num2date(v, units, calendar=cal)
                    c["date"] = iso(d)
                    c["num"] = num(cftime.date2num(d, units, calendar=cal))
                except ValueError as e:
                    c["error"] = str(e)
                decode.append(c)
        for units in ENCODE_UNITS:
            for t in ENCODE:
                c = {"calendar": cal, "units": units}
                try:
                    d = cftime.datetime(*t, calendar=cal)
                    c["date"] = iso(d)
                    c["num"] = num(cftime.date2num(d, units, calendar=cal))
                except ValueError as e:
                    y = t[0]
                    c["date"] = iso(type("D", (), dict(
                        year=y, month=t[1], day=t[2], hour=t[3], minute=t[4],
                        second=t[5], microsecond=t[6])))
                    c["error"] = str(e)
                encode.append(c)
    out = ['{"cftime_version": %s,\n' % json.dumps(cftime.__version__)]
    for name, cases in (("decode", decode), ("encode", encode)):
        out.append(' "%s": [\n' % name)
        out.append(",\n".join("  " + json.dumps(c, sort_keys=True) for c in cases))
        out.append("\n ]%s\n" % ("," if name == "decode" else ""))
    out.append("}\n")
    sys.stdout.write("".join(out))


if __name__ == "__main__":
    main()
