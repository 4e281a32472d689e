"""Fan-out of pushed messages to subscribers, behind one interface so it can move to a broker.

`Fanout` is the interface the server uses: clients attach a `ClientQueue`, subscribe to topics
(a topic is a string such as "sample" or "sample/visitor") and the server publishes frames to
topics. `LocalFanout` delivers within this process; a broker-backed one would relay `publish`
across processes and deliver to its local queues the same way.

Each client's `ClientQueue` is bounded. Frames that must all arrive (deltas, answers) are queued
as they are, up to `limit` of them; latest-value-wins messages (presence, machine state) are
coalesced by key, so a slow client holds at most one per key (per other client; per twin for
its machines' state) and gets the newest value instead of a backlog. A client with more than
`limit` frames waiting is too slow: its queue closes with a reason and the server disconnects
it, without touching anyone else. Before any of that, a `Throttle` lets each latest-value-wins
key through at most every interval, so a 50 Hz sensor or fifty machines do not cost every viewer
a frame per update.
"""
from __future__ import annotations

import abc
import collections
from typing import Callable

from twin.serve.messages import encode

Frame = str | bytes


class Latest:
    """A latest-value-wins message: `key` names what it is the latest value of.

    With `merge_field`, a newer value does not replace an older pending one but merges into it:
    `merge_field` holds an object of objects (machine states: machine id -> properties), merged
    two levels deep, so each machine keeps each of its properties' newest value.
    The frame is encoded at most once, however many clients receive it.
    """

    __slots__ = ("key", "payload", "merge_field", "_text")

    def __init__(self, key: tuple, payload: dict, merge_field: str | None = None):
        self.key = key
        self.payload = payload
        self.merge_field = merge_field
        self._text: str | None = None

    def newer(self, later: "Latest") -> "Latest":
        """What stays pending when `later` arrives while this one is still queued."""
        if self.merge_field is None:
            return later
        older, newer = self.payload[self.merge_field], later.payload[self.merge_field]
        merged = dict(later.payload)
        merged[self.merge_field] = {**older, **{name: {**older.get(name, {}), **inner}
                                                for name, inner in newer.items()}}
        return Latest(self.key, merged, self.merge_field)

    @property
    def text(self) -> str:
        if self._text is None:
            self._text = encode(self.payload)
        return self._text


class Throttle:
    """Passes latest-value-wins messages on at most once per `interval_s` for each key.

    A value that comes sooner waits (merged with any later one) until the interval is over, so
    the newest value always gets through, just not more often than every client needs it. It
    bounds the frames per second that 50 Hz sensors or 60 Hz poses cost at every viewer.
    `call_later(delay_s, callback)` and `clock()` come from the event loop.
    """

    def __init__(self, interval_s: float, deliver: Callable[[Latest], None],
                 call_later: Callable[[float, Callable[[], None]], object], clock: Callable[[], float]):
        self.interval_s = interval_s
        self._deliver = deliver
        self._call_later = call_later
        self._clock = clock
        self._waiting: dict[tuple, Latest] = {}
        self._last_sent: dict[tuple, float] = {}

    def offer(self, latest: Latest) -> None:
        key = latest.key
        waiting = self._waiting.get(key)
        if waiting is not None:
            self._waiting[key] = waiting.newer(latest)
            return
        now = self._clock()
        due = self._last_sent.get(key, -self.interval_s) + self.interval_s
        if now >= due:
            self._last_sent[key] = now
            self._deliver(latest)
        else:
            self._waiting[key] = latest
            self._call_later(due - now, lambda: self._release(key))

    def forget(self, key: tuple) -> None:
        """Drop what waits for `key` and its history (its sender left)."""
        self._waiting.pop(key, None)
        self._last_sent.pop(key, None)

    def _release(self, key: tuple) -> None:
        latest = self._waiting.pop(key, None)
        if latest is not None:
            self._last_sent[key] = self._clock()
            self._deliver(latest)


