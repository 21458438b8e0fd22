"""The lake fixtures shared with the other data tests (``tests/unit/lake_fixtures.py``)."""

from tests.unit.lake_fixtures import NOW, ctx, lake

__all__ = ["NOW", "ctx", "lake"]
