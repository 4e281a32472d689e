"""Reading colour and depth images into the arrays of `FrameData`, with errors that say which file and what
libjpeg or libpng said about it (instead of their lines on stderr)."""
from __future__ import annotations

import re
from pathlib import Path

import cv2
import numpy as np

from twin.capture.capture import FrameData
from twin.library_stderr import captured_stderr

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png")


class UnreadableImage(ValueError):
    """An image file that is missing, cannot be decoded or is cut short; `reason` says which, without
    the file's name (for lists of files left out)."""

    def __init__(self, name: str, reason: str):
        super().__init__(f"{name}: {reason}")
        self.reason = reason


def read_image(path: Path, flags: int = cv2.IMREAD_COLOR, kind: str = "image") -> np.ndarray:
    """`cv2.imread`, checked: UnreadableImage naming the `kind` and file where it is missing, not an
    image, or cut short (libjpeg decodes a truncated JPEG, grey below the cut, and only says so on stderr)."""
    name = f"cannot read {kind} {path}"
    if not Path(path).is_file():
        raise UnreadableImage(name, "no such file")
    with captured_stderr() as said:
        image = cv2.imread(str(path), flags)
    return _checked(image, said, name)


def decode_image(data: bytes, name: str, flags: int = cv2.IMREAD_COLOR) -> np.ndarray:
    """Like `read_image`, for an image held in memory (e.g. a member of a zip file)."""
    with captured_stderr() as said:
        image = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    return _checked(image, said, f"cannot decode {name}")


def _checked(image: np.ndarray | None, said: list[str], name: str) -> np.ndarray:
    if image is None:
        detail = f": {'; '.join(said)}" if said else ""
        raise UnreadableImage(name, f"the file cannot be decoded as an image (corrupt or truncated){detail}")
    cut = next((line for line in said if "premature end" in line.lower()), None)
    if cut is not None:
        raise UnreadableImage(name, f"the image is cut short ({cut}); copy it again from the device")
    return image


def read_color(path: Path, kind: str = "colour image") -> np.ndarray:
    """An HxWx3 uint8 RGB image; UnreadableImage if the file is missing, not an image or cut short."""
    return cv2.cvtColor(read_image(path, cv2.IMREAD_COLOR, kind), cv2.COLOR_BGR2RGB)


def decode_color(data: bytes, name: str) -> np.ndarray:
    """Like `read_color`, for an image held in memory (e.g. a member of a zip file)."""
    return cv2.cvtColor(decode_image(data, f"colour image {name}"), cv2.COLOR_BGR2RGB)


def read_depth_png(path: Path, depth_scale: float) -> np.ndarray:
    """An HxW float32 depth in metres from a 16-bit PNG holding `depth_scale` units per metre."""
    image = read_image(path, cv2.IMREAD_UNCHANGED, "depth image")
    if image.ndim != 2:
        raise ValueError(f"depth image {path} has {image.shape[2]} channels; expected one 16-bit channel")
    return image.astype(np.float32) / np.float32(depth_scale)


def read_gray(path: Path) -> np.ndarray:
    """An HxW uint8 single-channel image (confidence maps)."""
    image = read_image(path, cv2.IMREAD_UNCHANGED, "single-channel image")
    if image.ndim != 2:
        raise ValueError(f"cannot read single-channel image {path}: it has {image.shape[2]} channels")
    return image.astype(np.uint8)


def frame_data(color: np.ndarray, depth_m: np.ndarray, confidence: np.ndarray | None, name: str,
               *, resize_color: bool = False) -> FrameData:
    """Checks that colour, depth and confidence agree in size; phones' smaller depth maps take a
    colour image resized down to them when `resize_color` is set."""
    height, width = depth_m.shape
    if color.shape[:2] != (height, width):
        if not resize_color:
            raise ValueError(f"frame {name}: colour is {color.shape[1]}x{color.shape[0]} but depth is "
                             f"{width}x{height}; colour and depth must have the same size")
        color = cv2.resize(color, (width, height), interpolation=cv2.INTER_AREA)
    if confidence is not None and confidence.shape != (height, width):
        raise ValueError(f"frame {name}: confidence is {confidence.shape[1]}x{confidence.shape[0]} "
                         f"but depth is {width}x{height}")
    return FrameData(color=np.ascontiguousarray(color), depth_m=np.ascontiguousarray(depth_m, np.float32),
                     confidence=confidence)


def numbered_files(folder: Path, suffixes: tuple[str, ...] = IMAGE_SUFFIXES) -> list[Path]:
    """Image files of a folder in natural order (frame 2 before frame 10)."""
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes]
    return sorted(files, key=lambda p: natural_key(p.stem))


def natural_key(name: str):
    """Sort key that orders embedded numbers by value."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]
