"""The web UI in a real Chromium: ask with citations, open the cited article, upload an article (the Evaluation tab:
test_eval_tab_browser.py).

The app runs in-process (``prevent_thread_lock``) over a real index of a tmp copy of the sample articles.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import NEW_ARTICLE, NEW_TEXT, ROOT, indexed_sample_settings

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts"
WAIT_MS = 120_000  # first answers load the embedder on a small CI machine
QUESTION = "Berapa orang yang meninggalkan Kazakhstan sejak 21 September?"
NEW_QUESTION = "Kapan Festival Layang-Layang Kelapa Ungu digelar di Tanjung Merbabu?"



@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    from assistant.chain import Assistant
    from ui.app import build_app, launch_app

    settings = indexed_sample_settings(tmp_path_factory.mktemp("ui"))
    app = build_app(Assistant(settings), settings)
    _, url, _ = launch_app(app, settings, prevent_thread_lock=True, quiet=True)
    yield url, settings
    app.close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian's Chromium is missing at /usr/bin/chromium: run `make install-test`")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM),
                              args=["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield b
        b.close()


@pytest.fixture
def page(browser, app_url):
    ARTIFACTS.mkdir(exist_ok=True)
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    pg.set_default_timeout(WAIT_MS)
    pg.goto(app_url[0])
    pg.locator("#question textarea").wait_for()
    yield pg
    pg.close()


def _ask(page, question: str) -> None:
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    page.locator("#status").get_by_text("citation").or_(page.locator("#status").get_by_text("No answer")).wait_for()


def test_answer_cites_and_sources_panel_marks_the_quote(page, app_url):
    from playwright.sync_api import expect

    _ask(page, QUESTION)
    expect(page.locator("#chatbot")).to_contain_text("[1]")
    expect(page.locator("#chatbot a[href='#a1-cite-1']").first).to_be_visible()
    expect(page.locator("#sources-panel #a1-cite-1 mark").first).to_contain_text("64.234")
    page.screenshot(path=str(ARTIFACTS / "ui-chat.png"), full_page=True)
    # feedback and export of the same turn
    settings = app_url[1]
    page.locator("#chatbot button[aria-label='Like']").last.click()  # the Chatbot's own per-answer like
    expect(page.locator("#status")).to_contain_text("recorded")
    record = json.loads(settings.feedback_path.read_text(encoding="utf-8").splitlines()[-1])
    assert record["rating"] == "up" and record["citations"][0]["n"] == 1 and record["question"] == QUESTION
    page.locator("#export-json").click()
    expect(page.locator("#export-file")).to_contain_text(".json")


def test_open_article_highlights_the_cited_span(page):
    from playwright.sync_api import expect

    _ask(page, QUESTION)
    page.locator("#open-article").click()
    mark = page.locator("#article-view mark#hl")
    expect(mark).to_contain_text("64.234")  # the first cited span of [1]
    expect(mark).to_be_in_viewport()
    page.screenshot(path=str(ARTIFACTS / "ui-article.png"), full_page=True)


def test_uploaded_article_is_indexed_and_cited(page, tmp_path):
    from playwright.sync_api import expect

    new = tmp_path / NEW_ARTICLE
    new.write_text(NEW_TEXT, encoding="utf-8")
    page.get_by_role("tab", name="Library").click()
    # refused uploads say why where the user looks: in the box (refused by the browser) or right below it
    (tmp_path / "tool.exe").write_bytes(b"MZ" + b"\0" * 64)
    page.locator("#library-upload input[type=file]").set_input_files(str(tmp_path / "tool.exe"))
    expect(page.locator("#library-upload")).to_contain_text("Not added: Invalid file type: tool.exe")
    page.locator("#library-upload button[aria-label='Clear']").first.click()
    (tmp_path / "fake.pdf").write_text("just text", encoding="utf-8")
    page.locator("#library-upload input[type=file]").set_input_files(str(tmp_path / "fake.pdf"))
    expect(page.locator("#library-status")).to_contain_text("Not added: fake.pdf is not a PDF file")
    page.locator("#library-upload input[type=file]").set_input_files(str(new))
    expect(page.locator("#library-status")).to_contain_text("Added", timeout=WAIT_MS)
    expect(page.locator("#library-table")).to_contain_text(NEW_ARTICLE)
    page.screenshot(path=str(ARTIFACTS / "ui-library.png"), full_page=True)
    page.get_by_role("tab", name="Chat").click()
    _ask(page, NEW_QUESTION)
    expect(page.locator("#sources-panel #a1-cite-1")).to_contain_text(NEW_ARTICLE)
    expect(page.locator("#chatbot")).to_contain_text("14 Maret 2031")
