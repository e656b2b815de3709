"""The Gradio web UI: Chat (with sources and article view), Library and Evaluation tabs.

>>> from ui.app import serve
>>> serve(Settings())  # doctest: +SKIP

Only this package imports gradio, and it holds no retrieval or answering logic: it calls :class:`Assistant`.
"""

from __future__ import annotations

import ipaddress
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

import gradio as gr
from pydantic import SecretStr
from starlette.middleware import Middleware

from assistant.chain import Assistant
from assistant.errors import BadInput
from assistant.settings import TOP_K_RANGE, Settings
from ui.api import AskApi
from ui.chat import ARTICLE_EMPTY, LANGUAGES, ChatHandlers
from ui.clients import MCP_TOOLS, ClientRoutes, ClientTools, mcp_functions
from ui.eval_tab import EVAL_CSS_PATH, evaluation_tab
from ui.history import history_secret
from ui.http_guard import UPLOAD_BATCH_FILES, RequestGuard
from ui.library_tab import library_tab
from ui.log_guard import guard_output
from ui.redaction import install_redaction, secrets_of
from ui.render import EMPTY_SOURCES

__all__ = ["build_app", "launch_app", "serve", "launch_options", "request_guard", "CSS_PATH", "JS_PATHS", "page_js", "ANSWER_CONCURRENCY_ID"]

log = logging.getLogger(__name__)
CACHE_CLEANUP = (1800, 3600)  # every 30 min, delete cached files older than 1 h
ANSWER_CONCURRENCY_ID = "answer"  # chat answers and /ask API calls share the queue's concurrency limit

CSS_PATH = Path(__file__).resolve().parent / "style.css"
# scripts run once per page load: markers open their answer's cards; refused uploads say why in their box
JS_PATHS = [Path(__file__).resolve().parent / name for name in ("cite_links.js", "upload_errors.js")]
HISTORY_KEY = "article-assistant-conversation"  # the localStorage key of the conversation
SCROLL_TO_MARK = "() => { setTimeout(() => document.getElementById('hl')?.scrollIntoView({block: 'center'}), 150); }"
# the picker's choice outlines its card (unfolding its answer's group), as a marker or a card click does
OUTLINE_PICK = """(v) => {
  const m = /^(\\d+):(\\d+)$/.exec(v || ""); if (!m) return;
  const card = document.getElementById(`a${m[1]}-cite-${m[2]}`); if (!card) return;
  document.querySelectorAll(".src-card.src-picked").forEach((c) => c.classList.remove("src-picked"));
  card.classList.add("src-picked");
  const group = card.closest("details"); if (group) group.open = true;
  card.scrollIntoView({ block: "nearest", inline: "nearest" });
  setTimeout(() => document.getElementById('hl')?.scrollIntoView({block: 'center'}), 150);
}"""
EXAMPLES = [
    "Kapan CSTO mengirim pasukan ke Kazakhstan?",
    "Who moderated the discussion between Putin and Tokayev?",
]
INTRO = ("### Article assistant\nAsk questions about the indexed news articles (Indonesian or English). Every answer "
         "cites its sources **[n]**; click a marker to see the passage, or open the whole article.")
READ_ONLY_INTRO = "\n\n*This server is read-only: the library can be browsed, not changed.*"


