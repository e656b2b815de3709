"""Serving safety without a server: upload names and checks, the login setting, launch options, log redaction,
the ``/ask`` argument checks and the article viewer's refusal of anything not in the index."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from assistant.errors import BadInput
from assistant.models import Answer, Citation
from assistant.question import validate_question
from assistant.settings import Settings
from ui import history, library
from ui.redaction import MASK, install_redaction, redact, secrets_of, short

ALL = library.ALLOWED_SUFFIXES


class Upload(str):
    """A Gradio upload path whose original (client-side) name differs from the temp file's."""

    orig_name: str

    def __new__(cls, path: Path, orig_name: str) -> Upload:
        obj = super().__new__(cls, str(path))
        obj.orig_name = orig_name
        return obj


@pytest.mark.parametrize(("raw", "safe"), [
    ("article.txt", "article.txt"),
    ("../../etc/x.txt", "x.txt"),
    ("/etc/cron.d/evil.md", "evil.md"),
    ("C:\\Windows\\System32\\notes.HTML", "notes.html"),
    ("..\\..\\boot.ini.txt", "boot.ini.txt"),
    (".bashrc.txt", "bashrc.txt"),
    ("...hidden...md", "hidden.md"),
    ("evil\x00.pdf", "evil.pdf"),
    ("x.php\x00.txt", "x.php.txt"),
    ('a<b>c:d"e|f?g*h.txt', "a_b_c_d_e_f_g_h.txt"),
    ("tab\tand\nnewline.txt", "tab and newline.txt"),
    ("CON.txt", "_CON.txt"),
    ("lpt1.report.md", "_lpt1.report.md"),
    ("Berita Ekonomi – 2024 (final).htm", "Berita Ekonomi _ 2024 _final.htm"),
    ("Café résumé.txt", "Café résumé.txt"),
    ("\u202etxt.exe.txt", "txt.exe.txt"),
])
def test_safe_name_makes_a_plain_name(raw, safe):
    assert library.safe_name(raw) == safe
    assert Path(safe).name == safe and not safe.startswith(".") and "/" not in safe and "\\" not in safe


def test_safe_name_caps_the_length_and_keeps_the_extension():
    name = library.safe_name("a" * 500 + ".pdf")
    assert len(name) == library.MAX_NAME_CHARS and name.endswith(".pdf")


@pytest.mark.parametrize("raw", ["malware.exe", "archive.txt.exe", "README", "notes.", ".txt", "...", "", "../..",
                                 "/", "page.php", "data.json", "x.html5", "a/b/"])
def test_safe_name_refuses_other_types_and_empty_names(raw):
    with pytest.raises(BadInput) as err:
        library.safe_name(raw)
    message = str(err.value)
    assert "\n" not in message and (".txt .md .html .htm .pdf" in message or "plain name" in message)


def test_safe_name_honours_a_narrower_allow_list():
    assert library.safe_name("a.md", allowed=(".txt", ".md")) == "a.md"
    with pytest.raises(BadInput, match=r"only \.txt \.md files"):
        library.safe_name("a.pdf", allowed=(".txt", ".md"))


