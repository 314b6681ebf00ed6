"""The forms `regions` takes."""

import datetime
import json

import pytest

from subsetd.regions import normalize

POLY = {"type": "Polygon", "coordinates": [[[0, 0], [8, 0], [8, 6], [0, 6], [0, 0]]]}


def no_sets(name):
    raise AssertionError("no set lookup expected, got %r" % name)


def test_tuples_dicts_and_refs():
    got = normalize([("benguela", [8, -35, 20, -15]), {"name": "gulf", "geometry": POLY, "mask": False},
                     "africa/red_sea", {"ref": "africa/cape_peninsula", "name": "cape"}, ("poly", POLY)], no_sets)
    assert got == [{"name": "benguela", "bbox": [8.0, -35.0, 20.0, -15.0]},
                   {"name": "gulf", "geometry": POLY, "mask": False},
                   {"ref": "africa/red_sea"},
                   {"ref": "africa/cape_peninsula", "name": "cape"},
                   {"name": "poly", "geometry": POLY}]
    assert normalize(("one", (1, 2, 3, 4)), no_sets) == [{"name": "one", "bbox": [1.0, 2.0, 3.0, 4.0]}]
    assert normalize("africa/benguela_current", no_sets) == [{"ref": "africa/benguela_current"}]


def test_geojson():
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "gulf"}, "geometry": POLY},
        {"type": "Feature", "properties": {}, "geometry": POLY}]}
    assert normalize(fc, no_sets) == [{"name": "gulf", "geometry": POLY}, {"name": "region_2", "geometry": POLY}]
    assert normalize([POLY, POLY], no_sets) == [{"name": "region_1", "geometry": POLY}, {"name": "region_2", "geometry": POLY}]
    assert normalize([{"bbox": [0, 0, 1, 1]}], no_sets) == [{"bbox": [0, 0, 1, 1], "name": "region_1"}]
    with pytest.raises(ValueError, match="a GeoJSON Point is not a region"):
        normalize({"type": "Point", "coordinates": [0, 0]}, no_sets)


def test_files(tmp_path):
    gj = tmp_path / "zones.geojson"
    gj.write_text(json.dumps({"type": "Feature", "properties": {"name": "gulf"}, "geometry": POLY}))
    assert normalize(str(gj), no_sets) == [{"name": "gulf", "geometry": POLY}]
    assert normalize(gj, no_sets) == [{"name": "gulf", "geometry": POLY}]
    rj = tmp_path / "regions.json"
    rj.write_text(json.dumps({"regions": [{"name": "a", "bbox": [0, 0, 1, 1]}, {"ref": "africa/red_sea"}]}))
    assert normalize(rj, no_sets) == [{"name": "a", "bbox": [0, 0, 1, 1]}, {"ref": "africa/red_sea"}]
    with pytest.raises(FileNotFoundError):
        normalize(str(tmp_path / "missing.geojson"), no_sets)
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(ValueError, match="is not JSON"):
        normalize(bad, no_sets)


def test_bad_forms():
    with pytest.raises(ValueError, match="at least one region"):
        normalize([], no_sets)
    with pytest.raises(TypeError, match=r"regions\[1\]: expected \(name, \[W, S, E, N\]\)"):
        normalize([("a", [0, 0, 1, 1]), ("b", [0, 0, 1])], no_sets)
    with pytest.raises(TypeError):
        normalize(42, no_sets)


def test_named_set_from_the_server(client):
    refs = [r["ref"] for r in next(s for s in client.regions() if s["name"] == "africa")["regions"]]
    body = client.request_body("sst", "africa", "sst", ("2020-01-03", datetime.date(2020, 1, 10)))
    assert body == {"dataset": "sst", "regions": [{"ref": r} for r in refs], "variables": ["sst"],
                    "time": {"start": "2020-01-03", "end": "2020-01-10"}}
    body = client.request_body("sst", ["africa", ("extra", [0, 0, 1, 1])], time="2020-01-03/", vertical=(0, None))
    assert body["regions"][-1] == {"name": "extra", "bbox": [0.0, 0.0, 1.0, 1.0]}
    assert len(body["regions"]) == len(refs) + 1
    assert body["time"] == {"start": "2020-01-03"} and body["vertical"] == {"min": 0.0}


def test_geojson_file_job(client, tmp_path):
    gj = tmp_path / "zones.geojson"
    gj.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "tri"},
         "geometry": {"type": "Polygon", "coordinates": [[[0, 0], [20, 0], [0, 20], [0, 0]]]}}]}))
    job = client.submit(dataset="global", regions=gj, variables=["sst"]).wait(progress=False)
    ds = job.open("tri")
    # The polygon's box (10 x 10 cells); cells whose centre is outside the triangle are masked.
    assert ds.sst.shape == (1, 10, 10)
    lat, lon = ds.lat.values, ds.lon.values
    inside = (lat[:, None] + lon[None, :]) <= 20
    assert (ds.sst.notnull().values[0] == inside).all()
