"""The chat window in a real Chromium against a real ``assistant serve --read-only`` process.

One server (read-only, over the session's index of the sample articles) and one browser page serve the whole module:
each answer keeps its own sources, the sources panel scrolls inside its box at desktop and phone sizes (bounding
boxes), a filter narrows the sources, a reload keeps the conversation and "New chat" clears it, a rewritten follow-up
can be searched as typed, and the read-only server refuses library changes from the browser and from a client.
Last, its own server is restarted: the conversation kept in the browser still opens (its key is kept in the index).
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, free_port, served_env, stop, wait_until_listening

pytestmark = [pytest.mark.browser, pytest.mark.server]

CHROMIUM = Path("/usr/bin/chromium")
ASSISTANT = Path(sys.executable).parent / "assistant"
ARTIFACTS = ROOT / "test-artifacts"
START_TIMEOUT = 300
WAIT_MS = 120_000
Q_NUMBERS = "Berapa orang yang meninggalkan Kazakhstan sejak 21 September?"  # answered from 001_…
Q_MODERATOR = "Who moderated the discussion between Putin and Tokayev?"  # answered from 002_…
Q_UNKNOWN = "Siapa pemenang Piala Dunia sepak bola tahun 2018?"  # not in the articles: three closest passages
Q_ELLIPSIS = "Dan berapa yang masuk?"  # cannot stand alone: rewritten from the previous question
NUMBERS_SOURCE = "001_7539421ef6c581f1.txt"
DESKTOP, PHONE = {"width": 1400, "height": 1000}, {"width": 390, "height": 844}


@contextmanager
def _server(settings, tmp: Path, port: int) -> Iterator[str]:
    """``assistant serve --read-only`` over the session's index on ``port``; yields its URL."""
    env = served_env(tmp)
    env.update(ASSISTANT_ARTICLES_DIR=str(settings.articles_dir), ASSISTANT_INDEX_DIR=str(settings.index_dir))
    url = f"http://127.0.0.1:{port}/"
    log_path = tmp / f"server-{time.monotonic_ns()}.log"
    with open(log_path, "wb") as out:
        proc = subprocess.Popen([str(ASSISTANT), "serve", "--read-only", "--port", str(port)], env=env, cwd=tmp,
                                stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until_listening(proc, url, log_path, START_TIMEOUT)
        yield url
    finally:
        stop(proc)


def _open(browser: Any, url: str) -> Any:
    """A new page (its own context: its own localStorage) at ``url``, once the app is on it."""
    pg = browser.new_page(viewport=DESKTOP)
    pg.set_default_timeout(WAIT_MS)
    pg.goto(url)
    pg.locator("#question textarea").wait_for()
    return pg


@pytest.fixture(scope="module")
def served(settings, built_index, tmp_path_factory):
    """The module's server; yields (url, articles folder)."""
    with _server(settings, tmp_path_factory.mktemp("chat-ui"), free_port()) as url:
        yield url, Path(settings.articles_dir)


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail("Debian's Chromium is missing at /usr/bin/chromium: run `make install-test`")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM),
                                     args=["--headless=new", "--no-sandbox", "--disable-gpu",
                                           "--disable-background-networking"])
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def page(browser, served):
    pg = _open(browser, served[0])
    yield pg
    pg.close()


def _groups(page) -> int:
    return page.locator("#sources-panel details.src-group").count()


def _ask(page, question: str) -> None:
    """Ask and wait until the answer's own group of sources is in the panel (and nothing is pending)."""
    before = _groups(page)
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    page.wait_for_function(
        "n => document.querySelectorAll('#sources-panel details.src-group').length > n"
        " && !document.querySelector('#sources-panel .src-pending')", arg=before, timeout=WAIT_MS)


def _new_chat(page) -> None:
    """Start a new conversation and wait until the server's reset has landed: on a fresh page the panel is empty
    already, and a reset that lands after the next question's answer would wipe that answer's sources. (The page
    load's restore changes nothing when nothing was saved, so it cannot overwrite the reset's status.)"""
    page.locator("#new-chat").click()
    page.locator("#status").get_by_text("New conversation.").wait_for()
    page.wait_for_function("() => !document.querySelector('#sources-panel details.src-group')")


