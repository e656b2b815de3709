"""The ``assistant`` command: index | models | ask | chat | eval | serve. User mistakes print one line and exit 1.

The entry point sits above both packages (``ui → assistant → index``): it uses the assistant's public API (the
library, the chain, the evaluation) and serves this package's web app; ``python -m ui`` runs it too.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from assistant.errors import UserError

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Question answering over a folder of articles.")
_state: dict[str, Any] = {}

Opt = typer.Option


def _settings(**overrides: Any):
    from pydantic import ValidationError

    from assistant.settings import Settings

    clean = {k: v for k, v in {**_state, **overrides}.items() if v is not None}
    try:
        return Settings(**clean)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise UserError(f"bad setting {'.'.join(map(str, first['loc']))}: {first['msg']}") from exc


@app.callback()
def _common(
    index_dir: Annotated[Path | None, Opt(help="Index folder (ASSISTANT_INDEX_DIR).")] = None,
    embedder: Annotated[str | None, Opt(help="Embedder (ASSISTANT_EMBEDDER).")] = None,
    chroma_url: Annotated[str | None, Opt(help="Chroma server URL (ASSISTANT_CHROMA_URL).")] = None,
    chunk_tokens: Annotated[int | None, Opt(help="Chunk size in tokens (ASSISTANT_CHUNK_TOKENS).")] = None,
    chunk_overlap: Annotated[int | None, Opt(help="Chunk overlap in tokens (ASSISTANT_CHUNK_OVERLAP).")] = None,
    model_cache_dir: Annotated[Path | None, Opt(help="Converted-model cache (ASSISTANT_MODEL_CACHE_DIR).")] = None,
    openai_base_url: Annotated[str | None, Opt(help="OpenAI-compatible base URL (ASSISTANT_OPENAI_BASE_URL).")] = None,
    answer_language: Annotated[str | None, Opt(help="auto | id | en (ASSISTANT_ANSWER_LANGUAGE).")] = None,
    verbose: Annotated[bool, Opt("--verbose", "-v", help="Log more.")] = False,
) -> None:
    """Settings come from ASSISTANT_* variables and .env; these flags override them."""
    _state.update(index_dir=index_dir, embedder=embedder, chroma_url=chroma_url, chunk_tokens=chunk_tokens,
                  chunk_overlap=chunk_overlap, model_cache_dir=model_cache_dir, openai_base_url=openai_base_url,
                  answer_language=answer_language)
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR, format="%(levelname)s %(message)s")


@app.command()
def index(
    path: Annotated[Path | None, typer.Argument(help="Folder of articles (default ASSISTANT_ARTICLES_DIR).")] = None,
    rebuild: Annotated[bool, Opt("--rebuild", help="Start over instead of updating.")] = False,
    as_json: Annotated[bool, Opt("--json", help="Print the summary as one JSON object.")] = False,
    if_stale: Annotated[bool, Opt("--if-stale", help="Only report when nothing changed; rebuild an index built with "
                                                   "other settings (e.g. another embedder) (used by make run).")] = False,
) -> None:
    """Index a folder of articles (incremental: unchanged files cost nothing)."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

    from assistant.library import build_library

    settings = _settings()
    path = path or settings.articles_dir
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed}/{task.total}"),
                  TimeRemainingColumn(), transient=True, disable=as_json or not sys.stderr.isatty(),
                  console=None) as bar:
        task = bar.add_task("embedding", total=None)

        def progress(stage: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        summary = build_library(settings, path, rebuild=rebuild, progress=progress, if_stale=if_stale,
                                notify=lambda m: typer.echo(m, err=True))
    if as_json:
        typer.echo(json.dumps(summary.as_dict(), ensure_ascii=False))
        return
    for w in summary.warnings:
        typer.echo(f"warning: {w}", err=True)
    if if_stale and summary.indexed == 0 and summary.removed == 0:
        typer.echo(f"index up to date: {summary.chunks} passages from {summary.files} files")
        return
    typer.echo(
        f"files: {summary.files} seen, {summary.indexed} indexed, {summary.unchanged} unchanged, "
        f"{summary.skipped} skipped, {summary.removed} removed, {summary.duplicates} duplicates | "
        f"passages: {summary.chunks} ({summary.embedded} embedded) | {summary.seconds:.1f} s, "
        f"{summary.chunks_per_second:.1f} passages/s"
    )


models_app = typer.Typer(no_args_is_help=True, help="The embedding models: do their one-time preparation ahead.")
app.add_typer(models_app, name="models")


@models_app.command("prepare")
def models_prepare(
    names: Annotated[list[str] | None, typer.Argument(help="Embedders to prepare (default: the configured one "
                                                          "(ASSISTANT_EMBEDDER); `all`: e5-small and e5-small-int8).")
                     ] = None,
) -> None:
    """Convert the bundled e5 weights and export the int8 model now (e.g. at install), so that the first
    `assistant index` or question does not wait for them."""
    from assistant.library import prepare_models

    settings = _settings()
    wanted = names or [settings.embedder]
    if "all" in wanted:
        wanted = ["e5-small", "e5-small-int8"]
    for name, where in prepare_models(settings, wanted, notify=lambda m: typer.echo(m, err=True)):
        typer.echo(f"{name}: ready ({where})")


def _print_answer(answer: Any) -> None:
    for note in answer.notes:
        typer.echo(f"note: {note}")
    typer.echo(answer.answer)
    if answer.citations or answer.passages:
        typer.echo("")
    shown = answer.citations if answer.citations else []
    for c in shown:
        where = " · ".join(x for x in (c.outlet, c.title, c.date) if x) or c.source
        flag = "" if c.supported else "  [NOT SUPPORTED by this passage]"
        typer.echo(f"[{c.n}] {where} ({c.source}:{c.start}-{c.end}){flag}\n    “{c.quote}”")
    if answer.abstained and answer.passages:
        typer.echo("Closest passages:")
        for p in answer.passages[:3]:
            typer.echo(f"  {p.rank}. {p.source}:{p.start}-{p.end}  {p.text[:160]}…")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question (Indonesian or English).")],
    as_json: Annotated[bool, Opt("--json", help="Print the answer object as JSON.")] = False,
    top_k: Annotated[int | None, Opt("--top-k", help="Passages given to the answerer.")] = None,
    llm: Annotated[str | None, Opt("--llm", help="extractive | openai:<model> | ollama:<model>")] = None,
    source: Annotated[list[str] | None, Opt("--source", help="Only these articles (repeatable).")] = None,
    outlet: Annotated[list[str] | None, Opt("--outlet", help="Only articles of these outlets (repeatable).")] = None,
    date_from: Annotated[str | None, Opt("--from", help="Only articles dated on/after yyyy-mm-dd.")] = None,
    date_to: Annotated[str | None, Opt("--to", help="Only articles dated on/before yyyy-mm-dd.")] = None,
    server: Annotated[str | None, Opt("--server", help="Ask a running `assistant serve` at this URL (fast: no "
                                                  "model loading); its login from ASSISTANT_AUTH.")] = None,
) -> None:
    """Answer one question with cited passages."""
    from assistant.question import validate_question

    settings = _settings(llm=llm, top_k=top_k)
    validate_question(question, settings.max_question_chars)  # an empty or huge question fails before the index loads

    if server:
        if llm:
            raise UserError("--llm applies to a local answer; the server answers with its own backend")
        from assistant.remote import answer_from_dict, ask_server

        auth = settings.auth.get_secret_value() if settings.auth else None
        served = ask_server(server, question, top_k=top_k, sources=source, outlets=outlet, date_from=date_from,
                            date_to=date_to, auth=auth)
        if as_json:
            typer.echo(json.dumps(served, ensure_ascii=False, indent=2))
        else:
            _print_answer(answer_from_dict(served))
        return

    from assistant.chain import Assistant

    bot = Assistant(settings)
    answer = bot.ask(question, filters=bot.filters(source, outlet, date_from, date_to))
    if as_json:
        typer.echo(json.dumps(answer.public_dict(), ensure_ascii=False, indent=2))
    else:
        _print_answer(answer)


