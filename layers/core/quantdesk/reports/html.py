"""The run report: one self-contained HTML page (inline CSS, inline SVG charts, no script, no
external request), readable offline and safe to mail or archive.

Sections: title, the prompt and the chosen card, the narrative with the rows it cites, the
result table, charts, data quality and the run manifest.
"""

from __future__ import annotations

import json
import math
from html import escape
from typing import Any, Final

from quantdesk.reports.svg import chart
from quantdesk.runs.models import Run
from scenarios.base import Column, ScenarioResult, ScenarioSpec

#: rows shown in the report's table; the exports carry them all
TABLE_ROWS: Final = 500

CSS: Final = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:60rem;color:#111;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}
h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #ddd}h3{font-size:1rem}
table{border-collapse:collapse;width:100%;font-size:12.5px}
th,td{border-bottom:1px solid #eee;padding:3px 6px;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.muted{color:#666}.card{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem}
blockquote{margin:0;padding:.4rem 1rem;border-left:3px solid #2563eb;background:#f5f7ff}
pre{background:#f6f6f6;padding:.8rem;overflow:auto;font-size:12px}
svg{width:100%;height:auto;border:1px solid #eee}svg .axis{stroke:#999}
svg .tick,svg .legend{font-size:11px;fill:#555}
""".strip()


def _cell(value: Any, column: Column | None) -> str:
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return '<td class="num muted">n/a</td>'
    kind = column.kind if column else "text"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        text = f"{value * 100:.2f}%" if kind == "percent" else f"{value:,.6g}"
        return f'<td class="num" title="{value!r}">{escape(text)}</td>'
    return f"<td>{escape(str(value))}</td>"


def key_column(columns: list[Column]) -> str | None:
    """The column a claim's ``row`` names (as the web UI: ``symbol``, else the first)."""
    if any(c.name == "symbol" for c in columns):
        return "symbol"
    return columns[0].name if columns else None


def _table(columns: list[Column], rows: list[dict[str, Any]]) -> str:
    by_name = {c.name: c for c in columns}
    head = "".join(f"<th>{escape(c.label or c.name)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(_cell(row.get(name), by_name[name]) for name in by_name) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _narrative(result: ScenarioResult) -> str:
    key = key_column(result.columns)
    rows = {str(row.get(key)): row for row in result.rows} if key else {}
    items = []
    for claim in result.narrative:
        cited = rows.get(claim.row or "")
        item = f"<li><p>{escape(claim.text)}</p>"
        if cited is not None:
            item += _table(result.columns, [cited])
        elif claim.row:
            item += f'<p class="muted">cites {escape(claim.row)} (not in the table)</p>'
        items.append(item + "</li>")
    return f"<ol>{''.join(items)}</ol>" if items else '<p class="muted">No narrative.</p>'


def _card(run: Run, spec: ScenarioSpec | None) -> str:
    provenance = run.manifest.provenance
    prompt = provenance.prompt if provenance else None
    parts = []
    if prompt:
        parts.append(f"<blockquote>{escape(prompt)}</blockquote>")
    title = spec.title if spec else run.scenario_id
    rank = (
        f" (card #{provenance.rank} of the suggestions)" if provenance and provenance.rank else ""
    )
    parts.append(
        f'<div class="card"><strong>{escape(title)}</strong>{escape(rank)}'
        f"<p>{escape(spec.description if spec else '')}</p>"
        f'<p class="muted">Methodology: {escape(spec.methodology if spec else "")}</p></div>'
    )
    return "".join(parts)


def _quality(result: ScenarioResult) -> str:
    q = result.data_quality
    lines = [
        f"<li>{q.assets_used} of {q.assets_requested} assets used; "
        f"{q.rows_dropped} of {q.rows_in} rows dropped</li>",
        *(f"<li>{escape(s)}: {escape(r)}</li>" for s, r in sorted(q.dropped.items())),
        *(f"<li>{escape(n)}</li>" for n in q.notes),
    ]
    return f"<ul>{''.join(lines)}</ul>"


def render(run: Run, result: ScenarioResult, spec: ScenarioSpec | None) -> str:
    """The report of ``run`` (its manifest complete: snapshots and timings recorded)."""
    title = spec.title if spec else run.scenario_id
    shown = result.rows[:TABLE_ROWS]
    more = len(result.rows) - len(shown)
    manifest = json.dumps(run.manifest.model_dump(mode="json"), indent=2, sort_keys=True)
    charts = "".join(chart(series) for series in result.series) or '<p class="muted">None.</p>'
    sections = [
        f"<h1>{escape(title)}</h1>",
        f'<p class="muted">Run {escape(run.run_id)} · as of {result.as_of.isoformat()} · '
        f"scenario {escape(run.manifest.scenario_id)} v{escape(run.manifest.scenario_version)}</p>",
        f"<p>{escape(result.summary)}</p>",
        "<h2>Prompt and chosen card</h2>",
        _card(run, spec),
        "<h2>Narrative</h2>",
        _narrative(result),
        f"<h2>Result ({len(result.rows)} rows)</h2>",
        _table(result.columns, shown),
        f'<p class="muted">{more} more rows in the exports.</p>' if more > 0 else "",
        "<h2>Charts</h2>",
        charts,
        "<h2>Data quality</h2>",
        _quality(result),
        "<h2>Manifest</h2>",
        f"<pre>{escape(manifest)}</pre>",
    ]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        # an empty inline icon: browsers otherwise fetch /favicon.ico from the file's host
        '<link rel="icon" href="data:,">'
        f"<title>{escape(title)} — quantdesk report</title><style>{CSS}</style></head>"
        f"<body>{''.join(sections)}</body></html>\n"
    )
