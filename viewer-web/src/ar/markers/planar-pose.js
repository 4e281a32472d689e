// The two poses of a plane seen through a calibrated camera, by IPPE (Collins & Bartoli, "Infinitesimal
// Plane-based Pose Estimation", IJCV 2014): from the homography's Jacobian at the plane's origin,
// a rotation has two exact completions, the true pose and its mirror (the planar ambiguity).

import { homographyFromPoints } from './homography.js';
import { cross, mul3, solve } from './linalg.js';

/**
 * Both candidate poses { R (9, row-major), t } of the camera relative to the plane (T_camera_plane)
 * from plane points [x, y] (z = 0, origin at their centre) and their normalised image points
 * [(u - cx) / fx, (v - cy) / fy]; [] when the points are degenerate.
 */
export function planarPoses(planePoints, normalisedPoints) {
  const H = homographyFromPoints(planePoints, normalisedPoints);
  if (!H) return [];
  // Jacobian of the plane-to-image map at the origin, and the origin's image (p, q).
  const p = H[2], q = H[5];
  const J = [H[0] - H[6] * p, H[1] - H[7] * p, H[3] - H[6] * q, H[4] - H[7] * q];
  return ippeRotations(J, p, q)
    .map((R) => ({ R, t: translationFor(R, planePoints, normalisedPoints) }))
    .filter(({ t }) => t && t[2] > 0);
}

function ippeRotations([j00, j01, j10, j11], p, q) {
  // Rv turns the optical axis onto the ray through the origin's image, where the projection is
  // locally a scaled orthographic one.
  const s = Math.hypot(p, q, 1), t = Math.hypot(p, q);
  let Rv = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  if (t > 1e-12) {
    const cos = 1 / s, sin = Math.sqrt(1 - 1 / (s * s));
    const [kx, ky] = [-q / t, p / t];
    const Kx = [0, 0, ky, 0, 0, -kx, -ky, kx, 0];
    const K2 = mul3(Kx, Kx);
    Rv = Rv.map((v, i) => v + sin * Kx[i] + (1 - cos) * K2[i]);
  }
  const b00 = Rv[0] - p * Rv[6], b01 = Rv[1] - p * Rv[7], b10 = Rv[3] - q * Rv[6], b11 = Rv[4] - q * Rv[7];
  const det = b00 * b11 - b01 * b10;
  if (Math.abs(det) < 1e-15) return [];
  const a00 = (b11 * j00 - b01 * j10) / det, a01 = (b11 * j01 - b01 * j11) / det;
  const a10 = (-b10 * j00 + b00 * j10) / det, a11 = (-b10 * j01 + b00 * j11) / det;
  // Largest singular value of A, which scales it to the top-left block of a rotation.
  const ata00 = a00 * a00 + a10 * a10, ata01 = a00 * a01 + a10 * a11, ata11 = a01 * a01 + a11 * a11;
  const gamma = Math.sqrt(0.5 * (ata00 + ata11 + Math.sqrt((ata00 - ata11) ** 2 + 4 * ata01 * ata01)));
  if (!(gamma > 0)) return [];
  const r00 = a00 / gamma, r01 = a01 / gamma, r10 = a10 / gamma, r11 = a11 / gamma;
  const b0 = Math.sqrt(Math.max(0, 1 - r00 * r00 - r10 * r10));
  let b1 = Math.sqrt(Math.max(0, 1 - r01 * r01 - r11 * r11));
  if (-r00 * r01 - r10 * r11 < 0) b1 = -b1;
  return [1, -1].map((sign) => {
    const c0 = [r00, r10, sign * b0], c1 = [r01, r11, sign * b1], c2 = cross(c0, c1);
    return mul3(Rv, [c0[0], c1[0], c2[0], c0[1], c1[1], c2[1], c0[2], c1[2], c2[2]]);
  });
}

/** Least-squares translation putting R * plane points on their image rays. */
function translationFor(R, planePoints, normalisedPoints) {
  const AtA = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  const Atb = [0, 0, 0];
  planePoints.forEach(([x, y], i) => {
    const [u, v] = normalisedPoints[i];
    const Y = [R[0] * x + R[1] * y, R[3] * x + R[4] * y, R[6] * x + R[7] * y];
    for (const [row, rhs] of [[[1, 0, -u], u * Y[2] - Y[0]], [[0, 1, -v], v * Y[2] - Y[1]]]) {
      for (let a = 0; a < 3; a++) {
        Atb[a] += row[a] * rhs;
        for (let b = 0; b < 3; b++) AtA[a][b] += row[a] * row[b];
      }
    }
  });
  return solve(AtA, Atb);
}
