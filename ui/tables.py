"""Tables analysts can take away: CSV downloads named after the view."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from ui.access import grant, record
from ui.state import View


def download(frame: pd.DataFrame, name: str, view: View) -> None:
    """A CSV download button for a table of aggregates, for those who may take CSV files (kpis.access); each
    download is written to the audit log."""
    if not grant().may("csv"):
        return
    filename = f"emptychair_{name}_{view.period}.csv"
    st.download_button(f"Download {name.replace('_', ' ')} (CSV)", frame.to_csv(index=False).encode("utf-8"),
                       file_name=filename, mime="text/csv", icon=":material/download:", on_click=record,
                       args=("csv", filename, view.describe_filters()))
