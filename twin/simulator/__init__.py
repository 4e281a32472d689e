"""A simulated workshop: the sample's machines speaking the real protocols, for `twin demo` and `twin simulate`.

Room: floor 3, beside `live`; imports nothing of twin but `twin.scanfolder` for the twin document; never
serve or live (it is what the bridges read, over the network like a real machine).

Modules: `machines` (how each kind's values change over time), `mqtt_publisher` and `opcua_server` (the two
protocols), `broker` (a Mosquitto of its own where installed), `workshop` (all of it for one twin
document, and the `sources` that read it).
"""
from twin.simulator.workshop import SimulatedWorkshop

__all__ = ["SimulatedWorkshop"]
