"""Frame-to-model tracking with the registration core: each frame is aligned point-to-plane
against a local model made of the latest keyframes, already in world coordinates. Aligning to
a model rather than to the previous frame keeps per-frame errors from adding up as fast."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from twin import registration
from twin.geometry import rotation_angle_deg
from twin.reconstruct.rgbd.depth_points import transform_points
from twin.reconstruct.rgbd.pose_prior import fuse_with_prior


@dataclass(frozen=True)
class TrackingSettings:
    voxel_size_m: float = 0.02
    max_correspondence_m: float = 0.07
    # A frame whose points find the model this rarely is taken as lost rather than tracked.
    min_fitness: float = 0.3
    keyframe_translation_m: float = 0.10
    keyframe_rotation_deg: float = 10.0
    model_keyframes: int = 12
    # How far a device's frame-to-frame motion may be off. Phone odometry usually does better
    # (about a millimetre per frame) but drifts over the walk; a looser prior lets ICP pull the
    # pose wherever the geometry pins it (3 mm / 0.2 deg: set by hand, not tuned).
    device_sigma_translation_m: float = 0.003
    device_sigma_rotation_deg: float = 0.2


@dataclass(frozen=True)
class TrackResult:
    T_world_camera: np.ndarray
    fitness: float
    inlier_rmse: float
    tracked: bool


class FrameToModelTracker:
    """Tracks frames given as camera-frame points, starting from a guess of their pose."""

    def __init__(self, settings: TrackingSettings = TrackingSettings()):
        self.settings = settings
        self._keyframes: deque[np.ndarray] = deque(maxlen=settings.model_keyframes)
        self._model: registration.PreparedCloud | None = None
        self._last_keyframe_pose: np.ndarray | None = None

    @property
    def has_model(self) -> bool:
        return self._model is not None

    def track(self, points_camera: np.ndarray, T_world_camera_guess: np.ndarray, *,
              guess_from_device: bool = False) -> TrackResult:
        """Refines the guess against the model; with no model yet the guess stands. A guess from
        device odometry is also a prior that the result is fused with (see `pose_prior`)."""
        if self._model is None:
            return TrackResult(np.array(T_world_camera_guess, float), 1.0, 0.0, True)
        s = self.settings
        init = T_world_camera_guess
        if not guess_from_device:
            # A wide first pass pulls in a poor guess; the tight second pass gives the accurate pose.
            init = registration.align(points_camera, self._model, method="point_to_plane",
                                      max_correspondence_distance=3 * s.max_correspondence_m,
                                      voxel_size=2 * s.voxel_size_m, init=init,
                                      robust_kernel="huber", max_iterations=20).T_target_source
        fine = registration.align(points_camera, self._model, method="point_to_plane",
                                  max_correspondence_distance=s.max_correspondence_m,
                                  voxel_size=s.voxel_size_m, init=init, robust_kernel="huber", max_iterations=30)
        tracked = fine.fitness >= s.min_fitness and fine.num_inliers >= 100
        T = np.array(fine.T_target_source)
        if guess_from_device and tracked:
            noise_m = max(fine.inlier_rmse, 1e-3)
            T = fuse_with_prior(T, fine.information / noise_m ** 2,
                                T_world_camera_guess, np.radians(s.device_sigma_rotation_deg),
                                s.device_sigma_translation_m)
        return TrackResult(T, fine.fitness, fine.inlier_rmse, tracked)

    def wants_keyframe(self, T_world_camera: np.ndarray) -> bool:
        if self._last_keyframe_pose is None:
            return True
        delta = np.linalg.inv(self._last_keyframe_pose) @ T_world_camera
        angle = rotation_angle_deg(delta)
        return (np.linalg.norm(delta[:3, 3]) > self.settings.keyframe_translation_m
                or angle > self.settings.keyframe_rotation_deg)

    def add_keyframe(self, points_camera: np.ndarray, T_world_camera: np.ndarray) -> np.ndarray:
        """Adds the frame to the model; returns its downsampled camera-frame points."""
        sparse = registration.voxel_downsample(points_camera, self.settings.voxel_size_m)
        self._keyframes.append(transform_points(T_world_camera, sparse))
        self._model = registration.prepare(np.concatenate(self._keyframes), voxel_size=self.settings.voxel_size_m)
        self._last_keyframe_pose = np.array(T_world_camera, float)
        return sparse

