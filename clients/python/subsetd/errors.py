"""The exceptions of the client."""

from __future__ import annotations

import datetime
import email.utils


class SubsetdError(Exception):
    """Base class of every error raised by this package."""


class APIError(SubsetdError):
    """An error answer of the server.

    The server answers errors as RFC 9457 problem documents
    (``application/problem+json``); their members are attributes here:
    ``status`` (the HTTP status), ``code`` (invalid, not_found, conflict,
    too_large, unreadable, busy, unauthorized, forbidden, unavailable,
    internal), ``field`` (the request field at fault, e.g.
    ``regions[0].bbox``, or None), ``detail``,
    ``title``, ``type`` and ``instance``. ``problem`` is the whole document
    and ``retry_after`` the seconds of a Retry-After header (or None).
    An answer that is not a problem document (a proxy's error page) has
    ``code`` None and the start of its body as ``detail``.
    """

    def __init__(self, status, problem=None, *, url=None, retry_after=None, text=None):
        self.problem = dict(problem or {})
        self.status = int(self.problem.get("status") or status)
        self.code = self.problem.get("code")
        self.field = self.problem.get("field")
        self.title = self.problem.get("title")
        self.detail = self.problem.get("detail") or (text or "").strip()[:500] or None
        self.type = self.problem.get("type")
        self.instance = self.problem.get("instance")
        self.url = url
        self.retry_after = retry_after
        super().__init__(str(self))

    def __str__(self):
        s = str(self.status)
        if self.code:
            s += " " + self.code
        elif self.title:
            s += " " + self.title
        if self.field:
            s += " (%s)" % self.field
        if self.detail:
            s += ": " + self.detail
        return s


class ChecksumError(SubsetdError):
    """A downloaded file does not have the size or sha256 the server listed.

    The bad data is deleted; downloading again starts the file afresh.
    """

    def __init__(self, path, expected, actual):
        self.path, self.expected, self.actual = path, expected, actual
        super().__init__("%s: sha256 %s, but the job lists %s (the download was deleted)" % (path, actual, expected))


class JobError(SubsetdError):
    """A job ended ``failed`` or ``dismissed``; ``job`` is the :class:`Job`."""

    def __init__(self, job):
        self.job = job
        self.status = job.status
        msg = "job %s %s" % (job.id, job.status)
        if job.message:
            msg += ": " + job.message
        failed = [r for r in job.regions if r.get("status") == "failed"]
        if failed:
            msg += "; " + "; ".join("%s: %s" % (r["name"], r.get("message", "failed")) for r in failed[:5])
        super().__init__(msg)


def retry_after(resp):
    """The seconds of a response's Retry-After header, or None."""
    v = resp.headers.get("Retry-After")
    if not v:
        return None
    try:
        return max(0.0, float(v))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(v)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return max(0.0, (when - datetime.datetime.now(datetime.timezone.utc)).total_seconds())


def raise_for_problem(resp):
    """Raises APIError for an error answer (status >= 400)."""
    if resp.status_code < 400:
        return
    problem, text = None, None
    ctype = resp.headers.get("Content-Type", "")
    if "json" in ctype:
        try:
            problem = resp.json()
        except ValueError:
            problem = None
        if not isinstance(problem, dict):
            problem = None
    if problem is None:
        text = resp.text
    raise APIError(resp.status_code, problem, url=resp.url, retry_after=retry_after(resp), text=text)
