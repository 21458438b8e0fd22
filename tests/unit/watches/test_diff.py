"""The diff of two results, on hand-made rows."""

from __future__ import annotations

from quantdesk.watches.diff import describe, diff_results
from quantdesk.watches.models import Threshold
from tests.unit.watches.conftest import result


def rows(*pairs: tuple[str, float]) -> list[dict[str, object]]:
    return [{"symbol": s, "score": v} for s, v in pairs]


def test_entries_exits_and_rank_moves_beyond_the_threshold() -> None:
    # Given AAPL 1st -> 4th (3 places), MSFT 2nd -> 1st (1 place), TSLA gone, NVDA new
    before = result(rows(("AAPL", 9), ("MSFT", 8), ("TSLA", 7), ("AMZN", 6), ("META", 5)))
    after = result(rows(("MSFT", 9), ("NVDA", 8), ("AMZN", 7), ("AAPL", 6), ("META", 5)))
    # When they are diffed with a 3-place threshold
    diff = diff_results(before, after, rank_threshold=3, thresholds=[])
    # Then only the 3-place move counts, with the entry and the exit
    assert diff.key_column == "symbol"
    assert diff.entries == ["NVDA"]
    assert diff.exits == ["TSLA"]
    assert [(m.key, m.from_rank, m.to_rank) for m in diff.rank_moves] == [("AAPL", 1, 4)]
    assert diff.changed
    assert describe(diff) == "1 new (NVDA); 1 gone (TSLA); 1 rank moves"


def test_values_crossing_a_threshold_either_way() -> None:
    before = result(rows(("AAPL", 29.0), ("MSFT", 71.0), ("NVDA", 50.0)))
    after = result(rows(("AAPL", 31.0), ("MSFT", 69.0), ("NVDA", 55.0)))
    diff = diff_results(
        before,
        after,
        rank_threshold=10,
        thresholds=[Threshold(column="score", value=30), Threshold(column="score", value=70)],
    )
    crossed = {(c.key, c.threshold, c.direction) for c in diff.crossings}
    assert crossed == {("AAPL", 30, "up"), ("MSFT", 70, "down")}


def test_the_same_rows_in_the_same_order_are_no_change() -> None:
    same = result(rows(("AAPL", 1.0), ("MSFT", 2.0)))
    moved_values = result(rows(("AAPL", 1.5), ("MSFT", 2.5)))
    diff = diff_results(
        same, moved_values, rank_threshold=1, thresholds=[Threshold(column="score", value=5)]
    )
    assert not diff.changed
    assert describe(diff) == "no change"
