"""twin: an augmented-reality and digital-twin toolkit for workshops."""

__version__ = "0.1.0"
