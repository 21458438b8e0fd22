"""Frames <-> Parquet bytes, and the canonical dtypes of every dataset.

The only module that knows the columnar library (pyarrow, through pandas), so swapping it for a
leaner one is a one-file change.
"""

from __future__ import annotations

import hashlib
import io
from typing import TYPE_CHECKING, Final

from quantdesk.datalake.layout import DATE_COLUMNS, layout

if TYPE_CHECKING:
    import pandas as pd

ENGINE: Final = "pyarrow"
COMPRESSION: Final = "zstd"
STRING_COLUMNS: Final = frozenset(
    {"symbol", "series", "universe", "sector", "industry", "fiscal_period"}
)


def encode(frame: pd.DataFrame) -> bytes:
    """Parquet bytes of ``frame`` (index dropped). Same frame, same bytes."""
    buffer = io.BytesIO()
    frame.to_parquet(buffer, engine=ENGINE, compression=COMPRESSION, index=False)
    return buffer.getvalue()


def decode(data: bytes, columns: list[str] | None = None) -> pd.DataFrame:
    import pandas as pd

    return pd.read_parquet(io.BytesIO(data), engine=ENGINE, columns=columns)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical(dataset: str, frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with exactly the dataset's columns, in order, with canonical dtypes.

    Dates are naive ``datetime64[ns]``, identifiers strings, numbers float64.
    Raises ``KeyError`` naming missing columns.
    """
    import pandas as pd

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
