"""``report.md`` and a self-contained ``report.html`` (inline CSS and SVG, no scripts) for one evaluation run."""

from __future__ import annotations

from html import escape
from pathlib import Path
from typing import Any

from assistant.evaluation.charts import latency_bins

__all__ = ["write_reports", "DEFINITIONS", "KEY_METRICS", "fmt", "fmt_n", "n_of"]

KEY_METRICS = ("hit_at_k", "evidence_recall_at_k", "mrr", "ndcg_at_10", "answer_correct", "token_f1",
               "abstention_rate", "false_abstention_rate", "answer_precision", "accuracy", "citation_exactness",
               "citation_precision", "citation_recall", "pass_rate")
DEFINITIONS = {
    "hit_at_k": "Share of answerable questions where every evidence span is at least 80% covered by the character "
                "spans of the top-k passages from the right source (k = settings top_k). A question with sources but "
                "no evidence is scored per article (a passage counts when it comes from a listed source; the same for "
                "the other retrieval and citation metrics); one with neither has no retrieval score.",
    "evidence_recall_at_k": "Share of evidence spans at least 80% covered by the top-k passages, averaged.",
    "mrr": "Reciprocal rank of the first passage that overlaps any evidence span (0 when none), averaged.",
    "ndcg_at_10": "nDCG over the first 10 passages, relevance 1 when a passage overlaps an evidence span; the ideal "
                  "ranking has max(relevant retrieved, evidence spans) relevant passages first.",
    "answer_correct": "Answer accuracy on answerable questions with a reference answer or evidence: not abstained "
                      "and the normalised answer (lowercase, no punctuation, 7.644 = 7,644 = 7644) contains the "
                      "reference or an alias, or recalls >= 60% of the reference's content words, or quotes >= 80% "
                      "of the content words of every evidence span.",
    "token_f1": "F1 of the answer's content words against the reference answer's (abstentions score 0).",
    "abstention_rate": "Share of unanswerable questions the assistant declined to answer.",
    "false_abstention_rate": "Share of answerable questions the assistant declined to answer.",
    "answer_precision": "Correct answers / answered questions (an answered unanswerable counts as wrong).",
    "accuracy": "Correct / all questions, where an unanswerable question is correct iff the assistant abstained.",
    "citation_exactness": "Share of citations whose quote equals article_text[start:end].",
    "citation_precision": "Share of citations that overlap an evidence span (answerable questions).",
    "citation_recall": "Share of evidence spans overlapped by at least one citation.",
    "errors": "A question that raised an error counts as not correct (answer_correct, accuracy, pass_rate) and as "
              "a miss (retrieval metrics); (n=…) beside a metric is the number of questions it is the mean over.",
    "pass_rate": "Share of questions passed: answerable ones answered correctly (retrieved, when only sources are "
                 "given), unanswerable ones abstained; a question is unanswerable only when marked so or when it "
                 "gives no answer, evidence or sources. A failed "
                 "question is attributed to retrieval (not hit@k), answer, abstention (an unanswerable answered) "
                 "or error.",
    "latency": "Wall-clock milliseconds per question (p50 / p95), retrieval and answering included.",
    "rewrite_decision_accuracy": "Conversation items tagged follow-up or topic switch: share whose question was "
    "rewritten exactly when it is a follow-up (a topic switch must be searched as typed).",
}


def fmt(v: Any) -> str:
    """Metric value for display: 3 decimals, ``-`` when undefined."""
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.0f}" if abs(v) >= 100 else f"{v:.3f}"
    return str(v)


def n_of(group: dict[str, Any], key: str) -> int | None:
    """How many questions the metric ``key`` of ``group`` is the mean over (None for runs written without it)."""
    n = (group.get("n_of") or {}).get(key)
    return n if isinstance(n, int) else None


def fmt_n(group: dict[str, Any], key: str) -> str:
    """A metric with the number of questions behind it: ``0.500 (n=2)``; ``-`` when undefined."""
    value, n = group.get(key), n_of(group, key)
    return fmt(value) if value is None or n is None else f"{fmt(value)} (n={n})"


def _status(summary: dict[str, Any]) -> str:
    """A sentence for a run that did not finish (empty for a complete one)."""
    if summary.get("status", "complete") == "complete":
        return ""
    return (f"Partial run ({summary['status']}): {summary['questions']} of {summary.get('total', '?')} questions; "
            f"continue it with `assistant eval ... --resume`.")


def _md_table(groups: dict[str, dict[str, Any]], label: str) -> list[str]:
    cols = ("n", *KEY_METRICS, "latency_p50_ms", "latency_p95_ms")
    lines = [f"| {label} | " + " | ".join(cols) + " |", "|---" * (len(cols) + 1) + "|"]
    for name, g in groups.items():
        lines.append(f"| {name} | " + " | ".join(fmt_n(g, c) for c in cols) + " |")
    return lines


