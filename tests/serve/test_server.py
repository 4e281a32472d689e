"""The server over real sockets on 127.0.0.1: WebSocket sessions, HTTP files, limits, slow clients."""
from __future__ import annotations

import asyncio
import contextlib
import http.client
import json
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest
from loopback_server import port_of, serving
from protocol_client import TIMEOUT, Client
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from twin.serve import messages, protocol
from twin.serve.access import Role, new_token
from twin.serve.run import tls_context
from twin.serve.server import TwinServer
from twin.serve.sqlite_store import SqliteStore


class Harness:
    def __init__(self, tmp_path: Path, write_twin_folder, **server_options):
        self.folder = write_twin_folder(tmp_path / "shop")
        self.private = write_twin_folder(tmp_path / "private")
        self.store = SqliteStore(tmp_path / "twin.db")
        self.server = TwinServer([self.folder, self.private], self.store, published=("shop",), **server_options)
        self.tokens = {}
        for role in (Role.VIEWER, Role.ARTISAN, Role.PLANNER, Role.ADMIN):
            self.tokens[role] = new_token()
            self.store.add_token(self.tokens[role], role.label + "-1", role, "*")

    @contextlib.asynccontextmanager
    async def running(self, tls=None):
        async with serving(self.server, tls) as info:
            self.url = info.url
            self.http_port = port_of(info)
            self.ws_url = f"{'wss' if tls else 'ws'}://127.0.0.1:{self.http_port}/ws"
            yield self

    @contextlib.asynccontextmanager
    async def client(self, role: Role | None = None, subscribe: str | None = "shop", **options):
        async with connect(self.ws_url, **options) as socket:
            client = Client(socket)
            hello = {"op": "hello", "protocol": 1}
            if role is not None:
                hello["token"] = self.tokens[role]
            welcome = await client.request(hello)
            assert welcome["op"] == "welcome", welcome
            client.welcome = welcome
            if subscribe:
                client.snapshot = await client.request({"op": "subscribe", "twin": subscribe})
                assert client.snapshot["op"] == "snapshot", client.snapshot
            yield client

    def get(self, path: str, headers: dict | None = None, method: str = "GET"):
        connection = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=TIMEOUT)
        connection.request(method, path, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        connection.close()
        return response.status, dict(response.getheaders()), body

    def close(self):
        self.server.close()
        self.store.close()


@pytest.fixture
def harness(tmp_path, write_twin_folder):
    harness = Harness(tmp_path, write_twin_folder)
    yield harness
    harness.close()


def run(coroutine):
    return asyncio.run(coroutine)


def move_printer(base: int, x: float) -> dict:
    return {"op": "edit", "twin": "shop", "base_revision": base,
            "patch": [{"op": "replace", "path": "/machines/0/pose/translation", "value": [x, 2.0, 0.0]}]}


def test_edits_reach_every_subscriber_in_order_and_refusals_keep_the_connection(harness):
    async def scenario():
        async with harness.running(), harness.client(Role.PLANNER) as planner, \
                harness.client(Role.VIEWER) as viewer, harness.client(None) as visitor:
            assert viewer.snapshot["revision"] == 0 and viewer.snapshot["role"] == "viewer"
            for base in range(5):
                ack = await planner.request(move_printer(base, float(base)))
                assert ack == {"op": "ack", "id": ack["id"], "twin": "shop", "revision": base + 1}
            for client in (viewer, visitor, planner):
                deltas = [await client.wait_op("delta") for _ in range(5)]
                assert [d["revision"] for d in deltas] == [1, 2, 3, 4, 5]
                assert deltas[-1]["author"] == "planner-1" and deltas[-1]["client"] == planner.welcome["client"]
            stale = await planner.request(move_printer(2, 9.0))
            assert stale["code"] == "stale_revision" and stale["revision"] == 5
            forbidden = await viewer.request(move_printer(5, 9.0))
            assert forbidden["code"] == "forbidden"
            rename = {"op": "edit", "twin": "shop", "base_revision": 5,
                      "patch": [{"op": "replace", "path": "/machines/0/name", "value": "x"}]}
            assert (await planner.request(rename))["path"] == "/machines/0/name"
            broken = [{"op": "replace", "path": "/machines/0/pose/rotation", "value": [0, 0, 0, 7]}]
            invalid = await planner.request({**move_printer(5, 0), "patch": broken})
            assert invalid["code"] == "invalid_document" and "quaternion" in invalid["message"].lower()
            unapplicable = await planner.request({**move_printer(5, 0), "patch": [{"op": "remove", "path": "/layouts/3"}]})
            assert unapplicable["code"] == "invalid_patch"
            assert (await planner.request(move_printer(5, 7.0)))["revision"] == 6
            assert (await viewer.wait_op("delta"))["revision"] == 6
        assert harness.store.head("shop")[0] == 6
        assert harness.store.head("shop")[1]["machines"][0]["pose"]["translation"] == [7.0, 2.0, 0.0]
    run(scenario())


def test_planners_save_measurements_and_viewers_may_not(harness):
    async def scenario():
        measurement = {"id": "door", "name": "Door width", "points": [[1.0, 0.0, 0.0], [1.9, 0.0, 0.0]]}
        save = {"op": "edit", "twin": "shop", "base_revision": 0,
                "patch": [{"op": "add", "path": "/measurements/-", "value": measurement}]}
        async with harness.running(), harness.client(Role.PLANNER) as planner, harness.client(Role.VIEWER) as viewer:
            assert (await viewer.request(save))["code"] == "forbidden"
            assert (await planner.request(save))["revision"] == 1
            assert (await viewer.wait_op("delta"))["patch"] == save["patch"]
        assert harness.store.head("shop")[1]["measurements"] == [measurement]
    run(scenario())


def test_visitors_see_public_tours_only_and_get_a_snapshot_when_tours_change(harness):
    async def scenario():
        async with harness.running(), harness.client(None) as visitor, harness.client(Role.PLANNER) as planner:
            assert [t["id"] for t in visitor.snapshot["document"]["tours"]] == ["welcome"]
            assert [t["id"] for t in planner.snapshot["document"]["tours"]] == ["welcome", "staff-only"]
            publish = {"op": "edit", "twin": "shop", "base_revision": 0,
                       "patch": [{"op": "replace", "path": "/tours/1/public", "value": True}]}
            assert (await planner.request(publish))["revision"] == 1
            fresh = await visitor.wait_op("snapshot")
            assert "id" not in fresh and fresh["revision"] == 1
            assert [t["id"] for t in fresh["document"]["tours"]] == ["welcome", "staff-only"]
            assert (await planner.wait_op("delta"))["revision"] == 1
            assert (await planner.request(move_printer(1, 3.0)))["revision"] == 2
            assert (await visitor.wait_op("delta"))["revision"] == 2
            private = await visitor.request({"op": "subscribe", "twin": "private"})
            assert private["code"] == "forbidden"
    run(scenario())


def test_presence_machine_state_and_steps_are_pushed(harness):
    async def scenario():
        async with harness.running(), harness.client(Role.ARTISAN) as artisan, harness.client(None) as visitor:
            pose = {"position": [1.0, 2.0, 1.6], "quaternion": [0.0, 0.0, 0.0, 1.0]}
            await visitor.send({"op": "presence", "twin": "shop", "pose": pose, "mode": "tour"})
            seen = await artisan.wait_op("presence")
            assert seen == {"op": "presence", "twin": "shop", "client": visitor.welcome["client"], "name": "visitor",
                            "pose": pose, "mode": "tour"}
            state = {"op": "machine_state", "twin": "shop", "machine": "printer-1"}
            assert (await artisan.request({**state, "properties": {"nozzle_c": 210}}))["op"] == "ack"
            assert (await artisan.request({**state, "properties": {"printing": True}}))["op"] == "ack"
            pushed = [await visitor.wait_op("machine_states") for _ in range(2)]
            assert [p["machines"] for p in pushed] == [{"printer-1": {"nozzle_c": 210}},
                                                       {"printer-1": {"printing": True}}]
            too_many = await artisan.request({**state, "properties": {f"p{i}": i for i in range(300)}})
            assert too_many["code"] == "bad_message" and "256" in too_many["message"]
            unknown = await artisan.request({**state, "machine": "laser-9", "properties": {}})
            assert unknown["code"] == "bad_message" and "laser-9" in unknown["message"]
            step = {"op": "step", "twin": "shop", "procedure": "load-filament", "step": 1, "done": True}
            assert (await artisan.request(step))["op"] == "ack"
            told = await visitor.wait_op("step")
            assert (told["procedure"], told["step"], told["done"], told["author"]) == ("load-filament", 1, True, "artisan-1")
            assert (await artisan.request({**step, "step": 5}))["code"] == "bad_message"
            async with harness.client(Role.VIEWER) as late:
                # A late subscriber gets the merged latest machine state and the others' presence.
                merged = await late.wait_op("machine_states")
                assert merged["machines"] == {"printer-1": {"nozzle_c": 210, "printing": True}}
                progress = await late.wait_op("step")
                assert (progress["procedure"], progress["step"], progress["done"]) == ("load-filament", 1, True)
                assert (await late.wait_op("presence"))["client"] == visitor.welcome["client"]
                await late.send({"op": "presence", "twin": "shop", "pose": pose, "mode": "3d"})
                assert (await artisan.wait_op("presence", client=late.welcome["client"]))["mode"] == "3d"
            left = await artisan.wait_op("presence", client=late.welcome["client"])
            assert left == {"op": "presence", "twin": "shop", "client": late.welcome["client"], "left": True}
        steps = harness.store.steps("shop")
        assert [(s.procedure, s.step, s.done, s.author) for s in steps] == [("load-filament", 1, True, "artisan-1")]
    run(scenario())


def test_assets_come_as_binary_frames_and_paths_cannot_escape(harness):
    async def scenario():
        async with harness.running(), harness.client(None) as visitor:
            for path in ("twin.glb", "tiles/tileset.json", "tiles/r3.glb"):
                frame = await visitor.request({"op": "get_asset", "twin": "shop", "path": path})
                assert messages.decode_asset(frame)[1] == (harness.folder / path).read_bytes()
            for path in ("../private/twin.glb", "tiles/../../private/twin.glb", "twin.json", "/etc/passwd",
                         "tiles/./r0.glb", "tiles\\r0.glb", "tiles/missing.glb", ""):
                refused = await visitor.request({"op": "get_asset", "twin": "shop", "path": path})
                assert refused["code"] == "not_found", path
            (harness.folder / "tiles" / "link.glb").symlink_to(harness.private / "twin.glb")
            escaped = await visitor.request({"op": "get_asset", "twin": "shop", "path": "tiles/link.glb"})
            assert escaped["code"] == "not_found"
            hidden = await visitor.request({"op": "get_asset", "twin": "private", "path": "twin.glb"})
            assert hidden["code"] == "forbidden"
    run(scenario())


def test_http_serves_viewer_and_twin_files_with_mime_etags_and_access(harness, tmp_path):
    dist = tmp_path / "dist"
    (dist / "assets").mkdir(parents=True)
    (dist / "index.html").write_text("<!doctype html><title>viewer</title>")
    (dist / "assets" / "app.js").write_text("console.log(1)")
    harness.server.viewer_dir = dist

    async def scenario():
        async with harness.running():
            get = lambda *a, **k: asyncio.to_thread(harness.get, *a, **k)  # noqa: E731
            status, headers, body = await get("/")
            assert status == 200 and body.startswith(b"<!doctype html>") and headers["Content-Type"].startswith("text/html")
            status, headers, _ = await get("/assets/app.js")
            assert status == 200 and headers["Content-Type"] == "text/javascript"
            status, headers, body = await get("/twins/shop/twin.glb")
            assert status == 200 and headers["Content-Type"] == "model/gltf-binary"
            assert body == (harness.folder / "twin.glb").read_bytes()
            status, _, body = await get("/twins/shop/twin.glb", {"If-None-Match": headers["ETag"]})
            assert status == 304 and body == b""
            status, headers, body = await get("/twins/shop/tiles/tileset.json")
            assert status == 200 and headers["Content-Type"] == "application/json"
            status, headers, body = await get("/twins/shop/twin.glb", method="HEAD")
            assert status == 200 and body == b""
            # twin.json is the stored document at its revision, as the caller may see it.
            async with harness.client(Role.ADMIN) as admin:
                await admin.request(move_printer(0, 4.0))
            status, headers, body = await get("/twins/shop/twin.json")
            document = json.loads(body)
            assert status == 200 and headers["X-Twin-Revision"] == "1"
            assert document["machines"][0]["pose"]["translation"] == [4.0, 2.0, 0.0]
            assert [t["id"] for t in document["tours"]] == ["welcome"]
            token = harness.tokens[Role.VIEWER]
            assert (await get("/twins/private/twin.glb"))[0] == 403
            assert (await get("/twins/private/twin.glb", {"Authorization": f"Bearer {token}"}))[0] == 200
            assert (await get(f"/twins/private/twin.json?token={token}"))[0] == 200
            status, _, body = await get("/twins")
            assert [t["name"] for t in json.loads(body)] == ["shop"]
            for path in ("/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/twins/shop/../private/twin.glb",
                         "/twins/shop/%2e%2e/private/twin.glb", "/twins/shop/tiles/%00", "/twins/shop/cloud.ply",
                         "/twins/nowhere/twin.glb", "/assets/%5c..%5c..%5cindex.html"):
                assert (await get(path))[0] == 404, path
            assert (await get("/", method="POST"))[0] == 405
    run(scenario())


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a test certificate")
def test_tls_serves_https_and_wss(harness, tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    trust = ssl.create_default_context(cafile=str(cert))

    async def scenario():
        async with harness.running(tls=tls_context(cert, key)):
            assert harness.url.startswith("https://127.0.0.1:")
            async with harness.client(None, ssl=trust) as visitor:
                assert visitor.snapshot["twin"] == "shop"

            def fetch():
                connection = http.client.HTTPSConnection("127.0.0.1", harness.http_port, context=trust, timeout=TIMEOUT)
                connection.request("GET", "/twins/shop/twin.glb")
                response = connection.getresponse()
                return response.status, response.read()
            status, body = await asyncio.to_thread(fetch)
            assert status == 200 and body == (harness.folder / "twin.glb").read_bytes()
    run(scenario())
    with pytest.raises(ValueError, match="cannot use the TLS certificate"):
        tls_context(key, cert)


def test_oversized_messages_close_only_that_connection(harness):
    harness.server.limits = protocol.Limits(max_message_bytes=10_000)

    async def scenario():
        async with harness.running(), harness.client(Role.VIEWER) as bystander:
            async with harness.client(Role.VIEWER) as big:
                await big.socket.send("x" * 20_000)
                with pytest.raises(ConnectionClosed) as closed:
                    await big.wait_op("never")
                assert closed.value.rcvd.code == 1009
            async with harness.client(Role.PLANNER) as planner:
                await planner.request(move_printer(0, 1.0))
            assert (await bystander.wait_op("delta"))["revision"] == 1
    run(scenario())


def test_a_flooding_client_is_told_then_closed_and_others_are_unaffected(harness):
    harness.server.limits = protocol.Limits(messages_per_second=20, burst=10, abuse_factor=4, abuse_seconds=1)

    async def scenario():
        async with harness.running(), harness.client(Role.VIEWER) as bystander, \
                harness.client(Role.VIEWER) as flooder:
            message = json.dumps({"op": "unsubscribe", "id": 1, "twin": "private"})
            reader = asyncio.create_task(flooder.wait_op("never"))
            with pytest.raises(ConnectionClosed):
                for n in range(20000):
                    await flooder.socket.send(message)
                    if n % 10 == 0:
                        await asyncio.sleep(0.001)
            with pytest.raises(ConnectionClosed) as closed:
                await reader
            assert closed.value.rcvd.code == messages.CLOSE_POLICY and closed.value.rcvd.reason == "rate limit"
            codes = {m.get("code") for m in flooder.received if isinstance(m, dict)}
            assert "rate_limited" in codes
            async with harness.client(Role.PLANNER) as planner:
                await planner.request(move_printer(0, 1.0))
            assert (await bystander.wait_op("delta"))["revision"] == 1
    run(scenario())


def test_a_connection_that_never_says_hello_is_closed(harness):
    harness.server.limits = protocol.Limits(hello_timeout_s=0.5)

    async def scenario():
        async with harness.running():
            async with connect(harness.ws_url) as silent:
                with pytest.raises(ConnectionClosed) as closed:
                    await asyncio.wait_for(silent.recv(), TIMEOUT)
                assert closed.value.rcvd.code == messages.CLOSE_POLICY and "no hello" in closed.value.rcvd.reason
            async with harness.client(Role.VIEWER) as polite:
                await asyncio.sleep(1.0)
                assert (await polite.request({"op": "subscribe", "twin": "shop"}))["op"] == "snapshot"
    run(scenario())


def test_a_client_that_stops_reading_is_cut_off_and_the_others_get_everything(tmp_path, write_twin_folder):
    harness = Harness(tmp_path, write_twin_folder, queue_limit=16)

    async def scenario():
        async with harness.running(), harness.client(Role.VIEWER) as reader, harness.client(Role.ADMIN) as admin:
            async with harness.client(Role.VIEWER, max_queue=1) as stalled:
                notes = "n" * 200_000
                for base in range(80):
                    patch = [{"op": "add", "path": "/machines/0/properties/notes", "value": f"{base}{notes}"}]
                    ack = await admin.request({"op": "edit", "twin": "shop", "base_revision": base, "patch": patch})
                    assert ack["revision"] == base + 1
                    delta = await reader.wait_op("delta")
                    assert delta["revision"] == base + 1
                    admin.received.clear()
                with pytest.raises(ConnectionClosed) as closed:
                    while True:
                        await stalled.socket.recv()
                assert closed.value.rcvd.code == 4008 and "too slow" in closed.value.rcvd.reason
    try:
        run(scenario())
    finally:
        harness.close()


def test_a_restart_keeps_edits_and_a_re_export_becomes_a_revision(harness):
    async def edit_once():
        async with harness.running(), harness.client(Role.PLANNER) as planner:
            assert (await planner.request(move_printer(0, 5.0)))["revision"] == 1
    run(edit_once())
    restarted = TwinServer([harness.folder, harness.private], harness.store)
    assert restarted.hub.heads["shop"][0] == 1
    assert restarted.hub.heads["shop"][1]["machines"][0]["pose"]["translation"] == [5.0, 2.0, 0.0]
    restarted.close()
    document = json.loads((harness.folder / "twin.json").read_text())
    document["machines"][0]["name"] = "Printer, re-exported"
    (harness.folder / "twin.json").write_text(json.dumps(document))
    reexported = TwinServer([harness.folder, harness.private], harness.store)
    revision, served = reexported.hub.heads["shop"]
    assert revision == 2 and served == document
    assert harness.store.edits("shop", after=1)[0].author == "import"
    reexported.close()