CHAT_HELP = "/astyped: search the last question again as typed (no rewriting) · /help · empty line or Ctrl-D: quit"


@app.command()
def chat(
    llm: Annotated[str | None, Opt("--llm", help="extractive | openai:<model> | ollama:<model>")] = None,
    top_k: Annotated[int | None, Opt("--top-k")] = None,
    no_rewrite: Annotated[bool, Opt("--no-rewrite", help="Search every question as typed (no follow-up rewriting).")
                          ] = False,
    source: Annotated[list[str] | None, Opt("--source", help="Only these articles (repeatable).")] = None,
    outlet: Annotated[list[str] | None, Opt("--outlet", help="Only articles of these outlets (repeatable).")] = None,
    date_from: Annotated[str | None, Opt("--from", help="Only articles dated on/after yyyy-mm-dd.")] = None,
    date_to: Annotated[str | None, Opt("--to", help="Only articles dated on/before yyyy-mm-dd.")] = None,
) -> None:
    """Chat in the terminal; a question that cannot stand alone is searched with the conversation's topic
    ("Searched as: …"; /astyped searches it as typed). Empty line or Ctrl-D ends."""
    from assistant.chain import Assistant
    from assistant.filters import describe_filters
    from assistant.models import Turn

    assistant = Assistant(_settings(llm=llm, top_k=top_k))
    filters = assistant.filters(source, outlet, date_from, date_to)
    if describe_filters(filters):
        typer.echo(f"Searching only {describe_filters(filters)}")
    history: list[Turn] = []
    while True:
        try:
            line = input("\n? ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if not line:
            break
        if line in ("/help", "/?"):
            typer.echo(CHAT_HELP)
            continue
        as_typed = no_rewrite or line == "/astyped"
        if line == "/astyped":
            if not history:
                typer.echo("nothing to search again yet: ask a question first")
                continue
            question = history.pop().question
        elif line.startswith("/"):
            typer.echo(f"unknown command {line.split()[0]}; {CHAT_HELP}")
            continue
        else:
            question = line
        try:
            answer = assistant.ask(question, history=history, filters=filters, rewrite=not as_typed)
        except UserError as exc:
            typer.echo(f"error: {exc}")
            continue
        if answer.standalone_question != answer.question:
            typer.echo(f"Searched as: {answer.standalone_question}   (/astyped: search it as typed)")
        elif line == "/astyped":
            typer.echo(f"Searched as typed: {answer.question}")
        _print_answer(answer)
        history.append(Turn(question=question, answer=answer.answer))


@app.command(name="eval", context_settings={"allow_extra_args": False})
def eval_(
    args: Annotated[list[str], typer.Argument(help="QUESTIONS.jsonl|csv  —or—  compare RUN_A RUN_B")],
    out: Annotated[Path | None, Opt("--out", help="Output folder (default ASSISTANT_EVAL_RUNS_DIR/<timestamp>-<set>, where the Evaluation tab lists runs).")] = None,
    llm: Annotated[str | None, Opt("--llm")] = None,
    top_k: Annotated[int | None, Opt("--top-k")] = None,
    workers: Annotated[int, Opt("--workers", help="Questions answered in parallel.")] = 1,
    as_json: Annotated[bool, Opt("--json", help="Print the summary as JSON.")] = False,
    resume: Annotated[bool, Opt("--resume", help="Continue the interrupted run in --out (skips questions done).")
                      ] = False,
) -> None:
    """Run a question set and write results.jsonl, summary.json, report.html, report.md; or compare two runs.

    Results are written as they come: Ctrl-C or SIGTERM keeps the questions done, and --resume continues the run."""
    from assistant.evaluation.commands import compare_command, interrupted_message, run_command
    from assistant.evaluation.runner import EvalInterrupted

    if args and args[0] == "compare":
        if len(args) != 3:
            raise UserError("usage: assistant eval compare RUN_A RUN_B")
        typer.echo(compare_command(Path(args[1]), Path(args[2]), as_json=as_json))
        return
    if len(args) != 1:
        raise UserError("usage: assistant eval QUESTIONS.jsonl [--out DIR]  or  assistant eval compare RUN_A RUN_B")
    try:
        typer.echo(run_command(_settings(llm=llm, top_k=top_k), Path(args[0]), out, workers=workers,
                               as_json=as_json, resume=resume))
    except EvalInterrupted as exc:
        given = [(f"--{k.replace('_', '-')}", v) for k, v in _state.items() if v is not None]
        flags = [("--llm", llm), ("--top-k", top_k), ("--workers", workers if workers != 1 else None)]
        typer.echo(interrupted_message(exc, Path(args[0]), [f"{k}={v}" for k, v in given],
                                       [f"{k}={v}" for k, v in flags if v is not None]), err=True)
        sys.exit(130)


@app.command()
def serve(
    host: Annotated[str | None, Opt("--host", help="Listen address (default 127.0.0.1).")] = None,
    port: Annotated[int | None, Opt("--port", help="Port (default 7860).")] = None,
    auth: Annotated[str | None, Opt("--auth", help="user:password required to log in (prefer ASSISTANT_AUTH: "
                                             "command lines are visible in ps).")] = None,
    concurrency: Annotated[int | None, Opt("--concurrency", help="Questions answered at once (default 4).")] = None,
    upload_max_mb: Annotated[int | None, Opt("--upload-max-mb", help="Largest upload in MB (default 20).")] = None,
    max_request_mb: Annotated[int | None, Opt("--max-request-mb", help="Largest request body in MB, uploads aside "
                                                    "(default 8; ASSISTANT_MAX_REQUEST_MB).")] = None,
    read_only: Annotated[bool, Opt("--read-only", help="No upload, removal or rebuild (replicas sharing one index "
                                                       "folder; ASSISTANT_READ_ONLY).")] = False,
    mcp: Annotated[bool, Opt("--mcp", help="Also serve an MCP server at /gradio_api/mcp/ with the tools ask and "
                                           "search (ASSISTANT_MCP).")] = False,
    data_dir: Annotated[Path | None, Opt("--data-dir", help="Folder for feedback, evaluation runs and the articles "
                                                           "trash (ASSISTANT_DATA_DIR; default the per-user data "
                                                           "folder).")] = None,
) -> None:
    """Serve the chat UI (Gradio), its /ask API and the OpenAI-compatible /v1/chat/completions route."""
    from ui.app import serve as serve_ui

    serve_ui(_settings(host=host, port=port, auth=auth, concurrency_limit=concurrency, upload_max_mb=upload_max_mb,
                       max_request_mb=max_request_mb, read_only=read_only or None, mcp=mcp or None,
                       data_dir=data_dir))


def main() -> None:
    import warnings

    from assistant.settings import apply_offline_env

    apply_offline_env()
    # third-party libraries' warnings (chromadb, transformers…) are noise for people at a terminal; ours still show
    warnings.filterwarnings("ignore", module=r"(?!assistant\.|index\.|ui\.)")
    try:
        app(standalone_mode=False)
    except UserError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        typer.echo("aborted", err=True)
        sys.exit(130)
    except Exception as exc:  # click usage errors
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
