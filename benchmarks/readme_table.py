"""The README's performance table, generated from a committed `make bench` run record (never copied by hand).

Usage: .venv/bin/python benchmarks/readme_table.py [RUN.json] [--out FILE]
Without RUN.json it uses the newest benchmarks/results/run-*.json. Prints markdown: a line saying what ran where
(date, commit, command, machine, load average), the figures with their goals, and the footnote on synthetic rows.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def newest_run() -> Path:
    runs = sorted(RESULTS.glob("run-*.json"))
    if not runs:
        raise SystemExit("no benchmarks/results/run-*.json: run `make bench` first")
    return runs[-1]


def _value(v: object, unit: str) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        digits = 2 if abs(v) < 10 else 1 if abs(v) < 100 else 0
        v = f"{v:.{digits}f}"
    return f"{v} {unit}".strip()


def table(record: dict, source: str) -> str:
    m = record["machine"]
    loads = (m.get("load_average") or [])[:1] + (m.get("load_average_at_end") or [])[:1]
    load = " / ".join(f"{x:.1f}" for x in loads) or "not recorded (results recorded after the scripts ran)"
    dirty = " (with uncommitted changes)" if record.get("git_dirty") else ""
    lines = [
        f"Measured by `{record['command']}` on {record['date']} at commit `{record['git_commit'][:10]}`{dirty}: "
        f"{m['cpus']} cores ({m.get('cpu_model') or 'unknown CPU'}), {m.get('memory_gb')} GB, Python {m['python']}; "
        f"1-minute load average at start / end: {load} (above {m['cpus']} means the machine was shared: compare the "
        f"ratios, measured within one run, rather than absolute speeds). Source: `{source}`.",
        "",
        "| figure | value | goal | status | note |",
        "|---|---:|---|---|---|",
    ]
    for r in record["summary"]:
        note = str(r.get("note", "")).replace("|", "\\|")
        lines.append(f"| {r['figure']} | {_value(r['value'], r['unit'])} | {r['goal']} | {r['status']} | {note} |")
    if record.get("note"):
        lines += ["", f"\\* {record['note']}"]
    if record.get("failed"):
        lines += ["", f"Scripts that failed in this run (their rows are missing): {', '.join(record['failed'])}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("run", nargs="?", type=Path, help="a run record (default: the newest in benchmarks/results/)")
    ap.add_argument("--out", type=Path, help="also write the markdown to this file")
    args = ap.parse_args()
    path = args.run or newest_run()
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SystemExit(f"cannot read the run record {path}: {exc}") from None
    try:
        source = str(path.resolve().relative_to(HERE.parent))
    except ValueError:
        source = str(path)
    text = table(record, source)
    sys.stdout.write(text)
    if args.out:
        args.out.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