def _overlaps(page) -> list[str]:
    """Cards whose visible part (clipped by the scrolling panel) overlaps the citation controls below the panel,
    and whether the controls are on top where they are drawn."""
    return page.evaluate("""() => {
        const panel = document.getElementById('sources-scroll').getBoundingClientRect();
        const ctrl = document.getElementById('source-controls').getBoundingClientRect();
        const bad = [];
        if (panel.bottom > ctrl.top + 0.5) bad.push(`panel ends at ${panel.bottom}, controls start at ${ctrl.top}`);
        for (const card of document.querySelectorAll('#sources-panel .src-card')) {
            const r = card.getBoundingClientRect();
            const top = Math.max(r.top, panel.top), bottom = Math.min(r.bottom, panel.bottom);
            if (bottom <= top) continue;  // scrolled out of the panel's box: not drawn
            const apart = bottom <= ctrl.top || top >= ctrl.bottom || r.right <= ctrl.left || r.left >= ctrl.right;
            if (!apart) bad.push(`${card.id || 'card'} ${top}-${bottom} over controls ${ctrl.top}-${ctrl.bottom}`);
        }
        for (const sel of ['#cite-pick', '#open-article']) {
            const b = document.querySelector(sel).getBoundingClientRect();
            const x = b.left + b.width / 2, y = b.top + b.height / 2;
            const hit = document.elementFromPoint(x, y);
            if (hit && hit.closest('.src-card')) bad.push(`a card is drawn over ${sel}`);
        }
        return bad;
    }""")


