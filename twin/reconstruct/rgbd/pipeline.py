"""RGB-D reconstruction: frame-to-model tracking with the registration core, fragments, loop
closure between fragments and a pose graph, then fusion of every tracked frame into a TSDF,
written as the scan folder's outputs, and the printed markers the colour frames show.

Stages (each skipped on rerun when done with the same settings, see `stages.py`):
  track      -> work/odometry.json, work/fragments.npz
  poses      -> cameras.json, work/poses.json   (loop closure and pose graph)
  integrate  -> mesh.ply, cloud.ply
  markers    -> anchors.json, work/markers.json (ArUco/AprilTag markers triangulated, on the surface)
and report.json at the end of every run: `RgbdResult.as_report()`, the result `reconstruct_rgbd` returns.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from twin.camera import Camera
from twin.capture import Capture
from twin.markers.detection import DEFAULT_DICTIONARIES, checked_dictionaries, marker_pose
from twin.reconstruct.result import StageTiming, stage_timings, stages_report
from twin.reconstruct.rgbd.depth_points import DepthLimits, usable_depth
from twin.reconstruct.rgbd.integration import TsdfVolume
from twin.reconstruct.rgbd.loop_closure import LoopClosureSettings, close_loops
from twin.reconstruct.rgbd.markers import check_marker_frames, find_capture_markers, settle_on_surface
from twin.reconstruct.rgbd.odometry import TrackingSettings
from twin.reconstruct.rgbd.tracking_stage import Fragment, FrameRecord, track_capture
from twin.reconstruct.stages import Progress, StageRunner
from twin.scanfolder import (marker_anchor, read_cameras_json, read_cloud, read_json,
                             write_anchors_json, write_cameras_json, write_json, write_mesh_ply,
                             write_point_cloud_ply)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RgbdOptions:
    """What a user may tune; every field is also a keyword of `reconstruct_rgbd`."""

    voxel_size_m: float = 0.01            # TSDF voxel: the detail of the mesh
    depth_min_m: float = 0.1
    depth_max_m: float = 4.0              # farther depth is too noisy to fuse
    min_confidence: int = 1               # ARKit levels: 0 low, 1 medium, 2 high
    fragment_frames: int = 40             # frames per fragment for loop closure
    tracking_voxel_m: float = 0.02
    tracking_max_correspondence_m: float = 0.07
    loop_closure: bool = True
    marker_frames: int = 120              # colour frames searched for markers, spread over the walk
    marker_dictionaries: tuple[str, ...] = DEFAULT_DICTIONARIES

    @classmethod
    def from_kwargs(cls, **options) -> "RgbdOptions":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise ValueError(f"unknown RGB-D option(s) {', '.join(unknown)}; known options: {', '.join(sorted(known))}")
        chosen = replace(cls(), **options)
        for name in ("voxel_size_m", "depth_max_m", "tracking_voxel_m", "tracking_max_correspondence_m"):
            if not getattr(chosen, name) > 0:
                raise ValueError(f"{name} must be positive, got {getattr(chosen, name)}")
        if not 0 <= chosen.depth_min_m < chosen.depth_max_m:
            raise ValueError(f"depth range {chosen.depth_min_m}-{chosen.depth_max_m} m is empty")
        if chosen.fragment_frames < 2:
            raise ValueError(f"fragment_frames must be at least 2, got {chosen.fragment_frames}")
        check_marker_frames(chosen.marker_frames)
        return replace(chosen, marker_dictionaries=checked_dictionaries(chosen.marker_dictionaries))

    @property
    def depth_limits(self) -> DepthLimits:
        return DepthLimits(self.depth_min_m, self.depth_max_m, self.min_confidence)

    @property
    def tracking(self) -> TrackingSettings:
        return TrackingSettings(voxel_size_m=self.tracking_voxel_m,
                                max_correspondence_m=self.tracking_max_correspondence_m)


@dataclass(frozen=True)
class CaptureSummary:
    """The capture reconstructed: where it is, its kind, how many frames it has, whether it carries device poses."""

    path: str
    kind: str
    frames: int
    device_poses: bool

    def as_report(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "frames": self.frames, "device_poses": self.device_poses}


@dataclass(frozen=True)
class DroppedFrame:
    name: str
    reason: str


@dataclass(frozen=True)
class FrameCounts:
    """Frames fused and frames dropped, with the reason of each (counted by reason, details cut off)."""

    used: int
    dropped: int
    dropped_by_reason: Mapping[str, int]
    dropped_frames: tuple[DroppedFrame, ...]

    def as_report(self) -> dict[str, Any]:
        return {"used": self.used, "dropped": self.dropped, "dropped_by_reason": dict(self.dropped_by_reason),
                "dropped_frames": [{"name": d.name, "reason": d.reason} for d in self.dropped_frames]}


@dataclass(frozen=True)
class TrackingSummary:
    keyframes: int
    mean_fitness: float
    mean_inlier_rmse_m: float

    def as_report(self) -> dict[str, Any]:
        return {"keyframes": self.keyframes, "mean_fitness": self.mean_fitness,
                "mean_inlier_rmse_m": self.mean_inlier_rmse_m}


@dataclass(frozen=True)
class LoopClosureSummary:
    """Loop closure between fragments: why it did not run (`reason`), or what it tried, kept and moved."""

    enabled: bool
    reason: str | None = None
    fragments: int = 0
    pairs_tried: int = 0
    global_registrations_tried: int = 0
    candidates: int = 0
    accepted: int = 0
    found_by: Mapping[str, int] | None = None
    largest_fragment_correction_m: float = 0.0
    largest_fragment_correction_deg: float = 0.0

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LoopClosureSummary:
        return cls(**data)

    def as_report(self) -> dict[str, Any]:
        if not self.enabled:
            return {"enabled": False, "reason": self.reason}
        return {"enabled": True, "fragments": self.fragments, "pairs_tried": self.pairs_tried,
                "global_registrations_tried": self.global_registrations_tried, "candidates": self.candidates,
                "accepted": self.accepted, "found_by": dict(self.found_by or {}),
                "largest_fragment_correction_m": self.largest_fragment_correction_m,
                "largest_fragment_correction_deg": self.largest_fragment_correction_deg}


@dataclass(frozen=True)
class FoundMarker:
    key: str
    views: int
    reprojection_px: float
    side_m: float


@dataclass(frozen=True)
class MarkersSummary:
    """The printed markers found: how many colour frames were searched, and each marker triangulated."""

    frames_searched: int
    found: tuple[FoundMarker, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> MarkersSummary:
        return cls(data["frames_searched"], tuple(FoundMarker(**m) for m in data["found"]))

    def as_report(self) -> dict[str, Any]:
        return {"frames_searched": self.frames_searched, "found": [
            {"key": m.key, "views": m.views, "reprojection_px": m.reprojection_px, "side_m": m.side_m}
            for m in self.found]}


@dataclass(frozen=True)
class DeviceDrift:
    """How far the device's own trajectory is from ours, in metres: at the last frame, at most, on average."""

    last_frame_m: float
    max_m: float
    mean_m: float

    def as_report(self) -> dict[str, Any]:
        return {"device_vs_reconstruction_last_frame_m": self.last_frame_m,
                "device_vs_reconstruction_max_m": self.max_m,
                "device_vs_reconstruction_mean_m": self.mean_m}


