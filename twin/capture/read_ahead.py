"""Frames read ahead of their use: while the caller works on one frame (tracking, fusion, marker
detection), a background thread decodes the next ones. Decoding PNGs and JPEGs (OpenCV) releases
the GIL, so on two cores it costs the caller almost nothing; frames are still read one at a time,
in order (a video capture decodes sequentially)."""
from __future__ import annotations

import collections
import itertools
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from twin.capture.capture import Frame, FrameData

FRAMES_AHEAD = 2  # enough to hide a decode behind one frame's work; each held frame costs its pixels


def read_ahead(frames: Iterable[Frame], ahead: int = FRAMES_AHEAD) -> Iterator[tuple[Frame, Callable[[], FrameData]]]:
    """Each frame with `loaded()`: its data, or the `ValueError` its `load()` raised, raised where
    the caller asks for it (so a bad frame is the caller's to skip, as with `frame.load()`)."""
    pending: collections.deque[tuple[Frame, Future]] = collections.deque()
    remaining = iter(frames)
    pool = ThreadPoolExecutor(1, thread_name_prefix="twin-read-ahead")
    try:
        for frame in itertools.islice(remaining, ahead):
            pending.append((frame, pool.submit(frame.load)))
        while pending:
            frame, future = pending.popleft()
            for following in itertools.islice(remaining, 1):
                pending.append((following, pool.submit(following.load)))
            yield frame, future.result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)  # a caller that stops early waits for no more reads
