// Camera pose from markers (src/markers/pose.js): exact on exact corners, within 1 cm / 0.5 deg
// from the detector's corners on OpenCV-drawn images, and the planar flip rejected.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectMarkers } from '../src/ar/markers/detect.js';
import { cameraPoseFromMarkers, markerCorners } from '../src/ar/markers/pose.js';
import { planarPoses } from '../src/ar/markers/planar-pose.js';
import { invertRigid, mul4, rigid, rodrigues, transformPoint } from '../src/ar/markers/linalg.js';
import { makeMarkerImages, poseError } from './fixtures/marker-images.js';

const K = { fx: 1000, fy: 1000, cx: 639.5, cy: 359.5 };

function random(seed) {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 4294967296;
  };
}

function project(T_camera_world, point, k = K) {
  const [x, y, z] = transformPoint(T_camera_world, point);
  return [k.fx * x / z + k.cx, k.fy * y / z + k.cy];
}

function markerMap(truthMarkers) {
  return new Map(truthMarkers.map((m) => [m.key, { T_world_marker: m.T_world_marker, size_m: m.size_m }]));
}

test('exact corners of one to three markers give the exact camera pose', () => {
  const r = random(3);
  for (let trial = 0; trial < 40; trial++) {
    const T_world_camera = rigid(rodrigues([r() * 4 - 2, r() * 4 - 2, r() * 4 - 2]), [r() * 6, r() * 4, 1 + r()]);
    const T_camera_world = invertRigid(T_world_camera);
    const markers = new Map();
    const detections = [];
    const count = 1 + (trial % 3);
    for (let k = 0; k < count; k++) {
      // In front of the camera at 1-2 m, facing it within 50 degrees.
      const T_camera_marker = rigid(
        rodrigues([Math.PI + (r() - 0.5) * 1.6, (r() - 0.5) * 1.6, r() * 6]),
        [(r() - 0.5) * 1.2, (r() - 0.5) * 0.6, 1 + r()]);
      const T_world_marker = mul4(T_world_camera, T_camera_marker);
      const key = `DICT_4X4_50:${k}`;
      markers.set(key, { T_world_marker, size_m: 0.16 });
      detections.push({ key, corners: markerCorners(0.16).map((p) => project(T_camera_world, transformPoint(T_world_marker, p))) });
    }
    detections.push({ key: 'DICT_4X4_50:49', corners: [[1, 1], [9, 1], [9, 9], [1, 9]] }); // not in the map: ignored
    const result = cameraPoseFromMarkers(detections, markers, K);
    const error = poseError(result.T_world_camera, T_world_camera);
    assert.ok(error.angleDeg < 1e-6 && error.distanceM < 1e-8, `trial ${trial}: ${JSON.stringify(error)}`);
    assert.ok(result.reprojectionErrorPx < 1e-6);
    assert.deepEqual(result.markers, [...markers.keys()]);
  }
});

test('IPPE gives the true pose and its mirror for exact corners', () => {
  const T_camera_marker = rigid(rodrigues([Math.PI + 0.5, 0.3, 0.2]), [0.2, -0.1, 1.5]);
  const pixels = markerCorners(0.16).map((p) => project(T_camera_marker, p));
  const poses = planarPoses(markerCorners(0.16).map(([x, y]) => [x, y]), pixels.map(([u, v]) => [(u - K.cx) / K.fx, (v - K.cy) / K.fy]));
  assert.equal(poses.length, 2);
  const errors = poses.map(({ R, t }) => poseError(rigid(R, t), T_camera_marker));
  assert.ok(errors.some((e) => e.angleDeg < 1e-6 && e.distanceM < 1e-9), JSON.stringify(errors));
  assert.ok(errors.some((e) => e.angleDeg > 10), JSON.stringify(errors));
});

test('no known marker gives null; bad K or marker entries are refused', () => {
  const detections = [{ key: 'DICT_4X4_50:1', dictionary: 'DICT_4X4_50', id: 1, corners: [[0, 0], [10, 0], [10, 10], [0, 10]] }];
  assert.equal(cameraPoseFromMarkers(detections, new Map(), K), null);
  assert.equal(cameraPoseFromMarkers([], new Map(), K), null);
  const known = new Map([['DICT_4X4_50:1', { T_world_marker: rigid([1, 0, 0, 0, 1, 0, 0, 0, 1], [0, 0, 0]), size_m: 0.1 }]]);
  assert.throws(() => cameraPoseFromMarkers(detections, known, { fx: 0, fy: 1, cx: 0, cy: 0 }), /positive focal lengths/);
  assert.throws(() => cameraPoseFromMarkers(detections, { 'DICT_4X4_50:1': {} }, K), /must be a Map/);
  assert.throws(() => cameraPoseFromMarkers(detections, new Map([['DICT_4X4_50:1', { T_world_marker: [1, 2], size_m: 0.1 }]]), K), /16 finite numbers/);
  assert.throws(() => cameraPoseFromMarkers(detections, new Map([['DICT_4X4_50:1', { T_world_marker: known.get('DICT_4X4_50:1').T_world_marker, size_m: -1 }]]), K), /size_m/);
});

