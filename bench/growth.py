"""How the figures grow with the customer base: the same steps at several sizes, per million customers.

    python bench/growth.py [--sizes 100000,1000000,5000000] [--repeat K] [--data FOLDER] [--views numbers,whole]

Each size's demo database is built once (data/bench_N.duckdb; its build time and peak memory are kept beside it in
data/bench_N.build.json, so a later run reuses both) and measured in fresh worker processes as bench/run.py does:
the empty chair's numbers (comparison + 12-month trend of the KPIs the pandas peer computes), cold, after a
segment filter and for all customers (both uncached, same warm process), and the whole page. The table gives each
figure, its time per million customers, and the growth exponent between consecutive sizes (log time ratio ÷ log
size ratio: 1 is linear, above 1 faster than linear). The last line is JSON.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import last_complete_month, load, mb, run_measured, seconds  # noqa: E402
from bench.workers import Timing, Worker  # noqa: E402

SEGMENT = {"region": ["FR"]}
BUILD = "from kpis.build import build_demo; build_demo({path!r}, customers={n})"


def database(n: int, folder: Path) -> tuple[Path, dict]:
    """The demo database of n customers, built now if missing: (path, {"seconds", "peak_mb"} of its build)."""
    path = folder / f"bench_{n}.duckdb"
    record = path.with_name(f"bench_{n}.build.json")
    if not path.exists() or not record.exists():
        spent, peak, _ = run_measured(BUILD.format(path=str(path), n=n))
        record.write_text(json.dumps({"seconds": spent, "peak_mb": peak}))
    return path, json.loads(record.read_text())


def page(path: Path, period: str, whole: bool, repeat: int) -> dict[str, Timing]:
    """Cold (a fresh process per run), then in the last process: a segment and all customers, both uncached."""
    cold, segment, everyone = Timing(), Timing(), Timing()
    for round_ in range(repeat):
        with Worker("bench.contenders:page_ours", path=str(path), period=period, whole_page=whole,
                    warm_models=whole) as w:
            spent, peak, _ = w.call({})
            cold.times.append(spent)
            cold.peak_mb = max(cold.peak_mb, peak)
            if round_ < repeat - 1:
                continue
            for _ in range(repeat):  # in turns: a change of the machine's load hits both alike
                for timing, filters in ((segment, SEGMENT), (everyone, {})):
                    spent, peak, _ = w.call(filters, True)
                    timing.times.append(spent)
                    timing.peak_mb = max(timing.peak_mb, peak)
    return {"cold": cold, "segment": segment, "everyone": everyone}


VIEWS = {"numbers": (False, "empty chair numbers"), "whole": (True, "whole page")}


def measure(n: int, repeat: int, folder: Path, views=tuple(VIEWS)) -> dict[str, tuple[float, float]]:
    """Every figure at one size: {step: (seconds, peak MB)}."""
    import kpis

    path, built = database(n, folder)
    period = last_complete_month(kpis.connect(path).data_end)
    figures = {"demo build": (built["seconds"], built["peak_mb"])}
    for whole, name in (VIEWS[v] for v in views):
        runs = page(path, period, whole, repeat)
        figures[f"{name}: cold process"] = (runs["cold"].median, runs["cold"].peak_mb)
        figures[f"{name}: segment, uncached"] = (runs["segment"].median, runs["segment"].peak_mb)
        figures[f"{name}: all customers, uncached"] = (runs["everyone"].median, runs["everyone"].peak_mb)
    return figures


def table(sizes: list[int], results: dict[int, dict]) -> list[str]:
    head = " | ".join(f"{n / 1e6:g}M: s (s per M)" for n in sizes)
    exponents = " | ".join(f"growth {a / 1e6:g}M→{b / 1e6:g}M" for a, b in zip(sizes, sizes[1:], strict=False))
    lines = [f"| step | {head} | {exponents} | peak memory at {sizes[-1] / 1e6:g}M |",
             "|---" * (2 * len(sizes) + 1) + "|"]
    for step in results[sizes[0]]:
        cells = [f"{seconds(results[n][step][0])} ({results[n][step][0] / (n / 1e6):.2f})" for n in sizes]
        growth = [f"{math.log(results[b][step][0] / results[a][step][0]) / math.log(b / a):.2f}"
                  for a, b in zip(sizes, sizes[1:], strict=False)]
        lines.append(f"| {step} | {' | '.join(cells)} | {' | '.join(growth)} | {mb(results[sizes[-1]][step][1])} |")
    for n in sizes:
        ratio = (results[n]["empty chair numbers: segment, uncached"][0]
                 / results[n]["empty chair numbers: all customers, uncached"][0])
        lines.append(f"| segment ÷ all customers, empty chair numbers, {n / 1e6:g}M | {ratio:.2f}× |")
    return lines


def main(argv=None) -> int:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--sizes", default="100000,1000000,5000000")
    args.add_argument("--repeat", type=int, default=3)
    args.add_argument("--data", type=Path, default=ROOT / "data", help="where the databases are built and kept")
    args.add_argument("--views", default=",".join(VIEWS), help="numbers (the empty chair's), whole (the page)")
    args = args.parse_args(argv)
    sizes = sorted(int(s) for s in args.sizes.split(","))
    print(f"growth run, load {load()}", flush=True)
    results = {}
    for n in sizes:
        results[n] = measure(n, args.repeat, args.data, args.views.split(","))
        for step, (spent, peak) in results[n].items():
            print(f"{n:>9,} {step:48s} {seconds(spent):>9s} {mb(peak):>10s}", flush=True)
    print("\n".join(table(sizes, results)))
    print(f"load at end {load()}")
    print(json.dumps({str(n): r for n, r in results.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
