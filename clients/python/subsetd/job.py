"""A submitted job: follow it, download its files, open them with xarray."""

from __future__ import annotations

import concurrent.futures
import hashlib
import os
import re
import time as _time
from pathlib import Path
from urllib.parse import quote

import requests
from tqdm.auto import tqdm

from .errors import ChecksumError, JobError, SubsetdError, retry_after
from .stats import Stats

# Final statuses of a job and of a region.
JOB_FINAL = ("successful", "failed", "dismissed")
REGION_FINAL = ("successful", "empty", "failed", "dismissed")

# Polling without Retry-After: the first interval, growing by half up to the last.
POLL_FIRST, POLL_MAX = 0.25, 2.0
# An event stream silent this long (the server sends heartbeats) is reopened.
EVENTS_READ_TIMEOUT = 60.0
# Failed event-stream connections after which wait() polls instead.
EVENTS_MAX_FAILURES = 3

_CHUNK = 1 << 20


class Job:
    """A job of a subsetd server.

    ``doc`` is the job document as the server last sent it (a dict);
    ``id``, ``status``, ``progress``, ``message``, ``regions`` (per-region
    results in request order, each with its ``files``) and ``request`` read
    from it. ``refresh()`` fetches it again.
    """

    def __init__(self, client, doc, url=None):
        self.client = client
        self.doc = doc or {}
        if url is None:
            url = next((l["href"] for l in self.doc.get("links", []) if l.get("rel") == "self"), None)
        if url is None:
            url = "/v1/jobs/" + quote(self.doc["id"], safe="")
        self.url = client.url(url)
        self._progress = {}

    def __repr__(self):
        return "<Job %s %s %d%%>" % (self.id, self.status, self.progress)

    @property
    def id(self):
        return self.doc.get("id") or self.url.rstrip("/").rsplit("/", 1)[-1]

    @property
    def status(self):
        return self.doc.get("status")

    @property
    def progress(self):
        return int(self.doc.get("progress") or 0)

    @property
    def message(self):
        return self.doc.get("message")

    @property
    def regions(self):
        return self.doc.get("regions") or []

    @property
    def request(self):
        return self.doc.get("request") or {}

    @property
    def finished(self):
        """True once the job is successful, failed or dismissed."""
        return self.status in JOB_FINAL

    def refresh(self):
        """Fetches the job document again; returns the job."""
        self.doc = self.client.get_json(self.url)
        return self

    def cancel(self):
        """Cancels the job (it ends ``dismissed``); returns the job. A job
        already finished is left as it is: SubsetdError (``delete()``
        removes it)."""
        if self.refresh().finished:
            raise SubsetdError("job %s is already %s: delete() removes it from the server" % (self.id, self.status))
        resp = self.client.request("DELETE", self.url)
        if resp.status_code == 204:  # it finished meanwhile, and the DELETE removed it
            self.doc = dict(self.doc, status="deleted")
        else:
            self.doc = resp.json()
        return self

    def delete(self):
        """Removes the job and its files from the server, cancelling it
        first when it is accepted or running."""
        resp = self.client.request("DELETE", self.url)
        if resp.status_code == 200:  # it was active: now dismissed, deleted next
            self.doc = resp.json()
            resp = self.client.request("DELETE", self.url)
        self.doc = dict(self.doc, status="deleted")

    # -- waiting -------------------------------------------------------

    def wait(self, progress=True, timeout=None, interval=None):
        """Waits until the job is finished and returns it.

        Follows the job's event stream (``GET /v1/jobs/{id}/events``) when
        the server offers one, else polls the job, every ``Retry-After``
        seconds when the server says so, otherwise every ``interval``
        seconds (default: from 0.25 s, growing to 2 s). ``progress`` shows a
        tqdm bar: regions done, bytes written, ETA. Raises JobError when the
        job ends failed or dismissed (a job whose regions partly failed is
        successful: see ``regions``), TimeoutError after ``timeout`` seconds.
        """
        deadline = None if timeout is None else _time.monotonic() + timeout
        if "regions" not in self.doc:
            self.refresh()
        bar = _Bar(self, progress)
        try:
            if not self.finished and self.client._events is not False:
                self._follow_events(bar, deadline)
            if not self.finished:
                self._poll(bar, deadline, interval)
            bar.update(self._state())
        finally:
            bar.close()
        if self.status != "successful":
            raise JobError(self)
        return self

    def _state(self):
        regions = self.regions
        done = [r for r in regions if r.get("status") in REGION_FINAL]
        st = {
            "status": self.status,
            "regions_total": len(regions) or len(self.request.get("regions") or []),
            "regions_done": len(done),
            "bytes_written": sum(f.get("size", 0) for r in done for f in r.get("files", [])),
        }
        for k in ("regions_done", "bytes_done", "bytes_total"):
            if self.doc.get(k) is not None:
                st[k] = self.doc[k]
            elif self._progress.get(k) is not None:
                st[k] = self._progress[k]
        # Counts only grow: the document and the events, read at different
        # times, each may be the newer.
        for k in ("regions_done", "bytes_done"):
            st[k] = max([st.get(k, 0), self._progress.get(k) or 0, len(done) if k == "regions_done" else 0])
        return st

    def _poll(self, bar, deadline, interval):
        delay = interval or POLL_FIRST
        while True:
            resp = self.client.request("GET", self.url)
            self.doc = resp.json()
            bar.update(self._state())
            if self.finished:
                return
            wait = retry_after(resp)
            if wait is None:
                wait = delay
                if interval is None:
                    delay = min(delay * 1.5, POLL_MAX)
            if deadline is not None:
                left = deadline - _time.monotonic()
                if left <= 0:
                    raise TimeoutError("job %s is still %s" % (self.id, self.status))
                wait = min(wait, left)
            _time.sleep(wait)

    def _follow_events(self, bar, deadline):
        """Follows the event stream until the job is finished. Returns
        without it finished when the server has no stream (remembered by the
        client) or it keeps failing; wait() then polls."""
        url = self.url.rstrip("/") + "/events"
        last_id, failures = None, 0
        while failures < EVENTS_MAX_FAILURES:
            headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
            if last_id is not None:
                headers["Last-Event-ID"] = last_id
            read_timeout = EVENTS_READ_TIMEOUT
            if deadline is not None:
                read_timeout = max(0.1, min(read_timeout, deadline - _time.monotonic()))
            try:
                resp = self.client.request("GET", url, headers=headers, stream=True, check=False,
                                           timeout=(self.client.timeout, read_timeout))
            except requests.RequestException:
                failures += 1
                _time.sleep(min(1.0 * failures, 5.0))
                continue
            with resp:
                ctype = resp.headers.get("Content-Type", "")
                if resp.status_code != 200 or not ctype.startswith("text/event-stream"):
                    if last_id is None:
                        self.client._events = False
                    return
                self.client._events = True
                try:
                    for ev in _sse_events(resp):
                        if ev["id"] is not None:
                            last_id = ev["id"]
                        self._on_event(ev, bar)
                        if self.finished:
                            return
                        if deadline is not None and _time.monotonic() > deadline:
                            raise TimeoutError("job %s is still %s" % (self.id, self.status))
                except requests.RequestException:
                    pass  # a dropped or silent stream: reopen it
            # The server ends the stream after the final status; anything
            # else is a dropped connection.
            self.refresh()
            bar.update(self._state())
            if self.finished:
                return
            failures += 1
            if deadline is not None and _time.monotonic() > deadline:
                raise TimeoutError("job %s is still %s" % (self.id, self.status))

    def _on_event(self, ev, bar):
        data = ev["json"]
        if ev["event"] == "progress" and isinstance(data, dict):
            self._progress.update({k: data[k] for k in ("regions_done", "bytes_done", "bytes_total") if k in data})
            if "progress" in data:
                self.doc["progress"] = data["progress"]
        elif ev["event"] in ("status", "region"):
            # The document is the authority on regions and files.
            self.refresh()
        else:
            return
        bar.update(self._state())

    # -- statistics ----------------------------------------------------

    def stats(self):
        """The statistics of the job's regions (a :class:`Stats`: rows of
        region, time, variable, op, value, count; ``to_pandas()`` with
        pandas), from ``GET /v1/jobs/{id}/stats``, for a job submitted with
        ``statistics={"ops": [...]}``. Raises APIError 404 (code
        ``not_found``) when the job asks for none or ended without them, 409
        (``conflict``) while they are not written yet: call ``wait()``
        first."""
        return Stats.from_doc(self.client.get_json(self.url.rstrip("/") + "/stats"))

    # -- files ---------------------------------------------------------

    def files(self, regions=None):
        """The job's files so far: dicts with region, name (``<region>.nc``,
        or ``<region>/<granule>.nc`` for granules), size, sha256, md5, href.
        ``regions``: a region name or a list of them (default all, and then
        the job's own files too: ``stats.nc`` and ``stats.csv`` with region
        ``""`` when the job asked for statistics)."""
        if not self.finished or "regions" not in self.doc:
            self.refresh()
        known = [r["name"] for r in self.regions]
        if regions is not None:
            want = {regions} if isinstance(regions, str) else set(regions)
            unknown = sorted(want - set(known))
            if unknown:
                raise SubsetdError("job %s has no region %s (its regions: %s)" % (self.id, ", ".join(unknown), ", ".join(known)))
        out = []
        for r in self.regions:
            if regions is None or r["name"] in want:
                out.extend(dict(f, region=r["name"]) for f in r.get("files", []))
        if regions is None:
            # The job's own files (stats.nc, stats.csv), as the manifest
            # and ``subsetd fetch`` list them after the regions' files.
            out.extend(dict(f, region=f.get("region", "")) for f in self.doc.get("files", []))
        return out

    def download(self, dir=".", regions=None, workers=4, progress=True):
        """Downloads the job's files (those of ``regions`` only, when given)
        into ``dir``, as ``<region>.nc`` or ``<region>/<granule>.nc`` (and
        ``stats.nc``, ``stats.csv`` when the job has statistics: the layout
        of ``subsetd fetch`` and of the job's ``sha256sums``), and
        returns their paths (pathlib.Path) in the job's order.

        ``workers`` files at a time. A file already there with the right
        sha256 is not fetched again; an interrupted download is resumed
        from its ``.part`` file with a Range request. Every file's sha256 is
        checked against the job document before it gets its name: a
        mismatch raises ChecksumError (a resumed file is first fetched
        again whole). Call after ``wait()`` for every file; while the job
        runs it gets the files of the regions finished so far.
        """
        entries = self.files(regions)
        total = sum(e["size"] for e in entries)
        with tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc="download",
                  disable=not progress or not entries) as bar:
            with concurrent.futures.ThreadPoolExecutor(max(1, min(workers, len(entries)))) as ex:
                futures = [ex.submit(self._fetch, e, Path(dir), bar) for e in entries]
                return [f.result() for f in futures]

    def _fetch(self, entry, dir, bar=None):
        dest = _local_path(dir, entry["name"])
        size, sha = entry["size"], entry["sha256"]
        if dest.is_file() and dest.stat().st_size == size and _sha256(dest) == sha:
            if bar is not None:
                bar.update(size)
            return dest
        dest.parent.mkdir(parents=True, exist_ok=True)
        part = part_path(dest, sha)
        resumed = _get(self.client, entry["href"], part, size, sha, bar)
        got = _sha256(part)
        if got != sha and resumed:
            # The earlier attempt's bytes were bad: fetch the whole file.
            part.unlink()
            if bar is not None:
                bar.update(-size)
            _get(self.client, entry["href"], part, size, sha, bar)
            got = _sha256(part)
        if got != sha:
            part.unlink()
            raise ChecksumError(dest, sha, got)
        os.replace(part, dest)
        return dest

    # -- xarray --------------------------------------------------------

    def open(self, region, lazy=True, **kwargs):
        """Opens the files of a region as an xarray.Dataset.

        ``region`` is a region name (or one file's name, ``<region>/<granule>.nc``).
        With ``lazy`` and fsspec + h5netcdf installed (and NetCDF-4
        outputs), the file is read over HTTP with Range requests, only the
        bytes xarray needs; otherwise it is downloaded (sha256 checked) into
        the client's cache folder and opened from there. Several files (the
        granules of a region) are combined by their coordinates, as
        ``xarray.open_mfdataset`` does. ``kwargs`` go to ``xarray.open_dataset``.
        """
        import xarray as xr

        entries = [e for e in self.files() if e["region"] == region or e["name"] == region]
        if not entries:
            r = next((r for r in self.regions if r["name"] == region), None)
            if r is None:
                raise SubsetdError("job %s has no region or file %r (its regions: %s)" % (self.id, region, ", ".join(x["name"] for x in self.regions)))
            raise SubsetdError("region %s of job %s has no file: it is %s%s" % (region, self.id, r.get("status"), ": " + r["message"] if r.get("message") else ""))
        dss = [self._open_file(e, lazy, kwargs) for e in entries]
        if len(dss) == 1:
            return dss[0]
        return xr.combine_by_coords(dss, combine_attrs="drop_conflicts")

    def open_all(self, lazy=True, **kwargs):
        """``{region: xarray.Dataset}`` for every region that has files."""
        names = []
        for e in self.files():
            if e["region"] not in names:
                names.append(e["region"])
        return {n: self.open(n, lazy=lazy, **kwargs) for n in names}

    def _open_file(self, entry, lazy, kwargs):
        import xarray as xr

        netcdf3 = (self.request.get("output") or {}).get("format") == "netcdf3"
        url = self.client.url(entry["href"])
        fs = self.client._http_fs(url) if lazy and not netcdf3 else None
        if fs is not None:
            # The size is known: no HEAD to ask for it.
            f = fs.open(url, "rb", size=entry["size"])
            return xr.open_dataset(f, engine="h5netcdf", **kwargs)
        path = self._fetch(entry, Path(self.client.cache_dir, self.id))
        return xr.open_dataset(path, **kwargs)


