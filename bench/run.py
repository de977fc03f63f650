"""Benchmarks at real size: `python bench/run.py [--customers N] [--repeat K]`.

Prints a table of figures (wall time, peak memory). Each heavy step runs in its own process so its
peak RSS is its own. Not part of the test suite (a small smoke run is).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

HEADLINE = [
    "active_customers", "new_customers", "retention_rate", "churn_rate", "repeat_purchase_rate",
    "purchase_frequency", "average_order_value", "revenue_per_customer", "categories_per_customer",
    "top_customer_share", "cac", "revenue", "orders", "gross_margin", "gross_margin_rate", "marketing_spend",
    "cost_per_order",
]


def run_measured(code: str) -> tuple[float, float, str]:
    """Run Python code in a fresh process: (wall seconds, peak RSS in MB, its stdout)."""
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"benchmark step failed:\n{code}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024, out


def median_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv=None) -> int:
    args = argparse.ArgumentParser(description=__doc__)
    args.add_argument("--customers", type=int, default=1_000_000)
    args.add_argument("--repeat", type=int, default=3, help="runs per timing (median)")
    args.add_argument("--db", help="reuse or create this demo database (default data/bench_<N>.duckdb)")
    args = args.parse_args(argv)
    db = Path(args.db or ROOT / "data" / f"bench_{args.customers}.duckdb")
    rows: list[tuple[str, str, str]] = []

    def note(step, value, memory=""):
        rows.append((step, value, memory))
        print(f"{step:55s} {value:>14s} {memory:>10s}", flush=True)

    build = f"from store.demo import build_demo; build_demo({str(db)!r}, customers={args.customers})"
    if not db.exists():
        seconds, peak, _ = run_measured(build)
        note(f"demo generation, {args.customers:,} customers", f"{seconds:.1f} s", f"{peak:,.0f} MB")

    import kpis

    base = kpis.connect(db)
    orders = base.cursor().execute("SELECT count(*) FROM orders").fetchone()[0]
    note("orders in the database", f"{orders:,}")

    with tempfile.TemporaryDirectory(dir=ROOT / "data") as scratch:
        for fmt in ("csv", "parquet"):
            path = Path(scratch) / f"orders.{fmt}"
            base.cursor().execute(f"COPY orders TO '{path}' (FORMAT {fmt})")
            seconds, peak, _ = run_measured(
                "from datetime import datetime; from store.importer import import_files; "
                f"import_files({str(Path(scratch) / 'imported.duckdb')!r}, orders={str(path)!r}, "
                "now=datetime(2100, 1, 1))")
            note(f"import {orders:,} orders from {fmt.upper()} (validated)", f"{seconds:.1f} s", f"{peak:,.0f} MB")

    period = base.data_end.strftime("%Y-%m")
    first = base.cursor().execute("SELECT strftime(min(ordered_at), '%Y-%m') FROM orders").fetchone()[0]
    cold, peak, _ = run_measured(
        f"import kpis; db = kpis.connect({str(db)!r}); kpis.compare(db, {HEADLINE!r}, {period!r})")
    note(f"headline KPIs {period} + comparisons, cold process", f"{cold:.2f} s", f"{peak:,.0f} MB")
    for label, filters in (("warm", {}), ("filtered acquisition_channel=search", {"acquisition_channel": "search"}),
                           ("filtered region=FR, value_tier=top 10%", {"region": "FR", "value_tier": "top 10%"})):
        seconds = median_time(lambda f=filters: kpis.compare(base, HEADLINE, period, **f), args.repeat)
        note(f"headline KPIs {period} + comparisons, {label}", f"{seconds:.2f} s")
    note("cohort retention matrix", f"{median_time(lambda: kpis.cohort_retention(base), args.repeat):.2f} s")
    note("value deciles (lifetime)", f"{median_time(lambda: kpis.value_deciles(base), args.repeat):.2f} s")
    months = len(kpis.series(base, "orders", first, period))
    note(f"revenue series, {months} months",
         f"{median_time(lambda: kpis.series(base, 'revenue', first, period), args.repeat):.2f} s")

    print(json.dumps({"machine": f"{platform.machine()}, {os.cpu_count()} cores", "python": platform.python_version(),
                      "rows": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
