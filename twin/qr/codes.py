"""A text as a QR code's modules, and those modules as terminal text.

segno does the encoding (the standard's masks, versions and error correction); this module only
checks what it is given and draws the result.
"""
from __future__ import annotations

import numpy as np
import segno

QUIET_ZONE_MODULES = 4  # the light border the standard asks for around a code
# Two modules, one above the other, per character: (upper dark, lower dark) -> character.
_HALF_BLOCKS = {(False, False): " ", (True, False): "\u2580", (False, True): "\u2584", (True, True): "\u2588"}
_BLACK_ON_WHITE, _RESET = "\x1b[30;107m", "\x1b[0m"


def qr_modules(text: str) -> np.ndarray:
    """The dark (True) and light modules of `text`'s QR code, without the quiet zone. Error
    correction M or better (segno raises it while the code keeps its size): a sticker survives
    some dirt and a scratch."""
    if not text:
        raise ValueError("a QR code needs some text: give the link it should open")
    try:
        code = segno.make(text, error="m", micro=False)
    except segno.DataOverflowError:
        raise ValueError(f"{len(text)} characters are too many for one QR code; use a shorter link") from None
    return np.array([list(row) for row in code.matrix], dtype=bool)


def terminal_qr(text: str, colours: bool = True) -> str:
    """`text`'s QR code as lines of Unicode half blocks, dark modules drawn in the text colour,
    with its quiet zone. `colours`: set black on white with ANSI codes, so the code reads the right
    way round on a dark terminal too (leave them out when the lines go to a file)."""
    modules = np.pad(qr_modules(text), QUIET_ZONE_MODULES)
    if len(modules) % 2:
        modules = np.pad(modules, ((0, 1), (0, 0)))  # a light row below, so rows pair up
    lines = ["".join(_HALF_BLOCKS[(bool(upper), bool(lower))] for upper, lower in zip(modules[row], modules[row + 1]))
             for row in range(0, len(modules), 2)]
    if colours:
        lines = [f"{_BLACK_ON_WHITE}{line}{_RESET}" for line in lines]
    return "\n".join(lines)
