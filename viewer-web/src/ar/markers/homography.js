// Plane-to-image homographies: the direct linear transform on normalised points, and its use.

import { mul3, solve } from './linalg.js';

/**
 * The homography H (9, row-major, H[8] = 1) with H * [x, y, 1] ~ [u, v, 1] for every pair of
 * `from` [x, y] and `to` [u, v] (4 or more pairs), by least squares; null when degenerate.
 */
export function homographyFromPoints(from, to) {
  const [nFrom, sFrom] = normaliser(from);
  const [nTo, sTo] = normaliser(to);
  // Least squares with h8 = 1: two equations per pair, solved through the 8x8 normal equations.
  const AtA = Array.from({ length: 8 }, () => new Array(8).fill(0));
  const Atb = new Array(8).fill(0);
  for (let k = 0; k < from.length; k++) {
    const x = (from[k][0] - nFrom[0]) * sFrom, y = (from[k][1] - nFrom[1]) * sFrom;
    const u = (to[k][0] - nTo[0]) * sTo, v = (to[k][1] - nTo[1]) * sTo;
    for (const [row, rhs] of [[[x, y, 1, 0, 0, 0, -u * x, -u * y], u], [[0, 0, 0, x, y, 1, -v * x, -v * y], v]]) {
      for (let i = 0; i < 8; i++) {
        Atb[i] += row[i] * rhs;
        for (let j = 0; j < 8; j++) AtA[i][j] += row[i] * row[j];
      }
    }
  }
  const h = solve(AtA, Atb);
  if (!h || h.some((v) => !Number.isFinite(v))) return null;
  // Undo the normalisations: H = Tto^-1 * Hn * Tfrom.
  const Hn = [...h, 1];
  const Tfrom = [sFrom, 0, -sFrom * nFrom[0], 0, sFrom, -sFrom * nFrom[1], 0, 0, 1];
  const TtoInv = [1 / sTo, 0, nTo[0], 0, 1 / sTo, nTo[1], 0, 0, 1];
  const H = mul3(TtoInv, mul3(Hn, Tfrom));
  return H.map((v) => v / H[8]);
}

function normaliser(points) {
  const cx = points.reduce((s, p) => s + p[0], 0) / points.length;
  const cy = points.reduce((s, p) => s + p[1], 0) / points.length;
  const spread = points.reduce((s, p) => s + Math.hypot(p[0] - cx, p[1] - cy), 0) / points.length;
  return [[cx, cy], spread > 0 ? Math.SQRT2 / spread : 1];
}

/** H applied to [x, y]. */
export function applyHomography(H, x, y) {
  const w = H[6] * x + H[7] * y + H[8];
  return [(H[0] * x + H[1] * y + H[2]) / w, (H[3] * x + H[4] * y + H[5]) / w];
}
