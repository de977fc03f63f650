"""A small smoke run of the benchmark, so that it cannot rot."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_smoke_run(tmp_path):
    done = subprocess.run(
        # imports are left out: tests/test_import.py imports CSV and Parquet files in every way (make bench times them)
        [sys.executable, "bench/run.py", "--customers", "1500", "--smoke", "--skip", "import", "--db",
         str(tmp_path / "b.duckdb")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    assert summary["failures"] == []  # every peer gave the same answers as ours
    rows = {row[0]: row[1] for row in summary["rows"]}
    steps = list(rows)
    assert any(s.startswith("demo generation") for s in steps)
    assert not any("from PARQUET" in s for s in steps)  # skipped when asked, and only then
    assert any("cohort retention" in s or "cohort matrix" in s for s in steps)
    for step in ("RFM: ours", "RFM: pandas groupby", "fit: ours", "empty chair KPIs: ours, cold",
                 "empty chair KPIs: typical app, warm", "whole page: cold", "cohort matrix: ours"):
        assert any(s.startswith(step) for s in steps), step
    # make test installs the peers (bench/requirements.txt: lifetimes) and Chromium: every figure is measured, none
    # is a row saying why it could not be
    assert not [s for s, figure in rows.items() if str(figure).startswith("skipped")], rows
    for step in ("RFM: lifetimes", "fit: lifetimes", "board PDF", "browser:"):
        assert any(s.startswith(step) for s in steps), step

