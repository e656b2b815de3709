"""Plain typed results the core returns; the CLI, the UI and the evaluator all render these."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

__all__ = ["Citation", "RankedPassage", "Answer", "RetrievalTrace", "ScopeTrace", "Turn"]


class Citation(BaseModel):
    """One [n] marker of an answer: the quoted span of the article that backs the sentence before it."""

    n: int
    source: str
    title: str | None = None
    outlet: str | None = None
    date: str | None = None
    start: int  # character offsets into the stored article text (== the file text for .txt/.md)
    end: int
    quote: str  # == article_text[start:end]
    supported: bool = True
    support: float = 1.0  # 0..1: how well the passage backs the cited sentence
    sentence: str = ""  # the answer sentence this marker closes


class RankedPassage(BaseModel):
    """A passage as everything outside the core sees it (the answer's sources in the UI, the API's JSON, the
    LangChain retriever's ``Document``s): an indexed :class:`index.reader.Passage` with its place in the ranking.
    :meth:`assistant.retrieval.RetrievalResult.ranked` is the one place that makes them."""

    rank: int
    id: str
    source: str
    start: int
    end: int
    text: str
    score: float
    title: str | None = None
    outlet: str | None = None
    date: str | None = None
    legs: list[str] = Field(default_factory=list)  # which retrievers found it: "dense", "bm25"
    via: str = "question"  # the (sub-)query that brought it: "question", "part 1: …", "article: a.txt"
    story_id: str | None = None  # the story its article was grouped into (reports of one event share one)
    reader_score: float | None = None  # the reader's best span's margin over no answer (None: not reranked)

    def document(self) -> Any:
        """This passage as a LangChain ``Document``: its text, its id, every other field as metadata."""
        from langchain_core.documents import Document

        return Document(page_content=self.text, id=self.id, metadata=self.model_dump(exclude={"text", "id"}))


class ScopeTrace(BaseModel):
    """The article(s) a question named ("menurut artikel Riau24") and what they matched."""

    phrase: str = ""
    kind: str = ""  # outlet | date | title | topic
    sources: list[str] = Field(default_factory=list)
    note: str = ""  # set when the reference matched no article (retrieval then searched all of them)


class RetrievalTrace(BaseModel):
    """What retrieval did, for the debugger: the query searched and each ranking with scores."""

    query: str
    dense: list[tuple[str, float]] = Field(default_factory=list)
    bm25: list[tuple[str, float]] = Field(default_factory=list)
    fused: list[tuple[str, float]] = Field(default_factory=list)
    question_language: str = "id"
    fusion: str = ""  # "linear" (fitted) or "rrf" (fallback)
    fusion_note: str = ""
    candidates: int = 0
    scope: ScopeTrace = Field(default_factory=ScopeTrace)
    subqueries: list[str] = Field(default_factory=list)


class Answer(BaseModel):
    question: str
    standalone_question: str
    answer: str
    abstained: bool
    language: str
    citations: list[Citation] = Field(default_factory=list)
    passages: list[RankedPassage] = Field(default_factory=list)
    removed_markers: list[int] = Field(default_factory=list)  # [n] that pointed to no passage
    timings_ms: dict[str, float] = Field(default_factory=dict)
    backend: str = "extractive"
    trace: RetrievalTrace | None = None
    notes: list[str] = Field(default_factory=list)  # what the user should know about how it was answered

    def public_dict(self) -> dict[str, Any]:
        """The `ask --json` object."""
        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "answer": self.answer,
            "abstained": self.abstained,
            "language": self.language,
            "citations": [c.model_dump(exclude={"support", "sentence"}) for c in self.citations],
            "passages": [
                {"rank": p.rank, "source": p.source, "start": p.start, "end": p.end, "text": p.text, "score": p.score,
                 "legs": p.legs, "via": p.via}
                for p in self.passages
            ],
            "notes": self.notes,
            "trace": None if self.trace is None else {
                "query": self.trace.query, "fusion": self.trace.fusion, "candidates": self.trace.candidates,
                "scope": self.trace.scope.model_dump(), "subqueries": self.trace.subqueries,
            },
            "removed_markers": self.removed_markers,
            "timings_ms": self.timings_ms,
            "backend": self.backend,
        }


class Turn(BaseModel):
    """One exchange of a conversation (for follow-up rewriting)."""

    question: str
    answer: str
