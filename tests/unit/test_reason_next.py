"""``reason_next``: a reason question also quotes the sentence after its lead's (news states what happened, then
why), and only a reason question does."""

from __future__ import annotations

from assistant.question import analyse_question
from assistant.reader_answer import AnswerPolicy, compose
from assistant.reading import Span
from index.reader import Passage

DOC = ("Dinas Perhubungan belum menaikkan tarif parkir di Jalan Merdeka tahun ini. Kenaikan itu menunggu hasil "
       "kajian lalu lintas yang baru selesai bulan Juni. Tarif saat ini Rp 3.000 per jam.")


def _passage() -> Passage:
    return Passage("p1", "parkir.txt", 0, len(DOC), DOC, 0, "d1", "s1", "Tarif Parkir", None, None, "id", DOC)


def _answer(question: str, reason_next: bool) -> str:
    p = _passage()
    first = DOC.index("belum menaikkan")
    spans = [[Span(first, first + len("belum menaikkan tarif parkir"), 4.0, -2.0)]]
    policy = AnswerPolicy(answer_at=0.0, more_at=0.0, pool=8, reason_next=reason_next)
    out = compose(analyse_question(question), [p], spans, policy)
    assert not out.abstained
    return " ".join(pick.text for pick in out.picks)


def test_a_reason_question_quotes_the_sentence_after_the_statement_it_restates():
    q = "Mengapa Dinas Perhubungan belum menaikkan tarif parkir di Jalan Merdeka?"
    assert "menunggu hasil kajian" in _answer(q, reason_next=True)
    assert "menunggu hasil kajian" not in _answer(q, reason_next=False)


def test_other_questions_quote_the_lead_sentence_alone():
    q = "Apa yang belum dilakukan Dinas Perhubungan di Jalan Merdeka?"
    assert _answer(q, reason_next=True) == DOC[: DOC.index(".") + 1]
