"""Importing the index package changes nothing global (environment, logging levels, warning filters); bm25s,
which sets its own logger to DEBUG when imported, is quieted once, where it is first used.

Each check runs in a fresh interpreter, so modules this test process already imported do not hide an effect.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

MODULES = ["index", "index.analysis", "index.bm25", "index.builder", "index.chunking", "index.cleaning",
           "index.config", "index.css", "index.dates", "index.e5_convert", "index.e5_int8", "index.embedding",
           "index.errors", "index.faults", "index.html_visibility", "index.language", "index.loading",
           "index.metadata", "index.offline", "index.onnx_runtime", "index.pdf_visibility", "index.reader",
           "index.state", "index.store", "index.stories", "index.tokens"]

_SNAPSHOT = """
import json, logging, os, warnings
import numpy  # imported by index modules; its own warning filters are not theirs
def snapshot():
    loggers = {n: l.level for n, l in logging.Logger.manager.loggerDict.items() if isinstance(l, logging.Logger)}
    return {"env": dict(os.environ), "root": logging.getLogger().level, "loggers": loggers,
            "filters": [repr(f) for f in warnings.filters]}
"""


def _run(code: str) -> dict:
    res = subprocess.run([sys.executable, "-c", _SNAPSHOT + code], capture_output=True, text=True, cwd=ROOT,
                         timeout=120, env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"})
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_importing_every_index_module_changes_nothing_global():
    code = (f"before = snapshot()\nimport importlib\nfor m in {MODULES!r}:\n    importlib.import_module(m)\n"
            "after = snapshot()\n"
            "changed = {k: v for k, v in after['loggers'].items() if before['loggers'].get(k, 0) != v}\n"
            "print(json.dumps({'env': before['env'] == after['env'], 'root': [before['root'], after['root']],\n"
            "                  'loggers': changed, 'filters': before['filters'] == after['filters']}))")
    out = _run(code)
    assert out["env"], "an index module changed os.environ at import"
    assert out["root"][0] == out["root"][1], "an index module changed the root logger's level at import"
    assert out["loggers"] == {}, f"index modules set logger levels at import: {out['loggers']}"
    assert out["filters"], "an index module changed the warning filters at import"


def test_bm25s_is_quieted_once_where_it_is_used():
    code = ("import logging, tempfile\nfrom pathlib import Path\nfrom index.bm25 import BM25Index\n"
            "before = 'bm25s' in logging.Logger.manager.loggerDict\n"
            "idx = BM25Index.build(['a', 'b'], [['kota', 'astana'], ['rusia']])\n"
            "quiet = logging.getLogger('bm25s').level\n"
            "logging.getLogger('bm25s').setLevel(logging.INFO)  # the application's own choice stands\n"
            "d = Path(tempfile.mkdtemp())\nidx.save(d)\nloaded = BM25Index.load(d)\n"
            "print(json.dumps({'before': before, 'quiet': quiet, 'after': logging.getLogger('bm25s').level,\n"
            "                  'hits': loaded.search(['astana'], 2)}))")
    out = _run(code)
    assert out["before"] is False  # importing index.bm25 did not import bm25s
    assert out["quiet"] == 30 and out["after"] == 20  # WARNING on first use, then left alone
    assert [h[0] for h in out["hits"]] == ["a"]
