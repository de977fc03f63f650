"""Benchmarks at real size, side by side with what users would otherwise pick.

    python bench/run.py [--customers N] [--repeat K] [--db PATH] [--smoke] [--skip STEPS]

Builds (or reuses) a demo database of N customers (default 1,000,000) and prints a table of figures, each with
its peer where one exists and their ratio, measured in the same run: contenders run in their own processes, in
turns (ours, peer, ours, peer…), and each figure is the median of its runs; memory is the peak RSS of the
contender's process (bench/workers.py). Results are checked equal before any ratio is printed. The last line of
the output is JSON: {"rows": [[step, figure, memory], …], …}. Peers (pandas, lifetimes, the typical Streamlit
app) are in bench/peers.py; `pip install -r bench/requirements.txt` (or `make bench`) adds lifetimes. Not part of
the test suite (tests/test_bench.py runs a small smoke run of it). Every demo build and import fits the CLV models
of the dashboard's default view and stores them (kpis.clv.model): their cost is in the demo and import figures, and
a cold process reads them.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.workers import Timing, Worker, WorkerError, alternate  # noqa: E402

STEPS = ("import", "rfm", "fit", "page", "whole-page", "what-changed", "intervals", "cohort", "tables", "pdf",
         "browser")
VERSIONS = ("python", "duckdb", "pandas", "numpy", "scipy", "pyarrow", "ibis-framework", "streamlit", "lifetimes",
            "playwright")
PEER_TIMEOUT = 1800.0  # a peer's single run is stopped after this long (reported as "> 1800 s")


# --- measuring -------------------------------------------------------------------------------------------------


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


def seconds(value: float) -> str:
    if value < 0.1:
        return f"{value * 1000:.1f} ms"
    if value < 10:
        return f"{value:.2f} s"
    return f"{value:.1f} s"


def mb(value: float | None) -> str:
    return "" if not value else f"{value:,.0f} MB"


def lifetimes_missing() -> str | None:
    """Why lifetimes cannot be a peer here, or None."""
    try:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import lifetimes  # noqa: F401
            from lifetimes.utils import summary_data_from_transaction_data  # noqa: F401
    except Exception as error:  # noqa: BLE001 - an archived package may fail in many ways
        return f"lifetimes cannot be imported ({type(error).__name__}: {error}); pip install -r bench/requirements.txt"
    return None


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for name in VERSIONS[1:]:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def machine() -> dict:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                  if line.startswith("model name")), platform.processor() or "unknown")
    ram = next((int(line.split()[1]) / 1024**2 for line in Path("/proc/meminfo").read_text().splitlines()
                if line.startswith("MemTotal:")), float("nan"))
    return {"cpu": model, "cores": os.cpu_count(), "ram_gb": round(ram, 1), "machine": platform.machine()}


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- checks: the same answers before any ratio -------------------------------------------------------------------


def differ(a, b, rel: float = 1e-9, abs_: float = 1e-9) -> bool:
    if a is None or b is None or (isinstance(a, float) and math.isnan(a)) or (isinstance(b, float) and math.isnan(b)):
        return not ((a is None or a != a) and (b is None or b != b))
    return not math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)


def check_summaries(ours, peer) -> str | None:
    """None when two RFM summaries agree (same customers, frequency exact, times and values to rounding)."""
    import numpy as np

    if set(ours.index) != set(peer.index):
        return f"different customers ({len(ours)} vs {len(peer)})"
    peer = peer.reindex(ours.index)
    if not np.array_equal(ours["frequency"].to_numpy(), peer["frequency"].to_numpy().astype(np.int64)):
        return "frequency differs"
    for column, rtol in (("recency", 1e-12), ("T", 1e-12), ("monetary_value", 1e-9)):
        a, b = ours[column].to_numpy(float), peer[column].to_numpy(float)
        if not np.allclose(a, b, rtol=rtol, atol=1e-9):
            worst = int(np.argmax(np.abs(a - b)))
            return f"{column} differs (customer {ours.index[worst]}: {a[worst]} vs {b[worst]})"
    return None


def parameter_gap(ours: dict, peer: dict) -> float:
    """Largest relative difference between two fits' parameters."""
    return max(abs(ours[k] - peer[k]) / abs(ours[k]) for k in ours)


