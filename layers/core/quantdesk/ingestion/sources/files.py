"""``files``: CSV or Parquet files dropped under a landing prefix of the data bucket.

Recognised layouts (headers are case-insensitive; ``.csv``, ``.csv.gz``, ``.txt``, ``.parquet``):

* **generic, one schema per dataset** — exactly the columns of :mod:`scenarios.frames`, e.g.
  long-format OHLCV ``date,symbol,open,high,low,close,volume``; fundamentals
  ``symbol,period_end,report_date,revenue,...``; ``sectors`` ``symbol,sector,industry``; and so
  on. A folder or file name starting with the dataset name (``prices/``, ``earnings_2024.csv``)
  decides when the columns alone do not.
* **per-symbol OHLCV** (Yahoo/Stooq downloads) — ``Date,Open,High,Low,Close[,Adj Close],Volume``,
  the symbol taken from the file name (``AAPL.csv``, ``aapl.us.txt``); with ``Adj Close`` the
  prices are adjusted by ``adj_close / close`` and the volume inversely.
* **Stooq bulk** — ``<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>``.
* **macro without release dates** — ``date,series,value``: ``release_date`` is added from the
  documented per-series publication lag (:mod:`~quantdesk.ingestion.sources.publication`).
* **FRED** — ``DATE,VALUE`` (the series named by the file: ``DGS10.csv``, ``rate_10y.csv``) or
  ``observation_date,<SERIES_ID>``.
* **Tiingo CSV** — ``date,close,high,low,open,volume,adjClose,adjHigh,adjLow,adjOpen,adjVolume,
  divCash,splitFactor``: the adjusted fields, the symbol from the file name.
* **membership changes** — ``date,universe,symbol,change`` -> ``universe`` intervals
  (:mod:`.membership`).
* **vendor JSON** — EDGAR companyfacts and submissions, SEC's ``company_tickers.json`` and
  Tiingo answers, as :mod:`.vendor_files` lists.

Whole-file problems (empty, unreadable, unrecognised columns, malformed lines) become
:class:`FileIssue` entries; every row read carries ``_file`` and ``_line`` into quarantine. A
vendor payload that does not parse whole (``malformed_payload``) is kept in quarantine and none
of its rows are written.
"""

from __future__ import annotations

import io
import json
import posixpath
from typing import TYPE_CHECKING, Final

import pandas as pd

from quantdesk.datalake import columnar
from quantdesk.ingestion.errors import MalformedPayloadError, SourceConfigError
from quantdesk.ingestion.sources import membership, vendor_files
from quantdesk.ingestion.sources.base import (
    Batch,
    FetchRequest,
    FileIssue,
    capped,
    fingerprint_of,
)
from quantdesk.ingestion.sources.fred import to_macro
from quantdesk.ingestion.sources.publication import release_dates
from scenarios.frames import MACRO, MACRO_SERIES, SCHEMAS

if TYPE_CHECKING:
    from quantdesk.datalake.repository import LakeObjectStore

SUFFIXES: Final = (".csv", ".csv.gz", ".txt", ".parquet", ".json")
NA_VALUES: Final = ["", "nan", "NaN", "NULL", "null", "None", "N/A"]
ALIASES: Final = {
    "ticker": "symbol",
    "vol": "volume",
    "adj close": "adj_close",
    "adjclose": "adj_close",
    "adj_close": "adj_close",
    "observation_date": "date",
}
OHLC: Final = ("open", "high", "low", "close")
TIINGO_ADJUSTED: Final = {
    "adjopen": "open",
    "adjhigh": "high",
    "adjlow": "low",
    "adj_close": "close",
    "adjvolume": "volume",
}
MAX_BAD_LINES: Final = 5
PARQUET_MAGIC: Final = b"PAR1"


def _normalise(column: object) -> str:
    name = str(column).strip().strip("<>").strip().lower()
    return ALIASES.get(name, name.replace(" ", "_"))


def _symbol_from_name(name: str) -> str:
    """``AAPL.csv`` -> AAPL, ``aapl.us.txt`` -> AAPL (Stooq), ``BRK.B.csv`` -> BRK.B."""
    base = posixpath.basename(name)
    for suffix in SUFFIXES:
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)]
            break
    base = base.removesuffix(".us").removesuffix(".US")
    return base.upper()


def _hint(name: str) -> str | None:
    """A dataset named by the file's folder or name prefix."""
    parts = name.lower().split("/")
    for part in reversed(parts):
        for dataset in SCHEMAS:
            if part == dataset or part.startswith((f"{dataset}.", f"{dataset}_", f"{dataset}-")):
                return dataset
    return None


