"""`twin serve`'s asyncio shell: the twins being served, their connections, and the I/O around the hub.

Every rule is elsewhere: the protocol (`twin.serve.protocol`) checks each message, the hub
(`twin.serve.hub`) decides what it changes. This shell only does what they cannot: it asks the
store (in a thread of its own, so fsyncs never stall the clients), reads files, runs one
`Session` per WebSocket and hands the hub's frames to the fan-out. HTTP is `twin.serve.http`;
running it as a process is `twin.serve.run`.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import logging
import ssl
import time
from dataclasses import replace
from pathlib import Path

from websockets.asyncio.server import ServerConnection, serve

from twin.document import validate as validate_document
from twin.live.bridge import Backoff, Bridge
from twin.live.history import DEFAULT_RESOLUTION_S, DEFAULT_RETENTION_S, HistoryBuffer
from twin.live.sources import bridges as live_bridges
from twin.scanfolder import read_json
from twin.serve import protocol
from twin.serve.access import Grant
from twin.serve.fanout import Fanout, Latest, LocalFanout, Throttle
from twin.serve.http import HttpRoutes
from twin.serve.http_files import asset_file, find_viewer, read_file
from twin.serve.http_upload import connection_options
from twin.serve.hub import CheckedEdit, Hub, Publish, topic, topics
from twin.serve.media import MediaLimits
from twin.serve.messages import (Close, Edit, GetAsset, Hello, History, MachineState, Presence, ProtocolError, Restore,
                                 Revisions, Step, Subscribe, Unsubscribe)
from twin.serve.revisions import revision_entry
from twin.serve.session import Session
from twin.serve.store import StaleRevision, StepEvent, Store, StoreError

log = logging.getLogger(__name__)

DEFAULT_QUEUE_LIMIT = 1024
# Each client's presence reaches the others at most this often (10 Hz: N senders cost N x N frames).
PRESENCE_INTERVAL_S = 0.1
# A twin's machine states reach its viewers as one frame at most this often: every machine's
# changes of the interval in that frame, so the cost per viewer does not grow with the machines.
# 10 ms: 20 ms made the interval most of a viewer's latency; 5 ms gained 4 ms more of p99 for more
# CPU (benchmarks/live.py, docs/live.md).
MACHINE_STATES_INTERVAL_S = 0.01
CHECKPOINT_INTERVAL_S = 2.0
PRUNE_INTERVAL_S = 3600.0  # history older than the retention goes once an hour
VIEWER_DIST = find_viewer()  # the installed package's copy, else the source tree's build, else None
_STORE_ERRORS = (StoreError, OSError)


def read_twin_folder(folder: Path) -> dict:
    """The twin document of a scan folder (its `twin.json`)."""
    path = Path(folder) / "twin.json"
    if not Path(folder).is_dir():
        raise ValueError(f"{folder} is not a folder: give scan folders such as scans/NAME")
    if not path.is_file():
        raise ValueError(f"{folder} has no twin.json: run `twin export {folder}` first")
    document = read_json(path, "the twin document", remedy=f"re-run `twin export {folder}`")
    if not isinstance(document, dict):
        raise ValueError(f"{path} must hold a JSON object (the twin document)")
    return document


class TwinServer:
    """The twins being served, their live state (the hub), and the connections to them."""

    def __init__(self, folders: list[Path], store: Store, *, published: tuple[str, ...] = (),
                 viewer_dir: Path | None = VIEWER_DIST, limits: protocol.Limits = protocol.Limits(),
                 queue_limit: int = DEFAULT_QUEUE_LIMIT, fanout: Fanout | None = None,
                 history_resolution_s: float = DEFAULT_RESOLUTION_S, history_retention_s: float = DEFAULT_RETENTION_S,
                 first_client_id: int = 1, elected_bridges: bool = False, media_limits: MediaLimits = MediaLimits()):
        if not folders:
            raise ValueError("give at least one scan folder to serve, e.g. scans/sample_workshop")
        self.folders: dict[str, Path] = {}
        for folder in map(Path, folders):
            name = folder.resolve().name
            if name in self.folders:
                raise ValueError(f"two scan folders are named {name!r}; twins are named by their folder, so rename one")
            self.folders[name] = folder
        unknown = sorted(set(published) - set(self.folders))
        if unknown:
            raise ValueError(f"cannot publish {', '.join(unknown)}: not among the served twins {sorted(self.folders)}")
        self.published = frozenset(published)
        self.store = store
        self.viewer_dir = viewer_dir
        self.limits = limits
        self.media_limits = media_limits  # uploads (twin.serve.http_upload)
        self.queue_limit = queue_limit
        self.fanout = fanout or LocalFanout()
        heads = {}
        for name, folder in self.folders.items():
            document = read_twin_folder(folder)
            try:
                validate_document(document)
            except ValueError as error:
                raise ValueError(f"{folder / 'twin.json'}: {error}") from None
            store.import_twin(name, document)
            heads[name] = store.head(name)
        self.hub = Hub(heads, {name: store.steps(name) for name in self.folders})
        self._locks = {name: asyncio.Lock() for name in self.folders}
        self._presence_throttle: Throttle | None = None  # made when the event loop runs
        self._states_throttle: Throttle | None = None
        self.live_backoff = Backoff()  # how bridges retry a source that is down
        self.bridges: dict[str, list[Bridge]] = {}  # twin -> its sources' bridges, while live
        self._bridge_tasks: list[asyncio.Task] = []
        # Several processes serving one twin (twin.scaleout): a leader election, not the start,
        # decides where its sources are read (`start_bridges` / `stop_bridges`).
        self.elected_bridges = elected_bridges
        self._twin_bridge_tasks: dict[str, list[asyncio.Task]] = {}
        self.history = HistoryBuffer(history_resolution_s)  # what bridges bring in, until it is stored
        if not history_retention_s > 0:
            raise ValueError("the history retention must be a positive number of seconds")
        self.history_retention_s = history_retention_s
        self._ids = itertools.count(first_client_id)  # other processes serving the twins count from elsewhere
        self._db_thread = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="twin-store")
        self._checkpoint_thread = concurrent.futures.ThreadPoolExecutor(max_workers=1,
                                                                        thread_name_prefix="twin-checkpoint")
        self._handlers = {Hello: self._hello, Subscribe: self._subscribe, Unsubscribe: self._unsubscribe,
                          Edit: self._edit, Presence: self._presence, MachineState: self._machine_state,
                          Step: self._step, GetAsset: self._get_asset, History: self._history,
                          Revisions: self._revisions, Restore: self._restore, Close: self._close}

    def close(self) -> None:
        self._db_thread.shutdown(wait=True)
        self._checkpoint_thread.shutdown(wait=True)

    async def checkpoints(self) -> None:
        """Every few seconds, move committed edits from the WAL into the database, beside the commits."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(CHECKPOINT_INTERVAL_S)
            await loop.run_in_executor(self._checkpoint_thread, self.store.checkpoint)

    async def _db(self, function, *args):
        return await asyncio.get_running_loop().run_in_executor(self._db_thread, function, *args)

    async def store_call(self, function, *args):
        """`function(*args)` in the store's thread, for what keeps this process in step with others."""
        return await self._db(function, *args)

    def twin_lock(self, twin: str) -> asyncio.Lock:
        """Held while `twin`'s head moves: an edit being committed, a catch-up from a shared store."""
        return self._locks[twin]

    async def grant(self, token: str) -> Grant | None:
        return await self._db(self.store.grant, token)

    def twin_infos(self) -> list[protocol.TwinInfo]:
        return [protocol.TwinInfo(name, self.hub.revision(name), name in self.published) for name in self.folders]

    def viewer_files(self) -> Path | None:
        """The folder the viewer is served from, or None when it is not built."""
        return self.viewer_dir if self.viewer_dir is not None and (self.viewer_dir / "index.html").is_file() else None

    def start_live(self, presence_interval_s: float = PRESENCE_INTERVAL_S,
                   machine_states_interval_s: float = MACHINE_STATES_INTERVAL_S) -> None:
        """Start passing presence and machine state on (each client's presence at most every
        `presence_interval_s`, each twin's machine states every `machine_states_interval_s`), on
        the running event loop."""
        loop = asyncio.get_running_loop()
        self._presence_throttle = Throttle(presence_interval_s, self._publish_live, loop.call_later, loop.time)
        self._states_throttle = Throttle(machine_states_interval_s, self._publish_live, loop.call_later, loop.time)
        if not self.elected_bridges:
            for twin in self.folders:
                self.start_bridges(twin)
        self._bridge_tasks.append(asyncio.create_task(self._keep_history(), name="twin-live-history"))

    def start_bridges(self, twin: str) -> None:
        """One task per source of `twin` (its document at this moment), read only."""
        def update(machine: str, properties: dict) -> None:
            self._bridge_update(twin, machine, properties)
        self.bridges[twin] = live_bridges(self.hub.heads[twin][1], update, backoff=self.live_backoff)
        self._bridge_tasks = [task for task in self._bridge_tasks if not task.done()]
        self._twin_bridge_tasks[twin] = [asyncio.create_task(bridge.run(), name=f"twin-live-{twin}-{bridge.source.id}")
                                         for bridge in self.bridges[twin]]
        self._bridge_tasks += self._twin_bridge_tasks[twin]

    def stop_bridges(self, twin: str) -> None:
        """Stop reading `twin`'s sources here (another process leads it now)."""
        for task in self._twin_bridge_tasks.pop(twin, []):
            task.cancel()
        self.bridges.pop(twin, None)

    def _bridge_update(self, twin: str, machine: str, properties: dict) -> None:
        """A bridge's update: into the hub as client 0's, through the throttle like any machine state."""
        try:
            self._states_throttle.offer(self.hub.machine_state(twin, machine, properties))
        except ProtocolError as error:  # e.g. an edit removed the machine: the source's fault, not serving's
            log.warning("twin %s: a live update of machine %s was refused: %s", twin, machine, error)
            return
        self.history.offer(twin, machine, properties, time.time())

    async def _keep_history(self) -> None:
        """Store closed history buckets every bucket's time, and forget what is past the retention."""
        next_prune_s = 0.0
        try:
            while True:
                await asyncio.sleep(self.history.resolution_s)
                now_s = time.time()
                await self._store_history(self.history.drain(now_s))
                if now_s >= next_prune_s:
                    await self._db(self.store.prune_history, now_s - self.history_retention_s)
                    next_prune_s = now_s + PRUNE_INTERVAL_S
        finally:  # at shutdown, what is still open is stored too
            await asyncio.shield(self._store_history(self.history.drain()))

    async def _store_history(self, rows) -> None:
        if not rows:
            return
        try:
            await self._db(self.store.record_history, rows)
        except _STORE_ERRORS:  # history is best effort: serving goes on without it
            log.exception("could not store %d history buckets", len(rows))

    async def stop_live(self) -> None:
        """Stop the bridges (at shutdown)."""
        tasks, self._bridge_tasks = self._bridge_tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def listen(self, host: str, port: int, tls: ssl.SSLContext | None = None):
        """The websockets server (an async context manager) for this twin server; HTTPS/WSS with `tls`."""
        self.start_live()
        return serve(self._serve_connection, host, port, process_request=HttpRoutes(self),
                     max_size=self.limits.max_message_bytes, compression=None, ssl=tls,
                     **connection_options(self, tls))

    async def _serve_connection(self, socket: ServerConnection) -> None:
        client = next(self._ids)
        session = Session(client, protocol.Connection(client, self.limits), socket, self.fanout, self.queue_limit)
        await session.run(self.handle, self.limits.hello_timeout_s, self.leave)

    async def handle(self, session: Session, event) -> None:
        """Carry out one event of `session`'s protocol connection; a refusal becomes its error reply."""
        try:
            await self._handlers[type(event)](session, event)
        except ProtocolError as error:  # the hub refused: nothing changed
            session.connection.error(getattr(event, "id", None), error.code, str(error), **error.extra)

    def _publish(self, publishes: list[Publish]) -> None:
        for publish in publishes:
            self.fanout.publish(publish.topic, publish.frame, publish.exclude)

    def _publish_live(self, latest: Latest) -> None:
        """Publish a presence or machine state that the throttle lets through (a pose not to its owner)."""
        kind, twin, *sender = latest.key
        self._publish([Publish(name, latest, sender[0] if kind == "presence" else None) for name in topics(twin)])

    def leave(self, session: Session) -> None:
        """`session` is gone: its poses end for everyone else."""
        for twin in session.connection.subscriptions:
            self._end_presence(twin, session.id)

    def _end_presence(self, twin: str, client: int) -> None:
        left = self.hub.leave(twin, client)
        if left is not None:
            self._presence_throttle.forget(left.key)
            self._publish_live(left)

    # Event handlers: I/O around the hub's decisions.

    async def _hello(self, session: Session, event: Hello) -> None:
        grant = None
        if event.token is not None:
            grant = await self.grant(event.token)
            if grant is None:
                raise ProtocolError("bad_token", "this token is not known to the server; ask for a new one")
        for twin in list(session.connection.subscriptions):
            self._end_subscription(session, twin)
        session.connection.welcome(event.id, grant, self.twin_infos(), degraded=self.fanout.degraded)

    async def _subscribe(self, session: Session, event: Subscribe) -> None:
        # No await in here: the snapshot and the subscription happen between two revisions.
        twin = event.twin
        self._leave_topics(session, twin)
        self.fanout.send(session.id, self.hub.snapshot(twin, event.role, event.id))
        self.fanout.subscribe(session.id, topic(twin, event.role))
        for frame in self.hub.catch_up(twin, session.id):
            self.fanout.send(session.id, frame)

    def _leave_topics(self, session: Session, twin: str) -> None:
        for name in topics(twin):
            self.fanout.unsubscribe(session.id, name)

    def _end_subscription(self, session: Session, twin: str) -> None:
        session.connection.subscriptions.discard(twin)
        self._leave_topics(session, twin)
        self._end_presence(twin, session.id)

    async def _unsubscribe(self, session: Session, event: Unsubscribe) -> None:
        self._end_subscription(session, event.twin)
        session.connection.ack(event.id)

    async def _edit(self, session: Session, event: Edit) -> None:
        async with self._locks[event.twin]:
            grant = session.connection.grant
            edit = self.hub.check_edit(event.twin, event.base_revision, event.patch,
                                       replace(grant, role=session.connection.roles[event.twin]))
            revision = await self._commit(session, edit)
        session.connection.ack(event.id, twin=event.twin, revision=revision)

    async def _restore(self, session: Session, event: Restore) -> None:
        twin = event.twin
        async with self._locks[twin]:
            if event.revision > self.hub.revision(twin):
                raise ProtocolError("bad_message", f"twin {twin!r} has revisions 0 to {self.hub.revision(twin)}, "
                                                   f"not {event.revision}")
            try:
                then = await self._db(self.store.document_at, twin, event.revision)
            except _STORE_ERRORS as error:
                log.exception("could not read revision %d of %s", event.revision, twin)
                raise ProtocolError("internal", f"the server could not read revision {event.revision} ({error})") \
                    from None
            edit = self.hub.check_restore(twin, event.base_revision, event.revision, then,
                                          session.connection.roles[twin])
            revision = await self._commit(session, edit) if edit.patch else event.base_revision
        session.connection.ack(event.id, twin=twin, revision=revision)

    async def _commit(self, session: Session, edit: CheckedEdit) -> int:
        """Store `edit` by `session`'s author and send it to the subscribers; its revision. Hold the twin's lock."""
        author = session.connection.grant.name
        try:
            revision = await self._db(self.store.commit_edit, edit.twin, edit.base_revision, edit.patch,
                                      edit.document, author, edit.restored)
        except StaleRevision as error:
            raise ProtocolError("stale_revision", str(error), revision=error.current) from None
        except _STORE_ERRORS as error:
            log.exception("could not store an edit of %s", edit.twin)
            raise ProtocolError("internal", f"the server could not store the edit ({error}); "
                                            "nothing was applied") from None
        self._publish(self.hub.commit_edit(edit, revision, author, session.id))
        return revision

    async def _revisions(self, session: Session, event: Revisions) -> None:
        try:
            # One more than asked: whether an older page exists.
            edits = await self._db(self.store.recent_edits, event.twin, event.before, event.limit + 1)
        except _STORE_ERRORS as error:
            log.exception("could not read the edits of %s", event.twin)
            raise ProtocolError("internal", f"the server could not read the history ({error})") from None
        session.connection.revisions(event, self.hub.revision(event.twin),
                                     [revision_entry(edit) for edit in edits[:event.limit]], len(edits) > event.limit)

    async def _presence(self, session: Session, event: Presence) -> None:
        self._presence_throttle.offer(self.hub.presence(event.twin, session.id, session.connection.grant.name,
                                               event.pose, event.mode))

    async def _machine_state(self, session: Session, event: MachineState) -> None:
        self._states_throttle.offer(self.hub.machine_state(event.twin, event.machine, event.properties))
        session.connection.ack(event.id)

    async def _step(self, session: Session, event: Step) -> None:
        twin = event.twin
        revision = self.hub.check_step(twin, event.procedure, event.step)
        recorded = StepEvent(event.procedure, event.step, event.done, session.connection.grant.name, revision)
        try:
            await self._db(self.store.record_step, twin, recorded.procedure, recorded.step, recorded.done,
                           recorded.author, recorded.revision)
        except _STORE_ERRORS as error:
            log.exception("could not store a step of %s", twin)
            raise ProtocolError("internal", f"the server could not store the step ({error})") from None
        self._publish(self.hub.record_step(twin, recorded, session.id))
        session.connection.ack(event.id, twin=twin)

    async def _get_asset(self, session: Session, event: GetAsset) -> None:
        path = asset_file(self.folders[event.twin], event.path)
        if path is None:
            raise ProtocolError("not_found",
                                f"twin {event.twin!r} has no asset {event.path!r} (assets: twin.glb, tiles/...)")
        try:
            data = await read_file(path)
        except OSError as error:
            raise ProtocolError("not_found", f"twin {event.twin!r}: cannot read {event.path!r} ({error})") from None
        session.connection.asset(event.id, data)

    async def _history(self, session: Session, event: History) -> None:
        from_s, to_s = self.hub.history_span(event, time.time())
        try:
            series = await self._db(self.store.history, event.twin, event.machine, event.property, from_s, to_s,
                                    event.max_points)
        except _STORE_ERRORS as error:
            log.exception("could not read the history of %s", event.twin)
            raise ProtocolError("internal", f"the server could not read the history ({error})") from None
        session.connection.history(event, from_s, to_s, series.unit, series.points)

    async def _close(self, session: Session, event: Close) -> None:
        await session.close(event.code, event.reason)
