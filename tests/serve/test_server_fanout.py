"""Fan-out: ordered delivery, latest-value-wins coalescing, and slow clients cut off alone."""
from __future__ import annotations

import json

import pytest

from twin.serve.fanout import ClientQueue, Latest, LocalFanout, Throttle


def texts(queue: ClientQueue) -> list:
    return [json.loads(f) if isinstance(f, str) and f.startswith("{") else f for f in queue.pop_all()]


def test_published_frames_arrive_in_order_to_subscribers_only():
    fanout = LocalFanout()
    queues = {client: ClientQueue(100) for client in (1, 2, 3)}
    for client, queue in queues.items():
        fanout.attach(client, queue)
    fanout.subscribe(1, "shop")
    fanout.subscribe(2, "shop")
    fanout.subscribe(3, "shop/visitor")
    for revision in range(5):
        fanout.publish("shop", f"delta {revision}", exclude=2 if revision == 4 else None)
    assert queues[1].pop_all() == [f"delta {r}" for r in range(5)]
    assert queues[2].pop_all() == [f"delta {r}" for r in range(4)]
    assert queues[3].pop_all() == []
    assert fanout.subscribers("shop") == 2
    fanout.detach(1)
    fanout.unsubscribe(2, "shop")
    assert fanout.subscribers("shop") == 0
    fanout.publish("shop", "nobody hears this")
    assert queues[1].pop_all() == [] and queues[2].pop_all() == []


def test_presence_is_latest_value_wins_in_place():
    queue = ClientQueue(10)
    queue.put("delta 1")
    queue.put(Latest(("presence", "shop", 5), {"op": "presence", "client": 5, "x": 1}))
    queue.put("delta 2")
    queue.put(Latest(("presence", "shop", 5), {"op": "presence", "client": 5, "x": 2}))
    queue.put(Latest(("presence", "shop", 6), {"op": "presence", "client": 6, "x": 9}))
    assert len(queue) == 4
    assert texts(queue) == ["delta 1", {"op": "presence", "client": 5, "x": 2}, "delta 2",
                            {"op": "presence", "client": 6, "x": 9}]
    # Once sent, a new value is queued anew.
    queue.put(Latest(("presence", "shop", 5), {"op": "presence", "client": 5, "x": 3}))
    assert texts(queue) == [{"op": "presence", "client": 5, "x": 3}]


def test_machine_states_merge_per_machine_and_property_while_pending():
    queue = ClientQueue(10)
    key = ("machines", "shop")

    def states(machines):
        return Latest(key, {"op": "machine_states", "machines": machines}, "machines")
    queue.put(states({"cnc-1": {"spindle": True, "temp": {"value": 20}}}))
    queue.put(states({"cnc-1": {"temp": {"value": 25}}, "printer-1": {"progress": 0.5}}))
    queue.put(states({"cnc-1": {"door": "open"}}))
    assert texts(queue) == [{"op": "machine_states", "machines": {
        "cnc-1": {"spindle": True, "temp": {"value": 25}, "door": "open"}, "printer-1": {"progress": 0.5}}}]


def test_a_shared_latest_is_encoded_once_and_not_changed_by_merges():
    first = Latest(("m",), {"op": "machine_states", "machines": {"cnc-1": {"a": 1}}}, "machines")
    slow, fast = ClientQueue(10), ClientQueue(10)
    slow.put(first)
    fast.put(first)
    assert fast.pop_all() == [first.text]
    slow.put(Latest(("m",), {"op": "machine_states", "machines": {"cnc-1": {"b": 2}}}, "machines"))
    assert texts(slow) == [{"op": "machine_states", "machines": {"cnc-1": {"a": 1, "b": 2}}}]
    assert first.payload["machines"] == {"cnc-1": {"a": 1}}


