"""`twin serve`: the twins over HTTP and WebSocket, to many viewers at once.

Room: the sans-I/O `protocol`, the asyncio shell (`server`), HTTP files, `access` (tokens,
roles), the `store` (SQLite), the `fanout` and JSON Patch. May import document, export and plan;
nothing outside `twin.cli` imports it.
"""
