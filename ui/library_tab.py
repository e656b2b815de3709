"""The Library tab: the indexed articles, upload → incremental index (with progress), remove, rebuild."""

from __future__ import annotations

import html
from typing import Any

import gradio as gr
import pandas as pd

from assistant.chain import Assistant
from assistant.errors import BadInput, UserError
from ui import library, uploads

__all__ = ["library_tab", "READ_ONLY_REFUSAL"]

READ_ONLY_REFUSAL = ("this server is read-only (assistant serve --read-only): articles cannot be added, removed or "
                     "re-indexed here; change the index where it is built")


def _progress_cb(progress: gr.Progress) -> Any:
    def cb(stage: str, done: int, total: int) -> None:
        progress((done, total), desc=f"{stage}: {done}/{total} chunks", unit="chunks")
    return cb


def library_tab(app: gr.Blocks, assistant: Assistant) -> None:
    """Lay out the tab (inside an open ``gr.Tab``) and wire its events."""
    settings = assistant.settings

    def refuse_if_read_only() -> None:
        if settings.read_only:  # the controls are hidden, but a client can still call the route
            raise gr.Error(READ_ONLY_REFUSAL, title="Read-only", print_exception=False)

    def listing() -> tuple[Any, Any]:
        rows = library.library_rows(assistant)
        sources = [r[0] for r in rows]
        return (pd.DataFrame(rows, columns=library.LIBRARY_HEADERS),
                gr.update(choices=sources, value=None))

    def after_build(summary: library.BuildSummary) -> tuple[Any, Any, str]:
        table, pick = listing()
        return table, pick, library.summary_line(summary)

    def add(files: list[str] | None, replace: bool = False, progress: gr.Progress = gr.Progress()
            ) -> tuple[Any, ...]:
        refuse_if_read_only()
        if not files:
            return gr.skip(), gr.skip(), gr.skip(), "Choose one or more files first."
        try:
            saved = library.save_uploads(list(files), settings.articles_dir, settings.upload_max_mb,
                                         replace=bool(replace), allowed=settings.upload_types)
            uploads.discard(files)  # copied into the articles folder: the temp copies count against a quota
            progress(0, desc=f"Indexing {', '.join(s.name for s in saved)}…")
            summary = library.build(assistant, progress=_progress_cb(progress))
        except UserError as exc:
            gr.Warning(str(exc))
            return gr.skip(), gr.skip(), None, f"Not added: {exc}"
        table, pick, line = after_build(summary)
        return table, pick, None, f"{library.saved_line(saved)} {line}"

    def confirm_remove(source: str | None) -> tuple[Any, ...]:
        """The first click on "Remove article": say what will happen to the file and ask to confirm."""
        if not source:
            return gr.update(visible=False), gr.skip(), "Pick an article to remove first."
        text = (f"Remove **{source}** from the library? The file moves from the articles folder "
                f"(`{settings.articles_dir}`) to the trash (`{settings.trash_dir}`) and the index forgets it. "
                "Nothing is deleted: **Restore** below puts it back.")
        return gr.update(visible=True), text, ""

    def remove(source: str | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        refuse_if_read_only()
        hidden = gr.update(visible=False)
        if not source:
            return gr.skip(), gr.skip(), "Pick an article to remove first.", hidden, gr.skip(), hidden
        try:
            if source not in {f.source for f in assistant.reader.files()}:
                raise BadInput(f"{source} is not an indexed article")
            entry = library.trash_article(source, settings.articles_dir, settings.trash_dir)
            summary = library.build(assistant, progress=_progress_cb(progress))
        except UserError as exc:
            gr.Warning(html.escape(str(exc)))
            return gr.skip(), gr.skip(), f"Not removed: {exc}", hidden, gr.skip(), hidden
        table, pick, line = after_build(summary)
        return (table, pick, f"Moved {source} to the trash. {line}", hidden, trash_list(str(entry)),
                gr.update(visible=True))

    def restore(entry: str | None, progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        refuse_if_read_only()
        hidden = gr.update(visible=False)
        if not entry:
            return gr.skip(), gr.skip(), "Pick an article in the trash first.", gr.skip(), hidden
        try:
            source = library.restore_article(entry, settings.articles_dir, settings.trash_dir)
            summary = library.build(assistant, progress=_progress_cb(progress))
        except UserError as exc:
            gr.Warning(html.escape(str(exc)))
            return gr.skip(), gr.skip(), f"Not restored: {exc}", gr.skip(), gr.skip()
        table, pick, line = after_build(summary)
        return table, pick, f"Restored {source}. {line}", trash_list(), hidden

    def trash_list(value: str | None = None) -> Any:
        items = library.trashed_articles(settings.trash_dir)
        paths = [p for _, p in items]
        return gr.update(choices=items, value=value if value in paths else (paths[0] if paths else None))

    def rebuild(progress: gr.Progress = gr.Progress()) -> tuple[Any, ...]:
        refuse_if_read_only()
        try:
            summary = library.build(assistant, rebuild=True, progress=_progress_cb(progress))
        except UserError as exc:
            gr.Warning(str(exc))
            return gr.skip(), gr.skip(), f"Rebuild failed: {exc}"
        return after_build(summary)

    editable = not settings.read_only
    if editable:
        gr.Markdown(f"Articles folder: `{settings.articles_dir}` · index: `{settings.index_dir}`. "
                    f"Add {' '.join(settings.upload_types)} files (up to {settings.upload_max_mb} MB each); "
                    "only new or changed files are embedded.")
    else:
        gr.Markdown("The indexed articles. This server is **read-only**: articles are added, removed and re-indexed "
                    "where the index is built, not here.", elem_id="library-read-only")
    table = gr.Dataframe(headers=library.LIBRARY_HEADERS, interactive=False, wrap=True, label="Indexed articles",
                         elem_id="library-table", max_height=360,
                         column_widths=["22%", "44%", "14%", "10%", "10%"])
    with gr.Row(visible=editable):
        with gr.Column(scale=2):
            upload = gr.File(label="Add articles", file_count="multiple", file_types=list(settings.upload_types),
                             elem_id="library-upload", interactive=editable)
            replace = gr.Checkbox(False, label="Replace files with the same name", elem_id="library-replace")
        with gr.Column(scale=1):
            pick = gr.Dropdown(choices=[], label="Article", elem_id="library-pick")
            remove_btn = gr.Button("Remove article", variant="stop", elem_id="library-remove", interactive=editable)
            with gr.Group(visible=False, elem_id="library-confirm") as confirm_box:
                confirm_text = gr.Markdown(elem_id="library-confirm-text")
                with gr.Row():
                    confirm_btn = gr.Button("Move to trash", variant="stop", size="sm", elem_id="library-confirm-yes")
                    cancel_btn = gr.Button("Cancel", size="sm", elem_id="library-confirm-no")
            undo_btn = gr.Button("Undo remove", size="sm", visible=False, elem_id="library-undo")
            rebuild_btn = gr.Button("Rebuild whole index", elem_id="library-rebuild", interactive=editable)
    with gr.Accordion("Trash", open=False, visible=editable, elem_id="library-trash"):
        with gr.Row():
            trashed = gr.Dropdown(choices=[], label="Removed articles", elem_id="library-trash-pick", scale=3)
            restore_btn = gr.Button("Restore", elem_id="library-restore", scale=1)
    lib_status = gr.Markdown(elem_id="library-status")

    upload.upload(add, [upload, replace], [table, pick, upload, lib_status])
    remove_btn.click(confirm_remove, pick, [confirm_box, confirm_text, lib_status], api_visibility="private")
    cancel_btn.click(lambda: (gr.update(visible=False), "Nothing removed."), None, [confirm_box, lib_status],
                     api_visibility="private")
    confirm_btn.click(remove, pick, [table, pick, lib_status, confirm_box, trashed, undo_btn], api_name="remove")
    undo_btn.click(restore, trashed, [table, pick, lib_status, trashed, undo_btn], api_name="undo_remove")
    restore_btn.click(restore, trashed, [table, pick, lib_status, trashed, undo_btn], api_name="restore")
    rebuild_btn.click(rebuild, None, [table, pick, lib_status])
    app.load(listing, None, [table, pick])
    if editable:
        app.load(trash_list, None, trashed)