def read_table(name: str, data: bytes) -> tuple[pd.DataFrame, list[FileIssue]]:
    """Read one file; malformed CSV lines are skipped and reported, never silently."""

    if name.endswith(".parquet"):
        return _parquet(data), []
    compression = "gzip" if name.endswith(".gz") else None
    options = {"compression": compression, "keep_default_na": False, "na_values": NA_VALUES}
    try:
        return pd.read_csv(io.BytesIO(data), **options), []  # type: ignore[call-overload]
    except pd.errors.ParserError:
        pass
    bad: list[list[str]] = []

    def keep(fields: list[str]) -> None:
        bad.append(fields)

    frame = pd.read_csv(
        io.BytesIO(data),
        engine="python",
        on_bad_lines=keep,
        **options,  # type: ignore[arg-type]
    )
    shown = "; ".join(",".join(map(str, f)) for f in bad[:MAX_BAD_LINES])
    issue = FileIssue(
        file=name,
        reason="malformed_lines",
        detail=f"{len(bad)} line(s) with the wrong number of fields skipped: {shown}",
    )
    return frame, [issue]


def _parquet(data: bytes) -> pd.DataFrame:
    """A Parquet file's rows, once its framing is checked (``PAR1`` at both ends, the footer
    length inside the file). fastparquet decodes the footer without bounds checks: bytes that
    are not a whole Parquet file (another format under a ``.parquet`` name, a truncated upload)
    made it read past the buffer and could crash the process (a segfault, not an exception)."""
    footer = int.from_bytes(data[-8:-4], "little") if len(data) >= 12 else 0
    if data[:4] != PARQUET_MAGIC or data[-4:] != PARQUET_MAGIC or not 0 < footer <= len(data) - 12:
        raise ValueError("not a Parquet file: no PAR1 framing, or its footer outside the file")
    return columnar.decode(data)


