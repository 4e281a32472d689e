"""twin: an augmented-reality and digital-twin toolkit for workshops."""
import os

# Idle OpenMP threads sleep instead of spinning: the core's parallel loops share the machine
# with the server's event loop and other work (spinning cost 5x on a busy 2-core machine).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

__version__ = "0.1.0"
