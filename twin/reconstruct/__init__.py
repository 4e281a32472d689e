"""Reconstruction: from a capture to cameras, a coloured cloud and a mesh in a scan folder.

Room: the `rgbd/` and `photos/` pipelines, their stages, and merging scans; imports capture,
registration, markers and document, never export, serve or the CLI.

    from twin.reconstruct import reconstruct
    result = reconstruct("captures/bench.r3d", "scans/bench", progress=lambda stage, done, total: ...)
    result.stages["track"].seconds, result.as_report()   # an RgbdResult or a PhotoResult; report.json is as_report()
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from twin.capture import detect, open_capture
from twin.reconstruct.stages import Progress

if TYPE_CHECKING:
    from twin.reconstruct.photos.pipeline import PhotoOptions, PhotoResult
    from twin.reconstruct.rgbd.pipeline import RgbdResult


def reconstruct(capture_path: Path, out_dir: Path, *, progress: Progress | None = None,
                intrinsics: tuple[float, float, float, float] | None = None, depth_scale: float | None = None, photo_options: PhotoOptions | None = None,
                **options) -> RgbdResult | PhotoResult:
    """Detects the kind of capture at `capture_path` and reconstructs it into `out_dir`.

    RGB-D captures go through `twin.reconstruct.rgbd.pipeline` (`intrinsics`, fx fy cx cy in pixels, and `depth_scale` override
    what a folder capture carries); folders of plain photos through `twin.reconstruct.photos.pipeline`.
    `options` are the RGB-D pipeline's (see `RgbdOptions`), `photo_options` the photo pipeline's.
    Returns what the run did: an `RgbdResult` or a `PhotoResult`, whose `as_report()` is report.json.
    """
    if detect(capture_path) == "photos":
        if intrinsics is not None or depth_scale is not None or options:
            raise ValueError(f"{capture_path} is a folder of photos; intrinsics, depth scale and "
                             f"{', '.join(sorted(options)) or 'RGB-D options'} apply to RGB-D captures only")
        from twin.reconstruct.photos.pipeline import reconstruct_photos
        return reconstruct_photos(Path(capture_path), Path(out_dir), photo_options, progress=progress)
    if photo_options is not None:
        raise ValueError(f"{capture_path} is an RGB-D capture; photo options apply to folders of photos only")
    from twin.reconstruct.rgbd.pipeline import reconstruct_rgbd
    capture = open_capture(capture_path, intrinsics=intrinsics, depth_scale=depth_scale)
    return reconstruct_rgbd(capture, Path(out_dir), progress=progress, **options)