def test_a_slow_client_is_cut_off_with_a_reason_and_others_keep_going():
    reasons = []
    fanout = LocalFanout()
    slow = ClientQueue(3, on_overflow=reasons.append)
    fast = ClientQueue(3)
    fanout.attach(1, slow)
    fanout.attach(2, fast)
    fanout.subscribe(1, "shop")
    fanout.subscribe(2, "shop")
    for revision in range(10):
        fanout.publish("shop", f"delta {revision}")
        fanout.publish("shop", Latest(("presence", "shop", 9), {"op": "presence", "n": revision}))
        assert len(fast.pop_all()) == 2
    assert reasons == ["too slow: send queue full (3 messages)"]
    assert slow.closed_reason == reasons[0] and len(slow) == 0
    slow.put("late")
    assert slow.pop_all() == []


def test_the_limit_counts_frames_that_must_arrive_not_coalesced_ones():
    reasons = []
    queue = ClientQueue(3, on_overflow=reasons.append)
    for client in range(50):
        queue.put(Latest(("presence", "shop", client), {"op": "presence", "client": client}))
    queue.put("delta 1")
    queue.put("delta 2")
    queue.put("delta 3")
    assert reasons == [] and len(queue) == 53 and queue.strict == 3
    queue.put("delta 4")
    assert reasons == ["too slow: send queue full (3 messages)"]


def test_ready_is_signalled_when_the_queue_stops_being_empty():
    ready = []
    queue = ClientQueue(5, on_ready=lambda: ready.append(len(queue)))
    queue.put("a")
    queue.put("b")
    queue.pop_all()
    queue.put("c")
    assert ready == [1, 1]


def test_bad_queue_size_and_unattached_subscribe_are_value_errors():
    with pytest.raises(ValueError, match="at least one"):
        ClientQueue(0)
    with pytest.raises(ValueError, match="not attached"):
        LocalFanout().subscribe(42, "shop")


class FakeLoop:
    """A clock and call_later whose time moves only when the test says so."""

    def __init__(self):
        self.now = 0.0
        self.timers = []

    def call_later(self, delay, callback):
        self.timers.append((self.now + delay, callback))

    def advance(self, seconds):
        self.now += seconds
        due = [t for t in self.timers if t[0] <= self.now]
        self.timers = [t for t in self.timers if t[0] > self.now]
        for _, callback in sorted(due, key=lambda t: t[0]):
            callback()


def test_throttle_passes_the_first_value_then_the_latest_merged_once_per_interval():
    loop, delivered = FakeLoop(), []
    throttle = Throttle(0.1, delivered.append, loop.call_later, lambda: loop.now)
    key = ("machines", "shop")

    def cnc(properties):
        return Latest(key, {"machines": {"cnc-1": properties}}, "machines")
    for rpm in range(1, 6):  # 50 Hz for 0.1 s
        throttle.offer(cnc({"rpm": rpm, f"p{rpm}": True}))
        loop.advance(0.02)
    assert [d.payload["machines"]["cnc-1"]["rpm"] for d in delivered] == [1, 5]
    assert delivered[1].payload["machines"]["cnc-1"] == {"rpm": 5, "p2": True, "p3": True, "p4": True, "p5": True}
    loop.advance(1.0)
    assert len(delivered) == 2, "nothing new, nothing sent"
    throttle.offer(cnc({"rpm": 9}))
    assert delivered[-1].payload["machines"]["cnc-1"] == {"rpm": 9}, "after a quiet interval a value goes at once"


def test_throttle_keys_are_independent_and_forget_drops_what_waits():
    loop, delivered = FakeLoop(), []
    throttle = Throttle(0.1, delivered.append, loop.call_later, lambda: loop.now)
    for client in (1, 2):
        throttle.offer(Latest(("presence", "shop", client), {"x": 0}))
        throttle.offer(Latest(("presence", "shop", client), {"x": 1}))
    assert [d.payload for d in delivered] == [{"x": 0}, {"x": 0}]
    throttle.forget(("presence", "shop", 2))
    loop.advance(0.1)
    assert [(d.key[2], d.payload) for d in delivered[2:]] == [(1, {"x": 1})]
