"""Conversations end to end over an index of two articles written here (real embedder, real Chroma):
the evaluator replays earlier turns through the chain, and `assistant chat` shows and undoes the rewrite."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import assistant_over, served_env

ASSISTANT = Path(sys.executable).parent / "assistant"
ARTICLES = {
    "kapal_feri.txt": """Kapal Feri KMP Lintas Selat Angkut 1.250 Penumpang

SENIN, 3 MEI 2027 | LAPORAN: TIM REDAKSI

Kapal feri KMP Lintas Selat mengangkut 1.250 penumpang dari Pelabuhan Merak ke Pelabuhan Bakauheni pada 3 Mei 2027.

Sebanyak 310 kendaraan juga diseberangkan oleh kapal tersebut pada hari yang sama.

Nakhoda kapal, Darmawan Lubis, mengatakan pelayaran berlangsung selama dua jam karena gelombang tinggi.
""",
    "menteri_perikanan.txt": """Menteri Perikanan Provinsi Seram Mundur dari Jabatannya

RABU, 12 MEI 2027 | LAPORAN: TIM REDAKSI

Menteri Perikanan Provinsi Seram, Ratna Kembang, mengundurkan diri dari jabatannya pada 11 Mei 2027.

Ratna Kembang mundur karena program bantuan perahu nelayan senilai 40 miliar rupiah gagal diselesaikan.

Gubernur Seram menunjuk Yusuf Halim sebagai pelaksana tugas menteri perikanan.
""",
}
FIRST = "Berapa penumpang yang diangkut KMP Lintas Selat pada 3 Mei 2027?"
FOLLOW_UP = "Dan berapa kendaraan yang diseberangkan kapal itu?"
SWITCH = "Why did Ratna Kembang resign from her post?"


@pytest.fixture(scope="module")
def bot(tmp_path_factory, settings):
    return assistant_over(ARTICLES, tmp_path_factory, settings, "conversations")


def test_eval_replays_earlier_turns_and_scores_the_rewrite_decision(bot, tmp_path):
    from assistant.evaluation.dataset import load_set
    from assistant.evaluation.runner import read_results, run_eval

    rows = [
        {"id": "c1-1", "conversation": "c1", "turn": 1, "question": FIRST, "answer": "1.250",
         "evidence": ["Kapal feri KMP Lintas Selat mengangkut 1.250 penumpang"]},
        {"id": "c1-2", "conversation": "c1", "turn": 2, "question": FOLLOW_UP, "answer": "310", "kind": "follow-up",
         "evidence": ["Sebanyak 310 kendaraan juga diseberangkan oleh kapal tersebut pada hari yang sama."]},
        {"id": "s1", "history": [FIRST], "question": SWITCH, "follow_up": False,
         "answer": "program bantuan perahu nelayan gagal diselesaikan", "sources": ["menteri_perikanan.txt"]},
    ]
    path = tmp_path / "conv.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    items = load_set(path).items
    assert [it.history for it in items] == [(), (FIRST,), (FIRST,)]

    summary = run_eval(bot, items, tmp_path / "run", dataset=path.name)
    got = {r["id"]: r for r in read_results(tmp_path / "run")}
    follow = got["c1-2"]
    assert follow["history"] == [FIRST] and follow["rewritten"] and follow["rewrite_correct"]
    assert follow["standalone_question"].startswith(FOLLOW_UP) and "Lintas Selat" in follow["standalone_question"]
    assert follow["answer_correct"], follow["answer"]  # the replayed first turn gave the follow-up its topic
    switch = got["s1"]
    assert switch["standalone_question"] == SWITCH and switch["rewrite_correct"] is True
    assert got["c1-1"]["follow_up"] is None and got["c1-1"]["rewrite_correct"] is None
    conv = summary["metrics"]["conversation"]
    assert conv["n"] == 2 and conv["rewrite_decision_accuracy"] == 1.0
    assert conv["follow_up"]["n"] == 1 and conv["topic_switch"]["n"] == 1
    report = (tmp_path / "run" / "report.md").read_text(encoding="utf-8")
    assert "Conversations (follow-ups and topic switches)" in report


def test_chat_piped_shows_the_searched_form_and_searches_as_typed(bot, tmp_path):
    env = served_env(tmp_path)
    env["ASSISTANT_INDEX_DIR"] = str(bot.settings.index_dir)
    lines = [FIRST, FOLLOW_UP, "/astyped", SWITCH, ""]
    out = subprocess.run([str(ASSISTANT), "chat"], input="\n".join(lines), env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    turns = out.stdout.split("\n? ")[1:]  # one block per question asked
    assert len(turns) >= 4, out.stdout
    first, follow, as_typed, switch = turns[:4]
    assert "1.250" in first and "Searched as" not in first
    assert f"Searched as: {FOLLOW_UP} (" in follow and "Lintas Selat" in follow.splitlines()[0]
    assert "310" in follow
    assert as_typed.startswith(f"Searched as typed: {FOLLOW_UP}")
    assert "Searched as" not in switch  # a new topic with its own names is searched as typed
    assert "Traceback" not in out.stdout + out.stderr

    flagged = subprocess.run([str(ASSISTANT), "chat", "--no-rewrite", "--from", "2027-13-01"], input=FIRST, env=env,
                             cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert flagged.returncode == 1 and flagged.stderr.strip() == (
        "error: date from must look like yyyy-mm-dd (got '2027-13-01')")
