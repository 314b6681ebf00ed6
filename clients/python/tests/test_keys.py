"""API keys against the real server (subsetd serve --auth keys): the key
of Client(key=...) or SUBSETD_KEY is sent as Authorization: Bearer, a job
is its owner's, no key or another key's is refused."""

import numpy as np
import pytest

from subsetd import APIError, Client

from test_jobs import expected_global, sha256


def test_keys(keyed, tmp_path, monkeypatch):
    monkeypatch.delenv("SUBSETD_KEY", raising=False)
    alice = Client(keyed.url, key=keyed.keys["alice"], cache_dir=tmp_path / "cache")
    job = alice.submit("global", [("box", [0, 0, 10, 10])], variables=["sst"])
    job.wait(progress=False)
    assert job.status == "successful"
    [path] = job.download(tmp_path / "out", progress=False)
    assert sha256(path) == job.files()[0]["sha256"]
    ds = job.open("box")  # over HTTP when fsspec is there: the key goes along
    np.testing.assert_array_equal(ds.sst.values[0], expected_global(ds.lat.values, ds.lon.values).filled(np.nan))
    ds.close()

    with pytest.raises(APIError) as e:
        Client(keyed.url).datasets()
    assert (e.value.status, e.value.code) == (401, "unauthorized")
    with pytest.raises(APIError) as e:
        Client(keyed.url, key="sd_" + "x" * 43).datasets()
    assert e.value.status == 401

    monkeypatch.setenv("SUBSETD_KEY", keyed.keys["bob"])
    bob = Client(keyed.url)
    with pytest.raises(APIError) as e:
        bob.job(job.id)
    assert (e.value.status, e.value.code) == (404, "not_found")
    assert job.id not in [j.id for j in bob.jobs()]
    assert job.id in [j.id for j in alice.jobs()]
