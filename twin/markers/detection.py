"""ArUco / AprilTag markers seen in registered images (photos, RGB-D colour frames): detection
(OpenCV), multi-view triangulation of their corners, the metric scale their known size (or a known
distance) gives, and their poses, which become the twin's anchors (how AR finds the twin later)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from twin.camera import Camera

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


def checked_dictionaries(names: str | Sequence[str]) -> tuple[str, ...]:
    """`names` (one or several) as a tuple, once each is known to be an OpenCV dictionary: pipelines
    check before their long stages, not when they reach the markers."""
    names = (names,) if isinstance(names, str) else tuple(names)
    unknown = ", ".join(str(n) for n in names if not (isinstance(n, str) and n.startswith("DICT_")
                                                       and hasattr(cv2.aruco, n)))
    if unknown:
        raise ValueError(f"unknown marker dictionary {unknown}; use OpenCV's ArUco/AprilTag dictionaries, e.g. "
                         "DICT_4X4_50, DICT_6X6_250 or DICT_APRILTAG_36h11")
    return names


def opencv_dictionary(name: str):
    (name,) = checked_dictionaries(name)
    return cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, name))


def detect_markers(gray: np.ndarray, dictionaries=DEFAULT_DICTIONARIES) -> dict[str, np.ndarray]:
    """Marker key -> (4, 2) corner pixels; markers seen twice in one photo are ambiguous and left out."""
    parameters = cv2.aruco.DetectorParameters()
    parameters.cornerRefinementMethod = cv2.aruco.CORNER_REFINE_SUBPIX
    found: dict[str, np.ndarray] = {}
    repeated: set[str] = set()
    for name in dictionaries:
        detector = cv2.aruco.ArucoDetector(opencv_dictionary(name), parameters)
        corners, ids, _ = detector.detectMarkers(gray)
        for marker_corners, marker_id in zip(corners, [] if ids is None else ids.ravel()):
            key = f"{name}:{int(marker_id)}"
            if key in found:
                repeated.add(key)
            found[key] = marker_corners.reshape(4, 2).astype(np.float64)
    return {key: value for key, value in found.items() if key not in repeated}


def undistort_detections(found: dict[str, np.ndarray], K: np.ndarray, distortion: np.ndarray) -> dict[str, np.ndarray]:
    """Corner pixels of a photo with lens distortion moved to where a pinhole camera with K sees them."""
    return {key: cv2.undistortPoints(corners.reshape(-1, 1, 2), K, distortion, P=K).reshape(4, 2)
            for key, corners in found.items()}


def _triangulate(projections: list[np.ndarray], rays: list[np.ndarray]) -> np.ndarray:
    """Linear multi-view triangulation (DLT) from normalised image points and [R|t] matrices."""
    rows = []
    for P, (x, y) in zip(projections, rays):
        rows.append(x * P[2] - P[0])
        rows.append(y * P[2] - P[1])
    _, _, Vt = np.linalg.svd(np.array(rows))
    return Vt[-1, :3] / Vt[-1, 3]


def triangulate_markers(cameras: Sequence[Camera], detections: list[dict[str, np.ndarray]]) -> list[Marker]:
    """Markers seen in two or more images (`detections[i]`, undistorted corner pixels, belongs to
    `cameras[i]`, a posed camera whose distortion the corners no longer have), triangulated and checked
    (reprojection within a few pixels and a square shape, so spurious detections drop out), then fitted
    as squares to every view (`_fit_square`)."""
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
            normalised.append(cv2.undistortPoints(detections[i][key].reshape(-1, 1, 2), camera.K, None).reshape(4, 2))
        focals = np.array([cameras[i].fx for i in indices])
        corners = np.array([_triangulate(projections, [n[c] for n in normalised]) for c in range(4)])
        sides = np.linalg.norm(corners - np.roll(corners, -1, axis=0), axis=1)
        residuals = _reprojection_residuals(corners, projections, normalised, focals)
        if (not np.all(np.isfinite(residuals)) or _mean_px(residuals) > MAX_REPROJECTION_PX
                or np.ptp(sides) > MAX_SIDE_SPREAD * np.mean(sides)):
            continue
        corners = _fit_square(corners, projections, normalised, focals)
        residuals = _reprojection_residuals(corners, projections, normalised, focals)
        markers.append(Marker(key, corners, len(indices), _mean_px(residuals)))
    return markers


def _reprojection_residuals(corners: np.ndarray, projections: list[np.ndarray], normalised: list[np.ndarray],
                            focals: np.ndarray) -> np.ndarray:
    """(views, 4, 2) pixel offsets of the corners' projections from their detections (inf behind a camera)."""
    out = np.empty((len(projections), 4, 2))
    for k, (P, n) in enumerate(zip(projections, normalised)):
        cam = corners @ P[:, :3].T + P[:, 3]
        out[k] = np.inf if np.any(cam[:, 2] <= 0) else (cam[:, :2] / cam[:, 2:] - n) * focals[k]
    return out


def _mean_px(residuals: np.ndarray) -> float:
    return float(np.mean(np.linalg.norm(residuals, axis=-1)))


def _square(params: np.ndarray, R0: np.ndarray) -> np.ndarray:
    """Corners of the square with rotation exp(params[:3]) R0, centre params[3:6], side exp(params[6])."""
    R = cv2.Rodrigues(params[:3])[0] @ R0
    half = np.exp(params[6]) / 2
    model = half * np.array([[-1.0, 1, 0], [1, 1, 0], [1, -1, 0], [-1, -1, 0]])
    return model @ R.T + params[3:6]


def _fit_square(corners: np.ndarray, projections: list[np.ndarray], normalised: list[np.ndarray],
                focals: np.ndarray, iterations: int = 30) -> np.ndarray:
    """The square (pose and side: 7 unknowns instead of 12 free corner coordinates) that best
    reprojects onto every view, by Levenberg-Marquardt from the triangulated corners: its tilt then
    follows from all views' perspective at once, not from the depth of each corner alone."""
    T = marker_pose(Marker("", corners, 0, 0.0))
    R0, side = T[:3, :3], float(np.mean(np.linalg.norm(corners - np.roll(corners, -1, axis=0), axis=1)))
    params = np.concatenate([np.zeros(3), T[:3, 3], [np.log(side)]])
    steps = np.array([1e-6] * 3 + [1e-6 * side] * 3 + [1e-6])

    def residuals(p: np.ndarray) -> np.ndarray:
        return _reprojection_residuals(_square(p, R0), projections, normalised, focals).ravel()

    r = residuals(params)
    damping = 1e-3
    for _ in range(iterations):
        J = np.column_stack([(residuals(params + d) - residuals(params - d)) / (2 * d[j])
                             for j, d in enumerate(np.diag(steps))])
        A, g = J.T @ J, J.T @ r
        while damping < 1e8:
            candidate = params - np.linalg.solve(A + damping * np.diag(np.diag(A) + 1e-12), g)
            r_candidate = residuals(candidate)
            if np.all(np.isfinite(r_candidate)) and r_candidate @ r_candidate < r @ r:
                converged = r @ r - r_candidate @ r_candidate < 1e-10 * (r @ r)
                params, r, damping = candidate, r_candidate, damping / 10
                break
            damping *= 10
        else:
            break
        if converged:
            break
    return _square(params, R0)


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
