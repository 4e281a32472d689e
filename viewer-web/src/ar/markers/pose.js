// The camera's pose from markers of known world pose: a planar start from the largest marker
// (both IPPE solutions), then Levenberg-Marquardt on every corner of every known marker; the
// start that ends with the smaller reprojection error wins, which rejects the planar flip.

import { invertRigid, mul4, rigid, rodrigues, mul3, rotationOf, solve, transformPoint, translationOf } from './linalg.js';
import { planarPoses } from './planar-pose.js';

const MAX_ITERATIONS = 50;

/**
 * detections: detectMarkers' output; markers: Map key -> { T_world_marker (16, row-major), size_m };
 * K: { fx, fy, cx, cy } in pixels. Returns null when no detected marker is known, else
 * { T_world_camera (16, row-major, OpenCV camera axes), reprojectionErrorPx (RMS), markers: [keys] }.
 */
export function cameraPoseFromMarkers(detections, markers, K) {
  checkInputs(detections, markers, K);
  const used = detections.filter((d) => markers.has(d.key));
  if (used.length === 0) return null;
  const worldPoints = [], pixels = [];
  for (const d of used) {
    const { T_world_marker, size_m } = markers.get(d.key);
    markerCorners(size_m).forEach((corner, i) => {
      worldPoints.push(transformPoint(T_world_marker, corner));
      pixels.push(d.corners[i]);
    });
  }
  const largest = used.reduce((a, b) => (quadArea(b.corners) > quadArea(a.corners) ? b : a));
  const { T_world_marker, size_m } = markers.get(largest.key);
  const normalised = largest.corners.map(([u, v]) => [(u - K.cx) / K.fx, (v - K.cy) / K.fy]);
  const starts = planarPoses(markerCorners(size_m).map(([x, y]) => [x, y]), normalised)
    .map(({ R, t }) => mul4(rigid(R, t), invertRigid(T_world_marker)));
  let best = null;
  for (const start of starts) {
    const fit = refinePose(start, worldPoints, pixels, K);
    if (fit && (!best || fit.rms < best.rms)) best = fit;
  }
  if (!best) return null;
  return { T_world_camera: invertRigid(best.T_camera_world), reprojectionErrorPx: best.rms, markers: used.map((d) => d.key) };
}

/** Marker-frame corners in OpenCV's order: top-left, top-right, bottom-right, bottom-left. */
export function markerCorners(size_m) {
  const h = size_m / 2;
  return [[-h, h, 0], [h, h, 0], [h, -h, 0], [-h, -h, 0]];
}

/** Levenberg-Marquardt on the reprojection error of T_camera_world (left-multiplied rotation updates). */
function refinePose(T_camera_world, worldPoints, pixels, K) {
  let R = rotationOf(T_camera_world), t = translationOf(T_camera_world);
  let cost = reprojectionCost(R, t, worldPoints, pixels, K);
  if (!Number.isFinite(cost)) return null;
  let lambda = 1e-3;
  for (let iteration = 0; iteration < MAX_ITERATIONS; iteration++) {
    const { JtJ, Jtr } = normalEquations(R, t, worldPoints, pixels, K);
    // Raise the damping until a step lowers the cost; none does at the minimum.
    let step = null, costAfter = cost, Rn = R, tn = t;
    for (; lambda < 1e10; lambda *= 10) {
      const damped = JtJ.map((row, i) => row.map((v, j) => (i === j ? v * (1 + lambda) + 1e-12 : v)));
      step = solve(damped, Jtr.map((v) => -v));
      if (!step) continue;
      Rn = mul3(rodrigues(step.slice(0, 3)), R);
      tn = [t[0] + step[3], t[1] + step[4], t[2] + step[5]];
      costAfter = reprojectionCost(Rn, tn, worldPoints, pixels, K);
      if (costAfter < cost) break;
    }
    if (!(costAfter < cost)) break;
    const converged = cost - costAfter < 1e-12 * (1 + cost) || Math.hypot(...step) < 1e-12;
    R = Rn; t = tn; cost = costAfter; lambda = Math.max(lambda / 10, 1e-9);
    if (converged) break;
  }
  return { T_camera_world: rigid(R, t), rms: Math.sqrt(cost / worldPoints.length) };
}