def build_app(assistant: Assistant, settings: Settings) -> gr.Blocks:
    """The whole UI over one shared :class:`Assistant` (launch it with :func:`launch_app`), plus the ``/ask`` API.

    With ``settings.read_only`` the Library shows the articles but offers no upload, removal or rebuild, and its
    routes refuse any call (replicas sharing one index folder).
    """
    chat = ChatHandlers(assistant)
    # uploads, exports and reports are copied into Gradio's cache; drop this app's copies after an hour
    with gr.Blocks(title="Article assistant", analytics_enabled=False, delete_cache=CACHE_CLEANUP) as app:
        app._assistant = assistant  # type: ignore[attr-defined]  # launch_app's /v1 route and MCP tools use it
        gr.Markdown(INTRO + (READ_ONLY_INTRO if settings.read_only else ""))
        # the conversation, kept in the browser's localStorage: a reload restores it, "New chat" clears it
        secret = history_secret(settings.history_secret.get_secret_value() if settings.history_secret else None,
                                settings.index_dir)
        conversation = gr.BrowserState([], storage_key=HISTORY_KEY, secret=secret)
        with gr.Tabs():
            with gr.Tab("Chat", id="chat"):
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        # per-answer like/dislike, copy and retry are the Chatbot's own (its .like and .retry)
                        chatbot = gr.Chatbot(label="Conversation", elem_id="chatbot", height=460,
                                             feedback_options=("Like", "Dislike"), buttons=["copy", "copy_all"],
                                             placeholder="Ask something about the articles to start.")
                        with gr.Row():
                            question = gr.Textbox(show_label=False, placeholder="Ask about the articles…", scale=6,
                                                  elem_id="question", autofocus=True, max_lines=4)
                            ask_btn = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                            stop_btn = gr.Button("Stop", variant="stop", scale=1, elem_id="stop", min_width=60)
                        as_typed_btn = gr.Button("Search as typed", size="sm", visible=False,
                                                 elem_id="search-as-typed")
                        gr.Examples(EXAMPLES, inputs=question, label="Try")
                        status = gr.Markdown(elem_id="status")
                        with gr.Row():
                            new_btn = gr.Button("New chat", size="sm", elem_id="new-chat")
                            case_btn = gr.Button("Save as test case", size="sm", elem_id="save-case")
                            md_btn = gr.Button("Export Markdown", size="sm", elem_id="export-md")
                            json_btn = gr.Button("Export JSON", size="sm", elem_id="export-json")
                        export_file = gr.File(label="Conversation export", interactive=False, visible=False,
                                              elem_id="export-file")
                        with gr.Accordion("Settings", open=False, elem_id="chat-settings") as settings_box:
                            backend = gr.Textbox(value=settings.llm, label="Answer backend",
                                                 info="extractive, openai:<model> or ollama:<model>")
                            top_k = gr.Slider(*TOP_K_RANGE, value=settings.top_k, step=1,
                                              label="Passages given to the answerer (top-k)")
                            language = gr.Dropdown(LANGUAGES, value=settings.answer_language, label="Answer language")
                            gr.Markdown("**Filter** — search only these articles (empty = all)")
                            with gr.Row():
                                f_sources = gr.Dropdown([], multiselect=True, label="Articles",
                                                        elem_id="filter-sources")
                                f_outlets = gr.Dropdown([], multiselect=True, label="Outlets",
                                                        elem_id="filter-outlets")
                            with gr.Row():
                                f_from = gr.Textbox(label="Dated from", placeholder="yyyy-mm-dd",
                                                    elem_id="filter-from", max_lines=1)
                                f_to = gr.Textbox(label="Dated to", placeholder="yyyy-mm-dd", elem_id="filter-to",
                                                  max_lines=1)
                        with gr.Accordion("Retrieval debugger", open=False):
                            debugger = gr.HTML("<p>Ask a question to see how retrieval ranked the passages.</p>",
                                               elem_id="debugger")
                    with gr.Column(scale=2):
                        sources = gr.HTML(EMPTY_SOURCES, elem_id="sources-panel")
                        with gr.Row(elem_id="source-controls"):
                            cite_pick = gr.Dropdown(choices=[], label="Citation", interactive=False, scale=3,
                                                    elem_id="cite-pick")
                            open_btn = gr.Button("Open article", scale=1, elem_id="open-article")
                        article = gr.HTML(ARTICLE_EMPTY, elem_id="article-view")
                        # filled by cite_links.js when a citation card is clicked (hidden by style.css)
                        card_pick = gr.Textbox(elem_id="card-pick", show_label=False, container=False)
            with gr.Tab("Library", id="library"):
                library_tab(app, assistant)
            with gr.Tab("Evaluation", id="evaluation"):
                evaluation_tab(assistant, app)

        answer_outputs = [chatbot, question, sources, debugger, cite_pick, conversation, status, as_typed_btn, article]
        ask_inputs = [question, conversation, backend, top_k, language, f_sources, f_outlets, f_from, f_to]
        answering: list[Any] = [trigger(chat.respond, ask_inputs, answer_outputs, show_progress="minimal",
                             concurrency_id=ANSWER_CONCURRENCY_ID) for trigger in (question.submit, ask_btn.click)]
        answering.append(as_typed_btn.click(chat.ask_as_typed, [conversation, backend, top_k, language],
                                            answer_outputs, show_progress="minimal",
                                            concurrency_id=ANSWER_CONCURRENCY_ID))
        answering.append(chatbot.retry(chat.retry, [conversation, backend, top_k, language], answer_outputs,
                                       show_progress="minimal", concurrency_id=ANSWER_CONCURRENCY_ID))
        # Stop cancels the running answer and shows the conversation as it was before it
        stop_btn.click(chat.stopped, conversation, [chatbot, sources, status], cancels=answering, queue=False)
        chatbot.like(chat.like, conversation, status)
        open_btn.click(chat.open_article, [cite_pick, conversation], article).then(None, js=SCROLL_TO_MARK)
        cite_pick.input(chat.open_article, [cite_pick, conversation], article).then(None, cite_pick, None,
                                                                                    js=OUTLINE_PICK)
        card_pick.change(chat.pick_card, [card_pick, conversation], [cite_pick, article]).then(None, js=SCROLL_TO_MARK)
        cleared = [chatbot, question, sources, debugger, cite_pick, conversation, status, article, export_file,
                   as_typed_btn]
        new_btn.click(chat.new_chat, None, cleared)
        chatbot.clear(chat.new_chat, None, cleared)  # the chat's own bin button clears the whole conversation
        case_btn.click(chat.save_case, conversation, status)
        md_btn.click(lambda s: chat.export(s, "md"), conversation, export_file)
        json_btn.click(lambda s: chat.export(s, "json"), conversation, export_file)
        settings_box.expand(chat.filter_choices, None, [f_sources, f_outlets])
        app.load(chat.restore, conversation, [chatbot, sources, debugger, cite_pick, status, as_typed_btn, article])
        app.load(chat.filter_choices, None, [f_sources, f_outlets])
        gr.api(AskApi(assistant).ask, api_name="ask", concurrency_id=ANSWER_CONCURRENCY_ID)
        if settings.mcp:
            _mcp_tools(client_tools(app, assistant))
    return app


