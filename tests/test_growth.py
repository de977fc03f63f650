"""A small smoke run of bench/growth.py, so that it cannot rot (its own file: it runs beside tests/test_bench.py)."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_growth_smoke_run(tmp_path):
    """bench/growth.py at two tiny sizes: every figure at both, per million customers, with its growth exponent."""
    done = subprocess.run([sys.executable, "bench/growth.py", "--sizes", "600,300", "--repeat", "1", "--data",
                           str(tmp_path), "--views", "numbers"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    assert sorted(results) == ["300", "600"]
    steps = set(results["300"])
    assert steps == set(results["600"]) == {"demo build", "empty chair numbers: cold process",
                                            "empty chair numbers: segment, uncached",
                                            "empty chair numbers: all customers, uncached"}
    assert all(seconds > 0 for r in results.values() for seconds, _ in r.values())
    table = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert table[0].startswith("| step | 0.0003M") and "growth 0.0003M→0.0006M" in table[0]
    assert len([line for line in table if line.startswith("| empty chair numbers")]) == 3
    assert (tmp_path / "bench_600.build.json").exists()  # kept: a later run reuses the build and its figures
