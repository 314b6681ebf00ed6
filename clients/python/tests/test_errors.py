"""Error answers become APIError with the problem document's members."""

import pytest

from subsetd import APIError, Client, SubsetdError


def test_unknown_dataset(client):
    with pytest.raises(APIError) as e:
        client.submit(dataset="nope", regions=[("a", [8, -35, 20, -15])])
    err = e.value
    assert (err.status, err.code, err.field, err.title) == (400, "invalid", "dataset", "Bad Request")
    assert err.detail == 'unknown dataset "nope"'
    assert err.problem["type"] == "urn:subsetd:problem:invalid"
    assert str(err) == '400 invalid (dataset): unknown dataset "nope"'
    assert isinstance(err, SubsetdError)


def test_bad_bbox(client):
    with pytest.raises(APIError) as e:
        client.submit(dataset="global", regions=[("ok", [0, 0, 10, 10]), ("bad", [8, 35, 20, -15])])
    assert (e.value.status, e.value.field) == (400, "regions[1].bbox")
    assert e.value.detail == "south (35) is greater than north (-15) (a box is W,S,E,N: west, south, east, north)"


def test_time_outside_coverage(client):
    with pytest.raises(APIError) as e:
        client.submit(dataset="global", regions=[("a", [0, 0, 10, 10])], time=("1990-01-01", "1990-01-31"))
    assert (e.value.status, e.value.field) == (400, "time")


def test_unknown_region_set(client):
    with pytest.raises(APIError) as e:
        client.submit(dataset="global", regions="atlantis")
    assert (e.value.status, e.value.code) == (404, "not_found")
    assert "atlantis" in e.value.detail


def test_unknown_job_and_bad_filter(client):
    with pytest.raises(APIError) as e:
        client.job("01a00000-0000-7000-8000-000000000000")
    assert (e.value.status, e.value.code) == (404, "not_found")
    with pytest.raises(APIError) as e:
        client.jobs(status="bogus")
    assert (e.value.status, e.value.field) == (400, "status")


def test_unknown_region_of_job(client):
    job = client.submit(dataset="global", regions=[("a", [0, 0, 10, 10])]).wait(progress=False)
    with pytest.raises(SubsetdError, match="has no region or file 'zz'"):
        job.open("zz")
    with pytest.raises(SubsetdError, match="has no region zz"):
        job.download(".", regions=["zz"])


def test_not_a_problem_document(fake):
    s = fake({("GET", "/v1/datasets"): lambda r: (502, {"Content-Type": "text/html"}, b"<html>bad gateway</html>")})
    with pytest.raises(APIError) as e:
        Client(s.url).datasets()
    assert (e.value.status, e.value.code, e.value.field) == (502, None, None)
    assert e.value.detail == "<html>bad gateway</html>"


def test_503_retried_after_retry_after(fake, monkeypatch):
    answers = [(503, {"Retry-After": "2", "Content-Type": "application/problem+json"},
                {"status": 503, "code": "unavailable", "title": "Service Unavailable", "detail": "indexing sst"}),
               (200, {}, {"datasets": [], "links": []})]
    s = fake({("GET", "/v1/datasets"): lambda r: answers.pop(0)})
    slept = []
    monkeypatch.setattr("subsetd.client._time.sleep", slept.append)
    assert Client(s.url).datasets() == []
    assert slept == [2.0]
