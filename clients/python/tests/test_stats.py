"""job.stats(): the statistics of a job's regions, against the real server."""

import hashlib
import importlib.util

import pytest

from subsetd import APIError, Stats


def test_stats_values(client):
    # global2deg: sst = j*1000 + i at lat -89 + 2j, lon -179 + 2i; fill on j = 89.
    # [0, 0, 10, 10] keeps j = 45..49, i = 90..94: unweighted mean 47092 over 25 cells.
    job = client.submit(dataset="global", regions=[("box", [0, 0, 10, 10]), ("north", [0, 88.5, 10, 90])],
                        variables=["sst"], statistics={"ops": ["mean", "min", "max", "count"], "weights": "none"})
    st = job.wait(progress=False).stats()
    assert isinstance(st, Stats)
    assert (st.job, st.ops, st.weights, st.level) == (job.id, ["mean", "min", "max", "count"], "none", None)
    assert [v["name"] for v in st.variables] == ["sst"] and st.variables[0]["units"] == "K"
    assert st.regions == ["box", "north"] and len(st) == 8
    box = {r["op"]: r for r in st.select(region="box")}
    assert {op: (r["value"], r["count"]) for op, r in box.items()} == {
        "mean": (47092.0, 25), "min": (45090.0, 25), "max": (49094.0, 25), "count": (25.0, 25)}
    assert box["mean"]["time"] == "2000-01-01T00:00:00Z" and box["mean"]["variable"] == "sst"
    # Every kept cell of "north" is fill: rows without values, not errors.
    assert [(r["op"], r["value"], r["count"]) for r in st.select(region="north")] == [
        ("mean", None, 0), ("min", None, 0), ("max", None, 0), ("count", 0, 0)]
    assert st.series("box", "sst") == [("2000-01-01T00:00:00Z", 47092.0)]
    assert st.series("box", "sst", op="max") == [("2000-01-01T00:00:00Z", 49094.0)]


def test_download_with_statistics(client, tmp_path):
    # The job's own files come with its regions', laid out as subsetd fetch
    # and the job's sha256sums name them.
    job = client.submit(dataset="global", regions=[("box", [0, 0, 10, 10])], variables=["sst"],
                        statistics={"ops": ["mean"], "weights": "none"})
    paths = job.wait(progress=False).download(tmp_path, progress=False)
    assert sorted(p.relative_to(tmp_path).as_posix() for p in paths) == ["box.nc", "stats.csv", "stats.nc"]
    sums = client.request("GET", "v1/jobs/%s/sha256sums" % job.id).text.splitlines()
    assert sorted(line.split("  ")[1] for line in sums) == ["box.nc", "stats.csv", "stats.nc"]
    for line in sums:
        sha, name = line.split("  ")
        assert hashlib.sha256((tmp_path / name).read_bytes()).hexdigest() == sha
    assert "mean" in (tmp_path / "stats.csv").read_text()


@pytest.mark.skipif(importlib.util.find_spec("pandas") is None, reason="python3-pandas is not installed")
def test_stats_pandas(client):
    job = client.submit(dataset="sst", regions="africa/benguela_current", variables=["sst"],
                        time=("2020-01-03", "2020-01-05"), statistics={"ops": ["mean", "count"]})
    st = job.wait(progress=False).stats()
    df = st.to_pandas()
    assert list(df.columns) == ["region", "time", "variable", "op", "value", "count"]
    assert len(df) == len(st) == 3 * 2
    means = df[df.op == "mean"].pivot_table(index="time", columns="region", values="value")
    assert list(means.columns) == ["benguela_current"]
    assert [t.isoformat() for t in means.index] == ["2020-01-03T00:00:00+00:00", "2020-01-04T00:00:00+00:00", "2020-01-05T00:00:00+00:00"]
    rows = [r["value"] for r in st.select(op="mean")]
    assert list(means["benguela_current"]) == rows and all(15 < v < 30 for v in rows)


def test_stats_of_a_job_without(client):
    job = client.submit(dataset="global", regions=[("box", [0, 0, 10, 10])]).wait(progress=False)
    with pytest.raises(APIError) as e:
        job.stats()
    assert (e.value.status, e.value.code) == (404, "not_found")
    assert "asks for no statistics" in e.value.detail
