"""Results a build stores as JSON (the default model check, the default valuation): tables keep their column types
(pandas' table orient) and their attrs, dates travel as ISO strings."""

from __future__ import annotations

import io
import json
from datetime import date

import pandas as pd


def dumps(result: dict) -> str:
    """A dict of plain values, dates and DataFrames as JSON text."""
    out = {}
    for key, value in result.items():
        if isinstance(value, pd.DataFrame):  # columns of datetime.date travel as ISO strings, and are named
            dates = [c for c in value.columns if value[c].dtype == object and len(value)
                     and isinstance(value[c].iloc[0], date)]
            attrs = dict(value.attrs)
            value = value.assign(**{c: value[c].map(date.isoformat) for c in dates}) if len(value) else value
            out[key] = {"table": value.to_json(orient="table", index=False), "dates": dates, "attrs": attrs}
        elif isinstance(value, date):
            out[key] = {"date": value.isoformat()}
        else:
            out[key] = value
    return json.dumps(out, default=lambda v: v.item())  # numpy scalars


def loads(text: str) -> dict:
    """The dict dumps wrote."""
    out = {}
    for key, value in json.loads(text).items():
        if isinstance(value, dict) and {"table", "dates"} <= set(value) <= {"table", "dates", "attrs"}:
            table = pd.read_json(io.StringIO(value["table"]), orient="table")
            table = table.assign(**{c: table[c].map(date.fromisoformat).astype(object) for c in value["dates"]})
            table.attrs.update(value.get("attrs", {}))
            out[key] = table
        elif isinstance(value, dict) and set(value) == {"date"}:
            out[key] = date.fromisoformat(value["date"])
        else:
            out[key] = value
    return out
