"""The chat window as people use it (issue 27), in a real Chromium against a real ``assistant serve`` process, in the
light and the dark theme (the browser's colour scheme, which Gradio follows) at 1400×1000 and 390×844:

* highlighted evidence is readable: the contrast of ``<mark>`` text on its background is at least 4.5:1 in the
  citation cards and in the article view;
* one citation is open at a time across three answers: each new answer opens its own first citation (picker,
  outlined card, article pane), and a marker, a card or the picker of an earlier answer moves all three;
* per-answer like/dislike (stored with that answer's question and citations), retry and a stop button;
* removing an article asks first, says where the file goes, and can be undone.

Screenshots of both themes go to docs/ (the README shows them) and test-artifacts/.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port, indexed_sample_settings, served_env, stop, wait_until_listening

pytestmark = [pytest.mark.browser, pytest.mark.server]

CHROMIUM = Path("/usr/bin/chromium")
ASSISTANT = Path(sys.executable).parent / "assistant"
ARTIFACTS = ROOT / "test-artifacts"
DOCS = ROOT / "docs"
WAIT_MS = 120_000
Q_NUMBERS = "Berapa orang yang meninggalkan Kazakhstan sejak 21 September?"  # answered from 001_…
Q_MODERATOR = "Who moderated the discussion between Putin and Tokayev?"  # answered from 002_…
Q_CSTO = "Kapan CSTO mengirim pasukan ke Kazakhstan?"
DESKTOP, PHONE = {"width": 1400, "height": 1000}, {"width": 390, "height": 844}
SIZES = {"desktop": DESKTOP, "phone": PHONE}
MIN_CONTRAST = 4.5

# WCAG contrast of an element's text on what is drawn behind it (its own background, else the nearest ancestor's
# non-transparent one, each composited over the one below)
CONTRAST_JS = """(el) => {
  const parse = (c) => { const m = c.match(/rgba?\\(([^)]+)\\)/); if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number); return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1]; };
  const over = (top, bottom) => { const a = top[3] + bottom[3] * (1 - top[3]);
    if (a === 0) return [0, 0, 0, 0];
    return [0, 1, 2].map(i => (top[i] * top[3] + bottom[i] * bottom[3] * (1 - top[3])) / a).concat([a]); };
  const layers = [];
  for (let e = el; e; e = e.parentElement) layers.push(parse(getComputedStyle(e).backgroundColor));
  let bg = [255, 255, 255, 1];
  for (const layer of layers.reverse()) bg = over(layer, bg);
  const fg = over(parse(getComputedStyle(el).color), bg);
  const lum = (c) => { const [r, g, b] = c.slice(0, 3).map(v => { v /= 255;
    return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); }); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
  const [l1, l2] = [lum(fg), lum(bg)].sort((a, b) => b - a);
  return (l1 + 0.05) / (l2 + 0.05);
}"""


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """``assistant serve`` over its own copy of the sample articles (writable: the remove test moves one)."""
    tmp = tmp_path_factory.mktemp("chat-window")
    settings = indexed_sample_settings(tmp)
    env = served_env(tmp)
    env.pop("ASSISTANT_FEEDBACK_PATH", None)  # feedback, runs and trash go to the data folder by default
    env.update(ASSISTANT_ARTICLES_DIR=str(settings.articles_dir), ASSISTANT_INDEX_DIR=str(settings.index_dir),
               ASSISTANT_DATA_DIR=str(tmp / "data"))
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log_path = tmp / "server.log"
    with open(log_path, "wb") as out:
        proc = subprocess.Popen([str(ASSISTANT), "serve", "--port", str(port)], env=env, cwd=tmp, stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        wait_until_listening(proc, url, log_path, 300)
        yield url, settings, tmp / "data"
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def chromium():
    if not CHROMIUM.exists():
        pytest.fail("Debian's Chromium is missing at /usr/bin/chromium: run `make install-test`")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=30_000)  # a loaded CI machine answers in seconds, not the default 5 s
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM),
                                    args=["--headless=new", "--no-sandbox", "--disable-gpu",
                                          "--disable-background-networking"])
        yield browser
        browser.close()


def _page(chromium, url: str, scheme: str = "light", size: dict[str, int] = DESKTOP):
    pg = chromium.new_page(viewport=size, color_scheme=scheme)
    pg.set_default_timeout(WAIT_MS)
    pg.goto(url)
    pg.locator("#question textarea").wait_for()
    return pg


def _groups(page) -> int:
    return page.locator("#sources-panel details.src-group").count()


def _ask(page, question: str) -> None:
    before = _groups(page)
    page.locator("#question textarea").fill(question)
    page.locator("#ask").click()
    page.wait_for_function(
        "n => document.querySelectorAll('#sources-panel details.src-group').length > n"
        " && !document.querySelector('#sources-panel .src-pending')", arg=before, timeout=WAIT_MS)


def _open_source(page) -> str:
    return page.locator("#article-view .article-head code").inner_text()


def _card_source(page, turn: int, n: int = 1) -> str:
    return (page.locator(f"#a{turn}-cite-{n} .src-meta code").text_content() or "").strip()  # folded groups too


def _picked(page) -> list[str]:
    return page.evaluate("() => [...document.querySelectorAll('.src-card.src-picked')].map(c => c.id)")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_highlighted_evidence_is_readable_in_both_themes(chromium, served, scheme, size):
    from playwright.sync_api import expect

    pg = _page(chromium, served[0], scheme, SIZES[size])
    try:
        assert pg.evaluate("() => document.body.classList.contains('dark')") == (scheme == "dark")
        _ask(pg, Q_NUMBERS)
        expect(pg.locator("#article-view mark#hl")).to_contain_text("64.234")  # the new answer opened its article
        card_marks = pg.locator("#sources-panel .src-card mark")
        article_marks = pg.locator("#article-view mark")
        assert card_marks.count() and article_marks.count()
        for where, marks in (("card", card_marks), ("article", article_marks)):
            for i in range(marks.count()):
                ratio = marks.nth(i).evaluate(CONTRAST_JS)
                assert ratio >= MIN_CONTRAST, f"{scheme} {size} {where} mark {i}: contrast {ratio:.2f}:1"
        # the rest of the card text stays readable on the card too
        text = pg.locator("#sources-panel .src-card .src-text").first.evaluate(CONTRAST_JS)
        assert text >= MIN_CONTRAST, f"{scheme} {size} card text: {text:.2f}:1"
        pg.locator("#sources-panel").scroll_into_view_if_needed()
        pg.screenshot(path=str(ARTIFACTS / f"chat-{scheme}-{size}.png"), full_page=True)
        if size == "desktop":
            DOCS.mkdir(exist_ok=True)
            pg.screenshot(path=str(DOCS / f"chat-{scheme}.png"), full_page=False)
    finally:
        pg.close()


@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_picker_cards_and_article_pane_stay_in_step_across_three_answers(chromium, served, size):
    from playwright.sync_api import expect

    pg = _page(chromium, served[0], "dark" if size == "phone" else "light", SIZES[size])
    try:
        for turn, question in enumerate((Q_NUMBERS, Q_MODERATOR, Q_CSTO), 1):
            _ask(pg, question)
            # each new answer opens its own first citation: picker, outlined card and article pane agree
            expect(pg.locator("#cite-pick input")).to_have_value(re.compile(rf"^Answer {turn} "))
            assert _picked(pg) == [f"a{turn}-cite-1"]
            expect(pg.locator("#article-view .article-head code")).to_have_text(_card_source(pg, turn))
        # a marker of the first answer: picker, card and article move to it
        pg.locator("#chatbot a[href='#a1-cite-1']").click()
        expect(pg.locator("#cite-pick input")).to_have_value(re.compile(r"^Answer 1 "))
        expect(pg.locator("#article-view mark#hl")).to_contain_text("64.234")
        assert _picked(pg) == ["a1-cite-1"] and _open_source(pg) == _card_source(pg, 1)
        # the picker: the second answer's citation outlines its card and opens its article
        pg.locator("#cite-pick input").click()
        pg.get_by_role("option").filter(has_text="Answer 2").first.click()
        expect(pg.locator("#article-view .article-head code")).to_have_text(_card_source(pg, 2))
        pg.wait_for_function("() => document.querySelector('#a2-cite-1.src-picked')")
        assert _picked(pg) == ["a2-cite-1"]
        # a card of the third answer
        pg.locator("#a3-cite-1").click(position={"x": 6, "y": 6})
        expect(pg.locator("#cite-pick input")).to_have_value(re.compile(r"^Answer 3 "))
        expect(pg.locator("#article-view .article-head code")).to_have_text(_card_source(pg, 3))
        assert _picked(pg) == ["a3-cite-1"]
        # "Open article" opens the picked citation's article, not another answer's
        pg.locator("#open-article").click()
        expect(pg.locator("#article-view .article-head code")).to_have_text(_card_source(pg, 3))
        pg.screenshot(path=str(ARTIFACTS / f"chat-in-step-{size}.png"), full_page=True)
    finally:
        pg.close()


def test_like_dislike_per_answer_retry_and_stop(chromium, served):
    from playwright.sync_api import expect

    url, _, data = served
    pg = _page(chromium, url)
    try:
        expect(pg.locator("#chatbot button[aria-label='Like']")).to_have_count(0)  # nothing to rate before answers
        _ask(pg, Q_NUMBERS)
        _ask(pg, Q_MODERATOR)
        bots = pg.locator("#chatbot .message-row.bot-row, #chatbot .bot-row")
        likes = pg.locator("#chatbot button[aria-label='Like']")
        dislikes = pg.locator("#chatbot button[aria-label='Dislike']")
        expect(likes).to_have_count(2)
        likes.nth(0).click()  # the first answer, not the last
        expect(pg.locator("#status")).to_contain_text("for answer 1")
        dislikes.nth(1).click()
        expect(pg.locator("#status")).to_contain_text("“bad answer” for answer 2")
        records = [json.loads(line) for line in (data / "feedback.jsonl").read_text(encoding="utf-8").splitlines()]
        assert [(r["question"], r["rating"]) for r in records[-2:]] == [(Q_NUMBERS, "up"), (Q_MODERATOR, "down")]
        assert records[-2]["citations"] and records[-2]["citations"][0]["source"].startswith("001_")
        assert bots.count() >= 2
        expect(pg.locator("#chatbot button[aria-label='Copy message']").first).to_be_attached()
        # retry the last answer: it is answered again in its place
        pg.locator("#chatbot button[aria-label='Retry']").last.click()
        expect(pg.locator("#status")).to_contain_text("citation")
        pg.wait_for_function("() => !document.querySelector('#sources-panel .src-pending')")
        assert _groups(pg) == 2
        # stop: a question stopped at once leaves the conversation as it was (no half answer kept)
        pg.locator("#question textarea").fill(Q_CSTO)
        pg.locator("#ask").click()
        pg.locator("#stop").click()
        pg.wait_for_timeout(1500)
        status = pg.locator("#status").inner_text()
        assert "Stopped" in status or _groups(pg) == 3, status  # an answer can finish before the click lands
        expect(pg.locator("#sources-panel .src-pending")).to_have_count(0)
    finally:
        pg.close()


def test_remove_article_asks_first_and_can_be_undone(chromium, served):
    from playwright.sync_api import expect

    url, settings, data = served
    articles = Path(settings.articles_dir)
    name = sorted(p.name for p in articles.iterdir() if p.suffix == ".txt")[-1]
    before = (articles / name).read_bytes()
    pg = _page(chromium, url)
    try:
        pg.get_by_role("tab", name="Library").click()
        expect(pg.locator("#library-table")).to_contain_text(name)
        pg.locator("#library-pick input").click()
        pg.get_by_role("option", name=name).click()
        pg.locator("#library-remove").click()
        confirm = pg.locator("#library-confirm-text")
        expect(confirm).to_be_visible()
        expect(confirm).to_contain_text(name)
        expect(confirm).to_contain_text("trash")
        pg.locator("#library-confirm-no").click()  # cancel: nothing happens to the file
        expect(confirm).to_be_hidden()
        assert (articles / name).read_bytes() == before
        pg.locator("#library-remove").click()
        pg.locator("#library-confirm-yes").click()
        expect(pg.locator("#library-status")).to_contain_text(f"Moved {name} to the trash")
        assert not (articles / name).exists()
        assert [p.read_bytes() for p in (data / "trash").rglob(name)] == [before]
        expect(pg.locator("#library-table")).not_to_contain_text(name)
        pg.locator("#library-undo").click()
        expect(pg.locator("#library-status")).to_contain_text(f"Restored {name}")
        assert (articles / name).read_bytes() == before
        expect(pg.locator("#library-table")).to_contain_text(name)
        pg.screenshot(path=str(ARTIFACTS / "library-undo.png"), full_page=True)
        # the Evaluation tab of a server without runs: an empty state, no placeholder tables
        pg.get_by_role("tab", name="Evaluation").click()
        expect(pg.locator("#eval-empty")).to_contain_text("No evaluation run yet")
        expect(pg.locator("#eval-metrics")).to_be_hidden()
        expect(pg.locator("#eval-questions")).to_be_hidden()
    finally:
        pg.close()
