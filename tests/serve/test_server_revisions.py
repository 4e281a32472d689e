"""Artisans' machine-scoped edits, the document's history (`revisions`) and `restore` over a real
server on 127.0.0.1 with a real SQLite file (issue 14)."""
from __future__ import annotations

import asyncio
import contextlib

import pytest
from lathe_workshop import TEXT, lathe_workshop
from loopback_server import port_of
from loopback_server import serving as serving_on_loopback
from protocol_client import Client
from twin_folder import write_twin_folder
from websockets.asyncio.client import connect

from twin.serve.access import Role
from twin.serve.server import TwinServer
from twin.serve.sqlite_store import SqliteStore

TOKENS = {"viewer": (Role.VIEWER, ()), "lathe": (Role.ARTISAN, ("lathe-1",)), "planner": (Role.PLANNER, ()),
          "admin": (Role.ADMIN, ())}


@contextlib.asynccontextmanager
async def serving(tmp_path):
    store = SqliteStore(tmp_path / "twin.db")
    for name, (role, machines) in TOKENS.items():
        store.add_token(f"{name}-token", name, role, "shop", machines)
    server = TwinServer([write_twin_folder(tmp_path / "shop", document=lathe_workshop())], store)
    try:
        async with serving_on_loopback(server) as info:
            yield store, f"ws://127.0.0.1:{port_of(info)}/ws"
    finally:
        server.close()
        store.close()


@contextlib.asynccontextmanager
async def client(url: str, token: str):
    async with connect(url) as socket:
        session = Client(socket)
        session.welcome = await session.request({"op": "hello", "protocol": 1, "token": f"{token}-token"})
        assert session.welcome["op"] == "welcome", session.welcome
        session.snapshot = await session.request({"op": "subscribe", "twin": "shop"})
        yield session


def edit(base: int, *patch: dict) -> dict:
    return {"op": "edit", "twin": "shop", "base_revision": base, "patch": list(patch)}


def move_lathe(base: int, x: float) -> dict:
    return edit(base, {"op": "replace", "path": "/machines/1/pose/translation", "value": [x, 2.0, 0.0]})


def test_an_artisan_edits_their_machines_procedure_and_is_refused_anothers_naming_the_path(tmp_path):
    async def scenario():
        async with serving(tmp_path) as (store, url), client(url, "lathe") as luca, client(url, "viewer") as viewer:
            assert luca.welcome["twins"][0]["machines"] == ["lathe-1"]
            step = {"id": "oil", "text": TEXT, "anchor": "lathe-chuck"}
            ack = await luca.request(edit(0, {"op": "add", "path": "/procedures/1/steps/-", "value": step}))
            assert ack["revision"] == 1, ack
            delta = await viewer.wait_op("delta", revision=1)
            assert delta["author"] == "lathe" and delta["patch"][0]["path"] == "/procedures/1/steps/-"
            printer = await luca.request(edit(1, {"op": "replace", "path": "/procedures/0/steps/0/text/en",
                                                  "value": "mine now"}))
            assert (printer["code"], printer["path"]) == ("forbidden", "/procedures/0"), printer
            assert "'printer-1', which is not among yours (lathe-1)" in printer["message"]
            to_printer = {"op": "replace", "path": "/procedures/1/machine", "value": "printer-1"}
            moved = await luca.request(edit(1, to_printer))
            assert (moved["code"], moved["path"]) == ("forbidden", "/procedures/1/machine"), moved
            tour = await luca.request(edit(1, {"op": "replace", "path": "/tours/0/public", "value": False}))
            assert (tour["code"], tour["path"]) == ("forbidden", "/tours/0/public"), tour
            state = await luca.request({"op": "machine_state", "twin": "shop", "machine": "printer-1",
                                        "properties": {"nozzle_temp": 20}})
            assert state["code"] == "forbidden" and "lathe-1" in state["message"]
            assert store.head("shop")[0] == 1  # nothing refused was stored
    asyncio.run(scenario())


