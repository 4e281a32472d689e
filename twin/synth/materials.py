"""Procedural materials: albedo textures made from noise, bricks, wood grain, labels and posters.

Each material becomes one large, seamless texture (generated once from a seed derived from the
material's name, so renders are reproducible) that surfaces sample by their position in metres.
Textures span metres before they repeat, so that photos of different walls never show the same
patch twice: repeated patterns would mislead feature matching and loop closure.
"""
from __future__ import annotations

import functools
import math
import zlib
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"
_FONTS = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_PLAIN)


def _noise(rng: np.random.Generator, n: int, cells: int) -> np.ndarray:
    """Seamless smooth value noise in [0, 1] with `cells` random values across the n x n texture."""
    cells = min(cells, n)
    grid = np.pad(rng.random((cells, cells), dtype=np.float32), 2, mode="wrap")
    scale = n / cells
    big = cv2.resize(grid, (round((cells + 4) * scale),) * 2, interpolation=cv2.INTER_CUBIC)
    start = round(2 * scale)
    return big[start:start + n, start:start + n]


def _fbm(rng: np.random.Generator, n: int, cells: int, octaves: int = 4) -> np.ndarray:
    """Fractal noise, zero mean, roughly in [-1, 1]: coarse shapes plus finer detail."""
    total = np.zeros((n, n), np.float32)
    weight_sum = 0.0
    for octave in range(octaves):
        weight = 0.5 ** octave
        total += weight * (_noise(rng, n, cells * 2 ** octave) - 0.5)
        weight_sum += weight
    return total * (2.0 / weight_sum)


def _grain(rng: np.random.Generator, n: int) -> np.ndarray:
    """Texel-sized white noise in [-1, 1]."""
    return rng.random((n, n), dtype=np.float32) * 2 - 1


def _stroke(image: np.ndarray, x: int, y: int, angle: float, length: float, value: tuple[float, ...]) -> None:
    """A thin anti-aliased line: a scratch, a pencil mark."""
    end = (int(x + length * math.cos(angle)), int(y + length * math.sin(angle)))
    cv2.line(image, (x, y), end, value, 1, cv2.LINE_AA)


def _tint(color: np.ndarray, shade: np.ndarray) -> np.ndarray:
    # One plane per channel, then interleaved: numpy broadcasting over a last axis of 3 is slow.
    return cv2.merge([shade * c for c in color.astype(np.float32)])


def _random_word(rng: np.random.Generator, length: int) -> str:
    return "".join(rng.choice(list(_LETTERS), size=length))


def _put_text(image: np.ndarray, text: str, origin: tuple[int, int], font: int, scale: float,
              ink: tuple[float, float, float], thickness: int) -> None:
    """cv2.putText onto a float image (OpenCV draws text on 8-bit images only): draw an
    anti-aliased 8-bit coverage mask of the text's box, then blend the ink in by coverage."""
    (width, height), baseline = cv2.getTextSize(text, font, scale, thickness)
    pad = thickness + 2
    x0, y0 = origin[0] - pad, origin[1] - height - pad
    mask = np.zeros((height + baseline + 2 * pad, width + 2 * pad), np.uint8)
    cv2.putText(mask, text, (pad, height + pad), font, scale, 255, thickness, cv2.LINE_AA)
    n_rows, n_cols = image.shape[:2]
    top, left = max(0, y0), max(0, x0)
    bottom, right = min(n_rows, y0 + mask.shape[0]), min(n_cols, x0 + mask.shape[1])
    if bottom <= top or right <= left:
        return
    alpha = mask[top - y0:bottom - y0, left - x0:right - x0, None].astype(np.float32) / 255
    region = image[top:bottom, left:right]
    region[:] = region * (1 - alpha) + np.asarray(ink, np.float32) * alpha


