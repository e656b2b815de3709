"""The answer-confidence model: its features read what the question asks for and what the answer's article holds,
its fit recovers a signal, and the shipped policy loads it."""

from __future__ import annotations

import random

from assistant.answer_confidence import FEATURES, Confidence, features, fit_logistic
from assistant.question import analyse_question
from assistant.reader_answer import load_policy
from assistant.reading import Span
from assistant.sentences import Sentence
from index.reader import Passage

ARTICLE = ("Sebanyak 46 barista mengikuti kejuaraan seduh kopi manual di Festival Kopi Lereng Wangi. "
           "Panitia menyiapkan hadiah Rp 15 juta sampai akhir pekan.")


def _feats(question: str, answer: str) -> dict[str, float]:
    p = Passage("c1", "a.txt", 0, len(ARTICLE), ARTICLE, 0, "d", "s", "t", None, None, "id", document=ARTICLE)
    at = ARTICLE.index(answer)
    sent = Sentence(1, p, 0, ARTICLE.index(".") + 1, ARTICLE[: ARTICLE.index(".") + 1])
    return features(analyse_question(question), Span(at, at + len(answer), 4.0, -2.0), sent, p)


def test_features_read_the_kind_of_answer_and_the_names_the_article_lacks():
    who = _feats("Siapa pemenang kejuaraan seduh kopi manual di Festival Kopi Lereng Wangi?", "46 barista")
    assert who["type_miss"] == 1.0 and who["type_match"] == 0.0  # a count for "who"
    many = _feats("Berapa barista yang ikut kejuaraan seduh kopi manual?", "46 barista")
    assert many["type_match"] == 1.0 and many["names_missing"] == 0.0
    other = _feats("How many baristas joined the Sukamaju Cup?", "46 barista")
    assert other["names_missing"] == 1.0 and other["cross"] == 1.0  # "Sukamaju", "Cup": not in the article
    # a name is looked up as a word, not a substring ("AI" is in "sampai", "mengikuti"… but not as a word)
    assert _feats("Which AI company won?", "46 barista")["names_missing"] == 1.0
    why = _feats("Mengapa panitia menyiapkan hadiah?", "Rp 15 juta")
    assert why["open_ended"] == 1.0 and why["type_match"] == why["type_miss"] == 0.0
    assert set(why) == set(FEATURES)


def test_fit_recovers_a_signal_and_round_trips():
    rng = random.Random(3)
    rows, labels = [], []
    for _ in range(400):
        row = {f: rng.gauss(0, 1) for f in FEATURES}
        labels.append(int(row["margin"] - 2 * row["names_missing"] + rng.gauss(0, 0.5) > 0))
        rows.append(row)
    model = fit_logistic(rows, labels, answer_p=0.4)
    w = dict(zip(FEATURES, model.weights, strict=True))
    assert w["margin"] > 1.0 and w["names_missing"] < -2.0
    assert max(abs(w[f]) for f in FEATURES if f not in ("margin", "names_missing")) < 0.5
    again = Confidence.from_json(model.to_json())
    hi = {**{f: 0.0 for f in FEATURES}, "margin": 3.0}
    assert again.probability(hi) == model.probability(hi) > 0.9 and again.answer_p == 0.4


def test_the_shipped_policy_loads():
    import json

    from assistant.retrieval import selection_path
    from assistant.settings import Settings

    policy = load_policy()
    s = Settings()
    selection = json.loads(selection_path(s.embedder, s.chunk_tokens, s.chunk_overlap).read_text(encoding="utf-8"))
    # the pool the reader reads is the retrieval fit's (by evidence recall), copied into the policy by its own fit
    assert policy.pool == selection["rerank_pool"] >= s.top_k == selection["top_k"]
    if policy.confidence is not None:
        assert 0.0 < policy.confidence.answer_p < 1.0 and len(policy.confidence.weights) == len(FEATURES)


def test_a_rival_name_is_told_from_the_asked_for_one():
    from assistant.reader_answer import rival_name

    q = "Berapa harga tiket kapal feri ke Pulau Rubiah?"
    assert rival_name(q, "Harga tiket ke Pulau Weh naik menjadi Rp 42.000 per orang.") == "Pulau Weh"
    # the asked-for name anywhere in the sentence, or no other name after the same head word: not a rival
    assert rival_name(q, "Dari Pulau Weh, perahu ke Rubiah dikenai tarif Rp 60.000.") is None
    assert rival_name(q, "Tarif perahu ke pulau itu Rp 60.000.") is None
    assert rival_name(q, "Kapal berangkat dari pulau Weh.") is None  # the head word as a common noun
    # the question's opening word is not a head ("Siapa Direktur"), its later names are
    who = "Siapa Kepala Dinas Kesehatan Wanasari?"
    assert rival_name(who, "Siapa Budi tidak tahu.") is None
    assert rival_name(who, "Kepala Dinas Pendidikan Wanasari, Rina, membuka sekolah.") == "Dinas Pendidikan"
    two = "Siapa pejabat Kementerian Keuangan Malaysia yang bertemu Kementerian Keuangan Singapura?"
    assert rival_name(two, "Pejabat Kementerian Keuangan Malaysia, Ahmad, terbang ke Jakarta.") is None
    assert rival_name(two, "Pejabat Kementerian Keuangan Thailand terbang ke Jakarta.") == "Keuangan Thailand"
    assert rival_name("How much is the fare to Rubiah island?", "The fare to Weh island is Rp 42,000.") is None
