"""Rows of numbers in a text file (ASCII PLY and PCD bodies, XYZ and PTS clouds, 4x4 transforms, K.txt),
read fast by numpy and, where a row is wrong, explained by the line that is."""
from __future__ import annotations

import warnings
from itertools import islice
from pathlib import Path

import numpy as np


def read_number_rows(path: Path, what: str, *, columns: int | None = None, skip_lines: int = 0,
                     rows: int | None = None) -> np.ndarray:
    """A (rows, columns) float64 array of the whitespace-separated numbers after `skip_lines` lines
    (blank lines and `#` comments left out), at most `rows` of them. Every row has `columns` numbers
    (or, if None, as many as the first). Fewer rows than asked for is not an error here: the caller
    knows what a short file means. ValueError naming the file and the first bad line otherwise."""
    try:
        with warnings.catch_warnings():
            # numpy's notes on empty input and blank lines: the caller counts the rows itself.
            warnings.simplefilter("ignore")
            table = np.loadtxt(path, dtype=np.float64, ndmin=2, skiprows=skip_lines, max_rows=rows)
    except OSError as error:
        raise ValueError(f"{path}: cannot read the file ({error.strerror or error})") from None
    except ValueError as error:
        raise ValueError(_first_bad_line(path, what, columns, skip_lines, rows) or f"{path}: {error}") from None
    if columns is not None and table.size and table.shape[1] != columns:
        raise ValueError(_first_bad_line(path, what, columns, skip_lines, rows)
                         or f"{path}: expected {columns} numbers in {what}, found {table.shape[1]}")
    return table if table.size else np.zeros((0, columns or 0))


def _first_bad_line(path: Path, what: str, columns: int | None, skip_lines: int, rows: int | None) -> str | None:
    """The sentence for the first line that is not a row of `columns` numbers (slow, but only on failure)."""
    with open(path, encoding="utf-8", errors="replace") as file:
        seen = 0
        for number, line in enumerate(islice(file, skip_lines, None), start=skip_lines + 1):
            words = line.split("#", 1)[0].split()
            if not words:
                continue
            if rows is not None and seen == rows:
                return None
            seen += 1
            columns = len(words) if columns is None else columns
            for word in words:
                try:
                    float(word)
                except ValueError:
                    return f"{path}: line {number}: {word[:40]!r} is not a number, in {what}; the file is damaged"
            if len(words) != columns:
                ending = "the file is cut short" if not line.endswith("\n") else "the file is damaged"
                return f"{path}: line {number} holds {len(words)} numbers where {what} has {columns}; {ending}"
    return None
