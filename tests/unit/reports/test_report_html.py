"""The run report: every section, escaped, and self-contained (nothing fetched from anywhere)."""

from __future__ import annotations

import datetime as dt
import re
from html.parser import HTMLParser

from quantdesk.reports.html import TABLE_ROWS, render
from quantdesk.runs.models import Provenance, Run, RunManifest
from scenarios.base import Claim, Column, DataQuality, ScenarioResult, Series
from scenarios.registry import get_spec

HOSTILE = '<script>alert(1)</script><img src="https://evil.example/x.png">'


class Tags(HTMLParser):
    """Every start tag and its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def run() -> Run:
    return Run(
        run_id="01jreport0000000000000000a",
        owner="alice",
        scenario_id="trend_strength",
        status="succeeded",
        created_at="2026-11-30T12:00:00Z",
        updated_at="2026-11-30T12:00:05Z",
        event_seq=5,
        manifest=RunManifest(
            scenario_id="trend_strength",
            scenario_version="1.2.0",
            params={"universe": "us_large_cap"},
            data_snapshots={"prices": "snap-prices-42"},
            code_version="abc123",
            provenance=Provenance(prompt=f"strong trends {HOSTILE}", rank=2),
            timings={"compute_s": 0.5},
        ),
    )


def result(rows: int = 3) -> ScenarioResult:
    table = [{"symbol": f"S{i:03d}", "adx": 40.0 - i, "ret": 0.01 * i} for i in range(rows)]
    table[1]["symbol"] = "MSFT"
    return ScenarioResult(
        scenario_id="trend_strength",
        as_of=dt.date(2026, 11, 27),
        summary="MSFT trends hardest.",
        columns=[
            Column(name="symbol", label="Symbol", kind="text"),
            Column(name="adx", label="ADX"),
            Column(name="ret", label="Return", kind="percent"),
        ],
        rows=table,
        series=[
            Series(name="ADX by symbol", kind="bar", x=["S000", "MSFT"], y={"adx": [40.0, 39.0]}),
            Series(
                name="Equity", x=["2026-11-26", "2026-11-27"], y={"a": [1.0, None], "b": [2, 3]}
            ),
        ],
        narrative=[
            Claim(text="MSFT has an ADX of 39.0.", row="MSFT", field="adx"),
            Claim(text=f"Beware {HOSTILE}", row="NOPE"),
        ],
        data_quality=DataQuality(
            assets_requested=4, assets_used=3, dropped={"XYZ": "no prices in window"}
        ),
    )


def test_the_report_has_every_section() -> None:
    page = render(run(), result(), get_spec("trend_strength"))
    spec = get_spec("trend_strength")
    assert spec is not None
    assert f"<title>{spec.title}" in page and f"<h1>{spec.title}</h1>" in page
    assert "strong trends" in page and "card #2" in page  # the prompt and the chosen card
    for heading in ("Narrative", "Result (3 rows)", "Charts", "Data quality", "Manifest"):
        assert f"<h2>{heading}</h2>" in page
    # the claim is followed by the row it cites (its cells, formatted)
    claim = page.index("MSFT has an ADX of 39.0.")
    cited = page[claim : page.index("</li>", claim)]
    assert "<td>MSFT</td>" in cited and "39" in cited and "1.00%" in cited
    assert "cites NOPE (not in the table)" in page
    assert page.count("<svg") == 2  # one chart per series
    assert "XYZ: no prices in window" in page and "3 of 4 assets used" in page
    assert "snap-prices-42" in page and "abc123" in page  # the manifest


def test_the_report_is_self_contained_and_escapes_what_it_quotes() -> None:
    page = render(run(), result(), get_spec("trend_strength"))
    parser = Tags()
    parser.feed(page)
    tags = {tag for tag, _ in parser.tags}
    assert not tags & {"script", "img", "iframe", "object", "embed"}
    # the one link: an empty inline icon, so that browsers fetch no /favicon.ico
    linked = [attrs for _, attrs in parser.tags if {"src", "href", "srcset", "action"} & set(attrs)]
    assert linked == [{"rel": "icon", "href": "data:,"}]
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//|url\(|@import""", page)
    # quoted text stays text (the prompt's URL is shown, never fetched)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=&quot;https://evil.example/x.png&quot;&gt;" in page


def test_a_long_table_is_cut_in_the_report_and_says_where_the_rest_is() -> None:
    page = render(run(), result(rows=TABLE_ROWS + 7), None)
    assert "7 more rows in the exports." in page
    assert "<h1>trend_strength</h1>" in page  # no catalogue card: the id stands in
