// The marker detector and pose on photos of the sample workshop rendered by twin.synth (its printed
// DICT_4X4_50 markers on the walls, between machines and shelves), against the renderer's truth
// and OpenCV's detector on the same photos.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectMarkers } from '../src/ar/markers/detect.js';
import { cameraPoseFromMarkers } from '../src/ar/markers/pose.js';
import { makeMarkerImages, poseError } from './fixtures/marker-images.js';

const photos = makeMarkerImages({ scenes: 'workshop' });
const detections = new Map(photos.map((entry) => [entry.name, detectMarkers(entry.image)]));

test('every marker in view of a workshop photo is found, as OpenCV finds it, and nothing else', () => {
  const seen = photos.flatMap((entry) => entry.markers);
  assert.ok(seen.length >= 4, `only ${seen.length} markers in view`);
  for (const entry of photos) {
    const keys = detections.get(entry.name).map((d) => d.key).sort();
    assert.deepEqual(keys, entry.markers.map((m) => m.key).sort(), entry.name);
    for (const theirs of entry.opencv) assert.ok(keys.includes(theirs.key), `${entry.name}: OpenCV finds ${theirs.key}`);
  }
  assert.deepEqual(detections.get('workshop_floor'), [], 'the view of floor and machines holds no marker');
});

test('workshop photo corners are within 0.2 px of the rendered truth', () => {
  for (const entry of photos) {
    for (const truth of entry.markers) {
      const found = detections.get(entry.name).find((d) => d.key === truth.key);
      const worst = Math.max(...found.corners.map(([x, y], i) => Math.hypot(x - truth.corners[i][0], y - truth.corners[i][1])));
      assert.ok(worst < 0.2, `${entry.name} ${truth.key}: worst corner ${worst.toFixed(3)} px`);
    }
  }
});

test('one 16 cm wall marker at 1.6-2.4 m gives the camera within 1 cm and 0.5 deg', () => {
  for (const entry of photos.filter((e) => e.markers.length > 0)) {
    const markers = new Map(entry.markers.map((m) => [m.key, { T_world_marker: m.T_world_marker, size_m: m.size_m }]));
    const result = cameraPoseFromMarkers(detections.get(entry.name), markers, entry.K);
    const { angleDeg, distanceM } = poseError(result.T_world_camera, entry.T_world_camera);
    assert.ok(distanceM < 0.01, `${entry.name}: camera position off by ${(distanceM * 100).toFixed(2)} cm`);
    assert.ok(angleDeg < 0.5, `${entry.name}: camera rotation off by ${angleDeg.toFixed(3)} deg`);
  }
});