@dataclass(frozen=True)
class RgbdResult:
    """What `reconstruct_rgbd` did; `as_report()` is the scan folder's report.json."""

    capture: CaptureSummary
    world_frame: str                      # "device" (the capture's poses) or "first camera"
    options: RgbdOptions
    frames: FrameCounts
    tracking: TrackingSummary
    loop_closure: LoopClosureSummary
    markers: MarkersSummary
    stages: Mapping[str, StageTiming]     # in the order they ran
    seconds_this_run: float
    seconds_all_stages: float
    drift: DeviceDrift | None = None      # only for captures with device poses

    def as_report(self) -> dict[str, Any]:
        report = {
            "capture": self.capture.as_report(),
            "world_frame": self.world_frame,
            "options": asdict(self.options),
            "frames": self.frames.as_report(),
            "tracking": self.tracking.as_report(),
            "loop_closure": self.loop_closure.as_report(),
            "markers": self.markers.as_report(),
            "stages": stages_report(self.stages),
            "seconds_this_run": self.seconds_this_run,
            "seconds_all_stages": self.seconds_all_stages,
        }
        if self.drift is not None:
            report["drift"] = self.drift.as_report()
        return report


def reconstruct_rgbd(capture: Capture, out_dir: Path, *, progress: Progress | None = None, **options) -> RgbdResult:
    """Reconstructs `capture` into `out_dir`; returns what it did (`as_report()` is also written as report.json)."""
    opts = RgbdOptions.from_kwargs(**options)
    out_dir = Path(out_dir)
    runner = StageRunner(out_dir, progress=progress)
    source = {"capture": str(Path(capture.path).resolve()), "kind": capture.kind, "frames": len(capture.frames)}

    def track(paths, report):
        records, fragments = track_capture(capture, opts.depth_limits, opts.tracking, opts.fragment_frames, report)
        write_json(paths["work/odometry.json"], {"frames": [r.to_json() for r in records]})
        np.savez(paths["work/fragments.npz"], **_fragments_to_arrays(fragments))

    runner.run("track", ["work/odometry.json", "work/fragments.npz"],
               {**source, **_subset(opts, "depth_min_m", "depth_max_m", "min_confidence", "fragment_frames",
                                    "tracking_voxel_m", "tracking_max_correspondence_m")}, track)
    records = _read_records(out_dir / "work/odometry.json")

    def poses(paths, report):
        fragments = _fragments_from_arrays(np.load(out_dir / "work/fragments.npz"))
        corrections, summary = _loop_corrections(fragments, opts, report)
        fragment_of = {index: k for k, fragment in enumerate(fragments) for index in fragment.frame_indices}
        cameras = [capture.frames[r.index].camera.with_pose(corrections[fragment_of[r.index]] @ r.T_world_camera,
                                                            name=r.name)
                   for r in records if r.status == "tracked"]
        write_cameras_json(paths["cameras.json"], cameras)
        write_json(paths["work/poses.json"], summary)
        report(1, 1)

    runner.run("poses", ["cameras.json", "work/poses.json"],
               {**source, **_subset(opts, "loop_closure", "tracking_voxel_m")}, poses)
    cameras = read_cameras_json(out_dir / "cameras.json")

    def integrate(paths, report):
        surface = _fuse(capture, cameras, opts, report)
        write_mesh_ply(paths["mesh.ply"], surface.mesh_vertices, surface.mesh_triangles, surface.mesh_colors)
        write_point_cloud_ply(paths["cloud.ply"], surface.cloud_points, surface.cloud_colors, surface.cloud_normals)

    runner.run("integrate", ["mesh.ply", "cloud.ply"], {**source, **_subset(opts, "voxel_size_m", "depth_min_m",
                                                                            "depth_max_m", "min_confidence")}, integrate)

    def markers(paths, report):
        found, searched = find_capture_markers(capture, cameras, opts.marker_dictionaries, opts.marker_frames, report)
        surface, _ = read_cloud(out_dir / "cloud.ply")
        found = [settle_on_surface(m, surface) for m in found]
        # Metric already: the triangulated side is the printed size.
        write_anchors_json(paths["anchors.json"], [marker_anchor(m.key, marker_pose(m), m.side) for m in found])
        write_json(paths["work/markers.json"], {"frames_searched": searched, "found": [
            {"key": m.key, "views": m.views, "reprojection_px": round(m.reprojection_px, 3), "side_m": round(m.side, 4)}
            for m in found]})

    runner.run("markers", ["anchors.json", "work/markers.json"],
               {**source, **_subset(opts, "marker_frames", "marker_dictionaries")}, markers)

    result = _result(capture, opts, records, cameras, read_json(out_dir / "work/poses.json", "the loop closures"),
                     read_json(out_dir / "work/markers.json", "the markers found"), runner.timings)
    write_json(out_dir / "report.json", result.as_report())
    return result


