"""A folder of photos as the photo pipeline takes it: which files are readable photos, their
sizes, and the intrinsics of an optional `K.txt` (3x3, rows on lines)."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from twin.capture.images import UnreadableImage, read_image
from twin.scanfolder import read_number_rows

PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".tif", ".tiff")
MIN_PHOTOS = 3


@dataclass
class PhotoFolder:
    image_dir: Path
    sizes: dict[str, tuple[int, int]]  # readable photo name -> (width, height)
    unreadable: dict[str, str] = field(default_factory=dict)  # name -> why it was left out
    K: np.ndarray | None = None  # from K.txt, for the photos of `K_size`
    K_size: tuple[int, int] | None = None

    @property
    def names(self) -> list[str]:
        return sorted(self.sizes)

    def has_K(self, name: str) -> bool:
        """Whether K.txt gives this photo's intrinsics (it describes the photos of `K_size`)."""
        return self.K is not None and self.sizes[name] == self.K_size


def read_K_txt(path: Path) -> np.ndarray:
    K = read_number_rows(path, "a row of the 3x3 intrinsic matrix")
    if K.shape != (3, 3):
        raise ValueError(f"{path}: holds {K.shape[0]} line(s) of {K.shape[1]} numbers; the intrinsics are a "
                         "3x3 matrix, one row per line")
    if K[0, 0] <= 0 or K[1, 1] <= 0 or not np.allclose(K[2], [0, 0, 1]):
        raise ValueError(f"{path} is not a pinhole intrinsic matrix (positive focal lengths, last row 0 0 1)")
    return K


def open_photo_folder(photo_dir: str | Path) -> PhotoFolder:
    """Lists the photos of `photo_dir` (or of its `images/` subfolder), decoding each one so that a
    corrupt file is reported by name instead of failing deep inside structure from motion."""
    photo_dir = Path(photo_dir)
    if not photo_dir.is_dir():
        raise ValueError(f"photo folder {photo_dir} does not exist; give a folder of JPEG or PNG photos")
    image_dir = photo_dir / "images" if (photo_dir / "images").is_dir() else photo_dir
    files = sorted(p for p in image_dir.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES and p.is_file())
    sizes, unreadable = {}, {}
    for path in files:
        try:
            image = read_image(path, cv2.IMREAD_UNCHANGED, "photo")
        except UnreadableImage as error:
            unreadable[path.name] = error.reason
            continue
        if image.ndim not in (2, 3) or min(image.shape[:2]) < 32:
            unreadable[path.name] = "the file cannot be decoded as an image (corrupt or truncated)"
        else:
            sizes[path.name] = (int(image.shape[1]), int(image.shape[0]))
    if len(sizes) < MIN_PHOTOS:
        detail = "".join(f"; {name}: {why}" for name, why in unreadable.items())
        raise ValueError(f"{image_dir} holds {len(sizes)} readable photo(s){detail}; structure from motion "
                         f"needs at least {MIN_PHOTOS} overlapping photos of the scene")
    folder = PhotoFolder(image_dir=image_dir, sizes=sizes, unreadable=unreadable)
    k_path = next((p / "K.txt" for p in (image_dir, photo_dir) if (p / "K.txt").is_file()), None)
    if k_path is not None:
        folder.K = read_K_txt(k_path)
        # K.txt describes one camera: the photos of the most common size.
        folder.K_size = Counter(sizes.values()).most_common(1)[0][0]
    return folder