def _file(folder: Path, name: str, data: bytes | str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def _listing(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


def test_uploads_land_inside_the_articles_folder_under_safe_names(tmp_path):
    articles, up = tmp_path / "articles", tmp_path / "upload"
    paths = [Upload(_file(up, "a.txt", "Satu."), "../../../../etc/cron.d/x.txt"),
             Upload(_file(up, "b.md", "# Dua"), "/abs/.profile.md"),
             _file(up, "c.pdf", b"%PDF-1.4\n...")]
    saved = library.save_uploads(paths, articles, max_mb=1)
    assert [(s.name, s.action) for s in saved] == [("x.txt", "added"), ("profile.md", "added"), ("c.pdf", "added")]
    assert _listing(articles) == {"x.txt", "profile.md", "c.pdf"}  # no temp files left behind
    assert (articles / "x.txt").read_text() == "Satu."
    assert not (tmp_path / "etc").exists()


def test_one_bad_upload_refuses_the_whole_batch(tmp_path):
    articles, up = tmp_path / "articles", tmp_path / "upload"
    good = _file(up, "good.txt", "Baik.")
    cases = {
        "too big": (_file(up, "big.txt", "x" * (1024 * 1024 + 1)), "1.0 MB; the limit is 1 MB"),
        "empty": (_file(up, "empty.txt", ""), "empty"),
        "fake pdf": (_file(up, "fake.pdf", "not a pdf"), "not a PDF"),
        "binary text": (_file(up, "bin.txt", b"MZ\x90\x00\x03\x00\x00\x00"), "not a text file"),
        "type": (_file(up, "run.sh", "echo"), "only .txt"),
        "name clash": (Upload(_file(up, "other.txt", "Lain."), "GOOD.TXT"), "both named"),
    }
    for label, (bad, message) in cases.items():
        with pytest.raises(BadInput, match=message):
            library.save_uploads([good, bad], articles, max_mb=1)
        assert not articles.exists() or _listing(articles) == set(), label


def test_utf16_text_with_a_bom_is_accepted(tmp_path):
    src = _file(tmp_path / "up", "u16.txt", "Halo dunia".encode("utf-16"))
    assert library.save_uploads([src], tmp_path / "articles", max_mb=1)[0].action == "added"


def test_an_existing_article_is_never_overwritten_silently(tmp_path):
    articles = tmp_path / "articles"
    _file(articles, "news.txt", "Versi lama.")
    same = _file(tmp_path / "up1", "news.txt", "Versi lama.")
    changed = _file(tmp_path / "up2", "news.txt", "Versi baru.")
    assert library.save_uploads([same], articles, 1)[0].action == "unchanged"
    with pytest.raises(BadInput, match="already exists with different content"):
        library.save_uploads([changed], articles, 1)
    assert (articles / "news.txt").read_text() == "Versi lama."
    assert library.save_uploads([changed], articles, 1, replace=True)[0].action == "replaced"
    assert (articles / "news.txt").read_text() == "Versi baru."
    assert _listing(articles) == {"news.txt"}
    line = library.saved_line([library.SavedUpload("a.txt", "added"), library.SavedUpload("news.txt", "unchanged")])
    assert line == "Added: a.txt. Already in the library: news.txt."


def test_an_upload_never_writes_through_a_link(tmp_path):
    articles, outside = tmp_path / "articles", _file(tmp_path, "secret.txt", "rahasia")
    articles.mkdir()
    os.symlink(outside, articles / "link.txt")
    src = _file(tmp_path / "up", "link.txt", "timpa")
    for replace in (False, True):
        with pytest.raises(BadInput, match="not a plain file"):
            library.save_uploads([src], articles, 1, replace=replace)
    assert outside.read_text() == "rahasia"


def test_remove_refuses_anything_outside_the_articles_folder(tmp_path):
    articles = tmp_path / "articles"
    _file(articles, "a.txt", "A")
    victim = _file(tmp_path, "victim.txt", "V")
    for source in ("../victim.txt", str(victim), "/etc/passwd", "missing.txt", "."):
        with pytest.raises(BadInput):
            library.remove_article(source, articles)
    assert victim.exists()
    library.remove_article("a.txt", articles)
    assert not (articles / "a.txt").exists()


# -- settings, login and launch options ----------------------------------------------------------------------------
def test_serving_defaults_are_safe():
    s = Settings(_env_file=None)
    assert s.host == "127.0.0.1" and s.auth is None and s.concurrency_limit >= 2
    assert s.upload_types == library.ALLOWED_SUFFIXES and s.upload_max_mb == 20
    assert Settings(upload_types=["TXT", ".md"], _env_file=None).upload_types == (".txt", ".md")
    with pytest.raises(ValueError, match="upload types"):
        Settings(upload_types=[".exe"], _env_file=None)


def test_login_setting_is_parsed_and_never_shown():
    from ui.app import _auth

    s = Settings(auth="admin:pa:ss", _env_file=None)
    assert "pa:ss" not in repr(s) and "pa:ss" not in str(s.model_dump())
    assert _auth(s.auth) == ("admin", "pa:ss")  # the password may hold colons
    assert _auth(None) is None and _auth("") is None
    for bad in ("admin", "admin:", ":pw", " :pw"):
        with pytest.raises(BadInput, match="user:password"):
            _auth(bad)


def test_launch_options_limit_uploads_and_keep_private_folders_private(tmp_path):
    from ui.app import _is_loopback, launch_options

    s = Settings(articles_dir=tmp_path / "articles", index_dir=tmp_path / "idx", model_cache_dir=tmp_path / "models",
                 feedback_path=tmp_path / "var" / "feedback.jsonl", auth="u:p", upload_max_mb=3, _env_file=None)
    opts = launch_options(s)
    assert opts["server_name"] == "127.0.0.1" and opts["auth"] == ("u", "p")
    assert opts["max_file_size"] == 3 * 1024 * 1024 and opts["allowed_paths"] == []
    assert opts["enable_monitoring"] is False and opts["show_error"] is False
    blocked = set(opts["blocked_paths"])
    for d in ("articles", "idx", "models", "var"):
        assert str((tmp_path / d).resolve()) in blocked
    assert _is_loopback("127.0.0.1") and _is_loopback("::1") and _is_loopback("localhost")
    assert not _is_loopback("0.0.0.0") and not _is_loopback("192.168.1.20") and not _is_loopback("example.org")
    # a folder holding Gradio's own upload/temp folders is never blocked (uploads would break)
    assert launch_options(Settings(index_dir=Path("/tmp"), _env_file=None))["blocked_paths"].count("/tmp") == 0


# -- logs ----------------------------------------------------------------------------------------------------------
def test_secrets_of_settings():
    s = Settings(auth="admin:hunter2", openai_api_key="sk-live-123", _env_file=None)
    assert set(secrets_of(s)) == {"admin:hunter2", "hunter2", "sk-live-123"}
    assert secrets_of(Settings(_env_file=None)) == []  # the placeholder key is not a secret


def test_redaction_masks_secrets_in_every_log_record(caplog):
    undo = install_redaction(["hunter2", "sk-live-123"])
    try:
        with caplog.at_level(logging.INFO):
            logging.getLogger("gradio.some.module").info("login %s with key %s", "admin:hunter2", "sk-live-123")
            try:
                raise RuntimeError("backend said: bad key sk-live-123")
            except RuntimeError:
                logging.getLogger("ui.chat").exception("answering failed")
        text = caplog.text + "".join(r.exc_text or "" for r in caplog.records)
        assert "hunter2" not in text and "sk-live-123" not in text and MASK in text
        assert "answering failed" in text and "RuntimeError" in text
    finally:
        undo()
    assert redact("no secrets here", ["x-y-z"]) == "no secrets here"
    assert short("a\nb   c", 10) == "a b c" and short("abcdefghijk", 5) == "abcd…" and short("abc", 0) == ""


# -- the /ask API's argument checks ----------------------------------------------------------------------------------
class _Refusing:
    """Stands in for the Assistant where only argument checking is under test (no index needed)."""

    settings = Settings(log_question_chars=10, _env_file=None)

    def ask(self, question: str, top_k: int | None = None, filters: object = None) -> Answer:
        validate_question(question, self.settings.max_question_chars)  # the Assistant's own check
        return Answer(question=question, standalone_question=question, answer="ok", abstained=False, language="id")


def test_ask_api_checks_its_arguments_and_returns_the_public_dict(caplog):
    import gradio as gr

    from ui.api import AskApi

    api = AskApi(_Refusing())  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO, logger="ui.api"):
        out = api.ask("Siapa yang memoderasi diskusi itu?", 3)
    assert out["answer"] == "ok" and set(out) >= {"question", "citations", "passages", "abstained", "timings_ms"}
    assert "Siapa yan…" in caplog.text and "diskusi" not in caplog.text
    for bad in (0, 21, True, 2.5, "5"):
        with pytest.raises(gr.Error, match="top_k"):
            api.ask("q", bad)  # type: ignore[arg-type]
    with pytest.raises(gr.Error, match="empty"):
        api.ask("   ")
    with pytest.raises(gr.Error, match="string"):
        api.ask(None)  # type: ignore[arg-type]


# -- the article viewer ----------------------------------------------------------------------------------------------
class _Reader:
    def __init__(self, texts: dict[str, str]) -> None:
        self.texts, self.asked = texts, []

    def document_text(self, source: str) -> str:
        self.asked.append(source)
        return self.texts[source]


def _cited(source: str) -> Answer:
    cite = Citation(n=1, source=source, start=0, end=5, quote="Halo.")
    return Answer(question="q", standalone_question="q", answer="Halo. [1]", abstained=False, language="id",
                  citations=[cite])


def test_article_view_shows_only_indexed_articles(tmp_path):
    from ui.chat import ChatHandlers

    secret = _file(tmp_path, "secret.txt", "RAHASIA")
    reader = _Reader({"a.txt": "Halo. Dunia <script>x</script>"})
    chat = ChatHandlers(SimpleNamespace(reader=reader, settings=Settings(_env_file=None)))  # type: ignore[arg-type]
    def state(source: str) -> list[dict]:  # the conversation as the browser sends it back (it may be forged)
        return history.dump([history.Entry(_cited(source))])

    shown = chat.open_article("1:1", state("a.txt"))
    assert "<mark" in shown and "&lt;script&gt;" in shown and "<script>" not in shown
    for source in (str(secret), "../secret.txt", "/etc/passwd"):
        shown = chat.open_article("1:1", state(source))
        assert "no longer in the index" in shown and "RAHASIA" not in shown
    assert reader.asked[1:] == [str(secret), "../secret.txt", "/etc/passwd"]  # looked up in the index, never opened
    for picked in ("1:7", "2:1", "0:1", "x"):
        assert "not part of this conversation" in chat.open_article(picked, state("a.txt")) or \
            "Ask a question first" in chat.open_article(picked, state("a.txt"))


def test_remove_deletes_a_link_never_its_target(tmp_path):
    articles = tmp_path / "articles"
    real = _file(articles, "000_real.txt", "Artikel asli.")
    outside = _file(tmp_path, "outside.txt", "Di luar.")
    os.symlink(real, articles / "alias.txt")
    os.symlink(outside, articles / "out.txt")
    os.symlink(tmp_path / "gone.txt", articles / "dangling.txt")
    for name in ("alias.txt", "out.txt", "dangling.txt"):
        library.remove_article(name, articles)
        assert not os.path.lexists(articles / name)
    assert real.read_text() == "Artikel asli."
    assert outside.read_text() == "Di luar."