def check_page(ours: dict, peer: dict) -> str | None:
    """None when the dashboard's comparison table and trend equal the pandas peer's numbers."""
    table, trend = ours["compare"], ours["trend"]
    for column, values in peer["compare"].items():
        for key, value in values.items():
            if differ(table.loc[key, column], value):
                return f"{key} ({column}): {table.loc[key, column]} vs {value}"
    for row in trend.to_dict("records"):
        for key, value in peer["trend"][row["period"]].items():
            if differ(row[key], value):
                return f"{key} ({row['period']}): {row[key]} vs {value}"
    return None


def check_cohorts(ours, peer) -> str | None:
    keys = ["cohort", "age"]
    merged = ours.merge(peer, on=keys, how="outer", suffixes=("", "_peer"), indicator=True)
    if (merged["_merge"] != "both").any():
        return f"{int((merged['_merge'] != 'both').sum())} cells in only one of them"
    for column in ("customers", "active"):
        if (merged[column] != merged[f"{column}_peer"]).any():
            return f"{column} differs"
    if ((merged["rate"] - merged["rate_peer"]).abs() > 1e-12).any():
        return "rate differs"
    return None


# --- the run --------------------------------------------------------------------------------------------------


class Table:
    """The printed table; targets are judged only at the size they are set for (1M customers)."""

    def __init__(self, judge: bool = True):
        self.judge = judge
        self.rows: list[list[str]] = []
        self.misses: list[str] = []
        self.failures: list[str] = []

    def note(self, step: str, figure: str, memory: str = "") -> None:
        self.rows.append([step, figure, memory])
        print(f"{step:64s} {figure:>34s} {memory:>10s}", flush=True)

    def section(self, title: str) -> None:
        print(f"-- {title} (load {load()})", flush=True)

    def target(self, step: str, figure: str, ok: bool, target: str, memory: str = "") -> None:
        if not self.judge:
            self.note(step, f"{figure} [at 1M: {target}]", memory)
            return
        if not ok:
            self.misses.append(f"{step}: {figure} (target {target})")
        self.note(step, f"{figure} [{target}: {'ok' if ok else 'MISSED'}]", memory)

    def check(self, step: str, problem: str | None) -> None:
        if problem:
            self.failures.append(f"{step}: {problem}")
        self.note(step, "same results" if problem is None else f"DIFFER: {problem}"[:120])


def timed(t: Table, step: str, timing: Timing, target: tuple[float, str] | None = None) -> None:
    """One contender's row: median of its runs (how many), peak memory; a run past the timeout shows as "> N s"."""
    if not timing.times:
        t.note(step, f"> {timing.stopped:.0f} s (stopped)")
        return
    runs = f" (median of {timing.runs})" if timing.runs > 1 else " (1 run)"
    figure = seconds(timing.median) + runs
    if target is None:
        t.note(step, figure, mb(timing.peak_mb))
    else:
        t.target(step, figure, timing.median <= target[0], target[1], mb(timing.peak_mb))


def ratio(t: Table, step: str, peer: Timing, ours: Timing, at_least: float | None = None) -> None:
    if not ours.times:
        t.note(step, "n/a")
        return
    if not peer.times:  # stopped: the ratio is at least timeout ÷ ours
        value, prefix = peer.stopped / ours.median, "> "
    else:
        value, prefix = peer.median / ours.median, ""
    figure = f"{prefix}{value:.1f}×"
    if at_least is None:
        t.note(step, figure)
    else:
        t.target(step, figure, value >= at_least, f"≥ {at_least:g}×")