def conversation_lines(summary: dict[str, Any]) -> list[str]:
    """A markdown table of the conversation items (tagged follow-up / topic switch); empty when there are none."""
    conv = summary["metrics"].get("conversation")
    if not conv:
        return []
    cols = ("n", "rewrite_decision_accuracy", "rewritten_rate", "answer_correct", "pass_rate")
    lines = ["| kind | " + " | ".join(cols) + " | wrong decisions |", "|---" * (len(cols) + 2) + "|"]
    for name, g in (("all tagged", conv), ("follow-up", conv["follow_up"]), ("topic switch", conv["topic_switch"])):
        lines.append(f"| {name} | " + " | ".join(fmt(g.get(c)) for c in cols)
                     + f" | {', '.join(g['wrong_decisions']) or 'none'} |")
    return lines


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _markdown(summary: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    met, st = summary["metrics"], summary["settings"]
    out = [f"# Evaluation run — {summary['dataset']}", "",
           f"{summary['questions']} questions, {summary['started']}, {summary['duration_s']} s, k = {summary['k']}.", "",
           "## Settings", ""] + [f"- {k}: `{v}`" for k, v in st.items()]
    if _status(summary):
        out[4:4] = [f"**{_status(summary)}**", ""]
    if summary.get("notes"):
        out += ["", "## Question set", ""] + [f"- {n}" for n in summary["notes"]]
    if summary["warnings"]:
        out += ["", "## Warnings", ""] + [f"- {w}" for w in summary["warnings"]]
    out += ["", "## Metrics", ""] + _md_table({"overall": met["overall"]}, "")
    out += ["", "### Per type", ""] + _md_table(met["by_type"], "type")
    out += ["", "### Per language", ""] + _md_table(met["by_lang"], "lang")
    if conversation_lines(summary):
        out += ["", "### Conversations (follow-ups and topic switches)", ""] + conversation_lines(summary)
    out += ["", "## Questions", "", "| id | type | pass | failure | answer | citations |", "|---|---|---|---|---|---|"]
    for r in rows:
        cites = "; ".join(f"[{c['n']}] {c['source']} {c['start']}-{c['end']}" for c in r["citations"])
        ans = ("(abstained) " if r["abstained"] else "") + (r["error"] or r["answer"])
        out.append(f"| {r['id']} | {r['type']} | {'pass' if r['pass'] else 'FAIL'} | {r['failure'] or ''} | "
                   f"{_cell(ans)[:300]} | {_cell(cites)} |")
    out += ["", "## Metric definitions", ""] + [f"- **{k}**: {v}" for k, v in DEFINITIONS.items()]
    return "\n".join(out) + "\n"


CSS = """body{font:14px/1.45 system-ui,sans-serif;margin:2em;color:#222;max-width:1200px}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 6px;vertical-align:top;text-align:left}
th{background:#f4f4f4}.bar{background:#e8e8e8;width:160px;height:12px;display:inline-block;vertical-align:middle}
.bar i{display:block;height:100%;background:#3a7bd5}.pass{color:#17803d;font-weight:600}.fail{color:#c0392b;font-weight:600}
.q td{font-size:13px}.muted{color:#777}small{color:#555}"""


def _bar(v: Any, n: int | None = None) -> str:
    if v is None:
        return '<span class="muted">-</span>'
    w = max(0.0, min(1.0, float(v))) * 100
    count = "" if n is None else f" <small>(n={n})</small>"
    return f'<span class="bar"><i style="width:{w:.0f}%"></i></span> {fmt(v)}{count}'


def _bars(groups: dict[str, dict[str, Any]]) -> str:
    names = list(groups)
    head = "<tr><th>metric</th>" + "".join(f"<th>{escape(n)} <small>(n={groups[n]['n']})</small></th>" for n in names)
    body = "".join(f"<tr><td>{m}</td>" + "".join(f"<td>{_bar(groups[n].get(m), n_of(groups[n], m))}</td>" for n in names) + "</tr>"
                   for m in KEY_METRICS)
    return f"<table>{head}</tr>{body}</table>"


def _histogram(values: list[float], w: int = 520, h: int = 160) -> str:
    bins = latency_bins(values)
    if not bins:
        return "<p class='muted'>no latencies</p>"
    lo, hi = bins[0]["from_ms"], bins[-1]["to_ms"]
    top, bw = max(b["count"] for b in bins), (w - 40) / len(bins)
    rects = "".join(
        f'<rect x="{30 + i * bw:.1f}" y="{h - 20 - b["count"] / top * (h - 40):.1f}" width="{bw - 2:.1f}" '
        f'height="{b["count"] / top * (h - 40):.1f}" fill="#3a7bd5"><title>{b["label"]} ms: {b["count"]}</title></rect>'
        for i, b in enumerate(bins))
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" role="img" aria-label="latency histogram">'
            f'{rects}<line x1="30" y1="{h - 20}" x2="{w - 10}" y2="{h - 20}" stroke="#555"/>'
            f'<text x="30" y="{h - 5}" font-size="11">{lo:.0f} ms</text>'
            f'<text x="{w - 10}" y="{h - 5}" font-size="11" text-anchor="end">{hi:.0f} ms</text>'
            f'<text x="30" y="12" font-size="11">max count {top}</text></svg>')


