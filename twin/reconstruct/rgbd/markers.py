"""The markers stage of RGB-D reconstruction: ArUco/AprilTag markers found in a subset of the colour
frames, triangulated at the frames' final (loop-closed) poses, then settled onto the fused surface.
RGB-D is metric, so their measured side is their printed size and their poses go straight into
anchors.json."""
from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np

from twin.camera import Camera
from twin.capture import Capture, read_ahead
from twin.markers.detection import Marker, detect_markers, marker_pose, triangulate_markers

SURFACE_REACH_M = 0.1
"""How far in front of or behind a triangulated marker its wall may be found."""
MIN_SURFACE_POINTS = 20


def check_marker_frames(max_frames: int) -> None:
    if max_frames < 2:
        raise ValueError(f"marker_frames must be at least 2 (a marker is triangulated from two views), got {max_frames}")


def frames_to_search(cameras: Sequence[Camera], max_frames: int) -> list[Camera]:
    """At most `max_frames` of the tracked frames, evenly spread over the walk (neighbours see the same)."""
    check_marker_frames(max_frames)
    picks = np.unique(np.linspace(0, len(cameras) - 1, min(max_frames, len(cameras))).round().astype(int))
    return [cameras[i] for i in picks]


def find_capture_markers(capture: Capture, cameras: Sequence[Camera], dictionaries: Sequence[str],
                         max_frames: int, report: Callable[[int, int], None]) -> tuple[list[Marker], int]:
    """(markers seen in two or more of the searched frames, how many frames were searched)."""
    by_name = {frame.name: frame for frame in capture.frames}
    searched = frames_to_search(cameras, max_frames)
    detections = []
    frames = read_ahead(by_name[camera.name] for camera in searched)
    for done, (_, loaded) in enumerate(frames):
        report(done, len(searched))
        gray = cv2.cvtColor(loaded().color, cv2.COLOR_RGB2GRAY)
        detections.append(detect_markers(gray, dictionaries))
    report(len(searched), len(searched))
    return triangulate_markers(searched, detections), len(searched)


def settle_on_surface(marker: Marker, surface_points: np.ndarray) -> Marker:
    """The marker moved along its normal onto the fused surface behind it (the median offset of the
    surface points within its square). Triangulation from frames a few centimetres apart turns small
    pose errors into centimetres along the viewing rays; depth measures that distance directly, and
    so the marker lies on the wall that the twin shows. Unchanged where no surface is in reach."""
    T = marker_pose(marker)
    local = (np.asarray(surface_points, dtype=np.float64) - T[:3, 3]) @ T[:3, :3]
    half = marker.side / 2
    inside = (np.abs(local[:, 0]) < half) & (np.abs(local[:, 1]) < half) & (np.abs(local[:, 2]) < SURFACE_REACH_M)
    if inside.sum() < MIN_SURFACE_POINTS:
        return marker
    offset = float(np.median(local[inside, 2]))
    return Marker(marker.key, marker.corners + offset * T[:3, 2], marker.views, marker.reprojection_px)
