"""All mip levels of all textures of a scene in one image, so that a frame's texture lookups are
one bilinear `cv2.remap` over all its pixels instead of one per material and level.

Each level sits in its own rectangle with a border of texels copied from its opposite edges, so
bilinear filtering wraps around it exactly as it would around the level alone.
"""
from __future__ import annotations

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


class TextureAtlas:
    """Levels are numbered in slots: texture t's level L is slot `first_slot[t] + L`."""

    def __init__(self, textures: list[Texture]):
        levels = [(t, level) for t, texture in enumerate(textures) for level in range(len(texture.levels))]
        self.first_slot = np.cumsum([0] + [len(texture.levels) for texture in textures])[:-1].astype(np.int32)
        self.top_level = np.array([len(texture.levels) - 1 for texture in textures], np.int32)
        self.texel_m = np.array([texture.texel_m for texture in textures], np.float32)
        images = [textures[t].levels[level] for t, level in levels]
        origins, height = _pack([(image.shape[0] + _BORDER_BEFORE + _BORDER_AFTER,
                                  image.shape[1] + _BORDER_BEFORE + _BORDER_AFTER) for image in images])
        self.image = np.zeros((height, _ATLAS_WIDTH, 3), np.uint8)
        for image, (row, column) in zip(images, origins):
            padded = np.pad(image, ((_BORDER_BEFORE, _BORDER_AFTER), (_BORDER_BEFORE, _BORDER_AFTER), (0, 0)),
                            mode="wrap")
            self.image[row:row + padded.shape[0], column:column + padded.shape[1]] = padded
        sizes = np.array([image.shape[:2] for image in images], np.float32)
        self._width, self._height = sizes[:, 1], sizes[:, 0]
        self._inverse_width, self._inverse_height = 1 / self._width, 1 / self._height
        # Level L is 2^-L as many texels per metre; the -0.5 puts texel centres at +0.5 (as cv2 does).
        self._scale = np.array([0.5 ** level for _, level in levels], np.float32)
        corner = np.array(origins, np.float32) + _BORDER_BEFORE - 0.5
        self._row0, self._column0 = corner[:, 0], corner[:, 1]

    def sample(self, slots: np.ndarray, uv_texels: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """Bilinear RGB (N, 3) uint8 at (u, v) (N,) float32 in texels of level 0, wrapping around
        each point's level `slots` (N,)."""
        u, v = uv_texels
        n = len(slots)
        rows = max(1, -(-n // _MAP_COLUMNS))
        maps = np.zeros((2, rows * _MAP_COLUMNS), np.float32)
        for axis, coordinate, size, inverse, start in ((0, u, self._width, self._inverse_width, self._column0),
                                                        (1, v, self._height, self._inverse_height, self._row0)):
            scaled = coordinate * self._scale[slots]
            side = size[slots]
            # scaled mod side, exact for these magnitudes; a quotient rounded across a whole number
            # lands a rounding error outside [0, side), on the wrapped border.
            wrapped = scaled - np.floor(scaled * inverse[slots]) * side
            np.add(wrapped, start[slots], out=maps[axis, :n])
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
