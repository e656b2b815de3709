"""Scoping from the question, sub-queries and fusion: pure functions over articles written here (not the samples)."""

from __future__ import annotations

import pytest

from assistant.fusion import FEATURES, FusionModel, Leg, candidate_features, load_fusion
from assistant.scope import Doc, find_scope, reference
from assistant.subqueries import split_parts

DOCS = [
    Doc("harian.txt", "Banjir Merendam Ribuan Rumah di Pesisir Utara", "KabarHarian.com", "2023-03-14"),
    Doc("pos.txt", "Harga Beras Naik Menjelang Lebaran", "Pos Nusantara", "2023-04-02"),
    Doc("tanpa-judul.txt", None, None, "2022-11-20"),
]


@pytest.mark.parametrize("question, kind, sources", [
    ("Berapa rumah yang terendam menurut artikel KabarHarian?", "outlet", ("harian.txt",)),
    ("According to the Pos Nusantara article, why did rice prices rise?", "outlet", ("pos.txt",)),
    ("What does the kabar-harian report say about the flood?", "outlet", ("harian.txt",)),
    ("Menurut artikel PosNusantra, berapa harga beras?", "outlet", ("pos.txt",)),  # one typo
    ("In the November article, what was opened?", "date", ("tanpa-judul.txt",)),
    ("Apa yang terjadi dalam artikel bulan Maret 2023?", "date", ("harian.txt",)),
    ("Menurut artikel Harga Beras Naik, kapan harga naik?", "title", ("pos.txt",)),
])
def test_a_named_article_scopes_the_question(question, kind, sources):
    scope = find_scope(question, DOCS)
    assert (scope.kind, scope.sources, scope.note) == (kind, sources, "")


def test_a_topic_is_matched_by_title_words_then_by_meaning():
    assert find_scope("Apa isi artikel tentang harga beras?", DOCS).sources == ("pos.txt",)
    asked = []

    def nearest(phrase: str) -> list[str]:  # sources of the passages closest to the phrase, best first
        asked.append(phrase)
        return ["removed-since.txt", "tanpa-judul.txt", "harian.txt"]

    scope = find_scope("What does the article about the new bridge say?", DOCS, nearest)
    assert scope.kind == "topic" and scope.sources == ("tanpa-judul.txt",)  # the first source still indexed
    assert asked == ["the new bridge"]
    assert find_scope("What does the article about the new bridge say?", DOCS, lambda phrase: []).note


@pytest.mark.parametrize("question, phrase", [
    ("Menurut artikel Kompas, berapa rumah yang terendam?", "Kompas"),
    ("In the January article, what happened?", "January"),
])
def test_no_match_is_said_not_dropped(question, phrase):
    scope = find_scope(question, DOCS)
    assert not scope.active and scope.phrase == phrase and phrase in scope.note


@pytest.mark.parametrize("question", [
    "Berapa rumah yang terendam banjir?", "What do both articles say about prices?", "Apa kata kedua artikel tentang banjir?",
    "Siapa yang disebut dalam artikel tersebut?", "Bandingkan artikel-artikel itu.", "What is the article's main claim?",
    # words that contain an article noun but name no article: a news agency, news in general, "which writing"
    "Apa nama kantor berita milik pemerintah Jepang?", "Di negara manakah kantor berita Reuters berada?",
    "Radio apa yang menyiarkan berita-berita kemerdekaan Indonesia?", "Tulisan apa yang terpasang di gerbang kota?",
])
def test_questions_naming_no_single_article_are_not_scoped(question):
    assert reference(question) is None
    assert find_scope(question, DOCS).sources == ()


def test_multi_part_questions_split_at_a_second_question_word():
    assert split_parts("Kapan banjir terjadi di Pesisir Utara dan berapa rumah yang terendam?") == [
        "Kapan banjir terjadi di Pesisir Utara", "berapa rumah yang terendam Pesisir Utara"]
    assert split_parts("When did the flood start, and how many houses were hit?") == [
        "When did the flood start", "how many houses were hit"]
    assert split_parts("Siapa yang meresmikan jembatan dan jalan baru?") == []  # one ask about two things


def test_fusion_features_and_scores():
    dense = [Leg("a", 0.9, 1), Leg("b", 0.85, 2)]
    bm25 = [("b", 10.0), ("c", 5.0)]
    ids, x = candidate_features(dense, bm25, cross={"c"})
    assert ids == ["a", "b", "c"] and x.shape == (3, len(FEATURES))
    col = {f: i for i, f in enumerate(FEATURES)}
    assert x[0, col["dense_gap"]] == 0 and x[2, col["dense"]] == pytest.approx(0.85)  # missing: the leg's floor
    assert x[1, col["bm25_rel"]] == 1 and x[2, col["bm25_rel"]] == 0 and x[2, col["x_bm25_rel"]] == 0.5
    linear = FusionModel("linear", 30, weights=[0.0] * len(FEATURES), bias=0.0)
    linear.weights[col["bm25_rel"]] = 1.0
    assert [c for c, _ in linear.rank(dense, bm25, cross=set())][0] == "b"


def test_an_embedder_without_fitted_weights_falls_back_to_rrf_and_says_so():
    model = load_fusion("some/other-model", 160, 30)
    assert model.kind == "rrf" and "some/other-model" in model.note and "fit_retrieval.py" in model.note


def test_the_default_embedder_has_fitted_weights():
    model = load_fusion("e5-small", 160, 30)
    assert model.note == "" and model.meta["fitted_on"].startswith("data/external/facqa-train fit part")