def client_tools(app: gr.Blocks, assistant: Assistant) -> ClientTools:
    """The app's one :class:`ClientTools` (the MCP tools and the /v1 route share its concurrency limit)."""
    tools = getattr(app, "_client_tools", None)
    if tools is None:
        tools = ClientTools(assistant)
        app._client_tools = tools  # type: ignore[attr-defined]
    return tools


def _mcp_tools(tools: ClientTools) -> None:
    """The MCP server's tools, ``ask`` and ``search`` (named after the functions). They skip Gradio's queue (its
    loopback client could not log in) and are limited by :class:`ClientTools`' own concurrency limit instead."""
    for fn, api_name in zip(mcp_functions(tools), MCP_TOOLS, strict=True):
        gr.api(fn, api_name=api_name, queue=False)


def _only_mcp_tools_public(app: gr.Blocks) -> None:
    """With the MCP server on, every other endpoint becomes "undocumented" (still callable, not an MCP tool)."""
    for fn in app.fns.values():
        if fn.api_name not in MCP_TOOLS and fn.api_visibility == "public":
            fn.api_visibility = "undocumented"


def _auth(value: SecretStr | str | None) -> tuple[str, str] | None:
    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if not text:
        return None
    user, sep, password = text.partition(":")
    if not sep or not user.strip() or not password:
        raise BadInput("--auth must look like user:password (ASSISTANT_AUTH)")
    return user.strip(), password


