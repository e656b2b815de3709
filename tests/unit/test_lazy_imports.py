"""Commands import only what they use: no gradio outside `serve`, no torch before an embedder is loaded.

Each check runs in a fresh interpreter (this test process may already hold those packages) and inspects
``sys.modules``.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT

HEAVY = ("gradio", "torch", "transformers", "sentence_transformers", "onnxruntime", "chromadb")


def _loaded_after(code: str) -> set[str]:
    """Top-level heavy packages in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    probe = (f"{code}\nimport json, sys\n"
             f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))")
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120,
                         env={"PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"})
    assert res.returncode == 0, res.stderr[-2000:]
    return set(json.loads(res.stdout.strip().splitlines()[-1]))


def test_importing_the_cli_loads_no_gradio_or_torch():
    assert not _loaded_after("import ui.cli") & {"gradio", "torch", "transformers", "sentence_transformers"}


def test_help_loads_no_gradio_or_torch():
    code = ("import sys\nsys.argv = ['assistant', '--help']\nfrom ui.cli import main\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    if exc.code:\n        raise")
    loaded = _loaded_after(code)
    assert "gradio" not in loaded
    assert not loaded & {"torch", "transformers", "sentence_transformers"}


@pytest.mark.parametrize("module", ["index", "index.builder", "index.reader", "index.store", "index.embedding",
                                    "index.e5_convert", "index.e5_int8", "index.onnx_runtime", "index.state",
                                    "index.bm25"])
def test_index_modules_do_not_import_gradio_or_models(module):
    loaded = _loaded_after(f"import {module}")
    assert "gradio" not in loaded, f"{module} imports gradio"
    assert "torch" not in loaded, f"{module} imports torch at import time (load it inside load_embedder)"


def test_answering_modules_do_not_import_gradio():
    assert "gradio" not in _loaded_after("import assistant.chain, assistant.retrieval, assistant.reader_answer")


def test_ask_through_a_server_loads_no_model_index_or_gradio():
    """`assistant ask --server URL` needs only an HTTP client (here the server is down: one line, exit 1)."""
    code = ("import sys\nsys.argv = ['assistant', 'ask', '--server', 'http://127.0.0.1:9', 'Siapa Tokayev?']\n"
            "from ui.cli import main\n"
            "try:\n    main()\nexcept SystemExit as exc:\n    assert exc.code == 1, exc.code")
    assert not _loaded_after(code)  # none of gradio, torch, transformers, onnxruntime, chromadb