def _conversation_html(conv: dict[str, Any] | None) -> str:
    """The conversation items (tagged follow-up / topic switch) as a table; empty when there are none."""
    if not conv:
        return ""
    cols = ("n", "rewrite_decision_accuracy", "rewritten_rate", "answer_correct", "pass_rate")
    head = "<tr><th>kind</th>" + "".join(f"<th>{c}</th>" for c in cols) + "<th>wrong decisions</th></tr>"
    body = "".join(
        f"<tr><td>{name}</td>" + "".join(f"<td>{fmt(g.get(c))}</td>" for c in cols)
        + f"<td>{escape(', '.join(g.get('wrong_decisions') or []) or 'none')}</td></tr>"
        for name, g in (("all tagged", conv), ("follow-up", conv.get("follow_up") or {}),
                        ("topic switch", conv.get("topic_switch") or {})))
    return f"<h2>Conversations (follow-ups and topic switches)</h2><table>{head}{body}</table>"


def _html(summary: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    met, ov = summary["metrics"], summary["metrics"]["overall"]
    settings = "".join(f"<tr><th>{escape(k)}</th><td>{escape(str(v))}</td></tr>" for k, v in summary["settings"].items())
    warn = "".join(f"<li>{escape(w)}</li>" for w in [*summary["warnings"], *summary.get("notes", [])])
    status = f"<p><b>{escape(_status(summary))}</b></p>" if _status(summary) else ""
    qrows = []
    for r in rows:
        cites = "<br>".join(f"[{c['n']}] {escape(c['source'])} {c['start']}–{c['end']}: “{escape(c['quote'][:160])}”"
                            for c in r["citations"])
        ans = escape(r["error"] or r["answer"])
        verdict = '<span class="pass">pass</span>' if r["pass"] else '<span class="fail">FAIL</span>'
        qrows.append(
            f"<tr><td>{escape(r['id'])}</td><td>{escape(r['type'])}/{escape(r['lang'])}</td><td>{escape(r['question'])}"
            f"<br><small>reference: {escape(r['reference'])}</small></td><td>{'<i>abstained</i> ' if r['abstained'] else ''}"
            f"{ans}</td><td><small>{cites}</small></td><td>{verdict}</td><td>{escape(r['failure'] or '')}</td>"
            f"<td>{fmt(r['hit_at_k'])}</td><td>{r['latency_ms']:.0f}</td></tr>")
    defs = "".join(f"<dt><b>{k}</b></dt><dd>{escape(v)}</dd>" for k, v in DEFINITIONS.items())
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Evaluation — {escape(summary['dataset'])}</title>
<style>{CSS}</style></head><body>
<h1>Evaluation run — {escape(summary['dataset'])}</h1>
<p>{summary['questions']} questions · {summary['started']} · {summary['duration_s']} s · k = {summary['k']} ·
pass rate {fmt(ov['pass_rate'])} · failures {escape(str(ov['failures']))}</p>{status}
{f'<h2>Warnings and notes</h2><ul>{warn}</ul>' if warn else ''}
<h2>Metrics overall and per type</h2>{_bars({'overall': ov, **met['by_type']})}
<h2>Per language</h2>{_bars(met['by_lang'])}
{_conversation_html(met.get('conversation'))}
<h2>Latency</h2><p>p50 {fmt(ov['latency_p50_ms'])} ms · p95 {fmt(ov['latency_p95_ms'])} ms</p>
{_histogram([r['latency_ms'] for r in rows])}
<h2>Questions</h2><table class="q"><tr><th>id</th><th>type/lang</th><th>question</th><th>answer</th><th>citations</th>
<th>result</th><th>failure</th><th>hit@k</th><th>ms</th></tr>{''.join(qrows)}</table>
<h2>Settings</h2><table>{settings}</table>
<h2>Metric definitions</h2><dl>{defs}</dl></body></html>
"""


def write_reports(out_dir: Path, summary: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """Write ``report.md`` and ``report.html`` into ``out_dir``."""
    (Path(out_dir) / "report.md").write_text(_markdown(summary, rows), encoding="utf-8")
    (Path(out_dir) / "report.html").write_text(_html(summary, rows), encoding="utf-8")