def _loop_corrections(fragments: list[Fragment], opts: RgbdOptions, report) -> tuple[list[np.ndarray], dict]:
    """Per fragment, the rigid correction that loop closure applies to its frames."""
    if not opts.loop_closure or len(fragments) < 3:
        reason = "turned off" if not opts.loop_closure else f"{len(fragments)} fragment(s): no loop to close"
        report(1, 1)
        return [np.eye(4)] * len(fragments), {"loop_closure": {"enabled": False, "reason": reason}}
    before = [f.T_world_anchor for f in fragments]
    result = close_loops(fragments, LoopClosureSettings(voxel_size_m=opts.tracking_voxel_m), report)
    corrections = [after @ np.linalg.inv(b) for b, after in zip(before, result.T_world_fragments)]
    return corrections, {"loop_closure": result.summary(before)}


def _fuse(capture: Capture, cameras: list[Camera], opts: RgbdOptions, report):
    by_name = {frame.name: frame for frame in capture.frames}
    volume = TsdfVolume(opts.voxel_size_m, opts.depth_max_m)
    for done, camera in enumerate(cameras):
        report(done, len(cameras))
        frame = by_name[camera.name]
        data = frame.load()
        volume.integrate(usable_depth(frame, data, opts.depth_limits), data.color, camera)
    report(len(cameras), len(cameras))
    return volume.extract()


