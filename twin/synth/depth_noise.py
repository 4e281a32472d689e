"""A depth sensor's errors: what a phone or structured-light camera makes of a perfect depth image.

Modelled after the Kinect measurements of Nguyen, Izadi and Lovell (3DIMPVT 2012) and the
ICL-NUIM simulation: axial noise growing with depth squared, lateral jitter of the image
positions, disparity quantisation, and missing readings where real sensors have none: out of
range, grazing surfaces, depth edges, dark (infrared-absorbing) surfaces, random dropouts and holes.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class DepthSensorModel:
    min_range_m: float = 0.3
    max_range_m: float = 4.5
    sigma_base_m: float = 0.0012
    sigma_quadratic_m: float = 0.0019
    """Axial sigma = base + quadratic * (depth - 0.4 m)^2: 2 mm at 1 m, 6 mm at 2 m, 14 mm at 3 m."""
    lateral_sigma_px: float = 0.5
    disparity_baseline_m: float = 0.075
    disparity_step_px: float = 1 / 16
    grazing_cos_never: float = 0.12
    """Below this cosine of incidence (about 83 deg) no reading at all..."""
    grazing_cos_always: float = 0.35
    """...above it (about 70 deg) always a reading; in between, ever fewer readings."""
    edge_jump_fraction: float = 0.04
    """A neighbour this much nearer or further (fraction of depth) makes a pixel a depth edge."""
    edge_dropout: float = 0.7
    dark_albedo: float = 0.12
    dark_dropout: float = 0.35
    speckle_dropout: float = 0.003
    hole_fraction: float = 0.015
    depth_scale: float = 1000.0
    """Stored units per metre (millimetres)."""

    def sigma_m(self, depth_m: np.ndarray) -> np.ndarray:
        return self.sigma_base_m + self.sigma_quadratic_m * (depth_m - 0.4) ** 2

    def apply(self, depth_m: np.ndarray, cos_incidence: np.ndarray, albedo_luma: np.ndarray,
              focal_px: float, rng: np.random.Generator) -> np.ndarray:
        """Sensor reading (H, W) uint16 in 1/depth_scale metres (0 = no reading) of a perfect depth image."""
        height, width = depth_m.shape
        # Lateral jitter: each pixel reads the surface a fraction of a pixel away (nearest neighbour,
        # so edges stay sharp but ragged, as in real sensors).
        rows = rng.normal(0, self.lateral_sigma_px, (height, width))
        rows += np.arange(height)[:, None]
        cols = rng.normal(0, self.lateral_sigma_px, (height, width))
        cols += np.arange(width)[None, :]
        source = np.clip(np.rint(rows, out=rows), 0, height - 1, out=rows) * width
        source += np.clip(np.rint(cols, out=cols), 0, width - 1, out=cols)
        source = source.astype(np.intp).ravel()  # the flat index of the pixel each one reads
        clean = np.take(depth_m, source).reshape(height, width)
        cos = np.take(cos_incidence, source).reshape(height, width)
        luma = np.take(albedo_luma, source).reshape(height, width)

        valid = (clean >= self.min_range_m) & (clean <= self.max_range_m)
        noisy = clean + rng.normal(0.0, 1.0, clean.shape).astype(np.float32) * self.sigma_m(clean)
        fb = focal_px * self.disparity_baseline_m
        disparity = fb / np.maximum(noisy, 1e-3)
        quantised = fb / np.maximum(np.rint(disparity / self.disparity_step_px) * self.disparity_step_px, 1e-6)

        grazing_span = self.grazing_cos_always - self.grazing_cos_never
        keep_grazing = np.clip((cos - self.grazing_cos_never) / grazing_span, 0, 1)
        valid &= rng.random(clean.shape) < keep_grazing
        edges = np.take(_depth_edges(depth_m, self.edge_jump_fraction), source).reshape(height, width)
        valid &= ~(edges & (rng.random(clean.shape) < self.edge_dropout))
        valid &= ~((luma < self.dark_albedo) & (rng.random(clean.shape) < self.dark_dropout))
        valid &= rng.random(clean.shape) >= self.speckle_dropout
        valid &= ~_holes(rng, (height, width), self.hole_fraction)

        stored = np.rint(quantised * self.depth_scale)
        return np.where(valid & (stored > 0) & (stored < 65535), stored, 0).astype(np.uint16)


def _depth_edges(depth_m: np.ndarray, jump_fraction: float) -> np.ndarray:
    """Pixels next to a depth discontinuity (or to no surface at all), one pixel wide on each side."""
    largest = cv2.dilate(depth_m, np.ones((3, 3), np.uint8))
    smallest = cv2.erode(depth_m, np.ones((3, 3), np.uint8))
    return (largest - smallest) > jump_fraction * np.maximum(depth_m, 1e-3)


def _holes(rng: np.random.Generator, shape: tuple[int, int], fraction: float) -> np.ndarray:
    """Blob-shaped regions without readings (specular spots, sunlight, multipath), `fraction` of the image."""
    if fraction <= 0:
        return np.zeros(shape, bool)
    coarse = rng.random((max(2, shape[0] // 24), max(2, shape[1] // 24)), dtype=np.float32)
    smooth = cv2.resize(coarse, (shape[1], shape[0]), interpolation=cv2.INTER_CUBIC)
    return smooth > np.quantile(smooth, 1 - fraction)
