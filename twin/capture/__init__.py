"""Capture: readers of what users bring (phone apps, RGB-D folders, photos) into one `Capture` type.

Room: imports numpy, OpenCV, Open3D, `twin.geometry` and `twin.camera`; `open_capture` picks the reader.
"""
from twin.capture.capture import Capture, Frame, FrameData
from twin.capture.detect import detect, open_capture
from twin.capture.intrinsics import read_intrinsic_json
from twin.capture.read_ahead import read_ahead

__all__ = ["Capture", "Frame", "FrameData", "detect", "open_capture", "read_ahead", "read_intrinsic_json"]