def test_planners_page_the_history_and_restore_a_revision_as_a_new_edit_others_receive(tmp_path):
    async def scenario():
        async with serving(tmp_path) as (store, url), client(url, "planner") as maria, \
                client(url, "viewer") as viewer:
            for base in range(3):
                assert (await maria.request(move_lathe(base, 10.0 + base)))["revision"] == base + 1
            page = await maria.request({"op": "revisions", "twin": "shop", "limit": 2})
            assert (page["revision"], page["more"]) == (3, True)
            assert [(r["revision"], r["author"], r["paths"]) for r in page["revisions"]] == [
                (3, "planner", ["/machines/1/pose/translation"]), (2, "planner", ["/machines/1/pose/translation"])]
            assert page["revisions"][0]["summary"] == "changed /machines/1/pose/translation"
            older = await maria.request({"op": "revisions", "twin": "shop", "before": 2})
            assert [r["revision"] for r in older["revisions"]] == [1] and older["more"] is False

            ack = await maria.request({"op": "restore", "twin": "shop", "base_revision": 3, "revision": 1})
            assert ack == {"op": "ack", "id": ack["id"], "twin": "shop", "revision": 4}
            delta = await viewer.wait_op("delta", revision=4)
            assert delta["author"] == "planner"
            assert delta["patch"] == [{"op": "replace", "path": "/machines/1/pose/translation/0", "value": 10.0}]
            assert store.head("shop")[1] == store.document_at("shop", 1)
            [restored] = (await maria.request({"op": "revisions", "twin": "shop", "limit": 1}))["revisions"]
            assert (restored["restored"], restored["summary"]) == (1, "restored revision 1 (1 change)")

            # The restore is undone like any edit: restore what was before it.
            assert (await maria.request({"op": "restore", "twin": "shop", "base_revision": 4, "revision": 3}))[
                "revision"] == 5
            assert store.head("shop")[1] == store.document_at("shop", 3)
            stale = await maria.request({"op": "restore", "twin": "shop", "base_revision": 4, "revision": 0})
            assert (stale["code"], stale["revision"]) == ("stale_revision", 5), stale
            future = await maria.request({"op": "restore", "twin": "shop", "base_revision": 5, "revision": 9})
            assert future["code"] == "bad_message" and "revisions 0 to 5" in future["message"]
            assert (await maria.request({"op": "restore", "twin": "shop", "base_revision": 5, "revision": 0}))[
                "revision"] == 6
            assert store.head("shop")[1] == lathe_workshop()
    asyncio.run(scenario())


def test_a_planner_may_not_restore_what_only_an_admin_changed(tmp_path):
    async def scenario():
        async with serving(tmp_path) as (store, url), client(url, "planner") as maria, client(url, "admin") as root:
            rename = edit(0, {"op": "replace", "path": "/machines/1/name", "value": "Old lathe"})
            assert (await root.request(rename))["revision"] == 1
            refused = await maria.request({"op": "restore", "twin": "shop", "base_revision": 1, "revision": 0})
            assert (refused["code"], refused["path"]) == ("forbidden", "/machines/1/name"), refused
            assert (await root.request({"op": "restore", "twin": "shop", "base_revision": 1, "revision": 0}))[
                "revision"] == 2
            assert store.head("shop")[1]["machines"][1]["name"] == "Lathe"
    asyncio.run(scenario())


@pytest.mark.parametrize("token", ["viewer", "lathe"])
def test_roles_below_planner_may_neither_read_the_history_nor_restore(tmp_path, token):
    async def scenario():
        async with serving(tmp_path) as (store, url), client(url, token) as someone:
            for request in ({"op": "revisions", "twin": "shop"},
                            {"op": "restore", "twin": "shop", "base_revision": 0, "revision": 0}):
                refused = await someone.request(request)
                assert refused["code"] == "forbidden" and "needs planner" in refused["message"], refused
            assert store.head("shop")[0] == 0
    asyncio.run(scenario())
