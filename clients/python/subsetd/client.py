"""The connection to a subsetd server."""

from __future__ import annotations

import importlib.util
import os
import time as _time
import uuid
from urllib.parse import quote, urljoin, urlsplit

import requests

from . import regions as _regions
from .errors import SubsetdError, raise_for_problem, retry_after
from .job import Job

# Retries of an answer 503 (the server is indexing a dataset, shutting
# down): attempts and the longest wait honoured between them.
_RETRIES_503 = 3
_MAX_RETRY_AFTER = 30.0


def _time_range(t):
    """(start, end), "START/END" or {"start", "end"} -> the job's time object."""
    if t is None:
        return None
    if isinstance(t, dict):
        return dict(t)
    if isinstance(t, str):
        if "/" not in t:
            raise ValueError("time: expected (start, end) or 'START/END', got %r" % t)
        t = t.split("/", 1)
    if not isinstance(t, (list, tuple)) or len(t) != 2:
        raise ValueError("time: expected (start, end), got %r" % (t,))
    out = {}
    for k, v in zip(("start", "end"), t):
        if v is None or v == "":
            continue
        out[k] = v.isoformat() if hasattr(v, "isoformat") else str(v)
    return out


def _vertical(v):
    if isinstance(v, (list, tuple)):
        if len(v) != 2:
            raise ValueError("vertical: expected (min, max), got %r" % (v,))
        return {k: float(x) for k, x in zip(("min", "max"), v) if x is not None}
    return v