def test_each_answer_keeps_its_own_sources_and_the_panel_scrolls_in_its_box(page):
    from playwright.sync_api import expect

    _new_chat(page)
    _ask(page, Q_NUMBERS)
    _ask(page, Q_MODERATOR)
    chat = page.locator("#chatbot")
    expect(chat.locator("a[href='#a1-cite-1']")).to_have_count(1)
    expect(chat.locator("a[href='#a2-cite-1']")).to_have_count(1)
    expect(page.locator("#a1-sources")).not_to_have_attribute("open", "")  # earlier answers folded, still there
    # the first answer's marker opens the first answer's card, not the latest answer's
    chat.locator("a[href='#a1-cite-1']").click()
    first = page.locator("#a1-cite-1")
    expect(first).to_have_class("src-card src-picked")
    expect(first.locator("mark").first).to_contain_text("64.234")
    expect(first).to_contain_text(NUMBERS_SOURCE)
    expect(first).to_be_in_viewport()
    expect(page.locator("#a2-cite-1")).not_to_have_class("src-card src-picked")
    chat.locator("a[href='#a2-cite-1']").click()
    expect(page.locator("#a2-cite-1")).to_have_class("src-card src-picked")
    expect(page.locator("#a2-cite-1")).to_contain_text("Putin")
    # the citation picker lists the citations of every answer
    page.locator("#cite-pick input").click()
    options = page.get_by_role("option")
    expect(options.filter(has_text="Answer 2").first).to_be_visible()  # every answer's citations, each labelled
    options.filter(has_text="Answer 1").first.click()
    page.locator("#open-article").click()
    expect(page.locator("#article-view mark#hl")).to_contain_text("64.234")
    # a third answer (three closest passages): three groups open, 5 cards, more than the panel's height
    _ask(page, Q_UNKNOWN)
    page.evaluate("() => document.querySelectorAll('#sources-panel details').forEach(d => d.open = true)")
    assert page.locator("#sources-panel .src-card").count() >= 3
    scroll = page.evaluate("() => { const e = document.getElementById('sources-scroll');"
                           " return [getComputedStyle(e).overflowY, e.scrollHeight, e.clientHeight]; }")
    assert scroll[0] in ("auto", "scroll") and scroll[1] > scroll[2], scroll
    for name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.locator("#sources-panel").scroll_into_view_if_needed()
        assert _overlaps(page) == [], name
        page.screenshot(path=str(ARTIFACTS / f"ui-sources-{name}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


def test_clicking_a_card_picks_it_and_opens_its_article(page):
    from playwright.sync_api import expect

    _new_chat(page)
    _ask(page, Q_NUMBERS)
    _ask(page, Q_MODERATOR)
    page.locator("#a2-cite-1").click(position={"x": 6, "y": 6})  # the latest answer's group is open
    expect(page.locator("#cite-pick input")).to_have_value(re.compile(r"^Answer 2 "))
    expect(page.locator("#article-view mark#hl")).to_contain_text("Putin")
    page.locator("#chatbot a[href='#a1-cite-1']").click()  # unfolds the earlier answer's group
    page.locator("#a1-cite-1").click(position={"x": 6, "y": 6})
    expect(page.locator("#a1-cite-1")).to_have_class("src-card src-picked")
    expect(page.locator("#cite-pick input")).to_have_value(re.compile(r"^Answer 1 "))
    expect(page.locator("#article-view mark#hl")).to_contain_text("64.234")
    page.locator("#a2-cite-1").click(position={"x": 6, "y": 6})
    page.locator("#a1-cite-1").click(position={"x": 6, "y": 6})  # the same card a second time still counts
    expect(page.locator("#article-view mark#hl")).to_contain_text("64.234")


def test_filter_narrows_the_sources_and_is_shown_above_the_answer(page):
    from playwright.sync_api import expect

    _new_chat(page)
    _ask(page, Q_MODERATOR)
    unfiltered = set(page.locator("#a1-sources .src-meta code").all_inner_texts())
    assert unfiltered and unfiltered != {NUMBERS_SOURCE}, unfiltered
    page.locator("#chat-settings").get_by_text("Settings").click()
    page.locator("#filter-sources input").click()
    page.get_by_role("option").filter(has_text=NUMBERS_SOURCE).click()
    page.keyboard.press("Escape")
    _ask(page, Q_MODERATOR)
    filtered = page.locator("#a2-sources .src-meta code").all_inner_texts()
    assert filtered and set(filtered) == {NUMBERS_SOURCE}, filtered
    expect(page.locator("#chatbot .message-row").last).to_contain_text(f"Filtered: article {NUMBERS_SOURCE}")
    page.screenshot(path=str(ARTIFACTS / "ui-filter.png"), full_page=True)
    # a bad date is one line, nothing is asked
    page.locator("#filter-from textarea, #filter-from input").first.fill("30.09.2022")
    page.locator("#question textarea").fill(Q_NUMBERS)
    page.locator("#ask").click()
    expect(page.locator("#status")).to_contain_text("date from must look like yyyy-mm-dd")
    assert _groups(page) == 2
    page.reload()  # filters are not kept across reloads: the next tests ask unfiltered
    page.locator("#question textarea").wait_for()


def test_reload_keeps_the_chat_and_new_chat_clears_it(page):
    from playwright.sync_api import expect

    _new_chat(page)
    _ask(page, Q_NUMBERS)
    _ask(page, Q_MODERATOR)
    page.reload()
    page.locator("#question textarea").wait_for()
    expect(page.locator("#status")).to_contain_text("Restored 2 earlier answer(s)")
    expect(page.locator("#chatbot")).to_contain_text(Q_NUMBERS)
    expect(page.locator("#chatbot")).to_contain_text("64.234")
    expect(page.locator("#a1-cite-1 mark").first).to_contain_text("64.234")
    page.locator("#chatbot a[href='#a1-cite-1']").click()  # restored markers still open their own cards
    expect(page.locator("#a1-cite-1")).to_have_class("src-card src-picked")
    _new_chat(page)
    page.reload()
    page.locator("#question textarea").wait_for()
    page.wait_for_timeout(1500)  # the restore runs on load: give it time to (wrongly) bring anything back
    expect(page.locator("#chatbot")).not_to_contain_text(Q_NUMBERS)
    assert _groups(page) == 0


def test_rewritten_follow_up_can_be_searched_as_typed(page):
    from playwright.sync_api import expect

    _new_chat(page)
    _ask(page, Q_NUMBERS)
    _ask(page, Q_ELLIPSIS)
    last = page.locator("#chatbot .message-row").last
    expect(last).to_contain_text("Searched as:")
    button = page.locator("#search-as-typed")
    expect(button).to_be_visible()
    button.click()
    expect(page.locator("#status")).to_contain_text("searched as typed")
    expect(page.locator("#chatbot .message-row").last).not_to_contain_text("Searched as:")
    expect(button).to_be_hidden()
    assert _groups(page) == 2  # the answer took the last one's place


def test_read_only_server_offers_and_accepts_no_library_changes(page, served, tmp_path):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError
    from playwright.sync_api import expect

    url, articles = served
    before = {p.name: p.read_bytes() for p in articles.iterdir()}
    page.get_by_role("tab", name="Library").click()
    expect(page.locator("#library-table")).to_contain_text(NUMBERS_SOURCE)
    expect(page.locator("#library-read-only")).to_contain_text("read-only")
    for control in ("#library-upload", "#library-remove", "#library-rebuild"):
        expect(page.locator(control)).to_be_hidden()
    page.get_by_role("tab", name="Chat").click()
    new = tmp_path / "new.txt"
    new.write_text("Sebuah artikel baru tentang Kazakhstan.\n\nIsi artikel yang cukup panjang.", encoding="utf-8")
    client = Client(url, verbose=False, download_files=False)
    calls = {"/add": ([handle_file(str(new))], False), "/remove": (None,), "/rebuild": ()}
    for api_name, args in calls.items():
        with pytest.raises(AppError, match="read-only"):
            client.predict(*args, api_name=api_name)
    assert {p.name: p.read_bytes() for p in articles.iterdir()} == before
    assert client.predict(Q_NUMBERS, api_name="/ask")["citations"], "asking still works"


def test_the_conversation_survives_a_server_restart(browser, settings, built_index, tmp_path):
    """The browser keeps the conversation encrypted; the key is kept in the index folder, so a restarted server (same
    address, hence the same localStorage) still restores it."""
    from playwright.sync_api import expect

    port = free_port()
    with ExitStack() as first:
        pg = _open(browser, first.enter_context(_server(settings, tmp_path, port)))
        _ask(pg, Q_MODERATOR)
        first.close()  # the server stops; the page stays open
        with _server(settings, tmp_path, port):
            pg.reload()
            pg.locator("#question textarea").wait_for()
            expect(pg.locator("#status")).to_contain_text("Restored 1 earlier answer(s)")
            expect(pg.locator("#chatbot")).to_contain_text(Q_MODERATOR)
            assert _groups(pg) == 1
        pg.close()
