"""Local rigid registration (ICP point-to-point, point-to-plane, GICP) on the C++ core: `prepare`
a cloud once, `align` clouds or prepared clouds. Usage, units and errors: the package docstring
(`twin.registration`).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np

from twin import _native
from twin.geometry import as_rigid_transform
from twin.registration.clouds import as_points, check_metres

log = logging.getLogger(__name__)

METHODS = ("point_to_point", "point_to_plane", "gicp")
ROBUST_KERNELS = ("none", "huber", "cauchy", "tukey", "geman_mcclure")
DEFAULT_NUM_NEIGHBORS = 10


@dataclass(frozen=True)
class RegistrationResult:
    """The outcome of a registration.

    T_target_source: (4, 4) float64, maps source coordinates into the target frame.
    fitness: share of (downsampled) source points with a target point within the correspondence distance.
    inlier_rmse: root-mean-square distance of those correspondences, in metres.
    iterations: Gauss-Newton iterations run; converged: whether the increments fell below the thresholds.
    information: (6, 6) float64, rotation first; Open3D's definition (sum of G^T G over inlier
        correspondences, G = [-skew(q) | I]), so it can weight a pose-graph edge.
    num_inliers: the number of inlier correspondences.
    The figures describe the correspondences of the last linearisation, which differ from the
    returned transform by less than the convergence thresholds when converged.
    """

    T_target_source: np.ndarray
    fitness: float
    inlier_rmse: float
    iterations: int
    converged: bool
    information: np.ndarray
    num_inliers: int = 0


class PreparedCloud:
    """A cloud prepared once for many registrations, as a target or as a source: downsampled
    points, k-d tree, normals and GICP covariances live in C++. Build it with `prepare`."""

    __slots__ = ("_cloud",)

    def __init__(self, cloud: _native.PreparedCloud):
        self._cloud = cloud

    def __len__(self) -> int:
        return len(self._cloud)

    def __repr__(self) -> str:
        return f"PreparedCloud({len(self)} points, voxel_size={self.voxel_size})"

    @property
    def points(self) -> np.ndarray:
        """(M, 3) downsampled points (a copy)."""
        return self._cloud.points

    @property
    def normals(self) -> np.ndarray:
        """(M, 3) unit normals, sign arbitrary (a copy)."""
        return self._cloud.normals

    @property
    def covariances(self) -> np.ndarray:
        """(M, 3, 3) plane-regularised covariances used by GICP (a copy)."""
        return self._cloud.covariances

    @property
    def voxel_size(self) -> float | None:
        return self._cloud.voxel_size if self._cloud.voxel_size > 0 else None

    @property
    def num_neighbors(self) -> int:
        return self._cloud.num_neighbors


def _check_voxel_size(voxel_size) -> float:
    """0.0 tells the core to keep every point."""
    return 0.0 if voxel_size is None else check_metres(voxel_size, "voxel_size")


def _check_num_neighbors(num_neighbors) -> int:
    if isinstance(num_neighbors, bool) or not isinstance(num_neighbors, (int, np.integer)) or num_neighbors < 3:
        raise ValueError(f"num_neighbors must be an integer of at least 3, got {num_neighbors!r}")
    return int(num_neighbors)


def prepare(points, voxel_size: float | None = None,
            num_neighbors: int = DEFAULT_NUM_NEIGHBORS) -> PreparedCloud:
    """Downsample `points` on a voxel grid of `voxel_size` metres (None keeps every point), build
    the k-d tree and estimate normals and GICP covariances from `num_neighbors` neighbours."""
    array = as_points(points)
    cloud = _native.PreparedCloud(array, _check_voxel_size(voxel_size), _check_num_neighbors(num_neighbors))
    return PreparedCloud(cloud)


def align(source_points, target, method: str = "gicp", max_correspondence_distance: float = 1.0,
          voxel_size: float | None = None, init=None, robust_kernel: str | None = None,
          kernel_scale: float | None = None, max_iterations: int = 64,
          rotation_epsilon_deg: float = 0.1, translation_epsilon: float = 1e-3) -> RegistrationResult:
    """Find T_target_source that moves `source_points` onto `target`.

    source_points: (N, 3) array, or a PreparedCloud from `prepare` (reused as is).
    target: a PreparedCloud from `prepare`, or a plain (M, 3) array (prepared on the fly with
        `voxel_size`).
    method: "point_to_point", "point_to_plane" or "gicp".
    max_correspondence_distance: pairs farther apart than this (metres) are ignored.
    voxel_size: downsampling of the source (metres); None takes the prepared target's, or keeps
        every point when the target is a plain array.
    init: initial 4x4 rigid guess of T_target_source (identity when None).
    robust_kernel: None, "huber", "cauchy", "tukey" or "geman_mcclure", applied to each residual
        in metres (point distance; plane distance for point-to-plane) with `kernel_scale` metres
        (default: a third of the correspondence distance).
    max_iterations, rotation_epsilon_deg, translation_epsilon (metres): stop at the cap or when an
        iteration moves less than both thresholds (then `converged` is True).
    """
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    distance = check_metres(max_correspondence_distance, "max_correspondence_distance")
    kernel = "none" if robust_kernel is None else robust_kernel
    if kernel not in ROBUST_KERNELS:
        raise ValueError(f"unknown robust_kernel {robust_kernel!r}; use None or one of {', '.join(ROBUST_KERNELS[1:])}")
    scale = distance / 3.0 if kernel_scale is None else check_metres(kernel_scale, "kernel_scale")
    if isinstance(max_iterations, bool) or not isinstance(max_iterations, (int, np.integer)) or max_iterations < 1:
        raise ValueError(f"max_iterations must be a positive integer, got {max_iterations!r}")
    for value, name in ((rotation_epsilon_deg, "rotation_epsilon_deg"), (translation_epsilon, "translation_epsilon")):
        if not (isinstance(value, (int, float, np.integer, np.floating)) and math.isfinite(value) and value >= 0):
            raise ValueError(f"{name} must be a non-negative number, got {value!r}")
    T_init = np.eye(4) if init is None else as_rigid_transform(init, "init")

    if not isinstance(target, PreparedCloud):
        target = prepare(as_points(target, "target points"), voxel_size)
    if isinstance(source_points, PreparedCloud):
        if voxel_size is not None and source_points.voxel_size != voxel_size:
            raise ValueError(f"the source was prepared with voxel_size={source_points.voxel_size}; "
                             f"drop voxel_size={voxel_size} or prepare the source again")
        source = source_points._cloud
    else:
        source_voxel = target.voxel_size if voxel_size is None else voxel_size
        source = _native.PreparedCloud(as_points(source_points, "source points"), _check_voxel_size(source_voxel),
                                       target.num_neighbors, method == "gicp")

    raw = _native.align(source, target._cloud, method, T_init, distance, int(max_iterations),
                        math.radians(rotation_epsilon_deg), float(translation_epsilon), kernel, scale)
    T, information = raw.T_target_source, raw.information  # each access copies: take them once
    T.setflags(write=False)  # the result is frozen; so are its arrays
    information.setflags(write=False)
    result = RegistrationResult(T_target_source=T, fitness=raw.fitness, inlier_rmse=raw.inlier_rmse,
                                iterations=raw.iterations, converged=raw.converged, information=information,
                                num_inliers=raw.num_inliers)
    log.debug("%s: %d iterations, converged=%s, fitness=%.3f, rmse=%.4f m", method, result.iterations,
              result.converged, result.fitness, result.inlier_rmse)
    if result.num_inliers < 3:
        log.warning("%s found %d correspondences within %.3g m: the clouds do not overlap at the initial "
                    "guess; give a better init or a larger max_correspondence_distance",
                    method, result.num_inliers, distance)
    return result


def set_num_threads(n: int) -> None:
    """Threads for each of the core's parallel loops, process-wide (the core's own cap, not
    OpenMP's per-thread setting, so it holds for registrations run in other threads); n <= 0
    restores the default (OMP_NUM_THREADS, else one per core)."""
    _native.set_max_threads(int(n))


def get_num_threads() -> int:
    """The core's current thread count per parallel loop (see `set_num_threads`)."""
    return _native.max_threads()

