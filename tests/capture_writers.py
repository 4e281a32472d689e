"""Writers of synthetic captures in the formats users bring (Open3D/Redwood and TUM folders, Stray
Scanner, Record3D `.r3d`, nerfstudio), from rendered frames with exact poses; for the capture
readers' tests and the reconstruction tests that start from a capture file."""
from __future__ import annotations

import json
import zipfile

import cv2
import liblzfse
import numpy as np
from rgbd_scene import intrinsics
from scipy.spatial.transform import Rotation

from twin.capture.axes import T_GL_CV
from twin.capture.trajectory_log import write_trajectory_log
from twin.geometry import T_ZUP_YUP

WIDTH, HEIGHT = 160, 120  # the frames these writers are given are rendered at this size


def _bgr(rgb):
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def _depth_mm(depth_m, scale=1000.0):
    return np.round(depth_m * scale).astype(np.uint16)


def _arkit_pose(T_world_camera):
    """Our pose (z-up world, OpenCV camera) as ARKit stores it (y-up world, OpenGL camera)."""
    return np.linalg.inv(T_ZUP_YUP) @ T_world_camera @ T_GL_CV


def write_open3d_folder(root, frames, *, with_poses=True, color_folder="image"):
    (root / color_folder).mkdir(parents=True)
    (root / "depth").mkdir()
    for i, frame in enumerate(frames):
        cv2.imwrite(str(root / color_folder / f"{i:05d}.png"), _bgr(frame.color))
        cv2.imwrite(str(root / "depth" / f"{i:05d}.png"), _depth_mm(frame.depth_m))
    K = intrinsics(WIDTH, HEIGHT)
    (root / "intrinsic.json").write_text(json.dumps(
        {"width": WIDTH, "height": HEIGHT, "intrinsic_matrix": K.T.flatten().tolist(), "depth_scale": 1000.0}))
    if with_poses:
        write_trajectory_log(root / "device_trajectory.log", [f.T_world_camera for f in frames])
    return root


def write_tum_folder(root, frames):
    (root / "rgb").mkdir(parents=True)
    (root / "depth").mkdir()
    rgb_lines, depth_lines = ["# color images"], ["# depth images"]
    for i, frame in enumerate(frames):
        t = 1305031102.0 + i / 30
        cv2.imwrite(str(root / "rgb" / f"{t:.6f}.png"), _bgr(frame.color))
        cv2.imwrite(str(root / "depth" / f"{t + 0.004:.6f}.png"), _depth_mm(frame.depth_m, 5000.0))
        rgb_lines.append(f"{t:.6f} rgb/{t:.6f}.png")
        depth_lines.append(f"{t + 0.004:.6f} depth/{t + 0.004:.6f}.png")
    (root / "rgb.txt").write_text("\n".join(rgb_lines) + "\n")
    (root / "depth.txt").write_text("\n".join(depth_lines) + "\n")
    return root


def write_stray_scanner(root, frames):
    (root / "depth").mkdir(parents=True)
    (root / "confidence").mkdir()
    video = cv2.VideoWriter(str(root / "rgb.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 30, (2 * WIDTH, 2 * HEIGHT))
    rows = ["timestamp, frame, x, y, z, qx, qy, qz, qw"]
    for i, frame in enumerate(frames):
        video.write(_bgr(cv2.resize(frame.color, (2 * WIDTH, 2 * HEIGHT), interpolation=cv2.INTER_NEAREST)))
        cv2.imwrite(str(root / "depth" / f"{i:06d}.png"), _depth_mm(frame.depth_m))
        confidence = np.full((HEIGHT, WIDTH), 2, np.uint8)
        confidence[:, : WIDTH // 4] = 0   # the left quarter is unreliable
        cv2.imwrite(str(root / "confidence" / f"{i:06d}.png"), confidence)
        T = _arkit_pose(frame.T_world_camera)
        q = Rotation.from_matrix(T[:3, :3]).as_quat()
        rows.append(f"{i / 30:.6f}, {i}, {T[0, 3]}, {T[1, 3]}, {T[2, 3]}, {q[0]}, {q[1]}, {q[2]}, {q[3]}")
    video.release()
    (root / "odometry.csv").write_text("\n".join(rows) + "\n")
    np.savetxt(root / "camera_matrix.csv", intrinsics(2 * WIDTH, 2 * HEIGHT), delimiter=",")
    return root


def write_record3d(path, frames):
    K_color = intrinsics(2 * WIDTH, 2 * HEIGHT)
    poses = []
    with zipfile.ZipFile(path, "w") as archive:
        for i, frame in enumerate(frames):
            color = cv2.resize(frame.color, (2 * WIDTH, 2 * HEIGHT), interpolation=cv2.INTER_NEAREST)
            archive.writestr(f"rgbd/{i}.jpg", cv2.imencode(".jpg", _bgr(color), [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes())
            archive.writestr(f"rgbd/{i}.depth", liblzfse.compress(frame.depth_m.astype(np.float32).tobytes()))
            confidence = np.full((HEIGHT, WIDTH), 2, np.uint8)
            confidence[: HEIGHT // 2] = 1
            archive.writestr(f"rgbd/{i}.conf", liblzfse.compress(confidence.tobytes()))
            T = _arkit_pose(frame.T_world_camera)
            poses.append([*Rotation.from_matrix(T[:3, :3]).as_quat().tolist(), *T[:3, 3].tolist()])
        archive.writestr("metadata", json.dumps({"w": 2 * WIDTH, "h": 2 * HEIGHT, "dw": WIDTH, "dh": HEIGHT,
                                                 "K": K_color.T.flatten().tolist(), "poses": poses, "fps": 30}))
    return path


def write_nerfstudio(root, frames):
    (root / "images").mkdir(parents=True)
    (root / "depths").mkdir()
    K = intrinsics(WIDTH, HEIGHT)
    entries = []
    for i, frame in enumerate(frames):
        cv2.imwrite(str(root / "images" / f"frame_{i:05d}.png"), _bgr(frame.color))
        cv2.imwrite(str(root / "depths" / f"frame_{i:05d}.png"), _depth_mm(frame.depth_m))
        entries.append({"file_path": f"images/frame_{i:05d}.png", "depth_file_path": f"depths/frame_{i:05d}.png",
                        "transform_matrix": (frame.T_world_camera @ T_GL_CV).tolist()})
    (root / "transforms.json").write_text(json.dumps(
        {"fl_x": K[0, 0], "fl_y": K[1, 1], "cx": K[0, 2], "cy": K[1, 2], "w": WIDTH, "h": HEIGHT, "frames": entries}))
    return root
