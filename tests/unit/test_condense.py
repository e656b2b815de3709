"""The follow-up decision is taken from the question alone (sentences written here, Indonesian and English)."""

from __future__ import annotations

import pytest

from assistant.condense import condense_rule, follow_up_reason, is_follow_up
from assistant.models import Turn

PREVIOUS = [Turn(question="Berapa jumlah pengungsi yang tiba di Pelabuhan Merak pada 3 Mei?", answer="Sekitar 400.")]

# Topic switches: the question holds pronouns, but names its own subject.
STANDS_ALONE = [
    "Why did Indonesia's finance minister resign from his post?",
    "Mengapa gubernur Jawa Barat membatalkan kunjungannya ke Bandung?",
    "What did the mayor of Surabaya say about their new budget?",
    "Berapa kapal nelayan Vietnam yang ditangkap dan di mana mereka ditahan?",
    "Siapa yang memimpin rapat antara Bank Indonesia dan OJK?",
    "Apa itu Lembaga Penjamin Simpanan?",
    "Why did the harbour master close his office?",  # no names, but "his" follows its antecedent
    "Who said that the bridge was unsafe?",  # "that" opens a clause
    "What is the name of the company that built the dam?",  # relative "that"
    "Were there floods in Semarang in 2021?",  # existential "there"
    "Is it true that Garuda cancelled 40 flights?",
]

FOLLOW_UPS = [
    ("Dan berapa yang meninggalkan kota itu?", "reference: itu"),
    ("What about Lampung?", "ellipsis"),
    ("Bagaimana dengan pelabuhan Bakauheni?", "ellipsis"),
    ("Dan Surabaya?", "ellipsis"),
    ("Kalau di Bali?", "ellipsis"),
    ("Kapan?", "fragment"),
    ("Why?", "fragment"),
    ("Siapa dia?", "fragment"),
    ("Who replaced him?", "fragment"),
    ("Mengapa mereka pergi ke perbatasan?", "reference: mereka"),
    ("Mengapa jabatannya dicopot?", "reference: jabatannya"),
    ("How many passengers took that ferry?", "reference: that"),
    ("Apa yang diputuskan rapat tersebut kemarin?", "reference: tersebut"),
    ("How long did it take?", "reference: it"),
]


@pytest.mark.parametrize("question", STANDS_ALONE)
def test_questions_with_their_own_subject_stand_alone(question):
    assert follow_up_reason(question) == ""
    assert condense_rule(question, PREVIOUS) == question  # never given the previous topic


@pytest.mark.parametrize(("question", "reason"), FOLLOW_UPS)
def test_questions_that_lean_on_the_conversation_are_follow_ups(question, reason):
    assert follow_up_reason(question) == reason
    rewritten = condense_rule(question, PREVIOUS)
    assert "Merak" in rewritten and "3 Mei" in rewritten  # the topic's names
    if reason == "ellipsis":  # the topic's question words ask about the new subject
        assert rewritten.startswith("Berapa ") and question.split()[-1] in rewritten
    else:
        assert rewritten.startswith(question)


def test_a_reference_gets_the_topic_it_may_refer_to():
    rewritten = condense_rule("Dan berapa pengungsi yang pulang dari pelabuhan itu?", PREVIOUS)  # demonstrative
    assert rewritten == "Dan berapa pengungsi yang pulang dari pelabuhan itu? (jumlah tiba Merak 3 Mei)"
    who = [Turn(question="Siapa yang memimpin evakuasi di Pelabuhan Merak?",
                answer="Evakuasi dipimpin oleh Kolonel Hendra Wijaya dari Basarnas. [1]")]
    assert condense_rule("Ke mana dia dipindahkan setelah evakuasi?", who) == (
        "Ke mana dia dipindahkan setelah evakuasi? (Pelabuhan Merak Kolonel Hendra Wijaya)")


def test_an_ellipsis_with_its_own_described_subject_takes_the_question_words_only():
    previous = [Turn(question="Kapan jembatan Suramadu ditutup untuk truk?", answer="Pada 2 Mei. [1]")]
    assert condense_rule("Bagaimana dengan pembukaan jalur kereta bandara?", previous) == (
        "Kapan pembukaan jalur kereta bandara?")
    assert condense_rule("What about Gresik?", previous) == "Kapan Gresik? (jembatan Suramadu ditutup truk)"


def test_without_history_nothing_is_rewritten():
    assert is_follow_up("What about Lampung?")
    assert condense_rule("What about Lampung?", []) == "What about Lampung?"


def test_se_nya_adverbs_and_function_words_are_not_references():
    assert follow_up_reason("Sebelumnya, apa kata Presiden Jokowi tentang subsidi?") == ""
    assert follow_up_reason("Hanya berapa kapal yang berlabuh di Tanjung Priok?") == ""


def test_a_chain_of_follow_ups_keeps_the_first_topic():
    history = [*PREVIOUS, Turn(question="Dan berapa yang pulang dari kota itu?", answer="Sekitar 120.")]
    rewritten = condense_rule("What about Bakauheni?", history)
    assert "Merak" in rewritten and "pulang" in rewritten
    switched = [*history, Turn(question="Siapa wali kota Cilegon yang menyambut mereka?", answer="…")]
    assert "Merak" not in condense_rule("Kapan?", switched) and "Cilegon" in condense_rule("Kapan?", switched)