def workers(**specs) -> dict[str, Worker]:
    """Start several workers at once (their setups run side by side); close them all if one fails."""
    started: dict[str, Worker] = {}
    try:
        for name, (target, kwargs) in specs.items():
            started[name] = Worker(target, **kwargs)
    except BaseException:
        for w in started.values():
            w.close()
        raise
    return started


def close(ws: dict[str, Worker]) -> None:
    for w in ws.values():
        w.close()


def last_complete_month(data_end: date) -> str:
    """The dashboard's default period: the last month the data covers to its end."""
    month = data_end.replace(day=1)
    if (data_end + timedelta(days=1)).month == data_end.month:  # the data end is not the month's last day
        month = (month - timedelta(days=1)).replace(day=1)
    return month.strftime("%Y-%m")


def main(argv=None) -> int:
    args = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    args.add_argument("--customers", type=int, default=1_000_000)
    args.add_argument("--repeat", type=int, default=3, help="runs per contender (median; default 3)")
    args.add_argument("--budget", type=float, default=240.0,
                      help="a contender stops repeating once its runs add up to this many seconds (default 240)")
    args.add_argument("--db", help="reuse or create this demo database (default data/bench_<N>.duckdb)")
    args.add_argument("--smoke", action="store_true", help="fast run for the test suite: one run each")
    args.add_argument("--skip", default="", help=f"comma-separated steps to leave out: {', '.join(STEPS)}")
    args.add_argument("--time-demo", action="store_true",
                      help="time a fresh demo generation even when the database exists (built in a scratch dir)")
    args.add_argument("--browser-timeout", type=float, default=900.0, help="seconds before a render is given up")
    args = args.parse_args(argv)
    if args.smoke:
        args.repeat, args.budget, args.browser_timeout = 1, 30.0, 180.0
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    if skip - set(STEPS):
        raise SystemExit(f"unknown steps to skip: {', '.join(sorted(skip - set(STEPS)))}; use {', '.join(STEPS)}")
    db_file = Path(args.db or ROOT / "data" / f"bench_{args.customers}.duckdb")
    t = Table(judge=args.customers >= 1_000_000)
    started_at, load_start = datetime.now(), load()
    info = machine()
    print(f"Empty Chair benchmark, {started_at:%Y-%m-%d %H:%M}; {info['cpu']}, {info['cores']} cores, "
          f"{info['ram_gb']} GB; load average {load_start}", flush=True)

    build = "from kpis.build import build_demo; build_demo({path!r}, customers={n})"
    if not db_file.exists():
        spent, peak, _ = run_measured(build.format(path=str(db_file), n=args.customers))
        t.note(f"demo generation, {args.customers:,} customers", seconds(spent), mb(peak))
    elif args.time_demo:
        with tempfile.TemporaryDirectory(dir=ROOT / "data") as scratch:
            spent, peak, _ = run_measured(build.format(path=str(Path(scratch) / "demo.duckdb"), n=args.customers))
        t.note(f"demo generation, {args.customers:,} customers", seconds(spent), mb(peak))
    else:
        t.note(f"demo generation, {args.customers:,} customers", "reused (--time-demo times it)")

    import kpis

    base = kpis.connect(db_file)
    path = base.name  # the build file itself (the --db path may be a link to it)
    orders = base.cursor().execute("SELECT count(*) FROM orders").fetchone()[0]
    customers = base.cursor().execute("SELECT count(*) FROM customers").fetchone()[0]
    t.note("customers / orders in the database", f"{customers:,} / {orders:,}")
    end = base.data_end
    period = last_complete_month(end)
    no_lifetimes = lifetimes_missing()
    if no_lifetimes:
        t.note("lifetimes peers", f"skipped: {no_lifetimes}"[:120])

    with tempfile.TemporaryDirectory(dir=ROOT / "data") as scratch:
        scratch = Path(scratch)
        if "import" not in skip:
            t.section("import")
            for fmt in ("csv", "parquet"):
                file = scratch / f"orders.{fmt}"
                base.cursor().execute(f"COPY orders TO '{file}' (FORMAT {fmt})")
                spent, peak, _ = run_measured(
                    "from datetime import datetime; from kpis.build import import_files; "
                    f"import_files({str(scratch / f'imported_{fmt}.duckdb')!r}, orders={str(file)!r}, "
                    "now=datetime(2100, 1, 1))")
                t.note(f"import {orders:,} orders from {fmt.upper()} (validated)", seconds(spent), mb(peak))
                file.unlink()

        summary_file = scratch / "summary.parquet"
        if "rfm" not in skip or "fit" not in skip:
            t.section(f"RFM summary, {customers:,} customers, weeks, as of {end}")
            specs = {"ours": ("bench.contenders:rfm_ours", dict(path=path, end=end, time_unit="W")),
                     "pandas": ("bench.contenders:rfm_peer", dict(path=path, end=end, time_unit="W", how="pandas"))}
            if not no_lifetimes and "rfm" not in skip:
                specs["lifetimes"] = ("bench.contenders:rfm_peer",
                                      dict(path=path, end=end, time_unit="W", how="lifetimes"))
            if "rfm" in skip:  # the fit still needs the summary
                specs = {"ours": specs["ours"]}
            ws = workers(**specs)
            try:
                res = alternate(ws, args.repeat, args.budget, timeout=PEER_TIMEOUT)
            finally:
                close(ws)
            res["ours"].result.set_axis(res["ours"].result.index).pipe(
                lambda f: setattr(f, "attrs", {}) or f).to_parquet(summary_file)  # attrs hold dates: not JSON
            if "rfm" not in skip:
                with Worker("bench.contenders:read_orders_only", path=path, end=end) as w:
                    read = alternate({"read": w}, args.repeat, args.budget)["read"]
                timed(t, "RFM: ours (kpis.clv.rfm_summary, in DuckDB)", res["ours"])
                timed(t, "RFM: pandas groupby (orders read from the database)", res["pandas"])
                timed(t, "  of which reading the orders into pandas", read)
                t.check("RFM: pandas = ours", check_summaries(res["ours"].result, res["pandas"].result))
                ratio(t, "RFM: pandas ÷ ours", res["pandas"], res["ours"], at_least=3)
                if "lifetimes" in res:
                    timed(t, "RFM: lifetimes summary_data_from_transaction_data", res["lifetimes"])
                    if res["lifetimes"].times:
                        t.check("RFM: lifetimes = ours", check_summaries(res["ours"].result,
                                                                          res["lifetimes"].result))
                    ratio(t, "RFM: lifetimes ÷ ours", res["lifetimes"], res["ours"], at_least=10)

        if "fit" not in skip:
            t.section("BG/NBD + Gamma-Gamma fit on that summary")
            specs = {"ours": ("bench.contenders:fit_ours", dict(summary_path=str(summary_file)))}
            if not no_lifetimes:
                specs["lifetimes"] = ("bench.contenders:fit_lifetimes",
                                      dict(summary_path=str(summary_file), compressed=False))
                specs["lifetimes, weights"] = ("bench.contenders:fit_lifetimes",
                                               dict(summary_path=str(summary_file), compressed=True))
            ws = workers(**specs)
            try:
                res = alternate(ws, args.repeat, args.budget, timeout=PEER_TIMEOUT)
            finally:
                close(ws)
            timed(t, "fit: ours (kpis.clv BetaGeo + GammaGamma)", res["ours"])
            ours = res["ours"].result
            t.note("  fitted", ", ".join(f"{k} {v:.4g}" for k, v in ours.items()))
            for name, label in (("lifetimes", "BetaGeoFitter + GammaGammaFitter"),
                                ("lifetimes, weights", "the same on unique rows with weights=")):
                if name not in res:
                    continue
                timed(t, f"fit: {name} ({label})", res[name])
                if res[name].times:
                    gap = parameter_gap(ours, res[name].result)
                    t.check(f"fit: {name} parameters within 1e-3 of ours (largest gap {gap:.1e})",
                            None if gap < 1e-3 else f"largest relative gap {gap:.1e}")
                ratio(t, f"fit: {name} ÷ ours", res[name], res["ours"], at_least=10 if name == "lifetimes" else None)

    if "page" not in skip:
        page_numbers(t, args, path, period)
    if "whole-page" not in skip:
        whole_page(t, args, path, period)
    if "what-changed" not in skip:
        what_changed(t, args, path, period)
    if "intervals" not in skip:
        interval_cost(t, args, path)

    if "cohort" not in skip:
        t.section("cohort retention matrix (every acquisition month × month since)")
        ws = workers(ours=("bench.contenders:cohort_ours", dict(path=path)),
                     pandas=("bench.contenders:cohort_peer", dict(path=path, data_end=end)))
        try:
            res = alternate(ws, args.repeat, args.budget)
        finally:
            close(ws)
        timed(t, "cohort matrix: ours (kpis.cohort_retention)", res["ours"], (3.0, "≤ 3 s"))
        timed(t, "cohort matrix: pandas (orders read from the database)", res["pandas"])
        t.check("cohort matrix: pandas = ours", check_cohorts(res["ours"].result, res["pandas"].result))
        ratio(t, "cohort matrix: pandas ÷ ours", res["pandas"], res["ours"])

    if "tables" not in skip:
        t.section("other KPI tables, in this process (connected, DuckDB warm)")
        first = base.cursor().execute("SELECT strftime(min(ordered_at), '%Y-%m') FROM orders").fetchone()[0]
        t.note("value deciles (lifetime)", seconds(median_time(lambda: kpis.value_deciles(base), args.repeat)))
        months = len(kpis.series(base, "orders", first, period))

        def revenue_series():
            base.__dict__.pop("_memo", None)  # the values kpis remembers per database: computed afresh each run
            return kpis.series(base, "revenue", first, period)

        t.note(f"revenue series, {months} months", seconds(median_time(revenue_series, args.repeat)))

    if "pdf" not in skip:
        board_pdf(t, args, path, period)
    if "browser" not in skip:
        browser(t, args, db_file)

    t.section("done")
    t.note("load average at start / at end (1, 5, 15 min)", f"{load_start} / {load()}")
    for miss in t.misses:
        print(f"MISSED {miss}")
    for failure in t.failures:
        print(f"DIFFERENT RESULTS {failure}")
    print(json.dumps({"date": started_at.isoformat(timespec="minutes"), "machine": info, "versions": versions(),
                      "customers": customers, "orders": orders, "period": period,
                      "load": {"start": load_start, "end": load()}, "misses": t.misses, "failures": t.failures,
                      "rows": t.rows}))
    return 1 if t.failures else 0


