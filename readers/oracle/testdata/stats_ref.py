"""Independent reference for the statistics tests: per region, time step
and level, count, weighted mean and population std, min, max and plain sum
of a variable's valid values (netCDF4 unpacks and masks fill and missing
values; NaN is masked too) over the cells whose centre lies inside the
region (a box, edges included, longitudes modulo 360; or a polygon, even-odd
rule), weighted by cell areas computed here with L'Huilier's theorem from
the cell corners (bounds, or midpoints between rectilinear coordinates),
by a cell measure, by cos(latitude) or not at all.

Usage: python3 stats_ref.py JSON, where JSON is
{"file", "var", "lat", "lon", "layout": "rect"|"2d"|"track",
 "weights": {"kind": "bounds"|"midpoints"|"bounds2d"|"measure"|"cos"|"none", "lat_bnds", "lon_bnds", "var"},
 "regions": [{"name", "bbox": [W, S, E, N]} | {"name", "ring": [[lon, lat], ...]}],
 "extra": number of leading dimensions (time, level) before the horizontal ones}.
Prints {region: [[n, mean, std, min, max, sum] per leading index]}, null for
values without cells."""
import json
import math
import sys

import netCDF4
import numpy as np

args = json.loads(sys.argv[1])
ds = netCDF4.Dataset(args["file"])


def var(path):
    path = path.strip("/")
    g = ds
    parts = path.split("/")
    for p in parts[:-1]:
        g = g.groups[p]
    return g.variables[parts[-1]]


def arc(a, b):
    """Great-circle distance between unit vectors."""
    return math.atan2(np.linalg.norm(np.cross(a, b)), np.dot(a, b))


def unit(lat, lon):
    y, x = math.radians(lat), math.radians(lon)
    return np.array([math.cos(y) * math.cos(x), math.cos(y) * math.sin(x), math.sin(y)])


def triangle(a, b, c):
    """Spherical excess by L'Huilier's theorem."""
    x, y, z = arc(b, c), arc(a, c), arc(a, b)
    s = (x + y + z) / 2
    t = math.tan(s / 2) * math.tan((s - x) / 2) * math.tan((s - y) / 2) * math.tan((s - z) / 2)
    return 4 * math.atan(math.sqrt(max(t, 0)))


def polygon(lats, lons):
    v = [unit(a, b) for a, b in zip(lats, lons)]
    return sum(triangle(v[0], v[i], v[i + 1]) for i in range(1, len(v) - 1))


def edges(c):
    m = (c[1:] + c[:-1]) / 2
    first, last = 2 * c[0] - m[0], 2 * c[-1] - m[-1]
    e = np.concatenate([[first], m, [last]])
    return np.stack([e[:-1], e[1:]], axis=1)


v = var(args["var"])
v.set_auto_maskandscale(True)
data = np.ma.masked_invalid(np.ma.asarray(v[:], dtype=np.float64))
lat = np.asarray(var(args["lat"])[:], dtype=np.float64)
lon = np.asarray(var(args["lon"])[:], dtype=np.float64)
wk = args["weights"]
layout = args["layout"]
if layout == "rect":
    LAT, LON = np.meshgrid(lat, lon, indexing="ij")
    if wk["kind"] in ("bounds", "midpoints"):
        if wk["kind"] == "bounds":
            lb = np.asarray(var(wk["lat_bnds"])[:], dtype=np.float64)
            ob = np.asarray(var(wk["lon_bnds"])[:], dtype=np.float64)
        else:
            lb, ob = edges(lat), edges(lon)
        lb = np.clip(lb, -90, 90)
        W = np.empty(LAT.shape)
        for j in range(len(lat)):
            for i in range(len(lon)):
                a, b = lb[j]
                w, e = ob[i]
                W[j, i] = polygon([a, a, b, b], [w, e, e, w])
    elif wk["kind"] == "none":
        W = np.ones(LAT.shape)
    else:
        raise SystemExit("weights %s on a rectilinear grid" % wk["kind"])
else:
    LAT, LON = lat, lon
    kind = wk["kind"]
    if kind == "measure":
        W = np.ma.filled(np.ma.asarray(var(wk["var"])[:], dtype=np.float64), np.nan)
    elif kind == "bounds2d":
        lb = np.asarray(var(wk["lat_bnds"])[:], dtype=np.float64)
        ob = np.asarray(var(wk["lon_bnds"])[:], dtype=np.float64)
        W = np.empty(LAT.shape)
        for idx in np.ndindex(LAT.shape):
            W[idx] = polygon(list(lb[idx]), list(ob[idx]))
    elif kind == "cos":
        W = np.cos(np.radians(LAT))
    elif kind == "none":
        W = np.ones(LAT.shape)
    else:
        raise SystemExit("weights %s" % kind)
LAT = np.ma.filled(np.ma.asarray(LAT), np.nan)
LON = np.ma.filled(np.ma.asarray(LON), np.nan)


def in_box(b):
    w, s, e, n = b
    width = 360.0 if e - w >= 360 else (e - w) % 360
    return (LAT >= s) & (LAT <= n) & (((LON - w) % 360) <= width)


def in_ring(ring):
    inside = np.zeros(LAT.shape, dtype=bool)
    for k in (-360, 0, 360):
        x = LON + k
        odd = np.zeros(LAT.shape, dtype=bool)
        for p in range(len(ring)):
            (x1, y1), (x2, y2) = ring[p], ring[(p + 1) % len(ring)]
            with np.errstate(invalid="ignore", divide="ignore"):
                cross = ((y1 > LAT) != (y2 > LAT)) & (x < x1 + (LAT - y1) * (x2 - x1) / (y2 - y1))
            odd ^= cross
        inside |= odd
    return inside


extra = args["extra"]
lead = data.shape[:extra]
out = {}
for r in args["regions"]:
    sel = in_box(r["bbox"]) if "bbox" in r else in_ring(r["ring"])
    rows = []
    for idx in np.ndindex(*lead) if lead else [()]:
        x = data[idx]
        ok = sel & ~np.ma.getmaskarray(x) & np.isfinite(W)
        xs, ws = np.ma.getdata(x)[ok], W[ok]
        n = int(ok.sum())
        if n == 0:
            rows.append([0, None, None, None, None, None])
            continue
        mean = float((ws * xs).sum() / ws.sum())
        std = float(math.sqrt((ws * (xs - mean) ** 2).sum() / ws.sum()))
        rows.append([n, mean, std, float(xs.min()), float(xs.max()), float(xs.sum())])
    out[r["name"]] = rows
print(json.dumps(out))
