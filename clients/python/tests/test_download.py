"""Downloads (resume, checksums) and opening results with xarray."""

import hashlib
import os
import time

import netCDF4
import numpy as np
import pytest
import requests

from subsetd import ChecksumError, Client
from subsetd.job import part_path


@pytest.fixture(scope="module")
def job(server, tmp_path_factory):
    c = Client(server.url, cache_dir=tmp_path_factory.mktemp("cache"))
    j = c.submit(dataset="global", regions=[("a", [-60, -40, 0, 20]), ("b", [100, 0, 140, 30])], variables=["sst"])
    return j.wait(progress=False)


@pytest.fixture
def record():
    """record(client) -> the list of (method, url, request headers, status)
    of the client's requests from then on."""
    hooks = []

    def start(client):
        seen = []
        hook = lambda r, *a, **k: seen.append((r.request.method, r.request.url, dict(r.request.headers), r.status_code))  # noqa: E731
        client.session.hooks["response"].append(hook)
        hooks.append((client, hook))
        return seen

    yield start
    for client, hook in hooks:
        client.session.hooks["response"].remove(hook)


def file_gets(seen):
    return [s for s in seen if s[0] == "GET" and "/files/" in s[1]]


def test_resume_with_range(job, tmp_path, record):
    f = job.files("a")[0]
    whole = requests.get(job.client.url(f["href"])).content
    dest = tmp_path / f["name"]
    half = len(whole) // 2
    part_path(dest, f["sha256"]).write_bytes(whole[:half])
    seen = record(job.client)
    [p] = job.download(tmp_path, regions="a", progress=False)
    assert p == dest and p.read_bytes() == whole
    [(_, _, headers, status)] = file_gets(seen)
    assert headers["Range"] == "bytes=%d-" % half and status == 206
    assert not list(tmp_path.glob("*.part"))
    # Already there and intact: not fetched again.
    seen.clear()
    assert job.download(tmp_path, regions="a", progress=False) == [dest]
    assert file_gets(seen) == []


def test_bad_partial_fetched_again(job, tmp_path, record):
    f = job.files("b")[0]
    dest = tmp_path / f["name"]
    part_path(dest, f["sha256"]).write_bytes(b"\0" * 1000)  # not the file's first bytes
    seen = record(job.client)
    [p] = job.download(tmp_path, regions=["b"], progress=False)
    assert hashlib.sha256(p.read_bytes()).hexdigest() == f["sha256"]
    assert [(h.get("Range"), s) for _, _, h, s in file_gets(seen)] == [("bytes=1000-", 206), (None, 200)]


def test_checksum_mismatch(job, tmp_path, monkeypatch):
    real = job.files()
    wrong = [dict(f, sha256=hashlib.sha256(b"other").hexdigest()) if f["region"] == "b" else f for f in real]
    monkeypatch.setattr(job, "files", lambda regions=None: wrong)
    with pytest.raises(ChecksumError) as e:
        job.download(tmp_path, progress=False)
    assert e.value.path == tmp_path / "b.nc"
    assert e.value.actual == real[1]["sha256"] and e.value.expected == wrong[1]["sha256"]
    assert "sha256" in str(e.value)
    assert not (tmp_path / "b.nc").exists()  # nothing unchecked at a final name
    assert not list(tmp_path.glob("*.part"))
    assert (tmp_path / "a.nc").is_file()  # the good file is kept


def test_lazy_open_reads_over_http(job, server):
    f = job.files("a")[0]
    before = len(server.log_lines())
    ds = job.open("a", lazy=True)
    with netCDF4.Dataset(server.data / "global.nc") as src:
        lat, lon = src["lat"][:], src["lon"][:]
        jj = np.flatnonzero((lat >= -40) & (lat <= 20))
        ii = np.flatnonzero((lon >= -60) & (lon <= 0))
        want = src["sst"][0][np.ix_(jj, ii)]
    np.testing.assert_array_equal(ds.sst.values[0], want.filled(np.nan))
    assert not os.path.exists(os.path.join(job.client.cache_dir, job.id))  # nothing downloaded
    # The server logs a request once it has answered it.
    deadline = time.monotonic() + 10
    while True:
        served = [(l["method"], l["status"]) for l in server.log_lines()[before:] if l.get("path") == f["href"]]
        if served or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert served and set(served) == {("GET", 206)}, served  # Range reads only


def test_open_downloads_to_cache(job, monkeypatch, record):
    f = job.files("b")[0]
    lazy = job.open("b", lazy=True)
    local = job.open("b", lazy=False)
    cached = os.path.join(job.client.cache_dir, job.id, f["name"])
    assert hashlib.sha256(open(cached, "rb").read()).hexdigest() == f["sha256"]
    assert local.sst.equals(lazy.sst)
    # Without fsspec/h5netcdf, lazy opens use the cache too.
    monkeypatch.setattr(job.client, "_fs", False)
    seen = record(job.client)
    again = job.open("b")
    assert again.sst.equals(local.sst)
    assert file_gets(seen) == []  # the cached file was intact
