"""Frames read ahead in a background thread: in order, the next one read while the caller works
on the current one, a bad frame's error raised where the caller asks for it, nothing left reading
when the caller stops early."""
from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from twin.camera import Camera
from twin.capture import Frame, FrameData, read_ahead

CAMERA = Camera(100.0, 100.0, 32.0, 24.0, 64, 48)


class Loads:
    """Frames whose load records when it ran and on which thread; `bad` frames raise."""

    def __init__(self, count: int, bad: tuple[int, ...] = ()):
        self.started: dict[int, float] = {}
        self.threads: set[str] = set()
        self.frames = [Frame(f"{index:03d}", CAMERA, self._loader(index, index in bad)) for index in range(count)]

    def _loader(self, index: int, bad: bool):
        def load() -> FrameData:
            self.started[index] = time.monotonic()
            self.threads.add(threading.current_thread().name)
            time.sleep(0.02)
            if bad:
                raise ValueError(f"frame {index}: unreadable depth image")
            return FrameData(np.full((48, 64, 3), index, np.uint8), np.ones((48, 64), np.float32), None)
        return load


def test_frames_come_in_order_and_the_next_is_read_while_the_caller_works():
    loads = Loads(6)
    seen = []
    for frame, loaded in read_ahead(loads.frames):
        asked = time.monotonic()
        data = loaded()
        seen.append((frame.name, int(data.color[0, 0, 0])))
        index = int(frame.name)
        time.sleep(0.05)  # the caller's work on this frame
        if index + 1 < len(loads.frames):
            assert loads.started[index + 1] < asked + 0.05, "the next frame was not read meanwhile"
    assert seen == [(f"{index:03d}", index) for index in range(6)]
    assert loads.threads and threading.current_thread().name not in loads.threads


def test_a_bad_frame_raises_where_it_is_asked_for_and_the_others_still_come():
    loads = Loads(4, bad=(1,))
    names, errors = [], []
    for frame, loaded in read_ahead(loads.frames):
        try:
            loaded()
            names.append(frame.name)
        except ValueError as error:
            errors.append(str(error))
    assert names == ["000", "002", "003"]
    assert errors == ["frame 1: unreadable depth image"]


def test_stopping_early_leaves_no_read_running():
    loads = Loads(50)
    frames = read_ahead(loads.frames)
    for _ in range(3):
        next(frames)[1]()
    frames.close()
    started = len(loads.started)
    time.sleep(0.1)
    assert len(loads.started) == started <= 6, "reads went on after the caller stopped"
    assert not [t for t in threading.enumerate() if t.name.startswith("twin-read-ahead")]


def test_a_video_is_read_one_frame_at_a_time():
    running, most = [0], [0]
    lock = threading.Lock()

    def load() -> FrameData:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.01)
        with lock:
            running[0] -= 1
        return FrameData(np.zeros((48, 64, 3), np.uint8), np.ones((48, 64), np.float32), None)

    for _, loaded in read_ahead([Frame(str(i), CAMERA, load) for i in range(10)]):
        loaded()
    assert most[0] == 1


@pytest.mark.parametrize("count", [0, 1])
def test_short_captures(count):
    assert [frame.name for frame, _ in read_ahead(Loads(count).frames)] == [f"{i:03d}" for i in range(count)]
