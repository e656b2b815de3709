"""Selection of the passages handed over (assistant.retrieval._select): the best-ranked passage always comes first,
maximal marginal relevance only reorders what follows, a cap applies only when asked for, and a larger pool starts
with the passages a smaller one hands over."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from assistant.retrieval import Candidate, Selection, _select, load_selection, selection_path


@dataclass
class _P:
    text: str
    story_id: str


class _Reader:
    def __init__(self, passages: dict[str, _P]) -> None:
        self.passages = passages

    def passage(self, cid: str) -> _P:
        return self.passages[cid]


PASSAGES = {
    "a": _P("harga tiket kapal feri ke pulau weh naik menjelang libur panjang", "s1"),
    "b": _P("harga tiket kapal feri ke pulau weh naik menjelang libur lebaran", "s1"),
    "c": _P("harga tiket kapal feri pulau weh naik saat libur panjang tahun ini", "s1"),
    "d": _P("penyeberangan ke pulau rubiah dengan perahu motor bertarif enam puluh ribu", "s1"),
    "e": _P("festival kopi lereng wangi dibuka bupati dengan tarian adat", "s2"),
}
MAIN = [Candidate(c, s, ("dense", "bm25")) for c, s in zip("abcde", (5.0, 4.9, 4.8, 4.7, 1.0), strict=True)]
READER = _Reader(PASSAGES)


def _ids(chosen: list[Candidate]) -> list[str]:
    return [c.id for c in chosen]


def test_without_diversity_the_fused_order_is_kept_and_no_story_is_capped():
    assert _ids(_select(READER, MAIN, [], 5, None, 1.0)) == list("abcde")


def test_a_cap_drops_the_fourth_passage_of_a_story_only_when_asked_for():
    assert _ids(_select(READER, MAIN, [], 4, 3, 1.0)) == list("abce")


@pytest.mark.parametrize("lam", [0.3, 0.5, 0.7, 0.9])
def test_mmr_keeps_the_best_first_and_moves_a_different_passage_up(lam):
    chosen = _ids(_select(READER, MAIN, [], 5, None, lam))
    assert chosen[0] == "a" and sorted(chosen) == list("abcde")
    if lam <= 0.5:
        assert chosen.index("d") < chosen.index("b")  # the passage unlike the first comes before its near-copies


@pytest.mark.parametrize("lam, cap", [(1.0, None), (0.6, None), (1.0, 2)])
def test_a_larger_pool_starts_with_the_smaller_ones_passages(lam, cap):
    full = _ids(_select(READER, MAIN, [], 5, cap, lam))
    for k in range(1, 5):
        assert _ids(_select(READER, MAIN, [], k, cap, lam)) == full[:k]


def test_a_sub_query_best_is_taken_second():
    sub = [Candidate("e", 9.0, ("bm25",), "part 2: festival")]
    assert _ids(_select(READER, MAIN, [sub], 3, None, 1.0)) == ["a", "e", "b"]


def test_the_fitted_selection_file_is_read_and_a_missing_one_is_neutral():
    assert load_selection("no-such-embedder", 160, 30) == Selection(
        note=f"no fitted selection ({selection_path('no-such-embedder', 160, 30).name}): fused order, no diversity")
    fitted = load_selection("e5-small-int8", 160, 30)
    assert fitted.note == "" and 0 < fitted.mmr_lambda <= 1


def test_the_default_top_k_is_the_fitted_one():
    """Settings.top_k is typed into settings.py; the fit writes it into the selection file: they must agree."""
    import json

    from assistant.retrieval import selection_path
    from assistant.settings import Settings

    s = Settings(_env_file=None)
    cfg = s.index_config()
    fitted = json.loads(selection_path(s.embedder, cfg.chunk_tokens, cfg.chunk_overlap).read_text(encoding="utf-8"))
    assert s.top_k == fitted["top_k"]