def _result(capture: Capture, opts: RgbdOptions, records: list[FrameRecord], cameras: list[Camera],
            poses_summary: dict, markers: dict, timings: dict) -> RgbdResult:
    dropped = tuple(DroppedFrame(r.name, r.reason) for r in records if r.status == "dropped")
    reasons: dict[str, int] = {}
    for item in dropped:
        key = item.reason.split(" (")[0]
        reasons[key] = reasons.get(key, 0) + 1
    tracked = [r for r in records if r.status == "tracked"]
    return RgbdResult(
        capture=CaptureSummary(str(capture.path), capture.kind, len(capture.frames), capture.has_device_poses),
        world_frame="device" if capture.has_device_poses else "first camera",
        options=opts,
        frames=FrameCounts(len(cameras), len(dropped), reasons, dropped),
        tracking=TrackingSummary(
            keyframes=sum(r.keyframe for r in tracked),
            mean_fitness=float(np.mean([r.fitness for r in tracked])) if tracked else 0.0,
            mean_inlier_rmse_m=float(np.mean([r.inlier_rmse for r in tracked])) if tracked else 0.0),
        loop_closure=LoopClosureSummary.from_json(poses_summary["loop_closure"]),
        markers=MarkersSummary.from_json(markers),
        stages=stage_timings(timings, digits=3),
        seconds_this_run=round(sum(t["seconds"] for t in timings.values() if not t["reused"]), 3),
        seconds_all_stages=round(sum(t["seconds"] for t in timings.values()), 3),
        drift=_device_drift(capture, cameras) if capture.has_device_poses else None,
    )


def _device_drift(capture: Capture, cameras: list[Camera]) -> DeviceDrift:
    """How far the device's own trajectory is from ours: at the last frame, and over the run."""
    by_name = {frame.name: frame for frame in capture.frames}
    device = [by_name[c.name].camera.T_world_camera for c in cameras]
    ours = [c.T_world_camera for c in cameras]
    gaps = [float(np.linalg.norm(d[:3, 3] - o[:3, 3])) for d, o in zip(device, ours)]
    return DeviceDrift(last_frame_m=round(gaps[-1], 4), max_m=round(max(gaps), 4),
                       mean_m=round(float(np.mean(gaps)), 4))


def _subset(opts: RgbdOptions, *names: str) -> dict:
    return {name: getattr(opts, name) for name in names}


def _read_records(path: Path) -> list[FrameRecord]:
    return [FrameRecord.from_json(item) for item in read_json(path, "the tracked frames")["frames"]]


def _fragments_from_arrays(arrays) -> list[Fragment]:
    indices = sorted(int(key.split("_")[1]) for key in arrays.files if key.startswith("anchor_"))
    return [Fragment(k, arrays[f"anchor_{k}"], arrays[f"points_{k}"], arrays[f"frames_{k}"].tolist())
            for k in indices]


def _fragments_to_arrays(fragments: list[Fragment]) -> dict[str, np.ndarray]:
    arrays = {}
    for fragment in fragments:
        arrays[f"anchor_{fragment.index}"] = fragment.T_world_anchor
        arrays[f"points_{fragment.index}"] = fragment.points
        arrays[f"frames_{fragment.index}"] = np.array(fragment.frame_indices)
    return arrays
