"""Synthetic scans of the sample workshop with known changes: the room's surfaces (twin.synth's
scene) sampled evenly, with machines moved, added or taken out, seen from another frame with noise."""
from __future__ import annotations

import dataclasses
import functools

import numpy as np

from twin.synth import load_workshop
from twin.synth.scene import build_room_scene


@functools.lru_cache(maxsize=None)
def workshop():
    return load_workshop()


def moved(machine_id: str, shift_m, turn_deg: float = 0.0):
    """The sample workshop with one machine moved by shift_m and turned about its vertical."""
    shop = workshop()
    machines = []
    for m in shop.machines:
        if m.id == machine_id:
            a = np.radians(turn_deg)
            turn = np.eye(4)
            turn[:2, :2] = [[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]
            T = m.T_world_machine @ turn
            T[:3, 3] += shift_m
            m = dataclasses.replace(m, T_world_machine=T)
        machines.append(m)
    return dataclasses.replace(shop, machines=tuple(machines))


def without(shop, machine_id: str):
    return dataclasses.replace(shop, machines=tuple(m for m in shop.machines if m.id != machine_id))


def scan(shop, spacing_m: float = 0.03, seed: int = 0, noise_m: float = 0.0, T=None) -> np.ndarray:
    """Points on every visible surface of `shop`, one per spacing_m squared on average, with
    Gaussian noise of noise_m, in the frame T maps world points into (identity by default)."""
    scene = build_room_scene(shop)
    a, b, c = (scene.vertices[scene.triangles[:, i]] for i in range(3))
    areas = 0.5 * np.linalg.norm(np.cross(b - a, c - a), axis=1)
    rng = np.random.default_rng(seed)
    count = int(areas.sum() / spacing_m**2)
    tri = rng.choice(len(areas), size=count, p=areas / areas.sum())
    u, v = rng.random((2, count))
    flip = u + v > 1
    u[flip], v[flip] = 1 - u[flip], 1 - v[flip]
    points = a[tri] + u[:, None] * (b[tri] - a[tri]) + v[:, None] * (c[tri] - a[tri])
    points += rng.normal(scale=noise_m, size=points.shape) if noise_m else 0.0
    if T is not None:
        points = points @ T[:3, :3].T + T[:3, 3]
    return points


def frame(yaw_deg: float, shift_m) -> np.ndarray:
    a = np.radians(yaw_deg)
    T = np.eye(4)
    T[:2, :2] = [[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]]
    T[:3, 3] = shift_m
    return T
