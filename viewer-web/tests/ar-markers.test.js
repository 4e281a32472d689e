// The pure parts of marker alignment in AR: which path a session takes, which row order the
// camera texture has, the document's marker
// anchors as targets, camera intrinsics from a WebXR projection, and the fusion of several
// frames (with a misread one among them) into the room-to-twin transform.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as THREE from 'three';
import { chooseAlignment, markerTargets, xrFromWorld, RowOrderSearch } from '../src/ar/ar-markers.js';
import { intrinsicsFromProjection, shrunkSize } from '../src/ar/xr-camera.js';
import { fuseSightings, markerCorners, levelled, turnUncertaintyDeg, remember } from '../src/ar/marker-fusion.js';

// The sample workshop's markers 0 and 1: on the wall at y = 6, facing into the room (-y), as the
// document carries them (OpenCV marker axes: x right, y up, z out of the marker).
const FACING_MINUS_Y = new THREE.Quaternion().setFromRotationMatrix(new THREE.Matrix4().makeBasis(
  new THREE.Vector3(1, 0, 0), new THREE.Vector3(0, 0, 1), new THREE.Vector3(0, -1, 0)));
const FACING_MINUS_X = new THREE.Quaternion().setFromRotationMatrix(new THREE.Matrix4().makeBasis(
  new THREE.Vector3(0, -1, 0), new THREE.Vector3(0, 0, 1), new THREE.Vector3(-1, 0, 0)));
const ANCHORS = [
  { id: 'marker-0', position: [3.3, 6, 1.6], rotation: FACING_MINUS_Y.toArray(), marker: { dictionary: 'DICT_4X4_50', id: 0, size_m: 0.16 } },
  { id: 'marker-1', position: [7.6, 6, 1.5], rotation: FACING_MINUS_Y.toArray(), marker: { dictionary: 'DICT_4X4_50', id: 1, size_m: 0.16 } },
  { id: 'marker-2', position: [8, 2.4, 1.6], rotation: FACING_MINUS_X.toArray(), marker: { dictionary: 'DICT_4X4_50', id: 2, size_m: 0.16 } },
  { id: 'tool-wall', position: [0.02, 2.8, 1.55], normal: [1, 0, 0] },
];

// A rigid transform that turns `deg` degrees about `axis` and moves by `t`.
function rigid(axis, deg, t) {
  const q = new THREE.Quaternion().setFromAxisAngle(new THREE.Vector3(...axis).normalize(), THREE.MathUtils.degToRad(deg));
  return new THREE.Matrix4().compose(new THREE.Vector3(...t), q, new THREE.Vector3(1, 1, 1));
}

// The XR space is y-up; the twin's world z-up: the test's T_xr_world turns 35 degrees about up and moves.
const Z_UP_TO_Y_UP = new THREE.Matrix4().makeRotationX(-Math.PI / 2);
const TRUE_T_XR_WORLD = rigid([0, 1, 0], 35, [0.8, 0, -1.3]).multiply(Z_UP_TO_Y_UP);

function angleDeg(A, B) {
  const qa = new THREE.Quaternion().setFromRotationMatrix(A), qb = new THREE.Quaternion().setFromRotationMatrix(B);
  return THREE.MathUtils.radToDeg(qa.angleTo(qb));
}

// A turn by `deg` about an axis through the marker's centre, and a shift.
function turnedAbout(T_world_marker, axis, deg, shiftM) {
  const centre = new THREE.Vector3().setFromMatrixPosition(T_world_marker);
  return new THREE.Matrix4().makeTranslation(centre.x + shiftM, centre.y - shiftM, centre.z + shiftM)
    .multiply(rigid(axis, deg, [0, 0, 0]))
    .multiply(new THREE.Matrix4().makeTranslation(-centre.x, -centre.y, -centre.z));
}

