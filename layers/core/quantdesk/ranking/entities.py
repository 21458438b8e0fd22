"""What a prompt says besides the scenario: tickers, universe, sector, horizon, risk appetite.

Extraction is pattern based and conservative (a wrong pre-filled parameter is worse than none).
The ticker rule: ``$msft`` always counts; a bare word counts only when it is written in capitals,
two to five letters (``BRK.B`` style classes allowed), the prompt is not shouted in capitals, and
it is not an English word: not a stop word of the ranking ("ALL", "IT", "ON"), not a finance
acronym or lexicon jargon ("EPS", "RSI"), not a common English word ("HELLO", "THANKS",
:mod:`quantdesk.ranking.common_words`), including those that double as tickers ("CAR", "FUN").
So "A", "ALL", "IT" and "HELLO" are read as English, "$A", "$ALL" and "$IT" as tickers.
The ranking has no view of the lake: an unknown ticker is pre-filled like any other and the run
reports it as dropped in its data quality.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Final, NamedTuple

from quantdesk.ranking.common_words import COMMON_WORDS
from quantdesk.ranking.lexicon import concept_words
from quantdesk.ranking.text import STOP_WORDS
from scenarios.frames import SECTOR_NAMES, UNIVERSES

MAX_TICKERS: Final = 50
DAYS_PER_YEAR: Final = 365.25
TRADING_DAYS_PER_YEAR: Final = 252

_UNIVERSE_PATTERNS: Final[tuple[tuple[str, str], ...]] = (
    (
        "us_large_cap",
        r"s\s*(?:&|and)\s*p\s*-?\s*500|\bsp\s?500\b|\bspx\b|\blarge[\s-]?caps?\b"
        r"|\bmega[\s-]?caps?\b|\bblue[\s-]?chips?\b|\bbig[\s-]?caps?\b|\brussell\s*1000\b"
        r"|\bnasdaq[\s-]?100\b|\bdow\s+jones\b|\bdow\s*30\b",
    ),
    ("us_mid_cap", r"\bmid[\s-]?caps?\b|s\s*(?:&|and)\s*p\s*-?\s*400\b|\bmidcaps?\b"),
    (
        "us_small_cap",
        r"\bsmall[\s-]?caps?\b|\bmicro[\s-]?caps?\b|\brussell\s*2000\b|\br2k\b"
        r"|s\s*(?:&|and)\s*p\s*-?\s*600\b",
    ),
    (
        "us_all",
        r"\ball\s+(?:us\s+|u\.s\.\s+)?(?:stocks|equities|names)\b|\bwhole\s+(?:us\s+)?market\b"
        r"|\bentire\s+(?:us\s+)?market\b|\btotal\s+market\b|\brussell\s*3000\b"
        r"|\bbroad\s+market\b|\bevery\s+stock\b",
    ),
)

_SECTOR_PATTERNS: Final[tuple[tuple[str, str], ...]] = (
    (
        "Information Technology",
        r"\b(?:information\s+technology|tech|technology|software"
        r"|semis|semiconductors?|chipmakers?|chip\s+stocks)\b",
    ),
    (
        "Financials",
        r"\b(?:financials|banks?|banking|bank\s+stocks|financial\s+(?:sector|stocks)"
        r"|insurers|insurance\s+stocks|lenders)\b",
    ),
    ("Health Care", r"\b(?:health\s*care|biotech|biotechs|pharma|pharmaceuticals?|medtech)\b"),
    (
        "Energy",
        r"\b(?:energy|oil\s+(?:and|&)\s+gas|oil\s+(?:stocks|companies|majors|producers)"
        r"|drillers)\b",
    ),
    ("Utilities", r"\butilit(?:y|ies)\b"),
    ("Real Estate", r"\b(?:real\s+estate|reits?)\b"),
    ("Materials", r"\b(?:materials|miners|mining\s+stocks|chemicals|metals\s+and\s+mining)\b"),
    (
        "Industrials",
        r"\b(?:industrials?|aerospace|defen[cs]e\s+stocks|airlines|railroads"
        r"|transports)\b",
    ),
    ("Consumer Staples", r"\b(?:consumer\s+staples|staples|food\s+and\s+beverage)\b"),
    (
        "Consumer Discretionary",
        r"\b(?:consumer\s+discretionary|discretionary"
        r"|retail(?:ers)?(?!\s+(?:investors?|traders?|sentiment|flows?|crowd|money))|autos)\b",
    ),
    (
        "Communication Services",
        r"\b(?:communication\s+services|telecoms?|telcos?"
        r"|(?<!social\s)media\s+stocks|comm\s+services)\b",
    ),
)

_NUMBER_WORDS: Final = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "eighteen": 18,
    "twenty": 20,
    "thirty": 30,
}
_UNIT_DAYS: Final = {
    "d": 1.0,
    "day": 1.0,
    "w": 7.0,
    "wk": 7.0,
    "week": 7.0,
    "m": DAYS_PER_YEAR / 12,
    "mo": DAYS_PER_YEAR / 12,
    "mth": DAYS_PER_YEAR / 12,
    "month": DAYS_PER_YEAR / 12,
    "q": DAYS_PER_YEAR / 4,
    "quarter": DAYS_PER_YEAR / 4,
    "y": DAYS_PER_YEAR,
    "yr": DAYS_PER_YEAR,
    "year": DAYS_PER_YEAR,
}
_NOT_A_HORIZON: Final = (
    r"(?![\s-]*(?:highs?|lows?|moving|ma\b|sma|ema|average|rolling|window|period|rsi|adx))"
)
_HORIZON: Final = re.compile(
    r"(?<![\w$.])(?:(?P<n>\d{1,4}(?:\.\d)?)[\s-]*"
    r"(?P<unit>days?|d|weeks?|wks?|w|months?|mos?|mths?|m|quarters?|q|years?|yrs?|y)"
    r"|(?P<word>" + "|".join(_NUMBER_WORDS) + r"|half\s+a)[\s-]+"
    r"(?P<wunit>days?|weeks?|months?|quarters?|years?))\b" + _NOT_A_HORIZON
)
_RELATIVE: Final = re.compile(
    r"\b(?:last|past|previous|this|next|coming|prior)\s+(?P<unit>day|week|month|quarter|year)\b"
)
_TO_DATE: Final = re.compile(r"\b(?P<k>ytd|mtd|qtd|year\s+to\s+date|month\s+to\s+date)\b")

_RISK_PATTERNS: Final[tuple[tuple[str, str], ...]] = (
    (
        "low",
        r"\b(?:low[\s-]+risk|conservative|risk[\s-]+averse|cautious|safe|safer|safest"
        r"|capital\s+preservation|defensive(?:ly)?)\b",
    ),
    (
        "high",
        r"\b(?:high[\s-]+risk|aggressive(?:ly)?|speculative|risk[\s-]+seeking|yolo"
        r"|risk[\s-]+on\s+appetite|punchy)\b",
    ),
    ("medium", r"\b(?:moderate(?:\s+risk)?|medium[\s-]+risk|balanced)\b"),
)

_DOLLAR_TICKER: Final = re.compile(r"\$([A-Za-z][A-Za-z0-9]{0,5}(?:\.[A-Za-z])?)\b")
_BARE_TICKER: Final = re.compile(r"(?<![\w$&/.-])([A-Z]{2,5}(?:\.[A-Z])?)(?![\w&/]|-\w)")
_NOT_TICKERS: Final = frozenset(
    """
    AI API ARR ATH AUM BPS BTC BUY CAGR CAPE CAPM CEO CFO CHF CNY COO CPI CSV CTA CVAR DAX DCF
    DM DMI DOW EBIT EBITDA EM EPS ESG ETF ETFS ETH EU EUR EV FAQ FCF FED FOMC FTSE FX FY GARCH
    GBP GDP GICS HOLD HTML HTTP IC IPO IT JPY JSON KPI LLM LONG LOW HIGH ML MSCI MTD NAV NLP
    NYSE NASDAQ OK OLS OTC PB PCA PDF PE PEG PEAD PPI PS QOQ QTD REIT REITS ROA ROE ROI RSI SEC
    SELL SHORT SMA SPX SQL SUE TLDR TOP TSX UK US USA USD VAR VIX WSB YOY YTD EMA ATR ADX MACD
    AND OR NOT THE FOR ALL ANY ME MY IS IN ON OF TO BY AT AS BE DO GO NO SO UP WE HOW WHY WHAT
    ARE CAN NEW BEST SELECT DROP TABLE FROM WHERE SCRIPT ALERT NULL UNION INSERT DELETE UPDATE
    INTO VALUES OR1 TRUE FALSE PLEASE HELP SHOW FIND GIVE TELL RUN BIG VS AM PM ET GMT UTC
    Q1 Q2 Q3 Q4 H1 H2 R2K NA MA DI IR IV PNL
    """.split()  # noqa: SIM905 (a word list reads better as text)
)


class Entities(NamedTuple):
    tickers: tuple[str, ...] = ()
    universe: str | None = None
    sector: str | None = None
    horizon_days: int | None = None
    risk: str | None = None


def _first(patterns: tuple[tuple[str, str], ...], text: str) -> str | None:
    """The label of the pattern matching earliest in ``text`` (ties: listed order)."""
    best: tuple[int, int, str] | None = None
    for order, (label, pattern) in enumerate(patterns):
        found = re.search(pattern, text)
        if found and (best is None or (found.start(), order) < best[:2]):
            best = (found.start(), order, label)
    return best[2] if best else None


def _tickers(text: str) -> tuple[str, ...]:
    found: list[tuple[int, str]] = [
        (m.start(), m.group(1).upper()) for m in _DOLLAR_TICKER.finditer(text)
    ]
    letters = [ch for ch in text if ch.isalpha()]
    shouting = len(letters) > 12 and sum(ch.isupper() for ch in letters) > 0.6 * len(letters)
    if not shouting:
        jargon = concept_words()
        found.extend(
            (m.start(), m.group(1))
            for m in _BARE_TICKER.finditer(text)
            if m.group(1) not in _NOT_TICKERS
            and m.group(1) not in COMMON_WORDS
            and m.group(1).lower() not in jargon
            and m.group(1).lower() not in STOP_WORDS
        )
    tickers: list[str] = []
    for _, ticker in sorted(found):
        if ticker not in tickers:
            tickers.append(ticker)
    return tuple(tickers[:MAX_TICKERS])


def _horizon(text: str, today: dt.date) -> int | None:
    to_date = _TO_DATE.search(text)
    found = _HORIZON.search(text)
    relative = _RELATIVE.search(text)
    candidates: list[tuple[int, int]] = []
    if to_date:
        kind = to_date.group("k")
        if kind.startswith(("ytd", "year")):
            start = dt.date(today.year, 1, 1)
        elif kind.startswith(("mtd", "month")):
            start = today.replace(day=1)
        else:
            start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
        candidates.append((to_date.start(), max((today - start).days, 1)))
    if found:
        word = found.group("word")
        if word:
            n = 0.5 if word.startswith("half") else float(_NUMBER_WORDS[word])
            unit = found.group("wunit")
        else:
            n = float(found.group("n"))
            unit = found.group("unit")
        unit = unit if unit in _UNIT_DAYS else unit[:-1]
        candidates.append((found.start(), round(n * _UNIT_DAYS[unit])))
    if relative:
        candidates.append((relative.start(), round(_UNIT_DAYS[relative.group("unit")])))
    valid = [(pos, days) for pos, days in candidates if 1 <= days <= 3650]
    return min(valid)[1] if valid else None


def entity_words(prompt: str) -> frozenset[str]:
    """The lower-case words inside any universe, sector, horizon or risk phrase of ``prompt``
    ("large caps", "6 months", "conservative"): known words, though no scenario indexes them."""
    lowered = unicodedata.normalize("NFKC", prompt).casefold()
    spans: list[str] = []
    for _, pattern in (*_UNIVERSE_PATTERNS, *_SECTOR_PATTERNS, *_RISK_PATTERNS):
        spans.extend(m.group(0) for m in re.finditer(pattern, lowered))
    for regex in (_HORIZON, _RELATIVE, _TO_DATE):
        spans.extend(m.group(0) for m in regex.finditer(lowered))
    return frozenset(w for span in spans for w in re.findall(r"[a-z0-9]+", span))


def extract(prompt: str, today: dt.date | None = None) -> Entities:
    """The entities in ``prompt``; ``today`` anchors "YTD" (defaults to the current date)."""
    text = unicodedata.normalize("NFKC", prompt)
    lowered = text.casefold()
    return Entities(
        tickers=_tickers(text),
        universe=_first(_UNIVERSE_PATTERNS, lowered),
        sector=_first(_SECTOR_PATTERNS, lowered),
        horizon_days=_horizon(lowered, today or dt.date.today()),
        risk=_first(_RISK_PATTERNS, lowered),
    )


assert {u for u, _ in _UNIVERSE_PATTERNS} <= set(UNIVERSES)
assert {s for s, _ in _SECTOR_PATTERNS} == set(SECTOR_NAMES)
