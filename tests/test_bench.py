"""A small smoke run of the benchmark, so that it cannot rot."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_smoke_run(tmp_path):
    done = subprocess.run(
        [sys.executable, "bench/run.py", "--customers", "1500", "--repeat", "1", "--db", str(tmp_path / "b.duckdb")],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    steps = [row[0] for row in summary["rows"]]
    assert any(s.startswith("demo generation") for s in steps)
    assert any("from PARQUET" in s for s in steps) and any("cohort retention" in s for s in steps)
