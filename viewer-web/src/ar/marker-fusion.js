// Several camera frames' marker sightings fused into one room-to-twin transform T_xr_world.
// Each frame knows its camera pose in the XR space (the device tracks it) and the marker corners
// it saw; the twin document knows where the markers are in the twin's world. One T_xr_world
// must explain every frame. A first guess comes from where the frames put each marker (the
// median, fitted to the markers' document positions) or, with one marker, from the frame most
// others agree with; the frames that agree with it are kept (a blurred or misread frame is left
// out), then T_xr_world is refined on all their corners at once (Levenberg-Marquardt on the
// reprojection error), so frames of different markers, far apart, pin the turn down better
// than any one of them.
// Both frames are level: WebXR's y is up (gravity, as the device measures it) and the twin's
// world is levelled with z up, so T_xr_world is a turn about up and a shift (4 degrees of
// freedom). A single small marker is least sure of its tilt, and markers on one wall cannot fix
// the turn about the line through them: gravity does, better than they could.

import * as THREE from 'three';
import { solve } from './markers/linalg.js';
import { markerCorners as cornersInMarker } from './markers/pose.js';
import { Z_UP_TO_Y_UP } from '../scene/axes.js';

// A frame agrees with a guess when its corners reproject this close (RMS): loosely for a
// single frame's guess (a one-marker pose is least sure of its tilt), tightly after refining.
const LOOSE_AGREEMENT_PX = 8;
const TIGHT_AGREEMENT_PX = 3;
// A phone camera's detected corners are off by about this much (per axis); the emulator's
// rendered images do better, but the turn's uncertainty is judged as on a phone.
const CORNER_NOISE_PX = 0.3;
// Frames taken closer together than this count as one view of the markers.
const SAME_VIEW_M = 0.1;
const ITERATIONS = 15;
const STEP = 1e-6;
const PARAMETERS = 4; // turn about the world's up, shift along x, y, z

/** A THREE.Matrix4 from 16 numbers in row-major order (how the pose solver writes them). */
export const fromRowMajor = (a) => new THREE.Matrix4().set(...a);

/** World positions of the four corners of each target marker (OpenCV's order), by key. */
export function markerCorners(targets) {
  const corners = new Map();
  for (const [key, { T_world_marker, size_m }] of targets) {
    const T = fromRowMajor(T_world_marker);
    corners.set(key, cornersInMarker(size_m).map((c) => new THREE.Vector3(...c).applyMatrix4(T)));
  }
  return corners;
}

/**
 * Reprojection residuals (pixels, [du, dv] per corner) of a frame's known markers if the twin
 * were at T_xr_world, with each corner's depth (metres) for converting pixels into metres.
 */
function residuals(T_xr_world, sighting, corners) {
  const T_camera_world = sighting.T_xr_camera.clone().invert().multiply(T_xr_world);
  const { fx, fy, cx, cy } = sighting.K;
  const out = [], depths = [];
  const p = new THREE.Vector3();
  for (const detection of sighting.detections) {
    const world = corners.get(detection.key);
    if (!world) continue;
    world.forEach((corner, i) => {
      p.copy(corner).applyMatrix4(T_camera_world);
      const z = Math.max(p.z, 1e-3); // behind the camera: far off, not a division by zero
      out.push(fx * (p.x / z) + cx - detection.corners[i][0], fy * (p.y / z) + cy - detection.corners[i][1]);
      depths.push(z);
    });
  }
  return { values: out, depths };
}

function rmsPx(values) {
  let s = 0;
  for (const v of values) s += v * v;
  return values.length ? Math.sqrt((2 * s) / values.length) : Infinity;
}

function frameRms(T_xr_world, sighting, corners) {
  return rmsPx(residuals(T_xr_world, sighting, corners).values);
}

// T * [turn by d[0] about z | shift d[1..3]]: a small move of the twin in its own (z-up) frame.
function perturbed(T, d) {
  return T.clone().multiply(new THREE.Matrix4().makeRotationZ(d[0]).setPosition(d[1], d[2], d[3]));
}

/**
 * The level transform nearest `T_xr_world` around `centre` (a world point): the same heading
 * of the world's x axis, no tilt, and `centre` where T puts it.
 */
export function levelled(T_xr_world, centre) {
  const x = new THREE.Vector3(1, 0, 0).transformDirection(T_xr_world);
  const yaw = Math.atan2(-x.z, x.x);
  const level = new THREE.Matrix4().makeRotationY(yaw).multiply(Z_UP_TO_Y_UP);
  const shift = centre.clone().applyMatrix4(T_xr_world).sub(centre.clone().applyMatrix4(level));
  return level.premultiply(new THREE.Matrix4().makeTranslation(shift.x, shift.y, shift.z));
}

