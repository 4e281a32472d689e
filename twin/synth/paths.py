"""Where the cameras go: a handheld walk around the room for RGB-D, and photo viewpoints.

The walk is a closed loop through the free middle of the room, the camera looking outwards at
the walls and machines while it sways, bobs and turns like a hand-held phone; every sway is a
whole number of cycles per loop, so the motion is smooth and the walk ends next to its start.
"""
from __future__ import annotations

import math

import numpy as np

from twin.camera import look_at
from twin.synth.spec import Workshop

EYE_HEIGHT_M = 1.45
# The loop keeps this far from the walls (machines and benches stand in between).
_WALL_CLEARANCE_M = (2.2, 2.0)


def _sway(rng: np.random.Generator, s: np.ndarray, cycles: tuple[int, ...], amplitude: float) -> np.ndarray:
    """Smooth periodic wobble over the loop parameter s in [0, 1): a few sines with random phases."""
    total = np.zeros_like(s)
    for c in cycles:
        total += np.sin(2 * math.pi * c * s + rng.uniform(0, 2 * math.pi))
    return amplitude * total / len(cycles)


def walk_poses(workshop: Workshop, frames: int, seed: int = 0) -> np.ndarray:
    """(frames, 4, 4) T_world_camera of a hand-held walk once around the room, ending near its start."""
    if frames < 2:
        raise ValueError(f"a walk needs at least 2 frames, got {frames}")
    rng = np.random.default_rng(seed)
    size = workshop.room_size_m
    centre = size[:2] / 2
    a = max(0.3, size[0] / 2 - _WALL_CLEARANCE_M[0])
    b = max(0.3, size[1] / 2 - _WALL_CLEARANCE_M[1])
    s = np.arange(frames) / frames
    theta = 2 * math.pi * s + _sway(rng, s, (2,), 0.05)
    x = centre[0] + a * np.cos(theta) + _sway(rng, s, (3, 5), 0.06)
    y = centre[1] + b * np.sin(theta) + _sway(rng, s, (4, 6), 0.06)
    loop_length = 2 * math.pi * math.sqrt((a * a + b * b) / 2)
    steps = max(1, round(loop_length / 0.7))  # a stride of 70 cm bobs the phone once per step
    z = EYE_HEIGHT_M + _sway(rng, s, (2, 3), 0.06) + 0.008 * np.sin(2 * math.pi * steps * s)
    outward = np.arctan2(y - centre[1], x - centre[0])
    # Looking around by +-17 deg: enough to see along the walls, slow enough for frame-to-frame tracking.
    yaw = outward + _sway(rng, s, (2, 3), 0.3)
    pitch = -0.25 + _sway(rng, s, (3, 5), 0.08)
    roll = _sway(rng, s, (5, 9), 0.04)
    eyes = np.stack([x, y, z], axis=1)
    forward = np.stack([np.cos(pitch) * np.cos(yaw), np.cos(pitch) * np.sin(yaw), np.sin(pitch)], axis=1)
    return np.stack([look_at(e, e + f, r) for e, f, r in zip(eyes, forward, roll)])


def photo_poses(workshop: Workshop, count: int) -> list[tuple[str, np.ndarray]]:
    """`count` named T_world_camera: a ring looking out at every wall from the middle of the room,
    and (when count allows) four views of each machine from in front, at different angles."""
    if count < 3:
        raise ValueError(f"a photo set needs at least 3 photos, got {count}")
    machines = workshop.machines
    per_machine = min(4, (count // 2) // max(1, len(machines)))
    ring = count - per_machine * len(machines)
    size = workshop.room_size_m
    centre = np.array([size[0] / 2, size[1] / 2, 0.0])
    a, b = max(0.3, size[0] / 2 - 2.6), max(0.3, size[1] / 2 - 2.3)
    poses = []
    for i in range(ring):
        angle = 2 * math.pi * i / ring
        eye = centre + [a * math.cos(angle), b * math.sin(angle), 1.55 + 0.12 * (i % 2)]
        heading = angle + 0.12 * (-1) ** i
        target = eye + [math.cos(heading), math.sin(heading), -0.22]
        poses.append((f"ring_{i:02d}", look_at(eye, target)))
    margin = 0.35
    for machine in machines if per_machine else ():
        T = machine.T_world_machine
        middle = T[:3, 3] + [0.0, 0.0, machine.size_m[2] / 2]
        front = -T[:3, 1]
        distance = max(1.6, 1.3 * float(machine.size_m.max()))
        for k, angle in enumerate(np.radians(np.linspace(-45, 45, per_machine))):
            c, s = math.cos(angle), math.sin(angle)
            direction = np.array([c * front[0] - s * front[1], s * front[0] + c * front[1], 0.0])
            eye = middle + distance * direction
            eye[:2] = np.clip(eye[:2], margin, size[:2] - margin)
            eye[2] = float(np.clip(middle[2] + 0.6, 1.3, 1.9))
            poses.append((f"{machine.id}_{k}", look_at(eye, middle)))
    return poses