class _Bar:
    """The tqdm bar of wait(): over bytes when the server reports
    bytes_total, else over regions; made at the first update."""

    def __init__(self, job, enabled):
        self.job, self.enabled, self.bar, self.bytes, self.post = job, enabled, None, False, None

    def update(self, st):
        if not self.enabled:
            return
        if self.bar is None:
            self.bytes = bool(st.get("bytes_total"))
            desc = "job " + self.job.id[:8]
            if self.bytes:
                self.bar = tqdm(total=st["bytes_total"], unit="B", unit_scale=True, unit_divisor=1024, desc=desc)
            else:
                self.bar = tqdm(total=st["regions_total"], unit="region", desc=desc)
        n = st.get("bytes_done", 0) if self.bytes else st["regions_done"]
        if n > self.bar.n:
            self.bar.update(n - self.bar.n)
        if self.bytes:
            post = "%d/%d regions" % (st["regions_done"], st["regions_total"])
        else:
            post = tqdm.format_sizeof(st["bytes_written"], "B", 1024) + " written"
        post = "%s, %s" % (post, st["status"])
        if post != self.post:
            self.post = post
            self.bar.set_postfix_str(post)

    def close(self):
        if self.bar is not None:
            self.bar.close()


def part_path(dest, sha256):
    """Where a download of dest is kept until its sha256 is checked; the
    sha256 in the name keeps parts of different files apart."""
    return dest.with_name("%s.%s.part" % (dest.name, sha256[:12]))