def _draw_text_block(image: np.ndarray, rng: np.random.Generator, x: int, y: int, width: int, height: int,
                     ink: tuple[float, float, float]) -> None:
    """Lines of random words within a box, like the small print on a label."""
    line_height = max(8, height // max(1, int(rng.integers(2, 5))))
    scale = line_height / 30.0
    font = _FONTS[int(rng.integers(len(_FONTS)))]
    for row in range(y + line_height, y + height, line_height):
        text = _random_word(rng, int(rng.integers(2, 7)))
        while cv2.getTextSize(text, font, scale, 1)[0][0] < width * 0.7:
            text += " " + _random_word(rng, int(rng.integers(2, 7)))
        _put_text(image, text, (x, row), font, scale, ink, max(1, round(scale * 2)))


def _labels(image: np.ndarray, rng: np.random.Generator, count: int, size_px: tuple[int, int]) -> None:
    """Stickers: white or yellow rectangles with a border, a title and small print."""
    n = image.shape[0]
    for _ in range(count):
        w = int(rng.integers(*size_px))
        h = int(w * rng.uniform(0.4, 0.8))
        x, y = int(rng.integers(0, n - w)), int(rng.integers(0, n - h))
        paper = (0.95, 0.95, 0.92) if rng.random() < 0.6 else (0.95, 0.80, 0.10)
        cv2.rectangle(image, (x, y), (x + w, y + h), paper, -1)
        cv2.rectangle(image, (x + 2, y + 2), (x + w - 3, y + h - 3), (0.05, 0.05, 0.05), max(1, w // 60))
        if rng.random() < 0.5:
            corners = np.array([[x + 6, y + h - 6], [x + 6 + h // 2, y + h - 6], [x + 6 + h // 4, y + 6]], np.int32)
            cv2.fillPoly(image, [corners], (0.05, 0.05, 0.05))
            x_text = x + 10 + h // 2
        else:
            x_text = x + 6
        _put_text(image, _random_word(rng, int(rng.integers(3, 8))), (x_text, y + h // 3),
                  cv2.FONT_HERSHEY_DUPLEX, h / 90.0, (0.05, 0.05, 0.05), max(1, h // 30))
        _draw_text_block(image, rng, x_text, y + h // 3, w - (x_text - x) - 6, h - h // 3 - 4, (0.1, 0.1, 0.1))


def _concrete(rng, color, n):
    shade = 1 + 0.16 * _fbm(rng, n, 8, 5) + 0.05 * _grain(rng, n)
    pores = cv2.GaussianBlur(rng.random((n, n), dtype=np.float32), (0, 0), 1.2) > 0.62
    shade[pores] *= 0.7
    stains = _noise(rng, n, 6)
    shade *= 1 - 0.18 * np.clip((stains - 0.6) * 4, 0, 1)
    return _tint(color, shade)


def _plaster(rng, color, n):
    shade = 1 + 0.07 * _fbm(rng, n, 16, 5) + 0.03 * _grain(rng, n)
    image = _tint(color, shade)
    # Scuffs, screw holes and pencil marks: a lived-in wall has them, and they give photos features.
    for _ in range(n // 4):
        x, y = (int(v) for v in rng.integers(0, n, 2))
        kind = rng.random()
        dark = tuple(float(c) for c in color * rng.uniform(0.3, 0.7))
        if kind < 0.4:
            cv2.circle(image, (x, y), int(rng.integers(1, 3)), dark, -1)
        elif kind < 0.8:
            angle = rng.uniform(0, math.pi)
            length = rng.uniform(5, 40)
            _stroke(image, x, y, angle, length, dark)
        else:
            cv2.ellipse(image, (x, y), (int(rng.integers(6, 30)), int(rng.integers(3, 12))), rng.uniform(0, 180), 0, 360,
                        tuple(float(c) for c in color * 0.9), -1)
    return image


def _brick(rng, color, n):
    course, length = 19, 62  # texels: 76 x 248 mm with 4 mm texels (brick plus mortar)
    ys, xs = np.mgrid[0:n, 0:n]
    row = ys // course
    shifted = xs + (row % 2) * (length // 2)
    col = shifted // length
    tone = rng.normal(1.0, 0.08, (n // course + 2, n // length + 3)).astype(np.float32)
    hue = rng.normal(0.0, 0.02, (n // course + 2, n // length + 3, 3)).astype(np.float32)
    brick_shade = tone[row, col] * (1 + 0.12 * _fbm(rng, n, 64, 3) + 0.06 * _grain(rng, n))
    image = brick_shade[..., None] * (color[None, None, :] + hue[row, col])
    mortar = ((ys % course) < 3) | ((shifted % length) < 3)
    mortar_color = np.array([0.72, 0.70, 0.66], np.float32) * (1 + 0.08 * _grain(rng, n))[..., None]
    image[mortar] = mortar_color[mortar]
    return image


def _wood(rng, color, n):
    plank = 50  # texels: 15 cm boards with 3 mm texels
    ys, xs = np.mgrid[0:n, 0:n].astype(np.float32)
    board = (ys // plank).astype(int)
    tone = rng.normal(1.0, 0.07, n // plank + 2).astype(np.float32)
    phase = rng.uniform(0, 50, n // plank + 2).astype(np.float32)
    warp = 6.0 * _fbm(rng, n, 8, 3)
    rings = np.sin((ys + phase[board] + warp * 3) * (2 * math.pi / 7.0) + 8 * _noise(rng, n, 32))
    shade = tone[board] * (1 + 0.10 * rings + 0.08 * _fbm(rng, n, 24, 4) + 0.04 * _grain(rng, n))
    shade[(ys % plank) < 1.5] *= 0.55
    image = _tint(color, shade)
    for _ in range(n // 64):  # knots
        cx, cy = (int(v) for v in rng.integers(0, n, 2))
        cv2.ellipse(image, (cx, cy), (int(rng.integers(5, 14)), int(rng.integers(3, 6))), 0, 0, 360,
                    tuple(float(c) for c in color * 0.45), -1, cv2.LINE_AA)
    return image


def _pegboard(rng, color, n):
    pitch = 8  # texels: 24 mm hole pitch with 3 mm texels
    shade = 1 + 0.08 * _fbm(rng, n, 16, 4) + 0.04 * _grain(rng, n)
    ys, xs = np.mgrid[0:n, 0:n]
    holes = ((xs % pitch - pitch / 2) ** 2 + (ys % pitch - pitch / 2) ** 2) < 2.3
    shade[holes] = 0.12
    image = _tint(color, shade)
    _labels(image, rng, n // 40, (30, 70))  # marker outlines and tags where tools hang
    return image


def _brushed_metal(rng, color, n):
    streaks = cv2.resize(rng.random((n, n // 64), dtype=np.float32), (n, n), interpolation=cv2.INTER_LINEAR)
    shade = 1 + 0.12 * (streaks - 0.5) * 2 + 0.10 * _fbm(rng, n, 8, 3) + 0.04 * _grain(rng, n)
    image = _tint(color, shade)
    for _ in range(n // 4):  # scratches
        x, y = (int(v) for v in rng.integers(0, n, 2))
        angle = rng.uniform(0, math.pi)
        length = rng.uniform(10, 80)
        value = tuple(float(c) for c in np.clip(color * rng.uniform(0.6, 1.4), 0, 1))
        _stroke(image, x, y, angle, length, value)
    return image


def _painted_metal(rng, color, n):
    shade = 1 + 0.06 * _fbm(rng, n, 16, 5) + 0.03 * _grain(rng, n)
    image = _tint(color, shade)
    for _ in range(n // 3):  # chips, bolts and wear
        x, y = (int(v) for v in rng.integers(0, n, 2))
        if rng.random() < 0.5:
            cv2.circle(image, (x, y), int(rng.integers(3, 7)), (0.25, 0.25, 0.27), -1, cv2.LINE_AA)
            cv2.circle(image, (x, y), 2, (0.55, 0.55, 0.57), -1)
        else:
            cv2.ellipse(image, (x, y), (int(rng.integers(2, 10)), int(rng.integers(1, 5))), rng.uniform(0, 180), 0, 360,
                        tuple(float(c) for c in np.clip(color * rng.uniform(0.4, 1.5), 0, 1)), -1)
    _labels(image, rng, n // 40, (40, 110))
    return image


def _plastic(rng, color, n):
    shade = 1 + 0.08 * _fbm(rng, n, 16, 4) + 0.05 * _grain(rng, n)
    image = _tint(color, shade)
    bright = tuple(float(c) for c in np.clip(color * 1.8 + 0.15, 0, 1))
    for _ in range(n // 6):
        x, y = (int(v) for v in rng.integers(0, n, 2))
        _put_text(image, _random_word(rng, int(rng.integers(2, 6))), (x, y), _FONTS[int(rng.integers(len(_FONTS)))],
                  rng.uniform(0.4, 1.2), bright, 1)
    _labels(image, rng, n // 30, (40, 90))
    return image


def _poster(rng, color, n):
    image = np.empty((n, n, 3), np.float32)
    image[:] = color
    for _ in range(n // 5):  # shapes, blocks and "photos"
        x, y = (int(v) for v in rng.integers(0, n, 2))
        fill = tuple(float(c) for c in rng.random(3))
        kind = rng.random()
        size = int(rng.integers(10, 80))
        if kind < 0.3:
            cv2.circle(image, (x, y), size // 2, fill, -1, cv2.LINE_AA)
        elif kind < 0.6:
            cv2.rectangle(image, (x, y), (x + size, y + int(size * rng.uniform(0.3, 1.5))), fill, -1)
        elif kind < 0.8:
            points = (np.array([x, y]) + rng.integers(-size, size, (3, 2))).astype(np.int32)
            cv2.fillPoly(image, [points], fill, cv2.LINE_AA)
        else:
            patch = cv2.resize(rng.random((6, 6, 3), dtype=np.float32), (size, size), interpolation=cv2.INTER_CUBIC)
            y1, x1 = min(n, y + size), min(n, x + size)
            image[y:y1, x:x1] = np.clip(patch[:y1 - y, :x1 - x], 0, 1)
    ink = (0.05, 0.05, 0.05) if color.mean() > 0.5 else (0.97, 0.97, 0.95)
    for _ in range(n // 20):
        x, y = (int(v) for v in rng.integers(0, n - 40, 2))
        _put_text(image, _random_word(rng, int(rng.integers(3, 9))), (x, y), _FONTS[int(rng.integers(len(_FONTS)))],
                  rng.uniform(0.6, 2.0), ink, int(rng.integers(1, 4)))
    return image * (1 + 0.03 * _grain(rng, n))[..., None]


def _window(rng, color, n):
    pane = 118  # texels: 47 cm panes with 4 mm texels
    ys, xs = np.mgrid[0:n, 0:n]
    outside = _noise(rng, n, 8)  # the blurred view outside: sky, and trees where the noise is high
    trees = np.clip((_noise(rng, n, 24) - 0.45) * 4, 0, 1)[..., None]
    sky = _tint(color, 0.85 + 0.3 * outside)
    image = sky * (1 - trees) + _tint(np.array([0.30, 0.45, 0.25], np.float32), 0.7 + 0.5 * outside) * trees
    frame = ((xs % pane) < 10) | ((ys % pane) < 10)
    image[frame] = np.array([0.93, 0.93, 0.92], np.float32) * (1 + 0.05 * _grain(rng, n))[frame][:, None]
    return image


def _ceiling_panels(rng, color, n):
    panel = 150  # texels: 60 cm panels with 4 mm texels
    ys, xs = np.mgrid[0:n, 0:n]
    tone = rng.normal(1.0, 0.03, (n // panel + 2, n // panel + 2)).astype(np.float32)
    shade = tone[ys // panel, xs // panel] * (1 + 0.05 * _fbm(rng, n, 32, 3))
    fissures = cv2.GaussianBlur(rng.random((n, n), dtype=np.float32), (0, 0), 1.0) > 0.60
    shade[fissures] *= 0.72
    image = _tint(color, shade)
    bars = ((xs % panel) < 5) | ((ys % panel) < 5)
    image[bars] = (0.97, 0.97, 0.97)
    return image


@dataclass(frozen=True)
class _Pattern:
    make: Callable[[np.random.Generator, np.ndarray, int], np.ndarray]
    texel_m: float
    size_px: int


PATTERNS: dict[str, _Pattern] = {
    "concrete": _Pattern(_concrete, 0.004, 2048),
    "plaster": _Pattern(_plaster, 0.004, 2048),
    "brick": _Pattern(_brick, 0.004, 2048),
    "ceiling_panels": _Pattern(_ceiling_panels, 0.004, 2048),
    "window": _Pattern(_window, 0.004, 1024),
    "wood": _Pattern(_wood, 0.003, 1024),
    "pegboard": _Pattern(_pegboard, 0.003, 1024),
    "brushed_metal": _Pattern(_brushed_metal, 0.002, 1024),
    "painted_metal": _Pattern(_painted_metal, 0.002, 1536),
    "plastic": _Pattern(_plastic, 0.002, 1024),
    "poster": _Pattern(_poster, 0.0015, 1536),
}
"""Pattern name -> how to make it, its texel size and its texture size (span = texel x size)."""


class Texture:
    """An albedo texture with a mip pyramid (8-bit RGB levels), `texel_m` metres a texel at level 0;
    surfaces sample it by their coordinates in metres, wrapping around (see `TextureAtlas`)."""

    def __init__(self, image: np.ndarray, texel_m: float):
        scaled = image * np.float32(255)
        scaled += 0.5
        level = np.clip(scaled, 0, 255, out=scaled).astype(np.uint8)
        self.levels = [level]
        while min(level.shape[:2]) > 16:
            level = cv2.resize(level, (level.shape[1] // 2, level.shape[0] // 2), interpolation=cv2.INTER_AREA)
            self.levels.append(level)
        self.texel_m = texel_m

    @classmethod
    def procedural(cls, pattern: str, color: tuple[float, float, float], seed_name: str) -> "Texture":
        spec = PATTERNS[pattern]
        rng = np.random.default_rng(zlib.crc32(seed_name.encode()))
        return cls(spec.make(rng, np.asarray(color, np.float32), spec.size_px), spec.texel_m)


@functools.lru_cache(maxsize=64)
def texture(pattern: str, color: tuple[float, float, float], seed_name: str) -> Texture:
    """The texture of a material, made once per process (they take a while and never change)."""
    return Texture.procedural(pattern, color, seed_name)


@functools.lru_cache(maxsize=64)
def marker_texture(dictionary: str, marker_id: int, card_side_m: float, margin_cells: int) -> Texture:
    """A printed ArUco/AprilTag card: the marker with a white margin, exactly covering the card."""
    aruco = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, dictionary))
    cell_px = 16
    black = cv2.aruco.generateImageMarker(aruco, marker_id, (aruco.markerSize + 2) * cell_px)
    card = cv2.copyMakeBorder(black, *(4 * [margin_cells * cell_px]), cv2.BORDER_CONSTANT, value=255)
    image = np.repeat(card[..., None], 3, axis=2).astype(np.float32) / 255 * 0.92  # paper is not pure white
    return Texture(image, card_side_m / card.shape[0])