const images = makeMarkerImages();

test('from detected corners: one 16 cm marker at 1.5 m gives the camera within 1 cm and 0.5 deg', () => {
  const entry = images.find((e) => e.name === 'pose_1280');
  const detections = detectMarkers(entry.image);
  const result = cameraPoseFromMarkers(detections, markerMap(entry.markers), entry.K);
  assert.ok(result, 'a pose');
  const error = poseError(result.T_world_camera, entry.T_world_camera);
  assert.ok(error.distanceM < 0.01, `camera position off by ${(error.distanceM * 100).toFixed(2)} cm`);
  assert.ok(error.angleDeg < 0.5, `camera rotation off by ${error.angleDeg.toFixed(3)} deg`);
  assert.ok(result.reprojectionErrorPx < 0.5, `reprojection RMS ${result.reprojectionErrorPx} px`);
});

test('from detected corners: three markers at 1-2 m give the camera within 1 cm and 0.5 deg', () => {
  const entry = images.find((e) => e.name === 'pose_multi_1280');
  const detections = detectMarkers(entry.image);
  const result = cameraPoseFromMarkers(detections, markerMap(entry.markers), entry.K);
  assert.deepEqual(result.markers.slice().sort(), entry.markers.map((m) => m.key).sort());
  const error = poseError(result.T_world_camera, entry.T_world_camera);
  assert.ok(error.distanceM < 0.01, `camera position off by ${(error.distanceM * 100).toFixed(2)} cm`);
  assert.ok(error.angleDeg < 0.5, `camera rotation off by ${error.angleDeg.toFixed(3)} deg`);
});

test('one 16 cm marker at 1 to 2 m, in 1280x720 and 640x360 images: camera within 1 cm and 0.5 deg, closer than OpenCV\'s', () => {
  const distances = makeMarkerImages({ scenes: 'distance' }).filter((entry) => !entry.name.startsWith('distance3m'));
  assert.ok(distances.length >= 18);
  const ours = [], theirs = [];
  for (const entry of distances) {
    const result = cameraPoseFromMarkers(detectMarkers(entry.image), markerMap(entry.markers), entry.K);
    const error = poseError(result.T_world_camera, entry.T_world_camera);
    assert.ok(error.distanceM < 0.01, `${entry.name}: camera position off by ${(error.distanceM * 100).toFixed(2)} cm`);
    assert.ok(error.angleDeg < 0.5, `${entry.name}: camera rotation off by ${error.angleDeg.toFixed(3)} deg`);
    ours.push(error.distanceM);
    // OpenCV's pose: cv.solvePnP (IPPE, then Levenberg-Marquardt) on OpenCV's sub-pixel corners.
    theirs.push(poseError(entry.opencv_T_world_camera, entry.T_world_camera).distanceM);
  }
  const median = (values) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)];
  assert.ok(median(ours) < median(theirs), `median position error: ours ${median(ours)} m, OpenCV's ${median(theirs)} m`);
});

test('the planar flip of a detected marker is rejected by its reprojection error', () => {
  const entry = images.find((e) => e.name === 'pose_1280');
  const [detection] = detectMarkers(entry.image);
  const truth = entry.markers[0];
  const T_camera_marker = mul4(invertRigid(entry.T_world_camera), truth.T_world_marker);
  const poses = planarPoses(markerCorners(truth.size_m).map(([x, y]) => [x, y]),
    detection.corners.map(([u, v]) => [(u - entry.K.cx) / entry.K.fx, (v - entry.K.cy) / entry.K.fy]));
  assert.equal(poses.length, 2, 'both planar solutions');
  const errors = poses.map(({ R, t }) => poseError(rigid(R, t), T_camera_marker).angleDeg);
  assert.ok(Math.max(...errors) > 10, `the mirror pose is ${Math.max(...errors).toFixed(1)} deg away: no real ambiguity to test`);
  const result = cameraPoseFromMarkers([detection], markerMap(entry.markers), entry.K);
  assert.ok(poseError(result.T_world_camera, entry.T_world_camera).angleDeg < 0.5, 'the true pose, not its mirror');
});