def _private_dirs(settings: Settings) -> list[str]:
    """Folders Gradio must never serve or copy out (articles, index, model cache, feedback), except any that would
    swallow its own upload/temp folders (a setting such as ``index_dir=/tmp`` would otherwise break uploads)."""
    keep = [Path(tempfile.gettempdir()).resolve(), Path(gr.utils.get_upload_folder()).resolve()]
    out: list[str] = []
    for d in (settings.articles_dir, settings.index_dir, settings.model_cache_dir.expanduser(),
              settings.feedback_path.parent, settings.data_dir, settings.eval_runs_dir):
        path = Path(d).resolve()
        if not any(k == path or path in k.parents for k in keep):
            out.append(str(path))
    return out


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def request_guard(settings: Settings) -> Middleware:
    """The middleware that checks every request before Gradio reads it (size, login, throttling, API calls):
    bodies up to ``max_request_mb``, uploads up to :data:`UPLOAD_BATCH_FILES` files of ``upload_max_mb``."""
    mb = 1024 * 1024
    return Middleware(RequestGuard, max_body=settings.max_request_mb * mb,
                      upload_max_body=(settings.upload_max_mb * UPLOAD_BATCH_FILES + 1) * mb)


def page_js() -> str:
    """One function for ``launch(js=...)`` that runs each of :data:`JS_PATHS` (each file is one arrow function)."""
    calls = "".join(f"({p.read_text(encoding='utf-8').strip()})();\n" for p in JS_PATHS)
    return "() => {\n" + calls + "}"


def launch_options(settings: Settings, tools: ClientTools | None = None) -> dict[str, Any]:
    """The keyword arguments :func:`launch_app` gives ``Blocks.launch`` (before any overrides); with ``tools`` the
    ``/v1`` chat route and the MCP server's login check (:class:`ui.clients.ClientRoutes`) sit behind the guard."""
    middleware = [request_guard(settings)]
    if tools is not None:
        middleware.append(Middleware(ClientRoutes, tools=tools, login=_auth(settings.auth)))
    return {
        "server_name": settings.host, "server_port": settings.port, "auth": _auth(settings.auth),
        "auth_message": "Log in with the user name and password the server was started with (--auth).",
        "max_file_size": settings.upload_max_mb * 1024 * 1024, "css_paths": [CSS_PATH, EVAL_CSS_PATH],
        "js": page_js(), "show_error": False,
        "footer_links": ["gradio"], "quiet": False, "allowed_paths": [], "blocked_paths": _private_dirs(settings),
        "enable_monitoring": False, "app_kwargs": {"middleware": middleware}, "mcp_server": settings.mcp,
    }


def launch_app(app: gr.Blocks, settings: Settings, **kwargs: Any) -> Any:
    """Queue and launch ``app`` with the settings' host, port, login, upload limit and concurrency (kwargs override).

    ``settings.concurrency_limit`` questions are answered at once (UI and API together); only Gradio's upload and
    cache folders are served as files, never the articles, index or model folders.
    """
    assistant = getattr(app, "_assistant", None)
    options = launch_options(settings, client_tools(app, assistant) if assistant is not None else None)
    options.update(kwargs)
    if options.get("mcp_server"):
        _only_mcp_tools_public(app)
    return app.queue(default_concurrency_limit=settings.concurrency_limit).launch(**options)


def serve(settings: Settings) -> None:
    """Build the assistant over the settings' index, load the trained reader (prepared first if this machine has
    not yet), and only then serve the UI and the ``/ask`` API until interrupted.

    Everything the process prints or logs goes through :func:`guard_output` (lines cut, control characters
    escaped), so what a client sends cannot flood or forge the log.
    """
    guard_output()
    install_redaction(secrets_of(settings))
    login = _auth(settings.auth)
    if not _is_loopback(settings.host) and login is None:
        print(f"warning: listening on {settings.host} without a login: anyone who can reach this port can ask, "
              "upload and remove articles (use --auth user:password or ASSISTANT_AUTH)", file=sys.stderr)
    log.info("serving on %s:%s (login %s, %d questions at once)", settings.host, settings.port,
             "required" if login else "off", settings.concurrency_limit)
    assistant = Assistant(settings)
    if assistant.qa.warm_up():  # before listening: the first question must not wait a minute for the reader
        log.info("reader loaded")
    launch_app(build_app(assistant, settings), settings)