function allResiduals(T, sightings, corners) {
  return sightings.flatMap((s) => residuals(T, s, corners).values);
}

const mean = (points) => points.reduce((c, p) => c.addScaledVector(p, 1 / points.length), new THREE.Vector3());

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The level T_xr_world (a turn about up, a shift) that best maps world points onto XR points. */
export function levelFit(worldPoints, xrPoints) {
  const a = worldPoints.map((p) => p.clone().applyMatrix4(Z_UP_TO_Y_UP));
  const ca = mean(a), cb = mean(xrPoints);
  let sin = 0, cos = 0;
  a.forEach((p, i) => {
    const u = p.clone().sub(ca), v = xrPoints[i].clone().sub(cb);
    sin += v.x * u.z - v.z * u.x;
    cos += v.x * u.x + v.z * u.z;
  });
  const turn = new THREE.Matrix4().makeRotationY(Math.atan2(sin, cos));
  const shift = cb.clone().sub(ca.applyMatrix4(turn));
  return turn.setPosition(shift).multiply(Z_UP_TO_Y_UP);
}

/**
 * First guesses of a level T_xr_world: each frame's own pose, levelled about its markers, and,
 * when the frames saw two markers or more, the fit of where they put each marker (median).
 */
function guesses(sightings, corners) {
  const centres = new Map([...corners].map(([key, c]) => [key, mean(c)]));
  const seenAt = new Map(); // key -> XR positions of the marker's centre, one per frame
  const own = sightings.map((s) => {
    const keys = s.detections.map((d) => d.key).filter((key) => corners.has(key));
    const T = levelled(s.T_xr_world, mean(keys.map((key) => centres.get(key))));
    for (const key of keys) seenAt.set(key, [...(seenAt.get(key) || []), centres.get(key).clone().applyMatrix4(T)]);
    return T;
  });
  if (seenAt.size < 2) return own;
  const keys = [...seenAt.keys()];
  const medians = keys.map((key) => new THREE.Vector3(...['x', 'y', 'z'].map((axis) => median(seenAt.get(key).map((p) => p[axis])))));
  return [levelFit(keys.map((key) => centres.get(key)), medians), ...own];
}

// The residuals' derivatives by each parameter (central differences), one column per parameter.
function jacobian(T, sightings, corners) {
  return Array.from({ length: PARAMETERS }, (_, k) => {
    const d = new Array(PARAMETERS).fill(0);
    d[k] = STEP;
    const plus = allResiduals(perturbed(T, d), sightings, corners);
    d[k] = -STEP;
    const minus = allResiduals(perturbed(T, d), sightings, corners);
    return plus.map((v, i) => (v - minus[i]) / (2 * STEP));
  });
}

const normalMatrix = (J) => J.map((a) => J.map((b) => a.reduce((s, v, i) => s + v * b[i], 0)));

const placeOf = (sighting) => new THREE.Vector3().setFromMatrixPosition(sighting.T_xr_camera);

/**
 * The frames to keep once `sighting` comes: the newest `perPlace` from each place (a still
 * device would otherwise push the other places' views out), `total` in all.
 */
export function remember(sightings, sighting, { perPlace, total }) {
  const place = placeOf(sighting);
  const samePlace = sightings.filter((s) => placeOf(s).distanceTo(place) < SAME_VIEW_M);
  const dropped = samePlace.length >= perPlace ? samePlace[0] : null;
  return [...sightings.filter((s) => s !== dropped), sighting].slice(-total);
}

/** The frames grouped by the place they were taken from (a still device's frames are one view). */
function views(sightings) {
  const groups = [];
  for (const s of sightings) {
    const p = placeOf(s);
    const group = groups.find((g) => g.place.distanceTo(p) < SAME_VIEW_M);
    if (group) group.sightings.push(s);
    else groups.push({ place: p, sightings: [s] });
  }
  return groups.map((g) => g.sightings);
}

/**
 * How sure the turn about up of T_xr_world is (one standard deviation, degrees) if every corner
 * were off by `cornerNoisePx` (per axis). A small marker seen from afar or square on leaves the
 * turn loose while its corners still fit to a tenth of a pixel: this is what says so. Frames
 * from one place repeat their noise, so each place counts once, however many frames it gave.
 */
