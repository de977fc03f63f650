"""The monthly refresh at scale: append one month to a build, against importing everything again.

    python bench/append.py [--customers 1000000] [--data FOLDER]

A demo of N customers ending 2026-11-30 is built once (FOLDER/append_N/demo.duckdb) and its tables exported to
Parquet, split at 2026-11-01: A (everything before November) and B (November: about 300k orders at 1M). A is
imported (a full import, timed), then B appended to it (timed: copy of the build, checks against it, the rows, the
derived tables and models, publishing), each in a fresh process with its peak memory. The last line is JSON.
Target (issue #19): the append ≤ 20 s at 1M, against the full import.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import run_measured, seconds  # noqa: E402

SPLIT = "2026-11-01"
WHEN = {"orders": "ordered_at", "customers": "acquired_at", "feedback": "answered_at", "marketing_spend": "month"}
EXPORT = """
import duckdb
from store.files import current_file
con = duckdb.connect(str(current_file({demo!r})), read_only=True)
for part, test in (("a", "<"), ("b", ">=")):
    for table, column in {when!r}.items():
        out = f"{folder}/{{part}}/{{table}}.parquet"
        con.execute(f"COPY (SELECT * FROM {{table}} WHERE {{column}} {{test}} DATE '{split}') TO '{{out}}'")
        print(part, table, con.execute(f"SELECT count(*) FROM read_parquet('{{out}}')").fetchone()[0])
"""
FILES = {"orders": "orders", "customers": "customers", "feedback": "feedback", "spend": "marketing_spend"}
IMPORT = "from datetime import datetime; from kpis.build import import_files; " \
         "import_files({db!r}, now=datetime(2026, 12, 1), **dict({files}))"
APPEND = "from datetime import datetime; from kpis.build import append_files; import json; " \
         "print(json.dumps(append_files({db!r}, now=datetime(2026, 12, 1), **dict({files}))['appends'][-1]))"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--data", default=str(ROOT / "data"))
    args = parser.parse_args()
    folder = Path(args.data) / f"append_{args.customers}"
    demo = folder / "demo.duckdb"
    if not demo.exists():
        spent, peak, _ = run_measured(f"from store.demo import build_demo; build_demo({str(demo)!r}, "
                                      f"customers={args.customers}, end='2026-11-30')")
        print(f"demo (raw tables only) built in {seconds(spent)}", flush=True)
    for part in "ab":
        (folder / part).mkdir(parents=True, exist_ok=True)
    _, _, counts = run_measured(EXPORT.format(demo=str(demo), when=WHEN, folder=folder, split=SPLIT))
    print(counts, flush=True)
    db = folder / "company.duckdb"
    files = {p: ", ".join(f"{option}={str(folder / p / f'{table}.parquet')!r}" for option, table in FILES.items())
             for p in "ab"}
    full, full_peak, _ = run_measured(IMPORT.format(db=str(db), files=files["a"]))
    print(f"full import of A: {seconds(full)}, {full_peak:,.0f} MB", flush=True)
    added, added_peak, out = run_measured(APPEND.format(db=str(db), files=files["b"]))
    entry = json.loads(out.strip().splitlines()[-1])
    print(f"append of B: {seconds(added)}, {added_peak:,.0f} MB: {entry['added']}, fits reused for "
          f"{entry.get('models_reused')}", flush=True)
    print(json.dumps({"customers": args.customers, "full_import_s": full, "full_import_mb": full_peak,
                      "append_s": added, "append_mb": added_peak, "added": entry["added"],
                      "models_reused": entry.get("models_reused")}))


if __name__ == "__main__":
    main()
