"""The tracking pass over a capture: load each frame, drop the unusable ones with a reason, track
the rest frame-to-model, and collect per-fragment clouds of keyframe points for loop closure."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from twin.capture import Capture, read_ahead
from twin.reconstruct.rgbd.depth_points import DepthLimits, back_project, transform_points, usable_depth
from twin.reconstruct.rgbd.odometry import FrameToModelTracker, TrackingSettings

log = logging.getLogger(__name__)

# Tracking sees the depth image at about this width: enough points for point-to-plane, few
# enough to keep it fast.
TRACKING_WIDTH_PX = 80


@dataclass
class FrameRecord:
    index: int
    name: str
    status: str                       # "tracked" or "dropped"
    reason: str = ""
    T_world_camera: np.ndarray | None = None
    fitness: float = 0.0
    inlier_rmse: float = 0.0
    keyframe: bool = False

    def to_json(self) -> dict:
        data = {"index": self.index, "name": self.name, "status": self.status}
        if self.status == "tracked":
            data.update(T_world_camera=self.T_world_camera.tolist(), fitness=round(self.fitness, 4),
                        inlier_rmse=round(self.inlier_rmse, 5), keyframe=self.keyframe)
        else:
            data["reason"] = self.reason
        return data

    @classmethod
    def from_json(cls, data: dict) -> "FrameRecord":
        pose = data.get("T_world_camera")
        return cls(index=data["index"], name=data["name"], status=data["status"], reason=data.get("reason", ""),
                   T_world_camera=np.array(pose) if pose is not None else None,
                   fitness=data.get("fitness", 0.0), inlier_rmse=data.get("inlier_rmse", 0.0),
                   keyframe=data.get("keyframe", False))


@dataclass
class Fragment:
    """Consecutive frames whose keyframe points, in the frame of the first one (the anchor), make
    one cloud for loop closure."""

    index: int
    T_world_anchor: np.ndarray
    points: np.ndarray
    frame_indices: list[int] = field(default_factory=list)


def track_capture(capture: Capture, limits: DepthLimits, settings: TrackingSettings, fragment_frames: int,
                  report: Callable[[int, int], None]) -> tuple[list[FrameRecord], list[Fragment]]:
    tracker = FrameToModelTracker(settings)
    records: list[FrameRecord] = []
    fragment_points: dict[int, list[np.ndarray]] = {}
    fragments: dict[int, Fragment] = {}
    last: tuple[np.ndarray, np.ndarray | None] | None = None   # (estimated pose, device pose) of the last tracked frame
    velocity = np.eye(4)
    total = len(capture.frames)
    for index, (frame, loaded) in enumerate(read_ahead(capture.frames)):
        report(index, total)
        try:
            depth = usable_depth(frame, loaded(), limits)
        except ValueError as error:
            records.append(FrameRecord(index, frame.name, "dropped", reason=str(error)))
            continue
        stride = max(1, frame.camera.width // TRACKING_WIDTH_PX)
        points, _ = back_project(depth, frame.camera, stride)
        device_pose = frame.camera.T_world_camera
        guess = _initial_guess(last, device_pose, velocity)
        try:
            result = tracker.track(points, guess, guess_from_device=_has_device_motion(last, device_pose))
        except ValueError as error:   # e.g. too few points left after downsampling
            records.append(FrameRecord(index, frame.name, "dropped", reason=f"tracking failed ({error})"))
            continue
        if not result.tracked:
            records.append(FrameRecord(index, frame.name, "dropped",
                                       reason=f"tracking lost (only {result.fitness:.0%} of its points met the model)"))
            velocity = np.eye(4)
            continue
        if last is not None:
            velocity = np.linalg.inv(last[0]) @ result.T_world_camera
        last = (result.T_world_camera, device_pose)

        fragment_index = index // fragment_frames
        new_fragment = fragment_index not in fragments
        if new_fragment:
            fragments[fragment_index] = Fragment(fragment_index, result.T_world_camera, np.empty((0, 3)))
            fragment_points[fragment_index] = []
        fragments[fragment_index].frame_indices.append(index)
        keyframe = new_fragment or tracker.wants_keyframe(result.T_world_camera)
        if keyframe:
            sparse = tracker.add_keyframe(points, result.T_world_camera)
            fragment_points[fragment_index].append(transform_points(result.T_world_camera, sparse))
        records.append(FrameRecord(index, frame.name, "tracked", T_world_camera=result.T_world_camera,
                                   fitness=result.fitness, inlier_rmse=result.inlier_rmse, keyframe=keyframe))
    report(total, total)
    if last is None:
        reasons = sorted({r.reason for r in records})
        raise ValueError(f"no frame of {capture.path} could be used ({'; '.join(reasons)[:500]}); "
                         "check the depth images, depth scale and intrinsics")
    for index, fragment in fragments.items():
        T_anchor_world = np.linalg.inv(fragment.T_world_anchor)
        fragment.points = transform_points(T_anchor_world, np.concatenate(fragment_points[index]))
    return records, [fragments[k] for k in sorted(fragments)]


def _has_device_motion(last, device_pose: np.ndarray | None) -> bool:
    return last is not None and last[1] is not None and device_pose is not None


def _initial_guess(last, device_pose: np.ndarray | None, velocity: np.ndarray) -> np.ndarray:
    """Device motion since the last tracked frame where the capture has device poses, else
    constant velocity; the first frame starts at its device pose (or the origin)."""
    if last is None:
        return np.array(device_pose, float) if device_pose is not None else np.eye(4)
    T_world_last, device_last = last
    if device_pose is not None and device_last is not None:
        return T_world_last @ np.linalg.inv(device_last) @ device_pose
    return T_world_last @ velocity
