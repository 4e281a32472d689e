"""A protocol-checking WebSocket test client, shared by the server's and the live bridges' tests:
it sends requests, waits for the message it expects, and checks everything the server says
against the protocol schema."""
from __future__ import annotations

import asyncio
import json

import jsonschema

from twin.serve import messages
from twin.serve.messages import PROTOCOL_SCHEMA_PATH

TIMEOUT = 10
_SCHEMA = json.loads(PROTOCOL_SCHEMA_PATH.read_text())
SERVER_MESSAGES = jsonschema.Draft202012Validator({**_SCHEMA, "anyOf": [{"$ref": "#/$defs/server_message"}]})


class Client:
    """A test client: sends requests, waits for the message it expects, keeps everything it got."""

    def __init__(self, socket):
        self.socket = socket
        self.received: list = []
        self._next_id = 100

    async def send(self, message: dict) -> None:
        await self.socket.send(json.dumps(message))

    async def request(self, message: dict):
        """Send a request with a fresh id; return the answer carrying that id (text or binary)."""
        self._next_id += 1
        await self.send({**message, "id": self._next_id})
        return await self.wait(lambda m: m.get("id") == self._next_id if isinstance(m, dict)
                               else messages.decode_asset(m)[0] == self._next_id)

    async def wait(self, match):
        for message in self.received:
            if match(message):
                self.received.remove(message)
                return message
        async with asyncio.timeout(TIMEOUT):
            while True:
                frame = await self.socket.recv()
                message = json.loads(frame) if isinstance(frame, str) else frame
                if isinstance(message, dict):
                    SERVER_MESSAGES.validate(message)  # everything the server says follows the schema
                if match(message):
                    return message
                self.received.append(message)

    async def wait_op(self, op: str, **fields):
        return await self.wait(lambda m: isinstance(m, dict) and m.get("op") == op
                               and all(m.get(k) == v for k, v in fields.items()))
