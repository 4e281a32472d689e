"""The simulation on the wire: machines' values published to MQTT, or served by an OPC UA server.

MQTT: one retained JSON object per machine on `PREFIX/<machine>/state`, every `interval_s` (what a
small printer bridge or a Home Assistant sensor sends). OPC UA: one variable per property with the
node id `ns=2;s=<machine>.<property>`, written every `interval_s`; clients subscribe to changes.
"""
from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable

import aiomqtt
from asyncua import Server, ua

from twin.simulator.machines import PROPERTIES, SimulatedMachine

MQTT_PREFIX = "twin-sim"
OPCUA_NAMESPACE = "urn:twin:simulator"
logging.getLogger("asyncua").setLevel(logging.WARNING)  # asyncua tells every session step at INFO


def mqtt_topic(machine_id: str) -> str:
    return f"{MQTT_PREFIX}/{machine_id}/state"


def opcua_node(machine_id: str, name: str) -> str:
    return f"ns=2;s={machine_id}.{name}"


async def publish_mqtt(url_host: str, port: int, machines: list[SimulatedMachine], clock: Callable[[], float],
                       interval_s: float) -> None:
    """Publish every machine's values until cancelled (reconnecting when the broker goes away)."""
    while True:
        try:
            async with aiomqtt.Client(url_host, port) as client:
                while True:
                    now = clock()
                    for machine in machines:
                        await client.publish(mqtt_topic(machine.id), json.dumps(machine.values(now)), retain=True)
                    await asyncio.sleep(interval_s)
        except aiomqtt.MqttError:
            await asyncio.sleep(1.0)


async def serve_opcua(port: int, machines: list[SimulatedMachine], clock: Callable[[], float], interval_s: float,
                      ready: asyncio.Event | None = None) -> None:
    """Run an OPC UA server on 127.0.0.1:`port` with the machines' variables until cancelled."""
    server = Server()
    await server.init()
    server.set_endpoint(f"opc.tcp://127.0.0.1:{port}/twin-simulator/")
    server.set_server_name("twin simulator")
    server.set_security_policy([ua.SecurityPolicyType.NoSecurity])  # loopback, read-only demo data
    namespace = await server.register_namespace(OPCUA_NAMESPACE)
    if namespace != 2:
        raise RuntimeError(f"the simulator's namespace got index {namespace}; its node ids say ns=2")
    variables = []
    for machine in machines:
        folder = await server.nodes.objects.add_object(namespace, machine.id)
        first = machine.values(clock())
        for prop in PROPERTIES[machine.kind]:
            node = ua.NodeId(f"{machine.id}.{prop.name}", namespace)
            variables.append((machine, prop.name, await folder.add_variable(node, prop.name, first[prop.name])))
    async with server:
        if ready is not None:
            ready.set()
        while True:
            values = {machine.id: machine.values(clock()) for machine in machines}
            for machine, name, variable in variables:
                await variable.write_value(values[machine.id][name])
            await asyncio.sleep(interval_s)