// Seeded noise, so a failure repeats.
function gaussian(seed) {
  let s = seed;
  const uniform = () => ((s = (s * 1664525 + 1013904223) % 4294967296) + 0.5) / 4294967296;
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

const K = { fx: 470, fy: 470, cx: 319.5, cy: 220.5 };

// A camera (OpenCV axes) `distance` metres in front of a marker, `sideDeg` to its side, looking at it.
function cameraFacing(T_world_marker, distance, sideDeg) {
  const side = THREE.MathUtils.degToRad(sideDeg);
  const eye = new THREE.Vector3(Math.sin(side) * distance, 0.05, Math.cos(side) * distance).applyMatrix4(T_world_marker);
  const centre = new THREE.Vector3().setFromMatrixPosition(T_world_marker);
  const z = centre.clone().sub(eye).normalize();
  const x = new THREE.Vector3().crossVectors(z, new THREE.Vector3(0, 0, -1)).normalize(); // world down is the image's y
  const y = new THREE.Vector3().crossVectors(z, x);
  return new THREE.Matrix4().makeBasis(x, y, z).setPosition(eye);
}

// What a camera at T_world_camera sees of the markers (of `only` those, if given): their corners
// in pixels, with noise.
function sighting(targets, T_world_camera, noise, noisePx, only = null) {
  const T_xr_camera = TRUE_T_XR_WORLD.clone().multiply(T_world_camera);
  const T_camera_world = T_world_camera.clone().invert();
  const detections = [];
  for (const [key, corners] of markerCorners(targets)) {
    const pixels = corners.map((c) => {
      const p = c.clone().applyMatrix4(T_camera_world);
      return [K.fx * (p.x / p.z) + K.cx + noisePx * noise(), K.fy * (p.y / p.z) + K.cy + noisePx * noise()];
    });
    if ((!only || key === only) && pixels.every(([u, v]) => u >= 0 && u < 640 && v >= 0 && v < 442)) detections.push({ key, corners: pixels });
  }
  return { T_xr_camera, K, detections };
}

test('markers when the twin has marker anchors and the camera is granted, else taps with the reason', () => {
  assert.deepEqual(chooseAlignment(2, ['hit-test', 'camera-access']), { method: 'markers' });
  assert.deepEqual(chooseAlignment(2, ['hit-test']), { method: 'taps', reason: 'noCameraAccess' });
  assert.deepEqual(chooseAlignment(2, undefined), { method: 'taps', reason: 'noCameraAccess' });
  assert.deepEqual(chooseAlignment(0, ['camera-access']), { method: 'taps', reason: 'noMarkerAnchors' });
});

test('the document\'s marker anchors become targets by dictionary:id; anchors on machines follow the machine', () => {
  const onMachine = { id: 'marker-9', machine: 'lathe-1', position: [0.1, 0, 0.5], rotation: [0, 0, 0, 1], marker: { dictionary: 'DICT_APRILTAG_36h11', id: 9, size_m: 0.1 } };
  const lathe = rigid([0, 0, 1], 90, [2, 4, 0]);
  const targets = markerTargets([...ANCHORS, onMachine], (id) => (id === 'lathe-1' ? lathe : null));
  assert.deepEqual([...targets.keys()], ['DICT_4X4_50:0', 'DICT_4X4_50:1', 'DICT_4X4_50:2', 'DICT_APRILTAG_36h11:9']);
  const first = targets.get('DICT_4X4_50:0');
  assert.equal(first.anchorId, 'marker-0');
  assert.equal(first.size_m, 0.16);
  // Row-major: translation in the last column; the marker's z (out of it) along -y.
  assert.deepEqual([first.T_world_marker[3], first.T_world_marker[7], first.T_world_marker[11]], [3.3, 6, 1.6]);
  assert.ok(Math.abs(first.T_world_marker[6] + 1) < 1e-12, 'z axis points to -y');
  const nine = targets.get('DICT_APRILTAG_36h11:9').T_world_marker;
  [2, 4.1, 0.5].forEach((v, i) => assert.ok(Math.abs(nine[4 * i + 3] - v) < 1e-12, `machine marker at ${nine}`));
  assert.equal(markerTargets(ANCHORS.slice(3)).size, 0, 'no marker anchors, no targets');
});

test('intrinsics from a WebXR projection put a point where the projection does, in OpenCV pixels', () => {
  const P = new THREE.Matrix4().makePerspective(-0.3, 0.5, 0.4, -0.25, 0.1, 100); // off-centre, as camera images can be
  const { width, height } = shrunkSize(1280, 884);
  assert.deepEqual({ width, height }, { width: 640, height: 442 });
  const K = intrinsicsFromProjection(P.elements, width, height);
  const point = new THREE.Vector3(0.3, -0.2, -2); // WebXR camera axes: -z forward
  const ndc = point.clone().applyMatrix4(P);
  // Pixel (0, 0)'s centre is OpenCV's (0, 0): the left edge of the image is at u = -0.5.
  const expected = [((ndc.x + 1) / 2) * width - 0.5, ((1 - ndc.y) / 2) * height - 0.5];
  const cv = [point.x, -point.y, -point.z];
  const projected = [K.fx * (cv[0] / cv[2]) + K.cx, K.fy * (cv[1] / cv[2]) + K.cy];
  projected.forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-9, `${projected} vs ${expected}`));
  assert.throws(() => intrinsicsFromProjection(P.elements, 0, 10), /positive image size/);
});