def page_numbers(t: Table, args, path: str, period: str) -> None:
    """The page's non-model KPIs (comparison + 12-month trend) through the dashboard's cache vs the typical app."""
    from bench.peers import PEER_KPIS

    t.section(f"empty chair {period}: {len(PEER_KPIS)} KPIs × (month, previous, year ago) + 12-month trend")
    cold = {"ours": Timing(), "peer": Timing()}
    specs = {"ours": ("bench.contenders:page_ours", dict(path=path, period=period, whole_page=False,
                                                         warm_models=False)),
             "peer": ("bench.contenders:page_peer", dict(path=path, period=period))}
    ws: dict[str, Worker] = {}
    try:
        for round_ in range(args.repeat):  # a fresh pair of processes per cold run, in turns
            close(ws)
            ws = workers(**specs)
            for name, w in ws.items():
                if round_ and sum(cold[name].times) >= args.budget:
                    continue
                spent, peak, result = w.call({}, keep=not round_)
                cold[name].times.append(spent)
                cold[name].peak_mb = max(cold[name].peak_mb, peak)
                if not round_:
                    cold[name].result = result
        warm = alternate(ws, args.repeat, args.budget, args=({},), keep=False)
        filtered = alternate(ws, args.repeat, args.budget, args=({"region": ["FR"]}, True))
        # a segment against all customers, both uncached, in turns in the same warm process
        segment, everyone = Timing(), Timing()
        for _ in range(args.repeat):
            for timing, filters in ((segment, {"region": ["FR"]}), (everyone, {})):
                timing.times.append(ws["ours"].call(filters, True)[0])
    finally:
        close(ws)
    t.check("empty chair KPIs: typical app = ours", check_page(cold["ours"].result, cold["peer"].result))
    t.check("empty chair KPIs, region FR: typical app = ours",
            check_page(filtered["ours"].result, filtered["peer"].result))
    timed(t, "empty chair KPIs: ours, cold process (connect + compute)", cold["ours"], (1.0, "≤ 1 s"))
    timed(t, "empty chair KPIs: typical app, cold (load tables + pandas)", cold["peer"])
    ratio(t, "  typical app ÷ ours, cold", cold["peer"], cold["ours"])
    timed(t, "empty chair KPIs: ours, warm (the app's st.cache_data hit)", warm["ours"], (0.05, "≤ 50 ms"))
    timed(t, "empty chair KPIs: typical app, warm (cached tables + pandas)", warm["peer"])
    ratio(t, "  typical app ÷ ours, warm", warm["peer"], warm["ours"])
    timed(t, "empty chair KPIs: ours, filter change (region FR, not cached)", filtered["ours"], (0.5, "≤ 0.5 s"))
    timed(t, "empty chair KPIs: typical app, filter change", filtered["peer"])
    ratio(t, "  typical app ÷ ours, filter change", filtered["peer"], filtered["ours"])
    timed(t, "empty chair KPIs: ours, all customers (same warm process, not cached)", everyone)
    value = segment.median / everyone.median
    t.target("  a segment ÷ all customers (both not cached, in turns)", f"{value:.2f}×", value <= 1.1, "≤ 1.1×")


