"""The JSON last line of a bench/run.py output as the Markdown table of bench/results.md.

    python bench/run.py | tee run.log; python bench/to_markdown.py run.log
"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def markdown(summary: dict) -> str:
    m, v = summary["machine"], summary["versions"]
    lines = [
        f"Run of {summary['date'].replace('T', ' ')}: {summary['customers']:,} customers, {summary['orders']:,} "
        f"orders, period {summary['period']}.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM ({m['machine']}). Load average (1, 5, 15 "
        f"min) at start {summary['load']['start']}, at end {summary['load']['end']}.",
        "",
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()) + ".",
        "",
        "| step | figure | peak memory |",
        "|---|---|---|",
    ]
    for step, figure, memory in summary["rows"]:
        step = step.replace("|", "\\|")
        indent = len(step) - len(step.lstrip())
        lines.append(f"| {'&nbsp;' * 2 * indent}{step.strip()} | {figure.replace('|', '/')} | {memory} |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    text = Path(argv[0]).read_text() if argv else sys.stdin.read()
    last = [line for line in text.splitlines() if line.startswith("{")][-1]
    print(markdown(json.loads(last)), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