// Frames of two markers, each frame's own pose right at its marker but its heading off by 1.2
// degrees (what one small marker allows), and a misread frame: fused, they give the truth.
function fuseTwoMarkers(keys) {
  const targets = markerTargets(ANCHORS);
  const noise = gaussian(7);
  const frames = [];
  for (const [key, sides] of [[keys[0], [-20, 0, 15]], [keys[1], [-10, 10, 25]]]) {
    const T_world_marker = new THREE.Matrix4().set(...targets.get(key).T_world_marker);
    for (const side of sides) {
      const seen = sighting(targets, cameraFacing(T_world_marker, 1.3, side), noise, 0.3, key);
      assert.deepEqual(seen.detections.map((d) => d.key), [key], 'each frame sees its marker');
      frames.push({ ...seen, T_xr_world: TRUE_T_XR_WORLD.clone().multiply(turnedAbout(T_world_marker, [0.2 * noise(), 0.2 * noise(), 1], side > 0 ? 1.2 : -1.2, 0.003 * noise())) });
    }
  }
  // A misread frame: its corners are a marker's, but rotated by a quarter turn, and so is its pose
  // (about the marker's normal).
  const T_world_misread = new THREE.Matrix4().set(...targets.get(keys[0]).T_world_marker);
  const misread = sighting(targets, cameraFacing(T_world_misread, 1.1, 5), noise, 0.3);
  misread.detections[0].corners.push(misread.detections[0].corners.shift());
  const normal = new THREE.Vector3(0, 0, 1).transformDirection(T_world_misread).toArray();
  frames.push({ ...misread, T_xr_world: TRUE_T_XR_WORLD.clone().multiply(turnedAbout(T_world_misread, normal, 90, 0)) });

  assert.equal(fuseSightings(frames.slice(0, 4), targets, 5), null, 'four frames are not enough');
  const fused = fuseSightings(frames, targets, 5);
  assert.equal(fused.frames, 6, 'the six good frames are kept, the misread one left out');
  assert.deepEqual(fused.markers, keys);
  assert.ok(angleDeg(fused.T_xr_world, TRUE_T_XR_WORLD) < 0.05, `rotation off by ${angleDeg(fused.T_xr_world, TRUE_T_XR_WORLD)} deg`);
  const origin = new THREE.Vector3();
  const offM = origin.clone().applyMatrix4(fused.T_xr_world).distanceTo(origin.clone().applyMatrix4(TRUE_T_XR_WORLD));
  assert.ok(offM < 0.005, `the twin's origin, metres from the markers, is ${offM} m off`);
  assert.ok(fused.reprojectionErrorPx > 0.2 && fused.reprojectionErrorPx < 0.6, `RMS ${fused.reprojectionErrorPx} px for 0.3 px noise per axis`);
  // 0.4 px at 1.3 m with f = 470 px is about a millimetre.
  assert.ok(fused.residualM > 0.0005 && fused.residualM < 0.002, `residual ${fused.residualM} m`);
}

test('frames of two markers 4.3 m apart on one wall fuse into the true transform; a misread frame is left out', () => {
  fuseTwoMarkers(['DICT_4X4_50:0', 'DICT_4X4_50:1']);
});

test('frames of markers on two walls fuse too, though no single frame\'s pose agrees with the other wall\'s frames', () => {
  fuseTwoMarkers(['DICT_4X4_50:0', 'DICT_4X4_50:2']);
});

test('a tilted guess is levelled: the world\'s up is the XR space\'s up, its heading and the markers\' place kept', () => {
  const centre = new THREE.Vector3(3.3, 6, 1.6);
  const tilted = TRUE_T_XR_WORLD.clone().multiply(rigid([1, 0.3, 0], 2, [0, 0, 0]));
  const level = levelled(tilted, centre);
  const up = new THREE.Vector3(0, 0, 1).transformDirection(level);
  assert.ok(up.distanceTo(new THREE.Vector3(0, 1, 0)) < 1e-12, `world up maps to ${up.toArray()}`);
  assert.ok(centre.clone().applyMatrix4(level).distanceTo(centre.clone().applyMatrix4(tilted)) < 1e-12);
  assert.ok(angleDeg(level, TRUE_T_XR_WORLD) < 0.1, 'the heading is the truth\'s, up to the tilt\'s share of it');
});

