"""Global registration: align two clouds from any initial placement, optionally with a scale.

    from twin import registration
    result = registration.align_global(source_points, target_points, voxel_size=0.05,
                                       with_scale=False, seed=0)
    result.T_target_source   # (4, 4); with_scale=True puts the scale in its rotation block
    result.converged         # False where no trustworthy alignment was found

The pipeline: voxel downsampling and normals (the core's `PreparedCloud`), FPFH features (radius
5 voxels, at most 100 neighbours, as Open3D's examples), mutual nearest neighbours in feature
space, RANSAC on those correspondences with Open3D's edge-length and distance checkers (inlier
distance 1.5 voxels), then point-to-plane ICP of the core from RANSAC's answer. With a scale,
the source is first brought to the target's size by the ratio of the clouds' spreads, RANSAC
and a point-to-point ICP estimate the remaining scale (Umeyama), and the point-to-plane polish
keeps it.

The same seed gives the same transform, whatever the number of threads.

Trust: the result is `converged` only when RANSAC's consensus, the overlap after refinement and
the geometry all say the alignment is determined (see `TrustCriteria`): two clouds without
overlap, a plane against a plane, a model that is not in the scan come out `converged=False`.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, replace

import numpy as np

from twin import _native
from twin.progress import Progress
from twin.registration.align import PreparedCloud, RegistrationResult, align
from twin.registration.clouds import KdTree, as_points, check_metres

log = logging.getLogger(__name__)

FEATURE_RADIUS_VOXELS = 5.0       # Open3D's examples: FPFH radius 5 voxels, at most 100 neighbours
FEATURE_MAX_NEIGHBORS = 100
INLIER_DISTANCE_VOXELS = 1.5      # Open3D's examples: RANSAC and checker distance 1.5 voxels
EDGE_LENGTH_SIMILARITY = 0.9      # Open3D's edge-length checker
OVERLAP_PLANE_DISTANCE_VOXELS = 0.3  # overlap: a partner this close to the surface, not just near
NORMAL_NEIGHBORS = 20             # normals for FPFH: about Open3D's 30 within 2 voxels
SCALE_ICP_ITERATIONS = 30


@dataclass(frozen=True)
class TrustCriteria:
    """When a global alignment counts as found.

    The figures: the consensus (feature correspondences that agree with the transform, RANSAC's
    or the refined one's, whichever is larger);
    the overlap (share of the smaller downsampled cloud whose points, after refinement, have a
    partner within 1.5 voxels and within 0.3 voxels of its surface); and the constraint (how
    well the matched surfaces pin all six degrees of freedom: smallest over largest eigenvalue
    of the point-to-plane information, centred, rotations in units of the overlap's radius; a
    plane, a cylinder or a corridor leaves it near 0).

    Trusted: constraint >= min_constraint, overlap >= min_overlap, and either a consensus of
    min_consensus, or a consensus of min_consensus_with_overlap with an overlap of at
    least strong_overlap (a model found whole in a scan needs fewer feature matches). On the
    kitchen fragments, wrong alignments reach 10 inliers and 0.30 overlap; right ones rarely fall
    below 12 inliers unless they overlap almost entirely.
    """

    min_consensus: int = 12
    min_consensus_with_overlap: int = 6
    strong_overlap: float = 0.5
    min_overlap: float = 0.1
    min_constraint: float = 0.005

    def trusts(self, consensus: int, overlap: float, constraint: float) -> bool:
        enough = consensus >= self.min_consensus or (
            consensus >= self.min_consensus_with_overlap and overlap >= self.strong_overlap)
        return enough and overlap >= self.min_overlap and constraint >= self.min_constraint


@dataclass(frozen=True)
class GlobalAlignment:
    """What align_global saw on its way, for logs, benchmarks and trust decisions."""

    result: RegistrationResult
    scale: float
    correspondences: int
    consensus: int
    ransac_hypotheses: int
    overlap: float
    constraint: float


@dataclass(frozen=True)
class FeatureCloud:
    """A cloud made ready for global registration once, to be registered with many others:
    downsampled points with normals (the core's PreparedCloud) and their FPFH features.
    Build it with `describe`; pass it to align_global in place of the points."""

    cloud: _native.PreparedCloud
    features: np.ndarray
    voxel_size: float

    def __len__(self) -> int:
        return len(self.cloud)


def describe(points, voxel_size: float = 0.05) -> FeatureCloud:
    """Downsample `points` ((N, 3), metres) on a `voxel_size` grid, estimate normals and FPFH
    features, for align_global with the same voxel_size."""

    return _describe(as_points(points), _check_voxel(voxel_size), "")


def align_global(source_points, target_points, voxel_size: float = 0.05, with_scale: bool = False,
                 seed: int = 0, *, max_hypotheses: int = 100_000, confidence: float = 0.999,
                 ratio_test: float | None = None, trust: TrustCriteria = TrustCriteria(),
                 progress: Progress | None = None) -> RegistrationResult:
    """Find T_target_source that moves `source_points` onto `target_points` from any placement.

    source_points, target_points: (N, 3) arrays (metres for the target; any unit for the source
        when with_scale is True), or FeatureClouds from `describe` with the same voxel_size
        (features computed once for many pairs; not with with_scale).
    voxel_size: downsampling in metres (of the target's units); features and distances scale with it.
    with_scale: also estimate one scale (photo reconstructions); T_target_source then holds s * R.
        The first guess of the scale is the ratio of the clouds' spreads, so both should cover
        roughly the same part of the scene (within a factor of about 1.5 in extent).
    seed: RANSAC's seed; the same seed gives the same result whatever the thread count.
    max_hypotheses, confidence: RANSAC stops at the cap or once an all-inlier sample has been
        drawn with this probability (Open3D's defaults).
    ratio_test: None, or keep only matches whose nearest feature is nearer than this ratio of
        the second nearest (e.g. 0.9), on top of the mutual check.
    trust: when the result counts as `converged`.
    progress: optional callback progress(stage, done, total).
    Returns the same type as `align`; `converged` is False where no trustworthy alignment was found.
    """
    return align_global_detailed(source_points, target_points, voxel_size, with_scale, seed,
                                 max_hypotheses=max_hypotheses, confidence=confidence,
                                 ratio_test=ratio_test, trust=trust, progress=progress).result


def align_global_detailed(source_points, target_points, voxel_size: float = 0.05, with_scale: bool = False,
                          seed: int = 0, *, max_hypotheses: int = 100_000, confidence: float = 0.999,
                          ratio_test: float | None = None, trust: TrustCriteria = TrustCriteria(),
                          progress: Progress | None = None) -> GlobalAlignment:
    """align_global, also returning the figures behind the trust decision (see GlobalAlignment)."""
    # twin.registration re-exports this module's functions, so it is imported here, not above.

    voxel = _check_voxel(voxel_size)
    for given, name in ((source_points, "source"), (target_points, "target")):
        if isinstance(given, FeatureCloud) and (with_scale or given.voxel_size != voxel):
            raise ValueError(f"the {name} was described with voxel_size={given.voxel_size}: give the same "
                             f"voxel_size (not {voxel}), and give points, not a FeatureCloud, with with_scale")
    source = source_points if isinstance(source_points, FeatureCloud) else as_points(source_points, "source points")
    target = target_points if isinstance(target_points, FeatureCloud) else as_points(target_points, "target points")
    seed = _check_seed(seed)
    if isinstance(max_hypotheses, bool) or not isinstance(max_hypotheses, (int, np.integer)) or max_hypotheses < 1:
        raise ValueError(f"max_hypotheses must be a positive integer, got {max_hypotheses!r}")
    if not (isinstance(confidence, (int, float)) and 0.0 < confidence < 1.0):
        raise ValueError(f"confidence must be a probability strictly between 0 and 1, got {confidence!r}")
    if ratio_test is not None and not (isinstance(ratio_test, (int, float)) and 0.0 < ratio_test <= 1.0):
        raise ValueError(f"ratio_test must be None or a number in (0, 1], got {ratio_test!r}")
    report = progress or (lambda stage, done, total: None)

    prior_scale = 1.0
    if with_scale:
        source_spread, target_spread = _spread(source), _spread(target)
        if not (source_spread > 0.0 and target_spread > 0.0):
            raise ValueError("with_scale needs clouds with an extent: one of them is a single point repeated")
        prior_scale = target_spread / source_spread

    report("features", 0, 2)
    if not isinstance(source, FeatureCloud):
        source = _describe(source * prior_scale, voxel, "source ")
    if not isinstance(target, FeatureCloud):
        target = _describe(target, voxel, "target ")
    source_cloud, target_cloud = source.cloud, target.cloud
    report("features", 2, 2)

    report("matching", 0, 1)
    pairs = _native.match_features(source.features, target.features, True, 0.0 if ratio_test is None else ratio_test)
    report("matching", 1, 1)

    report("ransac", 0, 1)
    inlier_distance = INLIER_DISTANCE_VOXELS * voxel
    source_down, target_down = source_cloud.points, target_cloud.points
    ransac = _native.ransac(np.ascontiguousarray(source_down[pairs[:, 0]]),
                            np.ascontiguousarray(target_down[pairs[:, 1]]),
                            inlier_distance, EDGE_LENGTH_SIMILARITY, with_scale, int(max_hypotheses),
                            float(confidence), seed)
    report("ransac", 1, 1)
    log.debug("%d x %d points, %d correspondences, RANSAC: %d inliers after %d hypotheses",
              len(source_down), len(target_down), len(pairs), ransac.num_inliers, ransac.hypotheses)

    report("refinement", 0, 1)
    T_scaled = ransac.T_target_source
    scale = 1.0
    if with_scale:
        T_scaled, scale = _similarity_icp(source_down, target_down, T_scaled, inlier_distance)
        source_cloud = _prepare(source_down * scale, None, "source ")
        T_scaled = _without_scale(T_scaled, scale)
    refined = align(PreparedCloud(source_cloud), PreparedCloud(target_cloud), method="point_to_plane",
                    max_correspondence_distance=inlier_distance, init=T_scaled, max_iterations=30)
    report("refinement", 1, 1)

    T = refined.T_target_source @ np.diag([scale * prior_scale] * 3 + [1.0])
    # The consensus is counted again at the refined transform, which a right answer improves.
    matched_source = source_cloud.points[pairs[:, 0]] @ refined.T_target_source[:3, :3].T + refined.T_target_source[:3, 3]
    consensus = int((np.linalg.norm(matched_source - target_down[pairs[:, 1]], axis=1) < inlier_distance).sum())
    overlap, constraint = _overlap_and_constraint(source_cloud.points, target_cloud, refined.T_target_source,
                                                  inlier_distance, OVERLAP_PLANE_DISTANCE_VOXELS * voxel)
    consensus = max(consensus, int(ransac.num_inliers))
    trusted = bool(ransac.found) and trust.trusts(consensus, overlap, constraint)
    T.setflags(write=False)
    result = replace(refined, T_target_source=T, converged=trusted)
    log.info("global registration: %d of %d matches agree, overlap %.2f, constraint %.3f -> %s",
             consensus, len(pairs), overlap, constraint, "trusted" if trusted else "not trusted")
    return GlobalAlignment(result=result, scale=scale * prior_scale, correspondences=len(pairs),
                           consensus=consensus, ransac_hypotheses=int(ransac.hypotheses),
                           overlap=overlap, constraint=constraint)


def scale_of(T) -> float:
    """The scale in a similarity transform's rotation block (1 for a rigid transform)."""
    return float(np.cbrt(np.linalg.det(np.asarray(T, dtype=np.float64)[:3, :3])))


def _check_voxel(voxel_size) -> float:
    return check_metres(voxel_size, "voxel_size")


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**64:
        raise ValueError(f"seed must be an integer from 0 to 2**64 - 1, got {seed!r}")
    return int(seed)


def _spread(points: np.ndarray) -> float:
    """Root-mean-square distance of the points from their centroid."""
    return float(np.sqrt(((points - points.mean(axis=0)) ** 2).sum(axis=1).mean()))


def _prepare(points: np.ndarray, voxel: float | None, name: str) -> _native.PreparedCloud:
    """name: "source ", "target " or "" (in the error message)."""
    try:
        return _native.PreparedCloud(points, 0.0 if voxel is None else voxel, NORMAL_NEIGHBORS)
    except ValueError as error:
        raise ValueError(f"the {name}cloud cannot be prepared for global registration: {error}") from None


def _describe(points: np.ndarray, voxel: float, name: str) -> FeatureCloud:
    cloud = _prepare(points, voxel, name)
    return FeatureCloud(cloud, _native.fpfh(cloud, FEATURE_RADIUS_VOXELS * voxel, FEATURE_MAX_NEIGHBORS), voxel)


def _without_scale(T: np.ndarray, scale: float) -> np.ndarray:
    """The rigid part of a similarity T = [sR | t], for a source already multiplied by s."""
    rigid = T.copy()
    rigid[:3, :3] /= scale
    U, _, Vt = np.linalg.svd(rigid[:3, :3])  # re-orthonormalise what division left
    rigid[:3, :3] = U @ Vt
    return rigid


def _similarity_icp(source: np.ndarray, target: np.ndarray, T: np.ndarray,
                    max_distance: float) -> tuple[np.ndarray, float]:
    """Point-to-point ICP with one scale (Umeyama on nearest pairs): returns T and its scale."""
    tree = KdTree(target)
    for _ in range(SCALE_ICP_ITERATIONS):
        moved = source @ T[:3, :3].T + T[:3, 3]
        index = tree.nearest(moved, max_distance).indices
        paired = index >= 0
        if paired.sum() < 3:
            break
        update = _native.estimate_similarity(np.ascontiguousarray(source[paired]),
                                             np.ascontiguousarray(target[index[paired]]), True)
        if update is None:
            break
        change = np.abs(update - T).max()
        T = update
        if change < 1e-6:
            break
    return T, scale_of(T)


def _overlap_and_constraint(source: np.ndarray, target: _native.PreparedCloud, T: np.ndarray,
                            distance: float, plane_distance: float) -> tuple[float, float]:
    """Share of the smaller cloud explained by the alignment, and how well its point-to-plane
    pairs fix all six degrees of freedom (smallest / largest eigenvalue, see TrustCriteria)."""
    target_points, target_normals = target.points, target.normals
    moved = source @ T[:3, :3].T + T[:3, 3]
    index = KdTree(target_points).nearest(moved, distance).indices
    paired = index >= 0
    paired[paired] = np.abs(((moved[paired] - target_points[index[paired]])
                             * target_normals[index[paired]]).sum(axis=1)) < plane_distance
    count = int(paired.sum())
    overlap = min(count / min(len(source), len(target_points)), 1.0)
    if count < 6:
        return overlap, 0.0
    q = target_points[index[paired]]
    n = target_normals[index[paired]]
    q = q - q.mean(axis=0)
    radius = max(float(np.sqrt((q ** 2).sum(axis=1).mean())), 1e-12)
    rows = np.hstack([np.cross(q, n) / radius, n])  # d(plane distance) / d(rotation * radius, translation)
    eigenvalues = np.linalg.eigvalsh(rows.T @ rows)
    return overlap, float(max(eigenvalues[0], 0.0) / eigenvalues[-1])
