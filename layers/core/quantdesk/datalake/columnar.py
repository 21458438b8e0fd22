"""Frames <-> Parquet bytes, and the canonical dtypes of every dataset.

The only module that knows the columnar library (fastparquet), so swapping it for another is a
one-file change.
"""

from __future__ import annotations

import hashlib
import io
from typing import Any, Final

import pandas as pd

from quantdesk.datalake.layout import DATE_COLUMNS, layout

#: fastparquet (+ cramjam) is ~16 MB installed against pyarrow's ~170 MB: it is what lets the
#: worker layer (pandas + numpy + this) fit Lambda's 250 MB unzipped limit.
COMPRESSION: Final = "ZSTD"
STRING_COLUMNS: Final = frozenset(
    {"symbol", "series", "universe", "sector", "industry", "fiscal_period"}
)


class _Buffer(io.BytesIO):
    """fastparquet closes the file it wrote; keep the bytes readable afterwards."""

    def close(self) -> None:
        pass


def _fastparquet() -> Any:
    """fastparquet, or None where only pyarrow is installed (a dev venv without the pin)."""
    try:
        import fastparquet  # noqa: PLC0415 - optional: absent where only pyarrow is installed
    except ImportError:
        return None
    return fastparquet


def encode(frame: pd.DataFrame, metadata: dict[str, str] | None = None) -> bytes:
    """Parquet bytes of ``frame`` (index dropped), with ``metadata`` as the file's key-value
    metadata. Same frame, same bytes."""

    # one time unit everywhere: fastparquet mis-reads second-resolution columns
    times = [c for c in frame.columns if pd.api.types.is_datetime64_any_dtype(frame[c])]
    if times:
        frame = frame.astype(dict.fromkeys(times, "datetime64[ns]"))
    fastparquet = _fastparquet()
    buffer = _Buffer()
    if fastparquet is None:
        if metadata:
            raise RuntimeError("key-value metadata needs fastparquet (the pinned engine)")
        frame.to_parquet(buffer, engine="pyarrow", compression="zstd", index=False)
        return buffer.getvalue()
    fastparquet.write(
        "frame.parquet",
        frame,
        compression=COMPRESSION,
        write_index=False,
        open_with=lambda _path, _mode="wb": buffer,
        custom_metadata=metadata,
    )
    return buffer.getvalue()


def key_value_metadata(data: bytes) -> dict[str, str]:
    """The key-value metadata of Parquet ``data`` (what :func:`encode` stored)."""
    fastparquet = _fastparquet()
    if fastparquet is None:
        raise RuntimeError("key-value metadata needs fastparquet (the pinned engine)")
    return dict(fastparquet.ParquetFile(io.BytesIO(data)).key_value_metadata)


def decode(data: bytes, columns: list[str] | None = None) -> pd.DataFrame:
    fastparquet = _fastparquet()
    if fastparquet is None:
        return pd.read_parquet(io.BytesIO(data), engine="pyarrow", columns=columns)
    frame: pd.DataFrame = fastparquet.ParquetFile(io.BytesIO(data)).to_pandas(columns=columns)
    return frame


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical(dataset: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with exactly the dataset's columns, in order, with canonical dtypes.

    Dates are naive ``datetime64[ns]``, identifiers strings, numbers float64.
    Raises ``KeyError`` naming missing columns.
    """

    columns = list(layout(dataset).columns)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise KeyError(f"{dataset}: missing columns {missing}")
    out = frame.loc[:, columns].copy()
    for column in columns:
        if column in DATE_COLUMNS:
            values = pd.to_datetime(out[column])
            if isinstance(values.dtype, pd.DatetimeTZDtype):
                values = values.dt.tz_localize(None)
            out[column] = values.astype("datetime64[ns]")
        elif column in STRING_COLUMNS:
            out[column] = out[column].astype(str)
        else:
            out[column] = pd.to_numeric(out[column]).astype("float64")
    return out.reset_index(drop=True)
