"""Two and three real `twin serve` processes on loopback serving one twin: on one SQLite file or on
PostgreSQL, alone (catch-up from the store) or with Redis between them."""
from __future__ import annotations

import asyncio
import json
import os
import signal

import pytest
from processes import TWIN, Editor, Viewer, hello, start_serving

from twin.scaleout.cluster import open_store
from twin.serve.access import Role, new_token

EDITS_EACH = 12


def planner_token(db: str) -> str:
    """A planner's token on the twin, stored in the store `db` that the processes will share."""
    token = new_token()
    store = open_store(db, "process")
    store.add_token(token, "planner", Role.PLANNER, TWIN)
    store.close()
    return token


@pytest.fixture(params=["sqlite", "redis", "postgres", "postgres+redis"])
def setup(request, tmp_path, write_twin_folder):
    """(scan folder, --db, extra options, planner token) for one kind of deployment."""
    folder = write_twin_folder(tmp_path / TWIN)
    options: tuple[str, ...] = ()
    if "redis" in request.param:
        options = ("--fanout", request.getfixturevalue("redis_server").url)
    db = request.getfixturevalue("postgres_server").url if "postgres" in request.param else str(tmp_path / "twin.db")
    return folder, db, options, planner_token(db)


def serve(setup, tmp_path, count: int):
    folder, db, options, _ = setup
    return [start_serving(folder, db, tmp_path / f"serve{n}.log", *options) for n in range(count)]


def stop_all(processes) -> None:
    for process in processes:
        process.stop()


def edit_logs(db: str) -> dict[int, float]:
    store = open_store(db, "process")
    try:
        return {edit.revision: edit.patch[0]["value"][0] for edit in store.edits(TWIN)}
    finally:
        store.close()


@pytest.mark.slow
def test_concurrent_edits_on_three_processes_reach_every_viewer_in_order_and_none_is_lost(setup, tmp_path):
    processes = serve(setup, tmp_path, 3)
    token = setup[3]

    async def scenario():
        viewers = [Viewer(p.url, token) for p in processes for _ in range(2)]
        for viewer in viewers:
            await viewer.start()
        editors = [Editor(p.url, token) for p in processes]
        for editor in editors:
            await editor.__aenter__()

        async def edit_many(n: int, editor: Editor):
            for k in range(EDITS_EACH):
                answer = await editor.edit(100 * n + k + 0.5)
                assert answer["op"] == "ack", answer

        await asyncio.gather(*(edit_many(n, e) for n, e in enumerate(editors)))
        total = 3 * EDITS_EACH
        for viewer in viewers:
            await viewer.until(total)
        for editor in editors:
            await editor.__aexit__()
        for viewer in viewers:
            await viewer.close()
        return viewers, editors

    try:
        viewers, editors = asyncio.run(scenario())
    finally:
        stop_all(processes)
    total = 3 * EDITS_EACH
    acknowledged = {r: v for e in editors for r, v in e.acknowledged.items()}
    assert sorted(acknowledged) == list(range(1, total + 1))  # strictly increasing, each revision once
    assert edit_logs(setup[1]) == acknowledged  # none lost: the store holds what was acknowledged
    for viewer in viewers:  # every viewer, whichever process it is on, saw every revision in order
        assert viewer.revisions == list(range(1, total + 1)), viewer.url
    assert sum(e.stale for e in editors) > 0  # they did collide, and rebased


@pytest.mark.slow
def test_kill_9_of_one_process_loses_no_acknowledged_edit_and_its_clients_move_on(setup, tmp_path):
    processes = serve(setup, tmp_path, 2)
    token = setup[3]
    doomed, survivor = processes

    async def scenario():
        watcher = Viewer(survivor.url, token)
        await watcher.start()
        async with Editor(doomed.url, token) as editor:
            for k in range(10):
                assert (await editor.edit(k + 0.25))["op"] == "ack"
            await editor.viewer.socket.send(json.dumps({"op": "edit", "id": 999, "twin": TWIN, "patch": [],
                                                        "base_revision": editor.viewer.head}))
            os.kill(doomed.process.pid, signal.SIGKILL)  # with an edit in flight
            acknowledged = dict(editor.acknowledged)
        # Its editor reconnects to the other process, which has (or soon gets, from the store)
        # everything acknowledged, and goes on from there.
        async with Editor(survivor.url, token) as moved:
            await moved.viewer.until(max(acknowledged))
            assert (await moved.edit(77.5))["op"] == "ack"
        await watcher.until(max(moved.acknowledged))
        await watcher.close()
        return acknowledged, moved.acknowledged, watcher

    try:
        acknowledged, after, watcher = asyncio.run(scenario())
    finally:
        stop_all(processes)
    assert doomed.process.returncode == -signal.SIGKILL
    log = edit_logs(setup[1])
    assert all(log[revision] == value for revision, value in {**acknowledged, **after}.items())
    assert sorted(log) == list(range(1, max(log) + 1))
    assert watcher.in_order_from_snapshot()