class ClientQueue:
    """The bounded send queue of one client."""

    def __init__(self, limit: int, on_ready: Callable[[], None] = lambda: None,
                 on_overflow: Callable[[str], None] = lambda reason: None):
        if limit < 1:
            raise ValueError(f"a send queue must hold at least one message, not {limit}")
        self.limit = limit
        self.closed_reason: str | None = None
        self._on_ready = on_ready
        self._on_overflow = on_overflow
        self._items: collections.deque[list] = collections.deque()  # one-element lists: replaceable slots
        self._pending: dict[tuple, list] = {}  # key of a Latest -> its slot

    def __len__(self) -> int:
        return len(self._items)

    @property
    def strict(self) -> int:
        """Queued frames that must all be delivered (the ones the limit counts)."""
        return len(self._items) - len(self._pending)

    def put(self, frame: Frame | Latest) -> None:
        if self.closed_reason is not None:
            return
        if isinstance(frame, Latest):
            slot = self._pending.get(frame.key)
            if slot is not None:
                slot[0] = slot[0].newer(frame)
                return
        elif self.strict >= self.limit:
            self.close(f"too slow: send queue full ({self.limit} messages)")
            return
        slot = [frame]
        self._items.append(slot)
        if isinstance(frame, Latest):
            self._pending[frame.key] = slot
        if len(self._items) == 1:
            self._on_ready()

    def pop_all(self) -> list[Frame]:
        """Every queued frame, oldest first, emptying the queue."""
        frames = [slot[0].text if isinstance(slot[0], Latest) else slot[0] for slot in self._items]
        self._items.clear()
        self._pending.clear()
        return frames

    def close(self, reason: str) -> None:
        """Drop what is queued and refuse more; tell the owner once, with the reason."""
        if self.closed_reason is None:
            self.closed_reason = reason
            self._items.clear()
            self._pending.clear()
            self._on_overflow(reason)


class Fanout(abc.ABC):
    """Delivery of published frames to the queues of the clients subscribed to a topic."""

    degraded: str | None = None  # a broker-backed fan-out: why it cannot reach the other processes now

    @abc.abstractmethod
    def attach(self, client: int, queue: ClientQueue) -> None:
        """Make `client` reachable through `queue`."""

    @abc.abstractmethod
    def detach(self, client: int) -> None:
        """Forget `client` and all its subscriptions."""

    @abc.abstractmethod
    def subscribe(self, client: int, topic: str) -> None: ...

    @abc.abstractmethod
    def unsubscribe(self, client: int, topic: str) -> None: ...

    @abc.abstractmethod
    def publish(self, topic: str, frame: Frame | Latest, exclude: int | None = None) -> None:
        """Queue `frame` for every subscriber of `topic` (but `exclude`), in publishing order."""

    @abc.abstractmethod
    def send(self, client: int, frame: Frame | Latest) -> None:
        """Queue `frame` for one client, after whatever was published to it before."""


class LocalFanout(Fanout):
    """In-process fan-out: topics map to sets of local client queues."""

    def __init__(self):
        self._queues: dict[int, ClientQueue] = {}
        self._topics: dict[str, dict[int, ClientQueue]] = collections.defaultdict(dict)
        self._topics_of: dict[int, set[str]] = collections.defaultdict(set)

    def attach(self, client: int, queue: ClientQueue) -> None:
        self._queues[client] = queue

    def detach(self, client: int) -> None:
        for topic in self._topics_of.pop(client, ()):
            self._topics[topic].pop(client, None)
            if not self._topics[topic]:
                del self._topics[topic]
        self._queues.pop(client, None)

    def subscribe(self, client: int, topic: str) -> None:
        queue = self._queues.get(client)
        if queue is None:
            raise ValueError(f"client {client} is not attached; attach it before subscribing")
        self._topics[topic][client] = queue
        self._topics_of[client].add(topic)

    def unsubscribe(self, client: int, topic: str) -> None:
        subscribers = self._topics.get(topic)
        if subscribers is not None:
            subscribers.pop(client, None)
            if not subscribers:
                del self._topics[topic]
        self._topics_of[client].discard(topic)

    def publish(self, topic: str, frame: Frame | Latest, exclude: int | None = None) -> None:
        # A copy: a queue that overflows while we deliver detaches its client from this topic.
        for client, queue in list(self._topics.get(topic, {}).items()):
            if client != exclude:
                queue.put(frame)

    def send(self, client: int, frame: Frame | Latest) -> None:
        queue = self._queues.get(client)
        if queue is not None:
            queue.put(frame)

    def subscribers(self, topic: str) -> int:
        return len(self._topics.get(topic, {}))
