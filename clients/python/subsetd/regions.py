"""The forms ``regions`` takes, turned into the ``regions`` array of a job.

Only the shape is handled here: the server checks the boxes, geometries,
names and refs, and its errors name the field (``regions[2].bbox``).
"""

from __future__ import annotations

import json
import numbers
import os

_GEOMETRIES = ("Polygon", "MultiPolygon")


def normalize(regions, set_refs):
    """Returns the list of region objects of a job.

    ``set_refs(name)`` returns the refs (``"<set>/<region>"``) of a named
    set; it is called for a bare set name such as ``"africa"``.
    """
    out = []
    _add(out, regions, set_refs, top=True)
    if not out:
        raise ValueError("regions: give at least one region")
    for i, r in enumerate(out):
        if r.get("name") is None and "ref" not in r:
            r["name"] = "region_%d" % (i + 1)
    return out


def _add(out, x, set_refs, top=False):
    if isinstance(x, os.PathLike):
        _add(out, load(x), set_refs)
    elif isinstance(x, str):
        if os.path.isfile(x):
            _add(out, load(x), set_refs)
        elif x.lower().endswith((".json", ".geojson")):
            raise FileNotFoundError("regions: no such file: %s" % x)
        elif "/" in x:
            out.append({"ref": x})
        else:
            out.extend({"ref": ref} for ref in set_refs(x))
    elif isinstance(x, dict):
        _add_dict(out, x, set_refs)
    elif isinstance(x, (list, tuple)):
        if top and _is_pair(x):
            out.append(_pair(x))
            return
        for item in x:
            if isinstance(item, (list, tuple)):
                if not _is_pair(item):
                    raise TypeError("regions[%d]: expected (name, [W, S, E, N]) or (name, geometry), got %r" % (len(out), item))
                out.append(_pair(item))
            else:
                _add(out, item, set_refs)
    else:
        raise TypeError("regions: expected a list of regions, a GeoJSON dict, a set name, a ref or a file path, got %r" % (x,))


def _add_dict(out, d, set_refs):
    kind = d.get("type")
    if "regions" in d and kind is None:
        _add(out, list(d["regions"]), set_refs)
    elif kind == "FeatureCollection":
        for f in d.get("features") or []:
            _add_dict(out, f, set_refs)
    elif kind == "Feature":
        props = d.get("properties") or {}
        r = {"name": props.get("name"), "geometry": d.get("geometry")}
        out.append(r)
    elif kind in _GEOMETRIES:
        out.append({"name": None, "geometry": d})
    elif kind is not None:
        raise ValueError("regions[%d]: a GeoJSON %s is not a region (use a Polygon or MultiPolygon)" % (len(out), kind))
    else:
        out.append(dict(d))


def _is_bbox(b):
    return isinstance(b, (list, tuple)) and len(b) == 4 and all(isinstance(v, numbers.Real) for v in b)


def _is_pair(x):
    return len(x) == 2 and isinstance(x[0], str) and (_is_bbox(x[1]) or isinstance(x[1], dict))


def _pair(x):
    name, shape = x
    if isinstance(shape, dict):
        if shape.get("type") == "Feature":
            shape = shape.get("geometry")
        return {"name": name, "geometry": shape}
    return {"name": name, "bbox": [float(v) for v in shape]}


def load(path):
    """Reads a regions file: GeoJSON (FeatureCollection, Feature, Polygon)
    or the ``{"regions": [...]}`` shape of the REST API and the CLI."""
    with open(path, encoding="utf-8") as f:
        try:
            return json.load(f)
        except ValueError as e:
            raise ValueError("regions: %s is not JSON: %s" % (path, e)) from None