def whole_page(t: Table, args, path: str, period: str) -> None:
    """Every call pages/empty_chair.py makes (model-based KPIs, voice, comments), as the dashboard makes them."""
    t.section(f"empty chair {period}, the whole page (CLV models included), through the dashboard's cache")
    cold, warm, filtered = Timing(), Timing(), Timing()
    for round_ in range(args.repeat):
        if round_ and sum(cold.times) >= args.budget:
            break
        with Worker("bench.contenders:page_ours", path=path, period=period, whole_page=True, warm_models=True) as w:
            spent, peak, _ = w.call({})
            cold.times.append(spent)
            cold.peak_mb = max(cold.peak_mb, peak)
            if round_ == 0:
                for _ in range(args.repeat):
                    warm.times.append(w.call({})[0])
                for _ in range(args.repeat):
                    if filtered.times and sum(filtered.times) >= args.budget:
                        break
                    spent, peak, _ = w.call({"region": ["FR"]}, True)
                    filtered.times.append(spent)
                    filtered.peak_mb = max(filtered.peak_mb, peak)
    timed(t, "whole page: cold process (connect, read the build's CLV models, compute)", cold, (1.5, "≤ 1.5 s"))
    timed(t, "whole page: warm (the app's st.cache_data hit)", warm, (0.05, "≤ 50 ms"))
    timed(t, "whole page: filter change (region FR, not cached)", filtered, (1.0, "≤ 1 s"))