class Client:
    """A subsetd server.

    ``base_url`` is the server's address (``http://127.0.0.1:8080``). ``key``
    is an API key sent as ``Authorization: Bearer <key>``; without it the
    ``SUBSETD_KEY`` environment variable is used when set. The key is sent
    to the server's own origin only, never to links elsewhere.
    ``cache_dir`` is where :meth:`Job.open` keeps downloaded files when it
    does not read them over HTTP (default: ``$SUBSETD_CACHE``, else
    ``$XDG_CACHE_HOME/subsetd``, else ``~/.cache/subsetd``). ``timeout`` is
    the seconds to wait for a connection and for each read.
    """

    def __init__(self, base_url, key=None, *, cache_dir=None, timeout=30.0, session=None):
        if "://" not in base_url:
            raise ValueError("base_url must be an http(s) URL, got %r" % base_url)
        self.base_url = base_url.rstrip("/") + "/"
        self.key = key if key is not None else (os.environ.get("SUBSETD_KEY") or None)
        self.timeout = timeout
        if cache_dir is None:
            cache_dir = os.environ.get("SUBSETD_CACHE") or os.path.join(
                os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "subsetd")
        self.cache_dir = os.fspath(cache_dir)
        self.session = session or requests.Session()
        from . import __version__
        self.session.headers.setdefault("User-Agent", "subsetd-python/" + __version__)
        # Whether GET /v1/jobs/{id}/events streams: None until tried.
        self._events = None
        self._fs = {}  # fsspec filesystems by the headers they send; False: no fsspec
        self._origin = self._origin_of(self.base_url)

    def __repr__(self):
        return "Client(%r)" % self.base_url.rstrip("/")

    # -- HTTP ----------------------------------------------------------

    @staticmethod
    def _origin_of(url):
        u = urlsplit(url)
        return (u.scheme, u.netloc.lower())

    def url(self, href):
        """Resolves a path of the API (``v1/jobs``) or a link of a document
        (``/v1/jobs/ID``, absolute or not) against the base URL."""
        if href.startswith("/") or "://" in href:
            return urljoin(self.base_url, href)
        return self.base_url + href

    def auth_headers(self, url):
        """The Authorization header for url: only for the server's origin."""
        if self.key and self._origin_of(url) == self._origin:
            return {"Authorization": "Bearer " + self.key}
        return {}

    def request(self, method, href, *, headers=None, check=True, **kw):
        """Sends a request to the server and returns the requests.Response.

        Answers 503 with Retry-After (a dataset being indexed, a server
        starting) are retried a few times; other errors raise APIError
        unless ``check`` is false.
        """
        url = self.url(href)
        h = dict(headers or {})
        h.update(self.auth_headers(url))
        kw.setdefault("timeout", self.timeout)
        for attempt in range(_RETRIES_503 + 1):
            resp = self.session.request(method, url, headers=h, **kw)
            wait = retry_after(resp) if resp.status_code == 503 else None
            if wait is None or attempt == _RETRIES_503:
                break
            resp.close()
            _time.sleep(min(wait, _MAX_RETRY_AFTER))
        if check:
            raise_for_problem(resp)
        return resp

    def _http_fs(self, url):
        """An fsspec HTTP filesystem for url (sending the key to the
        server's origin only), or None without fsspec (and its aiohttp) or
        h5netcdf."""
        if self._fs is False:
            return None
        headers = self.auth_headers(url)
        key = tuple(sorted(headers.items()))
        if key not in self._fs:
            try:
                import fsspec

                if importlib.util.find_spec("h5netcdf") is None:  # xarray's engine for file objects
                    raise ImportError("h5netcdf")
                # encoded: the server's links are percent-encoded already.
                self._fs[key] = fsspec.filesystem("http", headers=headers, encoded=True, skip_instance_cache=True)
            except ImportError:
                self._fs = False
                return None
        return self._fs[key]

    def get_json(self, href, params=None):
        return self.request("GET", href, params=params).json()

    # -- catalogue -----------------------------------------------------

    def datasets(self):
        """The datasets of the server: a list of dicts (id, kind, title, files, size)."""
        return self.get_json("v1/datasets")["datasets"]

    def dataset(self, id):
        """A dataset described from the server's index: kind, variables,
        dimensions, extent, time coverage, its first files (a dict)."""
        return self.get_json("v1/datasets/" + quote(id, safe=""))

    def regions(self, set=None):
        """Without ``set``: the named region sets, a list of dicts (name,
        title, regions: [{ref, title, bbox}]). With it: that set as a GeoJSON
        FeatureCollection (a dict), which ``regions=`` also takes."""
        if set is None:
            return self.get_json("v1/regions")["sets"]
        return self.get_json("v1/regions/" + quote(set, safe=""))

    def _set_refs(self, name):
        fc = self.regions(name)
        return ["%s/%s" % (name, f["properties"]["name"]) for f in fc.get("features", [])]

    # -- jobs ----------------------------------------------------------

    def request_body(self, dataset, regions, variables=None, time=None, **options):
        """The JSON body of POST /v1/jobs for these arguments (see submit)."""
        body = {"dataset": dataset, "regions": _regions.normalize(regions, self._set_refs)}
        if variables is not None:
            body["variables"] = [variables] if isinstance(variables, str) else list(variables)
        if time is not None:
            body["time"] = _time_range(time)
        if "vertical" in options:
            options["vertical"] = _vertical(options["vertical"])
        body.update(options)
        return body

    def submit(self, dataset, regions, variables=None, time=None, *, idempotency_key=None, **options):
        """Submits a job and returns its :class:`Job` at once.

        ``regions``: a list of ``{"name", "bbox"}`` / ``{"name", "geometry"}``
        / ``{"ref"}`` dicts or GeoJSON Features; a GeoJSON FeatureCollection;
        a named set (``"africa"``: every region of it) or one region of a set
        (``"africa/benguela_current"``); a path to a GeoJSON or regions JSON
        file; a list of ``(name, [W, S, E, N])`` tuples (boxes in degrees,
        west, south, east, north). ``variables``: names to keep (default
        all). ``time``: ``(start, end)`` in ISO 8601 (dates, datetimes or
        strings; None for an open end) or ``"START/END"``. Other keywords go
        into the request as they are: ``output={"format": "netcdf3",
        "deflate": 4}``, ``stride={"time": 2}``, ``vertical=(0, 100)``.
        The request carries an Idempotency-Key (a random one unless given),
        so retrying it cannot start the job twice.
        """
        body = self.request_body(dataset, regions, variables, time, **options)
        key = idempotency_key or "py-" + uuid.uuid4().hex
        resp = self.request("POST", "v1/jobs", json=body, headers={"Idempotency-Key": key})
        doc = resp.json()
        return Job(self, doc, resp.headers.get("Location"))

    def estimate(self, dataset, regions, variables=None, time=None, **options):
        """A pre-flight estimate of a job, without running it (a dict).

        POSTs the job with ``"dry_run": true``; the server answers per region
        in request order (``regions: [{"name", "status", "variables":
        [{"name", "shape", "dtype"}], ...}]``: the index box, the input files
        and bytes it would read, the output bytes, an estimated duration) and
        totals for the job. A server without pre-flight estimates answers
        APIError 400 with ``field == "dry_run"``.
        """
        body = self.request_body(dataset, regions, variables, time, **options)
        body["dry_run"] = True
        resp = self.request("POST", "v1/jobs", json=body)
        if resp.status_code == 201:
            # A server that ignored dry_run started a real job: stop it.
            job = Job(self, resp.json(), resp.headers.get("Location"))
            self.request("DELETE", job.url, check=False)  # dismissed, or deleted if it is already done
            raise SubsetdError("the server ran job %s instead of estimating it (it ignores dry_run); the job was cancelled" % job.id)
        return resp.json()

    def job(self, id):
        """The job of this id (e.g. one submitted in an earlier session)."""
        return Job(self, None, "/v1/jobs/" + quote(id, safe="")).refresh()

    def jobs(self, status=None, dataset=None, limit=100):
        """Jobs of the server, newest first: a list of :class:`Job` (their
        documents without regions; ``job.refresh()`` fetches the full one).
        ``status``: a status or a list of them (accepted, running,
        successful, failed, dismissed); ``limit``: at most this many (pages
        are followed)."""
        params = {"limit": str(min(max(int(limit), 1), 100))}
        if status:
            params["status"] = status if isinstance(status, str) else ",".join(status)
        if dataset:
            params["dataset"] = dataset
        out, href = [], "v1/jobs"
        while href and len(out) < limit:
            page = self.get_json(href, params)
            params = None  # the next link carries them
            out.extend(Job(self, d) for d in page["jobs"])
            href = next((l["href"] for l in page.get("links", []) if l.get("rel") == "next"), None)
        return out[:limit]
