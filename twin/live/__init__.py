"""Live machine state: bridges from machines (MQTT, OPC UA, OctoPrint) into machine-state messages.

Room: may import `twin.document`; never `twin.serve` (the server takes what the bridges yield).
"""
