"""Leader election for the live-state bridges: one leader per twin among processes, and a new one
when it dies (kill -9: no goodbye) or leaves, on a real Redis, a real PostgreSQL and a lock file."""
from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import textwrap

from twin.scaleout.leader import FileLeadership, PostgresLeadership, RedisLeadership
from twin.scaleout.urls import redis_address

TWINS = ["shop", "lab"]


def leader_process(kind: str, where: str) -> subprocess.Popen:
    """Another process that leads what it can and prints each twin it gains."""
    make = {"redis": f"RedisLeadership(redis_address({where!r}), 'other', ttl_s=1.0)",
            "postgres": f"PostgresLeadership({where!r}, retry_s=0.1)",
            "file": f"FileLeadership({where!r}, retry_s=0.1)"}[kind]
    code = textwrap.dedent(f"""
        import asyncio
        from twin.scaleout.leader import FileLeadership, PostgresLeadership, RedisLeadership
        from twin.scaleout.urls import redis_address
        asyncio.run({make}.run({TWINS!r}, lambda twin: print(twin, flush=True), lambda twin: None))
    """)
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


async def gains_after(leadership, other: subprocess.Popen) -> tuple[set, set]:
    """What `leadership` leads while `other` leads, and after `other` is killed -9."""
    gained: set[str] = set()
    lost: set[str] = set()
    first = {other.stdout.readline().strip() for _ in TWINS}  # the other process leads both twins first
    assert first == set(TWINS)
    task = asyncio.create_task(leadership.run(TWINS, gained.add, lost.add))
    await asyncio.sleep(0.5)
    while_other = set(gained)
    other.send_signal(signal.SIGKILL)
    other.wait()
    async with asyncio.timeout(10):
        while gained != set(TWINS):
            await asyncio.sleep(0.05)
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    assert lost == set(TWINS)  # leaving hands every twin back
    return while_other, gained


def test_redis_leader_of_each_twin_is_one_process_and_a_dead_ones_twins_move(redis_server):
    other = leader_process("redis", redis_server.url)
    try:
        mine = RedisLeadership(redis_address(redis_server.url), "mine", ttl_s=1.0)
        while_other, gained = asyncio.run(gains_after(mine, other))
    finally:
        other.kill()
    assert while_other == set()  # never two leaders of one twin
    assert gained == set(TWINS)  # its keys expired: this process took over


def test_file_leader_of_each_twin_is_one_process_and_a_dead_ones_twins_move(tmp_path):
    lock = tmp_path / "twin.db.leaders"
    other = leader_process("file", str(lock))
    try:
        while_other, gained = asyncio.run(gains_after(FileLeadership(lock, retry_s=0.1), other))
    finally:
        other.kill()
    assert while_other == set()
    assert gained == set(TWINS)


def test_postgres_leader_of_each_twin_is_one_process_and_a_dead_ones_twins_move(postgres_server):
    other = leader_process("postgres", postgres_server.url)
    try:
        mine = PostgresLeadership(postgres_server.url, retry_s=0.1)
        while_other, gained = asyncio.run(gains_after(mine, other))
    finally:
        other.kill()
    assert while_other == set()
    assert gained == set(TWINS)  # its session ended with it, and its locks with the session


def test_a_leaving_redis_leader_hands_over_at_once(redis_server):
    address = redis_address(redis_server.url)

    async def scenario():
        first, second = RedisLeadership(address, "first", ttl_s=6.0), RedisLeadership(address, "second", ttl_s=6.0)
        gained_first: set[str] = set()
        gained_second: set[str] = set()
        leading = asyncio.create_task(first.run(TWINS, gained_first.add, lambda twin: None))
        while gained_first != set(TWINS):
            await asyncio.sleep(0.02)
        waiting = asyncio.create_task(second.run(TWINS, gained_second.add, lambda twin: None))
        await asyncio.sleep(0.3)
        assert gained_second == set()
        leading.cancel()
        await asyncio.gather(leading, return_exceptions=True)
        async with asyncio.timeout(30):  # released: taken at its next round (every 2 s), not at expiry
            while gained_second != set(TWINS):
                await asyncio.sleep(0.02)
        waiting.cancel()
        await asyncio.gather(waiting, return_exceptions=True)

    asyncio.run(scenario())
