"""Tables analysts can take away: CSV downloads named after the view; tables shown in the language's formats."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from i18n import _
from ui.access import grant, record
from ui.state import View


def download(frame: pd.DataFrame, name: str, view: View, label: str | None = None) -> None:
    """A CSV download button for a table of aggregates, for those who may take CSV files (kpis.access); each
    download is written to the audit log. `label` is the button's text ("Download the cohorts (CSV)"); the file
    name and its columns stay as they are in every language."""
    if not grant().may("csv"):
        return
    filename = f"emptychair_{name}_{view.period}.csv"
    label = label or _("Download {name} (CSV)").format(name=name.replace("_", " "))
    st.download_button(label, frame.to_csv(index=False).encode("utf-8"),
                       file_name=filename, mime="text/csv", icon=":material/download:", on_click=record,
                       args=("csv", filename, view.describe_filters()))


def formatted(frame: pd.DataFrame, formats: dict[str, Callable[[object], str]]) -> Styler:
    """The table with its columns shown through the given formatters (kpis.format, i18n.formats, Period.label) and
    an empty cell where a value is undefined; the values underneath stay numbers, so a column still sorts as
    numbers. Columns shown this way take no `format` in their st.column_config (it would win over the text)."""
    return frame.style.format({c: f for c, f in formats.items() if c in frame.columns}, na_rep="")