def _per_symbol_prices(name: str, frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["symbol"] = _symbol_from_name(name)
    if "volume" not in out.columns:
        out["volume"] = 0.0
    if "adj_close" in out.columns:
        close = pd.to_numeric(out["close"], errors="coerce")
        factor = pd.to_numeric(out["adj_close"], errors="coerce") / close
        for column in OHLC:
            out[column] = pd.to_numeric(out[column], errors="coerce") * factor
        out["volume"] = pd.to_numeric(out["volume"], errors="coerce") / factor
    return out


def _stooq_bulk(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out["symbol"] = out["symbol"].astype(str).str.upper().str.removesuffix(".US")
    dates = out["date"].astype(str)
    out["date"] = dates.str[:4] + "-" + dates.str[4:6] + "-" + dates.str[6:8]
    return out


def recognise(name: str, frame: pd.DataFrame) -> tuple[str | None, pd.DataFrame, str]:
    """(dataset, frame with canonical column names, layout) or (None, frame, why)."""
    frame = frame.rename(columns=_normalise)
    columns = set(frame.columns)
    hint = _hint(name)
    vendor = _vendor_file(name, frame, columns)
    if vendor is not None:
        return vendor
    data_columns = [c for c in frame.columns if not str(c).startswith("_")]
    if len(data_columns) == 2 and data_columns[0] == "date" and hint in (None, "macro"):
        named = str(data_columns[1])
        series = posixpath.basename(name).split(".")[0] if named == "value" else named
        series = series.lower() if series.lower() in MACRO_SERIES else series.upper()
        macro, _ = to_macro(series, frame)
        return "macro", macro, "fred"
    if hint in (None, "prices") and {"date", *OHLC} <= columns and "symbol" not in columns:
        return "prices", _per_symbol_prices(name, frame), "per-symbol"
    if set(MACRO) - columns == {"release_date"} and hint in (None, "macro"):
        series = frame["series"].astype(str).str.strip()
        frame = frame.assign(release_date=release_dates(series, frame["date"]))
        return "macro", frame, "generic, release dates by publication lag"
    return _generic(frame, columns, hint)


def _vendor_file(
    name: str, frame: pd.DataFrame, columns: set[str]
) -> tuple[str, pd.DataFrame, str] | None:
    """A vendor's own file layout (Stooq's bulk CSV, Tiingo's prices, a membership-changes
    list), recognised by its columns."""
    if {"symbol", "per", "date", "time"} <= columns and set(OHLC) <= columns:
        return "prices", _stooq_bulk(frame), "stooq-bulk"
    if set(TIINGO_ADJUSTED) <= columns and "symbol" not in columns:
        adjusted = frame.drop(columns=[*OHLC, "volume"]).rename(columns=TIINGO_ADJUSTED)
        return "prices", adjusted.assign(symbol=_symbol_from_name(name)), "tiingo"
    if membership.is_changes(columns):
        return "universe", membership.to_intervals(frame, name), "membership-changes"
    return None


def _generic(
    frame: pd.DataFrame, columns: set[str], hint: str | None
) -> tuple[str | None, pd.DataFrame, str]:
    candidates = [d for d, schema in SCHEMAS.items() if set(schema) <= columns]
    if hint in candidates or (hint is not None and not candidates):
        return hint, frame, "generic"  # a hinted file missing columns is quarantined, named
    if candidates:
        return max(candidates, key=lambda d: len(SCHEMAS[d])), frame, "generic"
    shown = ",".join(str(c) for c in frame.columns if not str(c).startswith("_"))
    return None, frame, f"columns match no dataset: {shown}"


class FilesSource:
    """Files under ``request.prefix`` in the data bucket (``quantdesk ingest --path`` uploads)."""

    name = "files"

    def fingerprint(self, request: FetchRequest, landing: LakeObjectStore) -> str | None:
        """Names (relative to the prefix), ETags and sizes: the same files dropped again under
        another prefix are the same batch."""
        if not request.prefix:
            return None
        listed = [
            (key.removeprefix(request.prefix).lstrip("/"), etag, size)
            for key, etag, size in landing.list_objects(request.prefix)
            if key.lower().endswith(SUFFIXES)
        ]
        if not listed:
            return None
        return fingerprint_of(listed, sorted(request.datasets or []))

    def fetch(self, request: FetchRequest, landing: LakeObjectStore) -> Batch:
        if not request.prefix:
            raise SourceConfigError("the files source needs a landing prefix")
        return self.read(request, landing, landing.list_keys(request.prefix))

    def read(self, request: FetchRequest, landing: LakeObjectStore, keys: list[str]) -> Batch:
        """The files ``keys`` (under ``request.prefix``): all of them (:meth:`fetch`), or one
        batch of a bulk load's Distributed Map. A file that cannot be read is reported and
        kept in quarantine; the others load."""
        prefix = request.prefix or ""
        keys = [k for k in keys if k.lower().endswith(SUFFIXES)]
        issues: list[FileIssue] = []
        parts: dict[str, list[pd.DataFrame]] = {}
        layouts: dict[str, str] = {}
        rejected: dict[str, bytes] = {}
        if not keys:
            issues.append(FileIssue(file=prefix, reason="no_files"))
        ciks = _tickers_by_cik(landing, [k for k in keys if k.lower().endswith(".json")])
        for key in keys:
            name = key.removeprefix(prefix).lstrip("/")
            data = landing.get_bytes(key)
            if not data.strip():
                issues.append(FileIssue(file=name, reason="empty_file"))
                continue
            try:
                if name.lower().endswith(".json"):
                    read = _read_vendor_json(name, data, ciks, issues)
                else:
                    read = _read_csv(name, data, issues)
            except MalformedPayloadError as exc:
                rejected[name] = data
                detail = str(exc)[:300]
                issues.append(FileIssue(file=name, reason="malformed_payload", detail=detail))
                continue
            if read is None:
                continue
            dataset, mapped, how = read
            if request.datasets and dataset not in request.datasets:
                continue
            parts.setdefault(dataset, []).append(mapped)
            layouts[name] = f"{dataset} ({how})"
        frames = {d: pd.concat(f, ignore_index=True) for d, f in parts.items()}
        return Batch(
            source=self.name,
            frames=frames,
            metadata={"prefix": prefix, "files": _layout_counts(layouts)},
            issues=capped(issues, "files"),
            rejected=rejected,
        )


Read = tuple[str, pd.DataFrame, str] | None


def _read_csv(name: str, data: bytes, issues: list[FileIssue]) -> Read:
    try:
        frame, problems = read_table(name, data)
    except (ValueError, OSError, UnicodeDecodeError, IndexError, TypeError) as exc:
        issues.append(FileIssue(file=name, reason="unreadable", detail=str(exc)[:300]))
        return None
    issues.extend(problems)
    if frame.empty:
        issues.append(FileIssue(file=name, reason="no_rows"))
        return None
    frame = frame.assign(_file=name, _line=frame.index + 2)
    dataset, mapped, how = recognise(name, frame)
    if dataset is None:
        issues.append(FileIssue(file=name, reason="unrecognised_columns", detail=how))
        return None
    return dataset, mapped, how


def _read_vendor_json(
    name: str, data: bytes, ciks: dict[str, str], issues: list[FileIssue]
) -> Read:
    doc = vendor_files.load_json(name, data)
    kind = vendor_files.kind_of(doc)
    if kind is None:
        issues.append(FileIssue(file=name, reason="unrecognised_json", detail="no vendor format"))
        return None
    read = vendor_files.parse(name, kind, doc, data, ciks)
    if read is None:
        return None
    dataset, frame = read
    return dataset, frame.assign(_file=name), kind


def _tickers_by_cik(landing: LakeObjectStore, keys: list[str]) -> dict[str, str]:
    """CIK -> ticker from the submissions and ticker lists among the JSON files (they name
    the companyfacts files called by CIK); unreadable ones are reported in the main pass."""
    docs = {}
    for key in keys:
        try:
            doc = json.loads(landing.get_bytes(key))
        except ValueError:
            continue
        kind = vendor_files.kind_of(doc)
        if kind in ("submissions", "company_tickers"):
            docs[key] = (kind, doc)
    return vendor_files.tickers_by_cik(docs)


def _layout_counts(layouts: dict[str, str]) -> dict[str, int]:
    """How many files were read as which layout (names would overflow step payloads)."""
    counts: dict[str, int] = {}
    for how in layouts.values():
        counts[how] = counts.get(how, 0) + 1
    return counts