// Exact sightings of marker 0 from `distance` m, `sideDeg` to its side.
function exactView(targets, key, distance, sideDeg) {
  const T_world_marker = new THREE.Matrix4().set(...targets.get(key).T_world_marker);
  return { ...sighting(targets, cameraFacing(T_world_marker, distance, sideDeg), () => 0, 0, key), T_xr_world: TRUE_T_XR_WORLD.clone() };
}

test('the turn\'s uncertainty: loose for one marker square on, sure from several places or two markers; a still device counts once', () => {
  const targets = markerTargets(ANCHORS);
  const corners = markerCorners(targets);
  const sigma = (frames) => turnUncertaintyDeg(TRUE_T_XR_WORLD, frames, corners, 0.3);
  const squareOn = sigma([exactView(targets, 'DICT_4X4_50:0', 1.2, 0)]);
  const oblique = sigma([exactView(targets, 'DICT_4X4_50:0', 1.2, 60)]);
  const threePlaces = sigma([-35, 0, 35].map((side) => exactView(targets, 'DICT_4X4_50:0', 1.2, side)));
  const twoMarkers = sigma([exactView(targets, 'DICT_4X4_50:0', 1.3, -20), exactView(targets, 'DICT_4X4_50:1', 1.3, 15)]);
  assert.ok(squareOn > 2, `square on: ${squareOn} deg`);
  assert.ok(oblique < squareOn / 4, `60 degrees aside: ${oblique} deg`);
  assert.ok(threePlaces < 0.6 && threePlaces < sigma([exactView(targets, 'DICT_4X4_50:0', 1.2, 35)]), `three places: ${threePlaces} deg`);
  assert.ok(twoMarkers < 0.1, `two markers 4.3 m apart: ${twoMarkers} deg`);
  const still = exactView(targets, 'DICT_4X4_50:0', 1.2, 60);
  assert.ok(Math.abs(sigma([still, still, still, still, still]) - oblique) < 1e-9, 'five frames from one place are one view');
});

test('frames remembered: the newest few from each place, so a still device does not push the other places out', () => {
  const targets = markerTargets(ANCHORS);
  const kept = { perPlace: 3, total: 8 };
  let memory = [];
  const first = exactView(targets, 'DICT_4X4_50:0', 1.2, -35);
  memory = remember(memory, first, kept);
  memory = remember(memory, exactView(targets, 'DICT_4X4_50:0', 1.2, 35), kept);
  const still = [];
  for (let k = 0; k < 10; k++) {
    still.push(exactView(targets, 'DICT_4X4_50:0', 1.2, 0));
    memory = remember(memory, still.at(-1), kept);
  }
  assert.equal(memory.length, 5, 'one frame from each of two places, three from the still one');
  assert.equal(memory[0], first);
  assert.deepEqual(memory.slice(2), still.slice(-3));
  for (let k = 0; k < 10; k++) memory = remember(memory, exactView(targets, 'DICT_4X4_50:0', 1.2, 4 * k - 20), kept);
  assert.equal(memory.length, 8, 'no more than the total');
});

test('the camera texture\'s row order: alternated every few frames while nothing is seen, kept once a known marker is', () => {
  const search = new RowOrderSearch();
  const assumed = [];
  for (let i = 0; i < 10; i++) {
    assumed.push(search.topRowFirst);
    search.searched(search.topRowFirst, false);
  }
  const n = RowOrderSearch.FRAMES_PER_GUESS;
  assert.equal(n, 4);
  assert.deepEqual(assumed, Array.from({ length: 10 }, (_, i) => Math.floor(i / n) % 2 === 1));
  // A frame grabbed under the old guess, answered after the switch, does not count against the new one.
  const switched = search.topRowFirst;
  search.searched(!switched, false);
  assert.equal(search.framesWithout, 2);
  // Seen in the order it was grabbed in (even an order no longer assumed): kept for good.
  search.searched(!switched, true);
  assert.deepEqual([search.topRowFirst, search.locked], [!switched, true]);
  for (let i = 0; i < 3 * n; i++) search.searched(search.topRowFirst, false);
  search.searched(switched, true);
  assert.equal(search.topRowFirst, !switched, 'locked: neither misses nor the other order move it');
});