def _local_path(dir, name):
    parts = name.split("/")
    if not name or "\\" in name or any(p in ("", ".", "..") for p in parts):
        raise SubsetdError("refusing the file name %r from the server" % name)
    return Path(dir, *parts)


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(_CHUNK), b""):
            h.update(b)
    return h.hexdigest()


_CONTENT_RANGE = re.compile(r"bytes (\d+)-\d+/(\d+|\*)")


def _get(client, href, part, size, sha, bar):
    """Fetches href into part, resuming what part holds; returns whether it
    resumed."""
    have = part.stat().st_size if part.exists() else 0
    if have > size:
        part.unlink()
        have = 0
    if have == size:
        if bar is not None:
            bar.update(size)
        return True
    headers = {}
    if have:
        headers = {"Range": "bytes=%d-" % have, "If-Range": '"%s"' % sha}
    with client.request("GET", href, headers=headers, stream=True) as resp:
        m = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
        if have and resp.status_code == 206 and m and int(m.group(1)) == have:
            mode = "ab"
        else:
            mode, have = "wb", 0
        if bar is not None:
            bar.update(have)
        with open(part, mode) as f:
            for b in resp.iter_content(_CHUNK):
                f.write(b)
                if bar is not None:
                    bar.update(len(b))
    return have > 0


def _sse_events(resp):
    """The events of a text/event-stream response, as they arrive: dicts
    with event, data, id (None when the event set none) and json (the data
    decoded, or None)."""
    import json

    event, data, eid = "message", [], None
    buf = b""
    for chunk in resp.iter_content(chunk_size=None):
        buf += chunk
        if buf.endswith(b"\r"):
            continue  # maybe the first half of a CRLF
        lines = re.split(rb"\r\n|\r|\n", buf)
        buf = lines.pop()
        for raw in lines:
            line = raw.decode("utf-8", "replace")
            if line == "":
                if data:
                    text = "\n".join(data)
                    try:
                        js = json.loads(text)
                    except ValueError:
                        js = None
                    yield {"event": event, "data": text, "id": eid, "json": js}
                event, data, eid = "message", [], None
                continue
            if line.startswith(":"):
                continue  # a comment: the heartbeat
            field, _, value = line.partition(":")
            if value.startswith(" "):
                value = value[1:]
            if field == "event":
                event = value
            elif field == "data":
                data.append(value)
            elif field == "id" and "\0" not in value:
                eid = value
