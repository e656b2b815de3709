"""Reading on when unsure (``read_more_below`` / ``read_more_pool``): where the reader finds no answer in its pool,
it reads on, and a passage past the pool that holds the answer is handed over first; where it does find one, it
reads its pool alone."""

from __future__ import annotations

from assistant.reader_answer import AnswerPolicy, read_and_rerank, reads_on
from assistant.reading import Span
from index.reader import Passage


class ScoredReader:
    """Scores each passage by the number it holds (its text is that number), and records what it was asked to
    read."""

    def __init__(self) -> None:
        self.read_texts: list[str] = []

    def read(self, question: str, passages: list[str], n: int = 3) -> list[list[Span]]:
        self.read_texts += passages
        return [[Span(0, 1, float(t), 0.0)] for t in passages]


def _pool(margins: list[float]) -> list[Passage]:
    return [Passage(f"p{i}", "a.txt", 0, 1, str(m), i, "d", "s", "T", None, None, "id", str(m))
            for i, m in enumerate(margins)]


POLICY = AnswerPolicy(answer_at=0.0, more_at=0.0, pool=3, read_more_below=-1.0, read_more_pool=5)


def test_no_answer_in_the_pool_reads_on_and_a_later_passage_leads():
    model = ScoredReader()
    order, spans = read_and_rerank(model, "q", _pool([-5, -4, -3, 6, -2, 9]), 3, POLICY)  # type: ignore[arg-type]
    assert len(model.read_texts) == 5 == len(spans)  # on to read_more_pool, not the whole pool
    assert order == [3, 4, 2]


def test_an_answer_in_the_pool_reads_the_pool_alone():
    model = ScoredReader()
    order, spans = read_and_rerank(model, "q", _pool([-5, 2, -3, 6, -2]), 2, POLICY)  # type: ignore[arg-type]
    assert len(model.read_texts) == 3 == len(spans)
    assert order == [1, 2]


def test_without_the_rule_or_past_its_pool_nothing_more_is_read():
    never = AnswerPolicy(answer_at=0.0, more_at=0.0, pool=3)
    low = [[Span(0, 1, -9.0, 0.0)]] * 3
    assert not reads_on(never, low)
    assert not reads_on(POLICY, low * 2)  # already read read_more_pool passages
    assert reads_on(POLICY, low) and not reads_on(POLICY, [[], [], []] + [[Span(0, 1, 0.0, 0.0)]])
