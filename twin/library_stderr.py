"""What native libraries write straight to file descriptor 2 (Open3D's PLY reader RPly, libjpeg,
libpng), caught around one call so that it can become part of our error sentence, or a log line,
instead of noise before the CLI's one error line. Stdlib only: every room may use it."""
from __future__ import annotations

import logging
import os
import sys
import tempfile
import threading
from contextlib import contextmanager
from typing import Iterator

log = logging.getLogger(__name__)

# File descriptor 2 belongs to the process: one redirection at a time (re-entrant, so that nested
# captures restore in order). What other threads write meanwhile lands in the log too, not lost.
_REDIRECTING = threading.RLock()


@contextmanager
def captured_stderr() -> Iterator[list[str]]:
    """Redirects file descriptor 2 into a temporary file for the block. The yielded list holds, once
    the block has ended, the non-empty lines written meanwhile; they are also logged at INFO level
    (what `twin --verbose` shows), so nothing said is lost when the caller does not report it."""
    said: list[str] = []
    with _REDIRECTING, tempfile.TemporaryFile() as sink:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(sink.fileno(), 2)
        try:
            yield said
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            said.extend(line.strip() for line in sink.read().decode("utf-8", "replace").splitlines() if line.strip())
            for line in said:
                log.info("%s", line)
