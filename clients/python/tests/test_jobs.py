"""Jobs against the real server: submit, wait, download, open, cancel, list."""

import hashlib

import netCDF4
import numpy as np
import pytest

from subsetd import APIError, JobError, SubsetdError


def expected_global(lat, lon):
    """sst of testdata/grids/global2deg.cdl at cell centres (lat, lon):
    j*1000 + i with lat = -89 + 2j and lon = -179 + 2i (modulo 360), masked
    on the row j = 89."""
    j = np.rint((np.asarray(lat, float) + 89) / 2).astype(int)
    i = np.rint(((np.asarray(lon, float) + 179) % 360) / 2).astype(int)
    v = (j[:, None] * 1000 + i[None, :]).astype(np.float32)
    return np.ma.masked_array(v, mask=np.broadcast_to((j == 89)[:, None], v.shape))


def sha256(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_catalogue(client):
    ids = {d["id"] for d in client.datasets()}
    assert {"global", "passes", "sst"} <= ids
    d = client.dataset("global")
    assert d["kind"] == "file"
    assert d["extent"] == {"west": -179, "south": -89, "east": 179, "north": 89}
    assert "sst" in {v["name"] for v in d["variables"]}
    p = client.dataset("passes")
    assert (p["kind"], p["file_count"], p["title"]) == ("granules", 2, "two daily granules")
    africa = next(s for s in client.regions() if s["name"] == "africa")
    refs = [r["ref"] for r in africa["regions"]]
    assert "africa/benguela_current" in refs
    fc = client.regions("africa")
    assert fc["type"] == "FeatureCollection"
    assert ["africa/" + f["properties"]["name"] for f in fc["features"]] == refs


def test_submit_wait_download_open(client, server, tmp_path, capsys):
    boxes = [("box", [10, -20, 30, 0]), ("seam", [170, -10, -170, 10]), ("north", [-10, 80, 10, 90])]
    job = client.submit(dataset="global", regions=boxes, variables=["sst"])
    assert job.url == server.url + "/v1/jobs/" + job.id
    assert job.wait(progress=True) is job
    assert job.status == "successful"
    bar = capsys.readouterr().err
    assert "3/3" in bar and "successful" in bar, bar

    out = tmp_path / "out"
    paths = job.download(out, progress=False)
    assert [p.relative_to(out).as_posix() for p in paths] == ["box.nc", "seam.nc", "north.nc"]
    files = job.files()
    assert [f["region"] for f in files] == ["box", "seam", "north"]
    for p, f in zip(paths, files):
        assert p.stat().st_size == f["size"]
        assert sha256(p) == f["sha256"]
    assert not list(out.rglob("*.part"))

    src = netCDF4.Dataset(server.data / "global.nc")
    src_lat, src_lon = src["lat"][:], src["lon"][:]
    shapes = {"box": (1, 10, 10), "seam": (1, 10, 10), "north": (1, 5, 10)}
    for (name, _), p in zip(boxes, paths):
        with netCDF4.Dataset(p) as nc:
            lat, lon, sst = nc["lat"][:], nc["lon"][:], nc["sst"][:]
        assert sst.shape == shapes[name]
        want = expected_global(lat, lon)
        assert np.array_equal(np.ma.getmaskarray(sst[0]), np.ma.getmaskarray(want)), name
        assert np.ma.allequal(sst[0], want), name
        # The same cells of the input file.
        jj = [int(np.flatnonzero(src_lat == y)[0]) for y in lat]
        ii = [int(np.flatnonzero(src_lon == ((x + 180) % 360) - 180)[0]) for x in lon]
        assert np.ma.allequal(sst[0], src["sst"][0][np.ix_(jj, ii)]), name

        ds = job.open(name)
        assert ds.sst.shape == shapes[name]
        np.testing.assert_array_equal(ds["lat"].values, lat)
        np.testing.assert_array_equal(ds["lon"].values, lon)
        np.testing.assert_array_equal(ds.sst.values, sst.filled(np.nan))
    seam_lon = netCDF4.Dataset(paths[1])["lon"][:]
    assert list(seam_lon) == list(range(171, 191, 2))  # contiguous across the antimeridian
    src.close()

    dss = job.open_all()
    assert list(dss) == ["box", "seam", "north"]
    assert int(dss["north"].sst.isnull().sum()) == 10  # the fill row


def test_granules(client, tmp_path):
    job = client.submit(dataset="passes", regions=[("benguela", [8, -35, 20, -15])], variables=["sst"],
                        time=("2000-01-01", "2000-01-02"))
    job.wait(progress=False)
    out = tmp_path / "out"
    paths = job.download(out, progress=False)
    assert sorted(p.relative_to(out).as_posix() for p in paths) == ["benguela/day0.nc", "benguela/day1.nc"]
    per_file = {}
    for p in paths:
        with netCDF4.Dataset(p) as nc:
            per_file[p.stem] = (netCDF4.num2date(nc["time"][:], nc["time"].units), nc["sst"][:])
    ds = job.open("benguela")
    assert ds.sst.shape == (2, 11, 6)
    assert [str(t)[:10] for t in ds.time.values] == ["2000-01-01", "2000-01-02"]
    for k, stem in enumerate(["day0", "day1"]):
        assert str(per_file[stem][0][0])[:10] == "2000-01-0%d" % (k + 1)
        np.testing.assert_array_equal(ds.sst.values[k], per_file[stem][1][0].filled(np.nan))
        np.testing.assert_array_equal(ds.sst.values[k], expected_global(ds.lat.values, ds.lon.values).filled(np.nan))
    one = job.open("benguela/day1.nc")
    assert one.sst.shape == (1, 11, 6)
    assert str(one.time.values[0])[:10] == "2000-01-02"


def test_cancel_and_list(client):
    # 40 whole-globe regions of the sample: seconds of work, cancelled at once.
    job = client.submit(dataset="sst", regions=[("g%d" % i, [-180, -90, 180, 90]) for i in range(40)])
    assert job.status in ("accepted", "running")
    assert job.cancel() is job
    assert job.status == "dismissed"
    with pytest.raises(JobError) as e:
        job.wait(progress=False)
    assert e.value.status == "dismissed" and e.value.job is job
    with pytest.raises(SubsetdError, match="already dismissed"):
        job.cancel()
    assert job.id in [j.id for j in client.jobs(status="dismissed")]
    assert job.id not in [j.id for j in client.jobs(status=["successful", "failed"])]
    listed = client.jobs(limit=1)
    assert len(listed) == 1 and "regions" not in listed[0].doc
    again = client.job(job.id)
    assert again.status == "dismissed" and len(again.regions) == 40
    again.delete()
    with pytest.raises(APIError) as e:
        client.job(job.id)
    assert (e.value.status, e.value.code) == (404, "not_found")


def test_wait_follows_the_servers_event_stream(client):
    # Whole-globe regions of the sample take a moment: wait() follows
    # GET /v1/jobs/{id}/events (reading the job again on region and status
    # events) instead of polling, until the job is finished.
    names = ["g%d" % i for i in range(6)]
    job = client.submit(dataset="sst", regions=[(n, [-180, -90, 180, 90]) for n in names], variables=["sst"])
    seen = []
    orig = job._on_event
    job._on_event = lambda ev, bar: (seen.append(ev), orig(ev, bar))
    job.wait(progress=False)
    assert job.status == "successful" and client._events is True
    kinds = [ev["event"] for ev in seen]
    assert "region" in kinds and set(kinds) <= {"status", "progress", "region"}, kinds
    for ev in seen:
        assert ev["json"]["job"] == job.id and ev["id"] is None or ev["id"].count("-") == 1
        if ev["event"] == "region":
            assert ev["json"]["name"] in names
            f = ev["json"]["files"][0]
            assert f["region"] == ev["json"]["name"] and f["href"].endswith("/files/%s.nc" % f["region"])
    progress = [ev["json"]["progress"] for ev in seen if ev["event"] == "progress"]
    assert progress == sorted(progress), progress
    assert job._state()["regions_done"] == len(names)
