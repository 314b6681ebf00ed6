"""The statistics of a job: GET /v1/jobs/{id}/stats as plain Python."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Stats:
    """The statistics of a job's regions, one row per region, time step
    (and level), variable and op, as ``stats.csv`` has them.

    ``rows`` are dicts with ``region``, ``time`` (ISO 8601), ``level``
    (only when the variables have a vertical axis), ``variable``, ``op``
    (``mean``, ``min``, ``max``, ``std``, ``sum``, ``count``), ``value``
    (None where no cell was valid) and ``count`` (the valid cells used);
    ``ops`` and ``weights`` are as asked, ``variables`` describe each
    variable (``name``, ``units``, ``long_name``, ``standard_name``, and
    ``weighting``: how its cells were weighted), ``level`` the vertical
    coordinate of the rows' levels (or None). Needs nothing beyond the
    standard library; ``to_pandas()`` gives a DataFrame when pandas is
    installed (Debian's python3-pandas).
    """

    job: str
    ops: list = field(default_factory=list)
    weights: str = ""
    variables: list = field(default_factory=list)
    level: dict | None = None
    rows: list = field(default_factory=list)

    @classmethod
    def from_doc(cls, doc):
        return cls(job=doc.get("job", ""), ops=list(doc.get("ops") or []), weights=doc.get("weights", ""),
                   variables=list(doc.get("variables") or []), level=doc.get("level"),
                   rows=[dict(r) for r in doc.get("rows") or []])

    def __len__(self):
        return len(self.rows)

    def __iter__(self):
        return iter(self.rows)

    @property
    def regions(self):
        """The regions' names, in the job's order."""
        return list(dict.fromkeys(r["region"] for r in self.rows))

    def select(self, region=None, variable=None, op=None):
        """The rows of a region, variable and op (each None: any)."""
        return [r for r in self.rows
                if (region is None or r["region"] == region)
                and (variable is None or r["variable"] == variable)
                and (op is None or r["op"] == op)]

    def series(self, region, variable, op="mean"):
        """``[(time, value), ...]`` of one region, variable and op in time
        order (with levels: ``[(time, level, value), ...]``)."""
        rows = self.select(region, variable, op)
        if self.level is not None:
            return [(r["time"], r.get("level"), r["value"]) for r in rows]
        return [(r["time"], r["value"]) for r in rows]

    def to_pandas(self):
        """The rows as a pandas DataFrame (``time`` as UTC datetimes; a date
        pandas cannot hold, of a 360-day calendar say, is NaT: the rows keep
        the strings), for
        ``df.pivot_table(index="time", columns="region", values="value")``
        and the like. Raises ImportError when pandas is not installed."""
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError("Stats.to_pandas() needs pandas (apt-get install python3-pandas); "
                              "the rows are plain dicts without it") from e
        columns = ["region", "time"] + (["level"] if self.level is not None else []) + ["variable", "op", "value", "count"]
        df = pd.DataFrame(self.rows, columns=columns)
        df["time"] = pd.to_datetime(df["time"], utc=True, errors="coerce")
        df["value"] = df["value"].astype("float64")
        return df
