"""All mip levels of all textures of a scene in one image, so that a frame's texture lookups are
one bilinear `cv2.remap` over all its pixels instead of one per material and level.

Each level sits in its own rectangle with a border of texels copied from its opposite edges, so
bilinear filtering wraps around it exactly as it would around the level alone.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from twin.synth.materials import Texture

_BORDER_BEFORE, _BORDER_AFTER = 1, 2
"""Wrapped texels left/above and right/below each level: the wrapped coordinate may land a rounding
error below 0 (the -0.5 texel-centre shift makes that -0.5) or up to one texel past the end."""
_MAX_SIDE = 32766
"""cv2.remap takes images and maps narrower and shorter than 32767 pixels."""
_ATLAS_WIDTH = 16384
_MAP_COLUMNS = 4096


@dataclass(frozen=True)
class TextureAtlas:
    """Levels are numbered in slots: texture t's level L is slot `first_slot[t] + L`."""

    image: np.ndarray
    """(H, W, 3) uint8, all levels with their wrapped borders."""
    first_slot: np.ndarray
    """Per texture: int32 slot of its level 0..."""
    top_level: np.ndarray
    """...int32 its last level..."""
    texel_m: np.ndarray
    """...and float32 metres a texel at level 0."""
    slot_size: np.ndarray
    """Per slot: (2, S) float32 width and height in texels..."""
    slot_inverse_size: np.ndarray
    """...their inverses..."""
    slot_corner: np.ndarray
    """...(2, S) float32 column and row of texel (0, 0) of the level, less half a texel..."""
    slot_scale: np.ndarray
    """...and (S,) float32 2^-level: texels of the level per texel of level 0."""

    @classmethod
    def build(cls, textures: list[Texture]) -> "TextureAtlas":
        levels = [(t, level) for t, texture in enumerate(textures) for level in range(len(texture.levels))]
        images = [textures[t].levels[level] for t, level in levels]
        origins, height = _pack([(image.shape[0] + _BORDER_BEFORE + _BORDER_AFTER,
                                  image.shape[1] + _BORDER_BEFORE + _BORDER_AFTER) for image in images])
        atlas = np.zeros((height, _ATLAS_WIDTH, 3), np.uint8)
        for image, (row, column) in zip(images, origins):
            padded = np.pad(image, ((_BORDER_BEFORE, _BORDER_AFTER), (_BORDER_BEFORE, _BORDER_AFTER), (0, 0)),
                            mode="wrap")
            atlas[row:row + padded.shape[0], column:column + padded.shape[1]] = padded
        size = np.array([image.shape[1::-1] for image in images], np.float32).T
        # The -0.5 puts texel centres at +0.5, as cv2 does.
        corner = (np.array(origins, np.float32)[:, ::-1] + _BORDER_BEFORE - 0.5).T
        return cls(atlas, np.cumsum([0] + [len(t.levels) for t in textures])[:-1].astype(np.int32),
                   np.array([len(t.levels) - 1 for t in textures], np.int32),
                   np.array([t.texel_m for t in textures], np.float32), size, 1 / size, np.ascontiguousarray(corner),
                   np.array([0.5 ** level for _, level in levels], np.float32))

    def sample(self, slots: np.ndarray, uv_texels: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Bilinear RGB (N, 3) uint8 at (u, v) (N,) float32 in texels of level 0, wrapping around
        each point's level `slots` (N,)."""
        n = len(slots)
        rows = max(1, -(-n // _MAP_COLUMNS))
        maps = np.zeros((2, rows * _MAP_COLUMNS), np.float32)
        scale = np.take(self.slot_scale, slots)
        for axis, coordinate in enumerate(uv_texels):
            scaled = coordinate * scale
            side = np.take(self.slot_size[axis], slots)
            # scaled mod side, exact for these magnitudes; a quotient rounded across a whole number
            # lands a rounding error outside [0, side), on the wrapped border.
            wrapped = scaled - np.floor(scaled * np.take(self.slot_inverse_size[axis], slots)) * side
            np.add(wrapped, np.take(self.slot_corner[axis], slots), out=maps[axis, :n])
        out = cv2.remap(self.image, maps[0].reshape(rows, _MAP_COLUMNS), maps[1].reshape(rows, _MAP_COLUMNS),
                        cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return out.reshape(-1, 3)[:n]


def _pack(sizes: list[tuple[int, int]]) -> tuple[list[tuple[int, int]], int]:
    """Shelf packing, tallest first: (row, column) of each (height, width) rectangle and the total height."""
    origins = [(0, 0)] * len(sizes)
    row = column = shelf = 0
    for index in sorted(range(len(sizes)), key=lambda i: -sizes[i][0]):
        height, width = sizes[index]
        if column + width > _ATLAS_WIDTH:
            row, column, shelf = row + shelf, 0, 0
        origins[index] = (row, column)
        column += width
        shelf = max(shelf, height)
    total = row + shelf
    if total > _MAX_SIDE:
        raise ValueError(f"the scene's textures need an atlas {total} texels tall, more than cv2.remap takes "
                         f"({_MAX_SIDE}); use fewer or smaller materials")
    return origins, total