@pytest.mark.slow
def test_redis_restarted_mid_stream_degrades_then_catches_up_with_no_revision_lost(tmp_path, write_twin_folder,
                                                                                redis_server):
    folder = write_twin_folder(tmp_path / TWIN)
    db = str(tmp_path / "twin.db")
    token = planner_token(db)
    processes = [start_serving(folder, db, tmp_path / f"serve{n}.log", "--fanout", redis_server.url)
                 for n in range(2)]

    async def welcome_of(process):
        socket, welcome = await hello(process.url, token)
        await socket.close()
        return welcome

    async def until_welcome(process, degraded: bool):
        async with asyncio.timeout(30):
            while ("degraded" in (welcome := await welcome_of(process))) != degraded:
                await asyncio.sleep(0.2)
        return welcome

    async def scenario():
        await until_welcome(processes[0], degraded=False)
        await until_welcome(processes[1], degraded=False)
        viewer = Viewer(processes[1].url, token)
        await viewer.start()
        async with Editor(processes[0].url, token) as editor:
            for k in range(5):
                await editor.edit(k + 0.5)
            redis_server.stop()
            for k in range(5, 10):
                await editor.edit(k + 0.5)  # edits go on while Redis is down
            outage = await until_welcome(processes[0], degraded=True)
            await viewer.until(10)  # the other process caught up from the store
            redis_server.start()
            await until_welcome(processes[0], degraded=False)
            await until_welcome(processes[1], degraded=False)
            for k in range(10, 15):
                await editor.edit(k + 0.5)
        await viewer.until(15)
        await viewer.close()
        return outage, viewer

    try:
        outage, viewer = asyncio.run(scenario())
    finally:
        stop_all(processes)
    assert "Redis" in outage["degraded"]
    assert viewer.revisions == list(range(1, 16))  # in order, none lost, across the outage
    assert "unreachable" in processes[0].log.read_text() and "reachable again" in processes[0].log.read_text()


@pytest.mark.slow
def test_postgres_restarted_mid_stream_refuses_edits_with_an_error_then_serves_again(
        tmp_path, write_twin_folder, postgres_server, redis_server):
    folder = write_twin_folder(tmp_path / TWIN)
    token = planner_token(postgres_server.url)
    processes = [start_serving(folder, postgres_server.url, tmp_path / f"serve{n}.log", "--fanout", redis_server.url)
                 for n in range(2)]

    async def scenario():
        viewer = Viewer(processes[1].url, token)
        await viewer.start()
        async with Editor(processes[0].url, token) as editor:
            for k in range(3):
                assert (await editor.edit(k + 0.5))["op"] == "ack"
            postgres_server.stop("immediate")
            during = await editor.edit(50.5)
            postgres_server.start()
            async with asyncio.timeout(30):
                while (await editor.edit(60.5))["op"] != "ack":
                    await asyncio.sleep(0.5)
            acknowledged = dict(editor.acknowledged)
        await viewer.until(max(acknowledged))
        await viewer.close()
        return during, acknowledged, viewer

    try:
        during, acknowledged, viewer = asyncio.run(scenario())
    finally:
        stop_all(processes)
    assert during["op"] == "error" and during["code"] == "internal" and "nothing was applied" in during["message"]
    assert 50.5 not in acknowledged.values()
    assert edit_logs(postgres_server.url) == acknowledged  # the refused edit is not in the store
    assert viewer.revisions == list(range(1, max(acknowledged) + 1))


@pytest.mark.slow
def test_poses_of_a_killed_process_s_clients_end_on_the_others(tmp_path, write_twin_folder, redis_server):
    folder = write_twin_folder(tmp_path / TWIN)
    db = str(tmp_path / "twin.db")
    token = planner_token(db)
    doomed, survivor = [start_serving(folder, db, tmp_path / f"serve{n}.log", "--fanout", redis_server.url)
                        for n in range(2)]
    pose = {"position": [1.0, 0.0, 1.6], "quaternion": [0.0, 0.0, 0.0, 1.0]}

    async def frames_until(socket, match):
        async with asyncio.timeout(30):
            while not match(message := json.loads(await socket.recv())):
                pass
        return message

    async def scenario():
        watcher, _ = await hello(survivor.url, token)
        await watcher.send(json.dumps({"op": "subscribe", "id": 2, "twin": TWIN}))
        walker, welcome = await hello(doomed.url, token)
        await walker.send(json.dumps({"op": "subscribe", "id": 2, "twin": TWIN}))
        async with asyncio.timeout(30):
            while True:  # until the other process relays it (Redis connected)
                await walker.send(json.dumps({"op": "presence", "twin": TWIN, "pose": pose, "mode": "ar"}))
                try:
                    async with asyncio.timeout(0.5):
                        seen = await frames_until(watcher, lambda m: m["op"] == "presence")
                        break
                except TimeoutError:
                    continue
        os.kill(doomed.process.pid, signal.SIGKILL)
        left = await frames_until(watcher, lambda m: m["op"] == "presence" and m.get("left"))
        await watcher.close()
        return welcome["client"], seen, left

    try:
        client, seen, left = asyncio.run(scenario())
    finally:
        stop_all([doomed, survivor])
    assert seen["client"] == client and seen["name"] == "planner"
    assert left == {"op": "presence", "twin": TWIN, "client": client, "left": True}