def what_changed(t: Table, args, path: str, period: str) -> None:
    """The What changed page's numbers (issue "Why it moved"): cold process, and a filter change."""
    t.section(f"what changed {period} vs the month before: sentences, both bridges, contributions by channel")
    cold, filtered = Timing(), Timing()
    for round_ in range(args.repeat):
        if round_ and sum(cold.times) >= args.budget:
            break
        with Worker("bench.contenders:what_changed_ours", path=path, period=period) as w:
            spent, peak, _ = w.call({})
            cold.times.append(spent)
            cold.peak_mb = max(cold.peak_mb, peak)
            if round_ == 0:
                for _ in range(args.repeat):
                    spent, peak, _ = w.call({"region": ["FR"]}, True)
                    filtered.times.append(spent)
                    filtered.peak_mb = max(filtered.peak_mb, peak)
    timed(t, "what changed: cold process (connect, read the stored models, bridge)", cold, (2.0, "≤ 2 s"))
    timed(t, "what changed: filter change (region FR, not cached)", filtered, (1.5, "≤ 1.5 s"))


def interval_cost(t: Table, args, path: str) -> None:
    """What the intervals add to a build: the draws of the dashboard's three dates, as finish_build makes them."""
    t.section("intervals: parametric bootstrap of the stored fits (200 draws per fit group, three dates)")
    timing = Timing()
    with Worker("bench.contenders:interval_draws", path=path) as w:
        for _ in range(args.repeat):
            spent, peak, _ = w.call()
            timing.times.append(spent)
            timing.peak_mb = max(timing.peak_mb, peak)
    timed(t, "intervals: added to a build (draws for the 3 dashboard dates)", timing, (15.0, "≤ 15 s"))


