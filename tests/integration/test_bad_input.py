"""Every kind of bad input, end to end: one messy folder indexed once (real embedder, real Chroma on tmp_path), the
real CLI in a subprocess for the one-line messages. Good files are indexed exactly; bad files are skipped with a
reason and the build goes on; the index that answered before still answers afterwards."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from index import BadInput, build_index, open_index
from index.loading import Skipped, load_file
from index.tokens import count_tokens
from tests.conftest import MODEL_CACHE, ROOT

pytestmark = pytest.mark.slow

# Good files, each in its own encoding or under an awkward name: name -> (bytes on disk, decoded text).
LATIN1 = ("Kafe Café Mawar di Bandung dibuka kembali pada hari Senin oleh Budi Santoso.\n"
          "Pemiliknya menyajikan crème brûlée dan kopi tubruk; secangkir kopi kini seharga dua puluh ribu rupiah.\n")
CP1252 = ("Menteri Keuangan Sri Wahyuni berkata “anggaran tetap aman” dalam rapat pada hari Selasa.\n"
          "Nilai tukar euro mencapai €1,08 per dolar – angka tertinggi tahun ini, kata bank sentral.\n")
UTF16 = ("Banjir melanda Kota Samarinda pada hari Rabu setelah hujan deras semalaman.\r\n"
         "Sebanyak 1.200 warga mengungsi ke Gedung Serbaguna “Harapan” di pusat kota.\r\n")
JAPAN = ("Festival budaya Jepang di Jakarta menampilkan pertunjukan taiko dan ikebana.\n"
         "Panitia mencatat lima ribu pengunjung pada hari pertama festival itu.\n")
PORT = "Pelabuhan Tanjung Perak mencatat kenaikan bongkar muat peti kemas sebesar sepuluh persen pada bulan Mei.\n"
GOOD = {
    "kafe latin1.txt": (LATIN1.encode("latin-1"), LATIN1),
    "menteri-cp1252.txt": (CP1252.encode("cp1252"), CP1252),
    "banjir-utf16.txt": (UTF16.encode("utf-16"), UTF16),  # BOM + \r\n
    "berita ñ ü 日本.txt": (JAPAN.encode("utf-8"), JAPAN),
    "a..b.txt": (PORT.encode("utf-8"), PORT),
}
HTML = (
    "<html><head><title>Kereta Cepat Beroperasi Penuh</title>"
    "<script>var zzskripkepala = 'zzrahasiaskrip';</script>"
    "<style>.zzgayarahasia { color: red } body::after { content: 'zzkontengaya' }</style></head><body>"
    "<nav>Beranda | Berita</nav><article><h1>Kereta Cepat Beroperasi Penuh</h1>"
    "<p>Kereta cepat Jakarta–Bandung mulai beroperasi penuh pada hari Kamis dengan empat puluh perjalanan sehari.</p>"
    "<script>document.write('zzskripbadan')</script>"
    "<p>Direktur operasional mengatakan jumlah penumpang naik dua kali lipat dibandingkan bulan lalu.</p>"
    "<style>p.zzgayabadan { margin: 0 }</style>"
    "<p>Tiket termurah dijual seharga dua ratus ribu rupiah untuk kelas ekonomi premium.</p>"
    "<p>Penumpang dapat membeli tiket melalui aplikasi resmi maupun loket di stasiun Halim.</p>"
    "</article></body></html>"
)
SECRETS = ("zzskripkepala", "zzrahasiaskrip", "zzgayarahasia", "zzkontengaya", "zzskripbadan", "zzgayabadan", "color")
# Bad files: name -> a phrase the skip message must contain.
BAD = {
    "empty.txt": "empty file",
    "blank.md": "empty file",
    "gambar.txt": "binary content",
    "besar.txt": "too large to be one article (50.0 MB",
    "baris-panjang.txt": "run of 1,048,576 characters without a space",
    "pindaian.pdf": "PDF has no text layer",
    "rusak.pdf": "unreadable PDF",
    "tautan-keluar.txt": "outside the articles folder",
    "tautan-putus.txt": "not a regular file",
    "caf\udce9.txt": "name is not valid UTF-8",  # a Latin-1 file name on a UTF-8 system
}


def _settings(articles: Path, index_dir: Path):
    from assistant.settings import Settings

    return Settings(articles_dir=articles, index_dir=index_dir, model_cache_dir=MODEL_CACHE, llm="extractive",
                    _env_file=None)


def _write_bad_files(folder: Path, outside: Path) -> None:
    from pypdf import PdfWriter

    (folder / "empty.txt").write_bytes(b"")
    (folder / "blank.md").write_bytes(b"  \n\t\r\n ")
    (folder / "gambar.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 64)
    with open(folder / "besar.txt", "wb") as fh:  # 50 MB of ordinary text, written in 1 MB blocks
        block = (b"Kalimat berita biasa yang diulang terus. " * 25_600)[: 1024 * 1024]
        for _ in range(50):
            fh.write(block)
    (folder / "baris-panjang.txt").write_bytes(b"Judul\n" + b"QUJD" * (1024 * 1024 // 4) + b"\n")
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    with open(folder / "pindaian.pdf", "wb") as fh:
        writer.write(fh)
    (folder / "rusak.pdf").write_bytes((folder / "pindaian.pdf").read_bytes()[:300])  # truncated
    (folder / "tautan-putus.txt").symlink_to(folder / "sudah-dihapus.txt")
    with open(os.path.join(os.fsencode(folder), b"caf\xe9.txt"), "wb") as fh:
        fh.write(b"Berita dengan nama berkas Latin-1 yang tidak bisa disimpan sebagai sumber.\n")
    outside.mkdir()
    (outside / "rahasia.txt").write_text("Dokumen rahasia zzdiluarfolder yang tidak boleh masuk indeks.\n", "utf-8")
    (folder / "tautan-keluar.txt").symlink_to(outside / "rahasia.txt")


@pytest.fixture(scope="module")
def messy(tmp_path_factory, embedder):
    """A good index (good files only) that answers, then the same folder with every kind of bad file, re-indexed."""
    from assistant.chain import Assistant

    base = tmp_path_factory.mktemp("bad_input")
    folder = base / "articles"
    folder.mkdir()
    for name, (raw, _) in GOOD.items():
        (folder / name).write_bytes(raw)
    settings = _settings(folder, base / "index")
    first = build_index(folder, settings.index_config())
    before = Assistant(settings).ask("Siapa yang membuka kembali Café Mawar?")

    _write_bad_files(folder, base / "outside")
    (folder / "kereta.html").write_text(HTML, encoding="utf-8")
    t0 = time.perf_counter()
    summary = build_index(folder, settings.index_config())
    seconds = time.perf_counter() - t0
    return {"folder": folder, "settings": settings, "first": first, "before": before, "summary": summary,
            "seconds": seconds, "reader": open_index(settings.index_config())}


def test_good_index_answers_before_and_after_a_messy_build(messy):
    from assistant.chain import Assistant

    assert messy["first"].indexed == len(GOOD) and messy["first"].skipped == 0
    for answer in (messy["before"], Assistant(messy["settings"]).ask("Siapa yang membuka kembali Café Mawar?")):
        assert not answer.abstained and "Budi Santoso" in answer.answer
        assert answer.citations and answer.citations[0].source == "kafe latin1.txt"
    summary = messy["summary"]
    assert summary.unchanged == len(GOOD) and summary.indexed == 1  # the good files cost nothing; the HTML is new
    assert summary.skipped == len(BAD) and summary.files == len(GOOD) + 1 + len(BAD)
    assert messy["seconds"] < 60  # not minutes: the 50 MB file is refused unread, the 1 MB line is not chunked


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_file_is_skipped_with_one_clear_line(messy, name):
    lines = [w for w in messy["summary"].warnings if Path(w.split(": ", 1)[0].removeprefix("skipped ")).name == name]
    assert len(lines) == 1, messy["summary"].warnings
    assert BAD[name] in lines[0] and "\n" not in lines[0] and "Traceback" not in lines[0]
    assert name not in messy["reader"].state.files


@pytest.mark.parametrize("name", sorted(GOOD))
def test_good_file_is_decoded_exactly_with_exact_offsets(messy, name):
    reader = messy["reader"]
    raw, text = GOOD[name]
    assert reader.document_text(name) == text  # café, “ ”, €, \r\n survive
    chunks = [reader.passage(cid) for cid in reader.state.files[name].chunk_ids]
    assert chunks
    for p in chunks:
        assert text[p.start : p.end] == p.text and count_tokens(p.text) <= messy["settings"].chunk_tokens
    assert all(any(line.strip() in p.text for p in chunks) for line in text.splitlines())  # nothing lost


def test_html_script_and_style_are_never_indexed(messy):
    reader = messy["reader"]
    rec = reader.state.files["kereta.html"]
    stored = reader.document_text("kereta.html")
    assert "empat puluh perjalanan" in stored and "stasiun Halim" in stored
    texts = [reader.passage(cid).text for cid in rec.chunk_ids]
    vocab = set(reader.bm25.model.vocab_dict)
    for secret in SECRETS:
        assert secret not in stored and all(secret not in t for t in texts)
        assert not any(secret in term for term in vocab), secret
    assert reader.lexical("zzrahasiaskrip zzskripbadan zzgayarahasia", 5) == []


def test_source_paths_never_leave_the_articles_folder(messy):
    folder = messy["folder"].resolve()
    reader = messy["reader"]
    for source in reader.state.files:
        assert (folder / source).resolve().is_relative_to(folder), source
    for cid in reader.state.chunks:
        assert "zzdiluarfolder" not in reader.passage(cid).text
    assert not any("zzdiluarfolder" in term for term in reader.bm25.model.vocab_dict)


def test_50_mb_file_is_refused_without_reading_it(messy):
    tracemalloc.start()
    t0 = time.perf_counter()
    with pytest.raises(Skipped, match=r"50\.0 MB; the limit for \.txt files is 5\.0 MB"):
        load_file(messy["folder"], messy["folder"] / "besar.txt")
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert time.perf_counter() - t0 < 1 and peak < 1024 * 1024


def test_question_with_control_and_zero_width_characters_is_answered(messy):
    from assistant.chain import Assistant

    answer = Assistant(messy["settings"]).ask("\ufeffSiapa\u200b yang membuka\x00 kembali\u202e Café\u2060 Mawar?\x07")
    assert answer.question == "Siapa yang membuka kembali Café Mawar?"
    assert not answer.abstained and "Budi Santoso" in answer.answer


@pytest.mark.parametrize("question", ["", "   \t ", "\u200b\u200d", "Siapa presiden Kazakhstan? " * 3704],
                         ids=["empty", "whitespace", "zero-width", "100k"])
def test_bad_question_is_refused_in_process(messy, question):
    from assistant.chain import Assistant

    with pytest.raises(BadInput) as err:
        Assistant(messy["settings"]).ask(question)
    assert "\n" not in str(err.value) and ("empty" in str(err.value) or "limit is 2" in str(err.value))


def test_failed_builds_leave_the_index_intact(messy, tmp_path):
    settings = messy["settings"]
    state_before = open_index(settings.index_config()).state.files.keys()
    (tmp_path / "kosong").mkdir()
    for path in (tmp_path / "tidak-ada", tmp_path / "kosong"):
        with pytest.raises(BadInput):
            build_index(path, settings.index_config())
    reader = open_index(settings.index_config())
    assert reader.state.files.keys() == state_before and reader.lexical("Budi Santoso Café Mawar", 1)


# -- the real CLI: exit code 1, one line on stderr, no traceback ---------------------------------------------------


def _cli(args: list[str], index_dir: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASSISTANT_INDEX_DIR": str(index_dir), "ASSISTANT_MODEL_CACHE_DIR": str(MODEL_CACHE),
           "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "GRADIO_ANALYTICS_ENABLED": "False", "ANONYMIZED_TELEMETRY": "False"}
    return subprocess.run([sys.executable, "-m", "ui", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def _cli_cases(tmp: Path) -> list[tuple[list[str], str]]:
    (tmp / "kosong").mkdir()
    (tmp / "set.jsonl").write_text('{"id": "q1", "question": "Siapa?"}\n{"id": "q2", "question": \n', "utf-8")
    (tmp / "fields.jsonl").write_text('{"id": "q1", "question": "Siapa?"}\n\n{"id": "q3"}\n', "utf-8")
    return [
        (["index", str(tmp / "tidak-ada")], "error: articles folder not found"),
        (["index", str(tmp / "kosong")], "error: no articles in"),
        (["ask", " \u200b\t"], "error: the question is empty"),
        (["ask", "Siapa presiden Kazakhstan? " * 3704], "error: the question is 100,007 characters long"),
        (["eval", str(tmp / "set.jsonl")], "error: set.jsonl line 2: not valid JSON"),
        (["eval", str(tmp / "fields.jsonl")], "error: fields.jsonl line 3: missing field 'question'"),
    ]


def test_cli_turns_bad_input_into_one_line_and_exit_1(messy, tmp_path):
    index_dir = messy["settings"].index_dir
    state_file_times = {p: p.stat().st_mtime_ns for p in index_dir.rglob("*") if p.is_file()}
    for args, expected in _cli_cases(tmp_path):
        out = _cli(args, index_dir, tmp_path)
        shown = args[:1] + [a[:40] for a in args[1:]]
        assert out.returncode == 1, (shown, out.stderr[-2000:])
        assert out.stderr.startswith(expected), (shown, out.stderr)
        assert len(out.stderr.strip().splitlines()) == 1 and "Traceback" not in out.stderr, (shown, out.stderr)
    assert {p: p.stat().st_mtime_ns for p in index_dir.rglob("*") if p.is_file()} == state_file_times
    assert open_index(messy["settings"].index_config()).state.files.keys() == messy["reader"].state.files.keys()


# -- a file indexed before that cannot be read now, a file deleted while the build runs ------------------------------


def _without_root_powers(argv: list[str]) -> list[str]:
    """``argv`` run so that file permissions apply: as root, without the capabilities that bypass them."""
    if os.geteuid() != 0:
        return argv
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        pytest.fail("running as root: setpriv (util-linux) is needed to make a file unreadable")
    drop = "-dac_override,-dac_read_search"
    return [setpriv, f"--inh-caps={drop}", f"--bounding-set={drop}", "--", *argv]


def test_article_unreadable_now_keeps_its_previous_passages(tmp_path):
    from tests.conftest import SAMPLE

    articles = tmp_path / "articles"
    articles.mkdir()
    for f in sorted(SAMPLE.iterdir())[:2]:
        shutil.copy(f, articles / f.name)
    settings = _settings(articles, tmp_path / "idx")
    build_index(articles, settings.index_config())
    before = open_index(settings.index_config()).state.files
    locked = sorted(articles.iterdir())[0]
    locked.chmod(0)
    try:
        argv = [sys.executable, "-m", "ui", "index", str(articles)]
        env = {**os.environ, "ASSISTANT_INDEX_DIR": str(settings.index_dir),
               "ASSISTANT_MODEL_CACHE_DIR": str(MODEL_CACHE), "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1",
               "TRANSFORMERS_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False"}
        out = subprocess.run(_without_root_powers(argv), cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=300)
    finally:
        locked.chmod(0o644)
    assert out.returncode == 0, out.stderr[-2000:]
    assert f"warning: kept the previous passages of {locked}: cannot read (Permission denied)" in out.stderr, \
        out.stderr[-2000:]
    reader = open_index(settings.index_config())
    assert reader.state.generation > 0 and reader.state.files.keys() == before.keys()
    kept = reader.state.files[locked.name]
    assert kept.chunk_ids == before[locked.name].chunk_ids and kept.chunk_ids
    first = reader.passage(kept.chunk_ids[0])
    hits = reader.dense(reader.embedder.embed_query(first.text), 5)
    assert kept.chunk_ids[0] in [h.id for h in hits]


def test_article_deleted_during_the_build_is_reported_as_gone(tmp_path, monkeypatch):
    import index.builder
    from tests.conftest import SAMPLE

    articles = tmp_path / "articles"
    articles.mkdir()
    for f in sorted(SAMPLE.iterdir())[:2]:
        shutil.copy(f, articles / f.name)
    settings = _settings(articles, tmp_path / "idx")
    build_index(articles, settings.index_config())
    gone = sorted(articles.iterdir())[1]
    listed = index.builder.discover(articles)  # the folder as the build lists it, before the file goes
    gone.unlink()
    monkeypatch.setattr(index.builder, "discover", lambda root: listed)
    summary = build_index(articles, settings.index_config())
    assert summary.removed == 1 and summary.skipped == 0, summary
    assert summary.warnings == [f"{gone} no longer exists (deleted during the build): its passages are removed"]
    assert gone.name not in open_index(settings.index_config()).state.files


# -- entries that are not articles: a symbolic link loop, a named pipe, a link to a folder ----------------------------


def test_link_loop_pipe_and_folder_link_are_skipped_with_one_warning_each(tmp_path):
    """`ln -s b.txt a.txt; ln -s a.txt b.txt` once ended the build in a traceback (RuntimeError: Symlink loop);
    pipes and links to folders were passed over without a word. Each is now one warning line; the build goes on."""
    from tests.conftest import SAMPLE

    articles = tmp_path / "articles"
    (articles / "arsip").mkdir(parents=True)
    first, second = sorted(SAMPLE.iterdir())[:2]
    shutil.copy(first, articles / first.name)
    shutil.copy(second, articles / "arsip" / second.name)
    (articles / "a.txt").symlink_to("b.txt")
    (articles / "b.txt").symlink_to("a.txt")
    os.mkfifo(articles / "pipa.txt")
    (articles / "arsip-tautan").symlink_to("arsip", target_is_directory=True)
    out = _cli(["index", str(articles)], tmp_path / "idx", tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    warnings = [line for line in out.stderr.splitlines() if line.startswith("warning: ")]
    expected = {"a.txt": "symbolic link loop", "b.txt": "symbolic link loop", "pipa.txt": "named pipe",
                "arsip-tautan": "a link to a folder"}
    for name, phrase in expected.items():
        lines = [w for w in warnings if w.startswith(f"warning: skipped {articles / name}: ")]
        assert len(lines) == 1 and phrase in lines[0], (name, out.stderr[-2000:])
    assert len(warnings) == len(expected), warnings
    reader = open_index(_settings(articles, tmp_path / "idx").index_config())
    assert set(reader.state.files) == {first.name, f"arsip/{second.name}"}