function reprojectionCost(R, t, worldPoints, pixels, K) {
  let cost = 0;
  for (let i = 0; i < worldPoints.length; i++) {
    const Y = rotateTranslate(R, t, worldPoints[i]);
    if (Y[2] <= 0) return Infinity;
    cost += (K.fx * Y[0] / Y[2] + K.cx - pixels[i][0]) ** 2 + (K.fy * Y[1] / Y[2] + K.cy - pixels[i][1]) ** 2;
  }
  return cost;
}

function normalEquations(R, t, worldPoints, pixels, K) {
  const JtJ = Array.from({ length: 6 }, () => new Array(6).fill(0));
  const Jtr = new Array(6).fill(0);
  for (let i = 0; i < worldPoints.length; i++) {
    const X = worldPoints[i];
    const P = [R[0] * X[0] + R[1] * X[1] + R[2] * X[2], R[3] * X[0] + R[4] * X[1] + R[5] * X[2], R[6] * X[0] + R[7] * X[1] + R[8] * X[2]];
    const Y = [P[0] + t[0], P[1] + t[1], P[2] + t[2]];
    const z = Y[2];
    const residual = [K.fx * Y[0] / z + K.cx - pixels[i][0], K.fy * Y[1] / z + K.cy - pixels[i][1]];
    // d(pixel)/dY, and dY/d(rotation, translation) = [-[P]x | I].
    const dY = [[K.fx / z, 0, -K.fx * Y[0] / (z * z)], [0, K.fy / z, -K.fy * Y[1] / (z * z)]];
    const dYdParams = [[0, P[2], -P[1], 1, 0, 0], [-P[2], 0, P[0], 0, 1, 0], [P[1], -P[0], 0, 0, 0, 1]];
    for (let r = 0; r < 2; r++) {
      const row = new Array(6);
      for (let k = 0; k < 6; k++) row[k] = dY[r][0] * dYdParams[0][k] + dY[r][1] * dYdParams[1][k] + dY[r][2] * dYdParams[2][k];
      for (let a = 0; a < 6; a++) {
        Jtr[a] += row[a] * residual[r];
        for (let b = 0; b < 6; b++) JtJ[a][b] += row[a] * row[b];
      }
    }
  }
  return { JtJ, Jtr };
}

function rotateTranslate(R, t, X) {
  return [0, 1, 2].map((i) => R[3 * i] * X[0] + R[3 * i + 1] * X[1] + R[3 * i + 2] * X[2] + t[i]);
}

function quadArea(corners) {
  let twice = 0;
  for (let i = 0; i < 4; i++) twice += corners[i][0] * corners[(i + 1) % 4][1] - corners[(i + 1) % 4][0] * corners[i][1];
  return Math.abs(twice) / 2;
}

function checkInputs(detections, markers, K) {
  if (!Array.isArray(detections)) throw new TypeError('detections must be the array detectMarkers returns.');
  if (!(markers instanceof Map)) throw new TypeError('markers must be a Map from marker key (e.g. "DICT_4X4_50:7") to { T_world_marker, size_m }.');
  if (!K || !['fx', 'fy', 'cx', 'cy'].every((k) => Number.isFinite(K[k])) || !(K.fx > 0 && K.fy > 0)) {
    throw new RangeError('K must be { fx, fy, cx, cy } in pixels with positive focal lengths.');
  }
  for (const d of detections) {
    if (!markers.has(d.key)) continue;
    const { T_world_marker, size_m } = markers.get(d.key);
    if (!Array.isArray(T_world_marker) || T_world_marker.length !== 16 || !T_world_marker.every(Number.isFinite)) {
      throw new RangeError(`marker ${d.key}: T_world_marker must be 16 finite numbers (a row-major 4x4 transform).`);
    }
    if (!(size_m > 0)) throw new RangeError(`marker ${d.key}: size_m must be the printed marker's side in metres (> 0).`);
    if (!Array.isArray(d.corners) || d.corners.length !== 4) throw new RangeError(`detection ${d.key} must have 4 corners [x, y].`);
  }
}