def board_pdf(t: Table, args, path: str, period: str) -> None:
    t.section(f"board PDF {period}")
    try:
        import report  # noqa: F401

        w = Worker("bench.contenders:board_pdf", path=path, period=period)
    except (ImportError, WorkerError) as error:
        t.note("board PDF (report.build_report)", f"not available: {str(error).strip().splitlines()[-1]}"[:120])
        return
    first, warm = Timing(), Timing()
    try:
        spent, peak, size = w.call(keep=True)
        first.times.append(spent)
        first.peak_mb = peak
        for _ in range(args.repeat):
            if warm.times and sum(warm.times) >= args.budget:
                break
            warm.times.append(w.call()[0])
    except WorkerError as error:
        t.note("board PDF (report.build_report)", f"failed: {str(error).strip().splitlines()[-1]}"[:120])
        return
    finally:
        w.close()
    timed(t, f"board PDF: first in a fresh process ({size / 1024:,.0f} kB)", first, (10.0, "≤ 10 s"))
    timed(t, "board PDF: again, same process", warm, (10.0, "≤ 10 s"))


def browser(t: Table, args, db_file: Path) -> None:
    from bench import browser as b

    t.section("the dashboard in Chromium (fresh server)")
    why = b.unavailable()
    if why:
        t.note("browser: first render / filter change", f"skipped: {why}")
        return
    try:
        out = b.measure(db_file, timeout=args.browser_timeout)
    except Exception as error:  # noqa: BLE001 - a browser failure should not lose the rest of the table
        t.note("browser: first render / filter change", f"failed: {type(error).__name__}: {error}"[:120])
        return
    for key, label, target in (("first_render", "browser: first full render, fresh server", 4.0),
                               ("filter_change", "browser: filter change (region FR) until idle", 1.5),
                               ("second_visit", "browser: another visitor, same server", None)):
        value = out.get(key)
        if value is None:
            continue
        if isinstance(value, str):
            t.target(label, value, False, f"≤ {target:g} s") if target else t.note(label, value)
        elif target is None:
            t.note(label, seconds(value))
        else:
            t.target(label, seconds(value), value <= target, f"≤ {target:g} s")
    peak = out.get("peak_mb")
    if peak is not None:
        t.target("app server peak memory (VmHWM)", mb(peak), peak <= 1024, "≤ 1 GB")


if __name__ == "__main__":
    sys.exit(main())
