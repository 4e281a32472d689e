"""Writers of the scan folder's reconstruction outputs (formats in docs/architecture.md)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import open3d as o3d


@dataclass(frozen=True)
class CameraPose:
    """One reconstructed camera: its pinhole model and camera-to-world pose (OpenCV axes)."""

    name: str
    K: np.ndarray
    width: int
    height: int
    T_world_camera: np.ndarray


def write_cameras_json(path: Path, cameras: list[CameraPose]) -> None:
    frames = [{"name": c.name, "K": np.asarray(c.K, float).tolist(), "width": int(c.width),
               "height": int(c.height), "T_world_camera": np.asarray(c.T_world_camera, float).tolist()}
              for c in cameras]
    Path(path).write_text(json.dumps({"frames": frames}, indent=1))


def read_cameras_json(path: Path) -> list[CameraPose]:
    try:
        frames = json.loads(Path(path).read_text())["frames"]
        return [CameraPose(name=f["name"], K=np.array(f["K"], float), width=int(f["width"]),
                           height=int(f["height"]), T_world_camera=np.array(f["T_world_camera"], float))
                for f in frames]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"cannot read cameras from {path} ({error}); expected the cameras.json layout "
                         "{'frames': [{name, K, width, height, T_world_camera}]}") from None


def write_json(path: Path, data: dict) -> None:
    Path(path).write_text(json.dumps(data, indent=2, default=_jsonable))


def write_point_cloud_ply(path: Path, points: np.ndarray, colors: np.ndarray | None = None,
                          normals: np.ndarray | None = None) -> None:
    """Binary PLY; `colors` as uint8 or floats in [0, 1]."""
    cloud = o3d.t.geometry.PointCloud(o3d.core.Tensor(np.asarray(points, np.float32)))
    if colors is not None:
        cloud.point.colors = o3d.core.Tensor(_byte_colors(colors))
    if normals is not None:
        cloud.point.normals = o3d.core.Tensor(np.asarray(normals, np.float32))
    if not o3d.t.io.write_point_cloud(str(path), cloud, write_ascii=False):
        raise OSError(f"could not write the point cloud {path}")


def write_mesh_ply(path: Path, vertices: np.ndarray, triangles: np.ndarray, colors: np.ndarray | None = None) -> None:
    mesh = o3d.t.geometry.TriangleMesh(o3d.core.Tensor(np.asarray(vertices, np.float32)),
                                       o3d.core.Tensor(np.asarray(triangles, np.int32)))
    if colors is not None:
        mesh.vertex.colors = o3d.core.Tensor(_unit_colors(colors))
    if not o3d.t.io.write_triangle_mesh(str(path), mesh, write_ascii=False):
        raise OSError(f"could not write the mesh {path}")


def _unit_colors(colors: np.ndarray) -> np.ndarray:
    colors = np.asarray(colors)
    if colors.dtype == np.uint8:
        return colors.astype(np.float32) / 255.0
    return np.clip(colors, 0.0, 1.0).astype(np.float32)


def _byte_colors(colors: np.ndarray) -> np.ndarray:
    """uint8, so that Open3D writes PLY `uchar` colours, which every reader (Open3D's legacy reader
    too) understands; float colours are written as `float` and read back divided by 255."""
    colors = np.asarray(colors)
    if colors.dtype == np.uint8:
        return colors
    return np.round(np.clip(colors, 0.0, 1.0) * 255.0).astype(np.uint8)


def _jsonable(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")
