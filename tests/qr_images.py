"""Reading QR codes back the way a phone does, from pictures: OpenCV's detector on a rendered
page, a card of a printed sheet, or the half-block text a terminal shows."""
from __future__ import annotations

import re

import cv2
import numpy as np

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_DARK_HALVES = {" ": (0, 0), "\u2580": (1, 0), "\u2584": (0, 1), "\u2588": (1, 1)}


def decode(image: np.ndarray) -> str:
    """The text of the one QR code in `image` (grey or BGR), '' when none is read."""
    text, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    return text


def terminal_picture(text: str, pixels_per_module: int = 8) -> np.ndarray:
    """The half-block lines as a terminal with black text on white draws them (ANSI colours dropped)."""
    lines = _ANSI.sub("", text).splitlines()
    width = max(map(len, lines))
    dark = np.zeros((2 * len(lines), width), bool)
    for row, line in enumerate(lines):
        for column, character in enumerate(line):
            dark[2 * row, column], dark[2 * row + 1, column] = _DARK_HALVES[character]
    picture = np.where(dark, 0, 255).astype(np.uint8)
    return np.kron(picture, np.ones((pixels_per_module, pixels_per_module), np.uint8))
