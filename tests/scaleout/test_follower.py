"""The store follower in one process, with another "process" (a second store on the same SQLite
file) committing beside it: deltas that arrive out of order or not at all still reach the local
subscribers once each, in revision order; other processes' poses reach late subscribers."""
from __future__ import annotations

import asyncio
import json

from twin.scaleout.follower import SILENT_AFTER_S, StoreFollower
from twin.scaleout.redis_fanout import ALIVE
from twin.serve.fanout import ClientQueue
from twin.serve.messages import encode, encode_delta, presence_message
from twin.serve.server import TwinServer
from twin.serve.sqlite_store import SqliteStore

POSE = {"position": [0.0, 1.0, 2.0], "quaternion": [0.0, 0.0, 0.0, 1.0]}


def commit_elsewhere(store: SqliteStore, values: list[float]) -> list[str]:
    """Commit one edit per value as another process would; the delta frames it would publish."""
    frames = []
    for value in values:
        revision, document = store.head("shop")
        patch = [{"op": "replace", "path": "/machines/0/pose/translation", "value": [value, 0.0, 0.0]}]
        document["machines"][0]["pose"]["translation"] = [value, 0.0, 0.0]
        committed = store.commit_edit("shop", revision, patch, document, "elsewhere")
        frames.append(encode_delta("shop", committed, patch, "elsewhere", 7 << 32))
    return frames


def revisions(queue: ClientQueue) -> list[int]:
    return [json.loads(frame)["revision"] for frame in queue.pop_all() if json.loads(frame)["op"] == "delta"]


def test_deltas_out_of_order_or_missing_reach_subscribers_in_order(tmp_path, write_twin_folder):
    folder = write_twin_folder(tmp_path / "shop")
    here = SqliteStore(tmp_path / "twin.db")
    server = TwinServer([folder], here)
    elsewhere = SqliteStore(tmp_path / "twin.db")

    async def scenario():
        follower = StoreFollower(server, server.fanout.publish)
        queue = ClientQueue(100)
        server.fanout.attach(1, queue)
        server.fanout.subscribe(1, "shop")
        one, two, three = commit_elsewhere(elsewhere, [1.0, 2.0, 3.0])
        for frame in (two, one, three):  # 2 overtook 1 on the way
            follower.receive("shop", frame)
        await asyncio.sleep(0.2)
        in_order = revisions(queue)
        commit_elsewhere(elsewhere, [4.0])  # its frame is lost
        await follower.catch_up()  # the periodic check finds it in the store
        caught_up = revisions(queue)
        await follower.stop()
        return in_order, caught_up, follower.replayed

    try:
        in_order, caught_up, replayed = asyncio.run(scenario())
        assert in_order == [1, 2, 3]
        assert caught_up == [4]
        assert replayed == 4  # 1 to 3 read from the store when 2 came first (1 and 3 skipped), 4 at the check
        assert server.hub.heads["shop"][0] == 4
        assert server.hub.heads["shop"][1]["machines"][0]["pose"]["translation"][0] == 4.0
    finally:
        server.close()
        here.close()
        elsewhere.close()


def test_another_process_s_poses_reach_late_subscribers_until_it_falls_silent(tmp_path, write_twin_folder):
    folder = write_twin_folder(tmp_path / "shop")
    store = SqliteStore(tmp_path / "twin.db")
    server = TwinServer([folder], store)

    async def scenario():
        now = [100.0]
        follower = StoreFollower(server, server.fanout.publish, clock=lambda: now[0])
        queue = ClientQueue(100)
        server.fanout.attach(1, queue)
        server.fanout.subscribe(1, "shop")
        follower.receive("shop", encode(presence_message("shop", 9 << 32, "ann", POSE, "ar")), "a")
        follower.receive("shop", encode(presence_message("shop", 10 << 32, "bob", POSE, "ar")), "b")
        follower.receive("shop/visitor", encode(presence_message("shop", 11 << 32, "eve", POSE, "ar")), "b")  # a view
        names = sorted(f.payload.get("name") for f in server.hub.catch_up("shop", client=2))
        queue.pop_all()
        now[0] += SILENT_AFTER_S - 1.0
        follower.receive("", ALIVE, "b")  # b's heartbeat; a says nothing more (killed -9)
        follower.forget_silent(now[0])
        still = sorted(f.payload.get("name") for f in server.hub.catch_up("shop", client=2))
        follower.forget_silent(now[0] + 2.0)
        after = sorted(f.payload.get("name") for f in server.hub.catch_up("shop", client=2))
        return names, still, after, [json.loads(frame) for frame in queue.pop_all()]

    try:
        names, still, after, frames = asyncio.run(scenario())
        assert names == ["ann", "bob"] and still == ["ann", "bob"]
        assert after == ["bob"]  # a fell silent: its client's pose ended here
        assert frames == [{"op": "presence", "twin": "shop", "client": 9 << 32, "left": True}]
    finally:
        server.close()
        store.close()


def test_steps_recorded_elsewhere_reach_subscribers_at_a_resync(tmp_path, write_twin_folder):
    folder = write_twin_folder(tmp_path / "shop")
    here = SqliteStore(tmp_path / "twin.db")
    server = TwinServer([folder], here)
    elsewhere = SqliteStore(tmp_path / "twin.db")
    procedure = server.hub.heads["shop"][1]["procedures"][0]["id"]

    async def scenario():
        follower = StoreFollower(server, server.fanout.publish)
        queue = ClientQueue(100)
        server.fanout.attach(1, queue)
        server.fanout.subscribe(1, "shop")
        elsewhere.record_step("shop", procedure, 0, True, "ann", 0)  # while Redis was down: no frame came
        elsewhere.record_step("shop", procedure, 0, False, "bob", 0)
        await follower.resync()
        return [json.loads(frame) for frame in queue.pop_all()]

    try:
        frames = asyncio.run(scenario())
        assert [(f["op"], f["step"], f["done"], f["author"]) for f in frames] == [("step", 0, False, "bob")]  # the latest
        assert any('"author":"bob"' in frame for frame in server.hub.catch_up("shop", client=2))  # for late subscribers
    finally:
        server.close()
        here.close()
        elsewhere.close()
