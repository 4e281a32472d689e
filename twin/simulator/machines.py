"""How a simulated machine's values change: pure functions of the time since the simulation started.

Each kind runs a cycle, so a visitor who watches for a few minutes sees every state: a 3D printer
heats up, prints (progress rising to 100 %), cools down and waits, and on every third print its
nozzle overshoots into an alarm for a few seconds; a mill and a lathe start their spindle, hold it
under a varying load and stop; a laser cutter cuts at varying power with its lid closed. Values are
realistic in range and noise, and deterministic for a given seed (tests compare them).
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass

PRINTER_CYCLE_S = 240.0
SPINDLE_CYCLE_S = 90.0
LASER_CYCLE_S = 60.0
ALARM_EVERY_PRINTS = 3


@dataclass(frozen=True)
class Property:
    name: str
    unit: str | None = None


PROPERTIES = {
    "3d_printer": (Property("state"), Property("progress", "%"), Property("file"), Property("nozzle_temp", "°C"),
                   Property("nozzle_target", "°C"), Property("bed_temp", "°C"), Property("bed_target", "°C")),
    "cnc_mill": (Property("state"), Property("spindle_rpm", "rpm"), Property("load", "%")),
    "lathe": (Property("state"), Property("spindle_rpm", "rpm"), Property("load", "%")),
    "laser_cutter": (Property("state"), Property("power", "W"), Property("lid_open")),
}
"""What each kind of machine tells, with units; other kinds are not simulated."""
STATUS_RULES = {
    "3d_printer": {"alarm": "nozzle_temp > 265", "running": "state == 'Printing'"},
    "cnc_mill": {"alarm": "load > 95", "running": "spindle_rpm > 0"},
    "lathe": {"alarm": "load > 95", "running": "spindle_rpm > 0"},
    "laser_cutter": {"alarm": "power > 0 and lid_open == true", "running": "power > 0"},
}
"""The twin document's status rules that fit these values (twin demo writes them)."""


def _ramp(t: float, start: float, length: float) -> float:
    """0 before `start`, 1 after `start + length`, linear between."""
    return min(1.0, max(0.0, (t - start) / length))


class SimulatedMachine:
    """The values of one machine of a simulated kind at any time."""

    def __init__(self, machine_id: str, kind: str, seed: int = 0):
        if kind not in PROPERTIES:
            raise ValueError(f"machine {machine_id!r}: kind {kind!r} is not simulated "
                             f"(simulated kinds: {', '.join(PROPERTIES)})")
        self.id = machine_id
        self.kind = kind
        self._seed = f"{seed}:{machine_id}"
        # Machines of one kind do not run in lockstep.
        self._offset_s = random.Random(f"offset:{seed}:{machine_id}").uniform(0, 60)

    def values(self, t_s: float) -> dict[str, object]:
        """Property name -> value, `t_s` seconds after the simulation started."""
        t = t_s + self._offset_s
        self._noise = random.Random(f"{self._seed}:{round(t, 2)}")  # the same time gives the same values
        return {"3d_printer": self._printer, "cnc_mill": self._spindle, "lathe": self._spindle,
                "laser_cutter": self._laser}[self.kind](t)

    def _jitter(self, size: float) -> float:
        return self._noise.gauss(0.0, size)

    def _printer(self, t: float) -> dict[str, object]:
        number, phase = divmod(t, PRINTER_CYCLE_S)
        heat, cool = _ramp(phase, 0, 30), _ramp(phase, 200, 30)
        printing = 30 <= phase < 200
        nozzle_target, bed_target = (215.0, 60.0) if phase < 200 else (0.0, 0.0)
        nozzle = 25 + 190 * heat * (1 - cool) + (self._jitter(0.6) if heat > 0 else 0)
        if printing and int(number) % ALARM_EVERY_PRINTS == ALARM_EVERY_PRINTS - 1 and 120 <= phase < 128:
            nozzle = 270 + self._jitter(1.0)  # a thermistor fault: the alarm a visitor should see
        state = "Printing" if printing else ("Heating" if phase < 30 else ("Cooling" if phase < 230 else "Operational"))
        return {"state": state, "progress": round(100 * _ramp(phase, 30, 170), 1),
                "file": f"part-{int(number) % 5 + 1}.gcode", "nozzle_temp": round(nozzle, 1),
                "nozzle_target": nozzle_target, "bed_temp": round(22 + 38 * heat * (1 - cool) + self._jitter(0.2), 1),
                "bed_target": bed_target}

    def _spindle(self, t: float) -> dict[str, object]:
        phase = t % SPINDLE_CYCLE_S
        top = 12000.0 if self.kind == "cnc_mill" else 1800.0
        on = _ramp(phase, 10, 5) * (1 - _ramp(phase, 70, 5))
        load = (35 + 25 * math.sin(phase / 6.0) + self._jitter(2.0)) * on
        return {"state": "running" if on > 0 else "idle", "spindle_rpm": round(top * on),
                "load": round(max(0.0, load), 1)}

    def _laser(self, t: float) -> dict[str, object]:
        phase = t % LASER_CYCLE_S
        cutting = 15 <= phase < 50
        power = (32 + 6 * math.sin(phase) + self._jitter(0.5)) if cutting else 0.0
        return {"state": "cutting" if cutting else "idle", "power": round(power, 1), "lid_open": phase < 10}