export function turnUncertaintyDeg(T_xr_world, sightings, corners, cornerNoisePx) {
  const information = Array.from({ length: PARAMETERS }, () => new Array(PARAMETERS).fill(0));
  for (const view of views(sightings)) {
    for (const s of view) {
      const H = normalMatrix(jacobian(T_xr_world, [s], corners));
      H.forEach((row, i) => row.forEach((v, j) => { information[i][j] += v / view.length; }));
    }
  }
  const inverse = solve(information, [1, 0, 0, 0]);
  if (!inverse || !(inverse[0] > 0)) return Infinity;
  return THREE.MathUtils.radToDeg(cornerNoisePx * Math.sqrt(inverse[0]));
}

/**
 * A level T_xr_world refined on every corner of `sightings` (Levenberg-Marquardt over the turn
 * about up and the shift, numeric Jacobian); T_xr_world must be level already (levelled()).
 */
export function refineTransform(T_xr_world, sightings, corners) {
  let T = T_xr_world.clone();
  let r = allResiduals(T, sightings, corners);
  let cost = r.reduce((s, v) => s + v * v, 0);
  let lambda = 1e-3;
  for (let iteration = 0; iteration < ITERATIONS; iteration++) {
    const J = jacobian(T, sightings, corners);
    const H = normalMatrix(J);
    const g = J.map((a) => a.reduce((s, v, i) => s + v * r[i], 0));
    let improved = false;
    while (lambda < 1e8) {
      const damped = H.map((row, i) => row.map((v, j) => (i === j ? v * (1 + lambda) + 1e-12 : v)));
      const step = solve(damped, g.map((v) => -v));
      if (!step) break;
      const candidate = perturbed(T, step);
      const rc = allResiduals(candidate, sightings, corners);
      const cc = rc.reduce((s, v) => s + v * v, 0);
      if (cc < cost) {
        const converged = cost - cc < 1e-10 * cost;
        [T, r, cost, lambda, improved] = [candidate, rc, cc, Math.max(lambda / 10, 1e-9), !converged];
        break;
      }
      lambda *= 10;
    }
    if (!improved) break;
  }
  return T;
}

/**
 * Fuses frames [{ T_xr_camera (THREE.Matrix4, OpenCV axes), K, detections, T_xr_world (that
 * frame's own estimate) }] against `targets` (key -> { T_world_marker row-major, size_m }).
 * Null until `needed` frames agree; then { T_xr_world, frames, markers, reprojectionErrorPx
 * (RMS over the corners used), residualM (the same, as metres at the markers' distance),
 * turnUncertaintyDeg (turnUncertaintyDeg() for corners off by `cornerNoisePx`) }.
 */
export function fuseSightings(sightings, targets, needed, cornerNoisePx = CORNER_NOISE_PX) {
  if (sightings.length < needed) return null;
  const corners = markerCorners(targets);
  const agreeing = (T, limitPx) => sightings.filter((s) => frameRms(T, s, corners) <= limitPx);
  // The guess most frames agree with (ties: the one they agree with best).
  let best = null;
  for (const T_guess of guesses(sightings, corners)) {
    const inliers = agreeing(T_guess, LOOSE_AGREEMENT_PX);
    const score = inliers.length - 1e-6 * inliers.reduce((s, f) => s + frameRms(T_guess, f, corners), 0);
    if (!best || score > best.score) best = { score, inliers, T: T_guess };
  }
  if (best.inliers.length < needed) return null;
  let T = refineTransform(best.T, best.inliers, corners);
  const kept = agreeing(T, TIGHT_AGREEMENT_PX);
  if (kept.length < needed) return null;
  T = refineTransform(T, kept, corners);
  let squaresPx = 0, squaresM = 0, count = 0;
  for (const s of kept) {
    const { values, depths } = residuals(T, s, corners);
    for (let i = 0; i < depths.length; i++) {
      const px2 = values[2 * i] ** 2 + values[2 * i + 1] ** 2;
      squaresPx += px2;
      squaresM += px2 * (depths[i] / s.K.fx) ** 2;
      count++;
    }
  }
  return {
    T_xr_world: T,
    frames: kept.length,
    markers: [...new Set(kept.flatMap((s) => s.detections.map((d) => d.key).filter((key) => corners.has(key))))].sort(),
    reprojectionErrorPx: Math.sqrt(squaresPx / count),
    residualM: Math.sqrt(squaresM / count),
    turnUncertaintyDeg: turnUncertaintyDeg(T, kept, corners, cornerNoisePx),
  };
}
