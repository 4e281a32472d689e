"""ArUco / AprilTag markers seen in registered photos: detection (OpenCV), multi-view triangulation
of their corners, the metric scale their known size (or a known distance) gives, and their poses,
which become the twin's anchors (how AR finds the twin later)."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from twin.reconstruct.sfm import PhotoCamera

DEFAULT_DICTIONARIES = ("DICT_4X4_50", "DICT_APRILTAG_36h11")
MAX_REPROJECTION_PX = 3.0
MAX_SIDE_SPREAD = 0.1  # a triangulated marker whose sides differ by more than this fraction is not square


@dataclass
class Marker:
    """A marker triangulated from two or more photos, in the frame of the cameras it was seen by."""
    key: str  # "DICT_4X4_50:7"
    corners: np.ndarray  # (4, 3) in OpenCV's order: top-left, top-right, bottom-right, bottom-left
    views: int
    reprojection_px: float

    @property
    def centre(self) -> np.ndarray:
        return self.corners.mean(0)

    @property
    def side(self) -> float:
        return float(np.mean(np.linalg.norm(self.corners - np.roll(self.corners, -1, axis=0), axis=1)))


def _dictionary(name: str):
    if not name.startswith("DICT_") or not hasattr(cv2.aruco, name):
        raise ValueError(f"marker dictionary {name!r} is not an OpenCV ArUco/AprilTag dictionary; use e.g. "
                         "DICT_4X4_50, DICT_6X6_250 or DICT_APRILTAG_36h11")
    return cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, name))


def detect_markers(gray: np.ndarray, dictionaries=DEFAULT_DICTIONARIES) -> dict[str, np.ndarray]:
    """Marker key -> (4, 2) corner pixels; markers seen twice in one photo are ambiguous and left out."""
    parameters = cv2.aruco.DetectorParameters()
    parameters.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    found: dict[str, np.ndarray] = {}
    repeated: set[str] = set()
    for name in dictionaries:
        detector = cv2.aruco.ArucoDetector(_dictionary(name), parameters)
        corners, ids, _ = detector.detectMarkers(gray)
        for marker_corners, marker_id in zip(corners, [] if ids is None else ids.ravel()):
            key = f"{name}:{int(marker_id)}"
            if key in found:
                repeated.add(key)
            found[key] = marker_corners.reshape(4, 2).astype(np.float64)
    return {key: value for key, value in found.items() if key not in repeated}


def _triangulate(projections: list[np.ndarray], rays: list[np.ndarray]) -> np.ndarray:
    """Linear multi-view triangulation (DLT) from normalised image points and [R|t] matrices."""
    rows = []
    for P, (x, y) in zip(projections, rays):
        rows.append(x * P[2] - P[0])
        rows.append(y * P[2] - P[1])
    _, _, Vt = np.linalg.svd(np.array(rows))
    return Vt[-1, :3] / Vt[-1, 3]


def triangulate_markers(cameras: list[PhotoCamera], detections: list[dict[str, np.ndarray]]) -> list[Marker]:
    """Markers seen in two or more photos (`detections[i]` belongs to `cameras[i]`), triangulated and
    checked: reprojection within a few pixels and a square shape, so spurious detections drop out."""
    seen: dict[str, list[int]] = {}
    for index, found in enumerate(detections):
        for key in found:
            seen.setdefault(key, []).append(index)
    markers = []
    for key, indices in sorted(seen.items()):
        if len(indices) < 2:
            continue
        projections, normalised = [], []
        for i in indices:
            camera = cameras[i]
            T_camera_world = np.linalg.inv(camera.T_world_camera)
            projections.append(T_camera_world[:3])
            normalised.append(cv2.undistortPoints(detections[i][key].reshape(-1, 1, 2), camera.K,
                                                  camera.distortion).reshape(4, 2))
        corners = np.array([_triangulate(projections, [n[c] for n in normalised]) for c in range(4)])
        errors = []
        for i, P, n in zip(indices, projections, normalised):
            cam = (P[:, :3] @ corners.T).T + P[:, 3]
            if np.any(cam[:, 2] <= 0):
                errors.append(np.inf)
                continue
            errors.append(float(np.mean(np.linalg.norm(cam[:, :2] / cam[:, 2:] - n, axis=1)) * cameras[i].K[0, 0]))
        sides = np.linalg.norm(corners - np.roll(corners, -1, axis=0), axis=1)
        reprojection = float(np.mean(errors))
        if reprojection > MAX_REPROJECTION_PX or np.ptp(sides) > MAX_SIDE_SPREAD * np.mean(sides):
            continue
        markers.append(Marker(key, corners, len(indices), reprojection))
    return markers


def find_marker(markers: list[Marker], reference: str) -> Marker:
    """The marker named by `reference`: a full key ("DICT_4X4_50:7") or just its id ("7")."""
    matches = [m for m in markers if m.key == reference or m.key.split(":")[1] == reference]
    if len(matches) != 1:
        seen = ", ".join(m.key for m in markers) or "none"
        raise ValueError(f"marker {reference!r} was {'not found' if not matches else 'ambiguous'} in the photos "
                         f"(markers seen in two or more registered photos: {seen}); name it as DICT_NAME:ID")
    return matches[0]


def scale_from_marker_size(markers: list[Marker], marker_size_m: float) -> float:
    """Metres per reconstruction unit: the median over markers of known side / triangulated side."""
    if not marker_size_m > 0:
        raise ValueError(f"marker size {marker_size_m} m is not positive; give the printed side of the black square")
    return float(np.median([marker_size_m / m.side for m in markers]))


def scale_from_known_distance(markers: list[Marker], first: str, second: str, distance_m: float) -> float:
    """Metres per reconstruction unit from the known distance between two markers' centres."""
    if not distance_m > 0:
        raise ValueError(f"known distance {distance_m} m is not positive")
    a, b = find_marker(markers, first), find_marker(markers, second)
    if a.key == b.key:
        raise ValueError(f"the known distance needs two different markers, got {first!r} twice")
    return float(distance_m / np.linalg.norm(a.centre - b.centre))


def marker_pose(marker: Marker) -> np.ndarray:
    """T_world_marker with OpenCV's marker axes (x right, y up, z out of the marker) at its centre,
    fitted to the four corners (Kabsch), in the frame and units of `marker.corners`."""
    half = marker.side / 2
    model = np.array([[-half, half, 0], [half, half, 0], [half, -half, 0], [-half, -half, 0]])
    centred = marker.corners - marker.centre
    U, _, Vt = np.linalg.svd(centred.T @ model)
    D = np.diag([1.0, 1.0, np.sign(np.linalg.det(U @ Vt))])
    T = np.eye(4)
    T[:3, :3] = U @ D @ Vt
    T[:3, 3] = marker.centre
    return T
