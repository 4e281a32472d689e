"""History of live values: buckets as values arrive (twin.live.history) and kept in a real SQLite store."""
import pytest

from twin.live import history
from twin.live.history import HistoryBuffer
from twin.serve.sqlite_store import SqliteStore


def live(value, t, quality="good", unit=None):
    return {"value": value, "source_time_s": t, "quality": quality, **({"unit": unit} if unit else {})}


def test_numbers_keep_mean_min_max_per_bucket_and_other_values_the_last_one():
    buffer = HistoryBuffer(resolution_s=10)
    for t, temp, state in ((100.0, 200.0, "heating"), (104.0, 210.0, "heating"), (109.9, 230.0, "printing"),
                           (110.0, 240.0, "printing")):
        buffer.offer("shop", "printer-1", {"nozzle": live(temp, t, unit="°C"), "state": live(state, t)}, now_s=t)
    assert buffer.drain(now_s=109.0) == []  # the first bucket [100, 110) is still open
    closed = {(row.property, row.t_s): row for row in buffer.drain(now_s=110.0)}
    assert set(closed) == {("nozzle", 100.0), ("state", 100.0)}
    nozzle = closed["nozzle", 100.0]
    assert (nozzle.count, nozzle.mean, nozzle.low, nozzle.high, nozzle.unit) == (3, pytest.approx(640 / 3), 200.0,
                                                                                 230.0, "°C")
    assert closed["state", 100.0].last == "printing" and closed["state", 100.0].mean is None
    assert {(row.property, row.t_s) for row in buffer.drain()} == {("nozzle", 110.0), ("state", 110.0)}


def test_offline_values_objects_and_a_kind_change_within_a_bucket_are_not_history():
    buffer = HistoryBuffer(resolution_s=10)
    buffer.offer("shop", "m", {"a": live(1.0, 100.0), "b": live({"x": 1}, 100.0), "c": live(5.0, 100.0, "offline"),
                               "d": live(True, 100.0)}, now_s=100.0)
    buffer.offer("shop", "m", {"a": live("overheated", 101.0)}, now_s=101.0)
    rows = {row.property: row for row in buffer.drain()}
    assert set(rows) == {"a", "d"} and rows["a"].count == 1 and rows["d"].last is True


def test_a_source_clock_running_ahead_does_not_keep_its_bucket_open_and_memory_is_bounded(monkeypatch):
    buffer = HistoryBuffer(resolution_s=10)
    buffer.offer("shop", "m", {"a": live(1.0, 5000.0)}, now_s=100.0)  # an hour ahead of the server
    assert [row.t_s for row in buffer.drain(now_s=110.0)] == [5000.0]
    monkeypatch.setattr(history, "MAX_OPEN_BUCKETS", 3)
    for i in range(5):
        buffer.offer("shop", "m", {f"p{i}": live(1.0, 100.0)}, now_s=100.0)
    assert len(buffer.drain()) == 3 and buffer.dropped == 2


def test_the_store_merges_a_bucket_stored_twice_downsamples_to_max_points_and_prunes(tmp_path):
    store = SqliteStore(tmp_path / "twin.db")
    buffer = HistoryBuffer(resolution_s=1)
    for i in range(100):
        buffer.offer("shop", "m", {"rpm": live(float(i), 1000 + i * 0.1, unit="rpm")}, now_s=0)
    rows = buffer.drain()
    store.record_history(rows)
    full = store.history("shop", "m", "rpm", 1000, 1010, 100)
    assert full.unit == "rpm" and [p[0] for p in full.points] == [1000.0 + i for i in range(10)]
    assert full.points[3] == [1003.0, pytest.approx(34.5), 30.0, 39.0]
    two = store.history("shop", "m", "rpm", 1000, 1010, 2)
    assert [p[1:] for p in two.points] == [[pytest.approx(24.5), 0.0, 49.0], [pytest.approx(74.5), 50.0, 99.0]]
    store.record_history([rows[0]])  # the same bucket again (e.g. stored before a restart): merged, weighted
    assert store.history("shop", "m", "rpm", 1000, 1001, 1).points[0][1:] == [pytest.approx(4.5), 0.0, 9.0]
    assert store.history("shop", "other", "rpm", 1000, 1010, 10).points == []
    assert store.prune_history(1005.0) == 5
    assert [p[0] for p in store.history("shop", "m", "rpm", 0, 2000, 100).points][0] == 1005.0
    store.close()
