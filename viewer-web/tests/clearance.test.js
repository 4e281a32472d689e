import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clearance, footprint, polygonDistance, wallPoints, DEFAULT_CLEARANCE_M } from '../src/scene/clearance.js';

const unitBox = { min: [-0.5, -0.5, 0], max: [0.5, 0.5, 1] };
const identity = [0, 0, 0, 1];
const yaw = (deg) => [0, 0, Math.sin((deg * Math.PI) / 360), Math.cos((deg * Math.PI) / 360)];

test('a footprint follows the pose, rotation included', () => {
  const f = footprint(unitBox, { translation: [2, 3, 0], rotation: yaw(45) });
  assert.equal(f.length, 4);
  const xs = f.map((p) => p[0]);
  assert.ok(Math.abs(Math.max(...xs) - (2 + Math.SQRT1_2)) < 1e-9);
});

test('distances between machines are exact on the floor plane', () => {
  const a = footprint(unitBox, { translation: [0, 0, 0], rotation: identity });
  const b = footprint(unitBox, { translation: [1.5, 0, 0], rotation: identity });
  assert.ok(Math.abs(polygonDistance(a, b) - 0.5) < 1e-9);
  const overlapping = footprint(unitBox, { translation: [0.5, 0.2, 0], rotation: yaw(30) });
  assert.equal(polygonDistance(a, overlapping), 0);
});

test('a machine closer than 60 cm to a wall or a machine is a violation, and says to what', () => {
  const footprints = new Map([
    ['cnc-1', footprint(unitBox, { translation: [0, 0, 0], rotation: identity })],
    ['lathe-1', footprint(unitBox, { translation: [1.4, 0, 0], rotation: identity })],
    ['laser-1', footprint(unitBox, { translation: [0, 5, 0], rotation: identity })],
  ]);
  const walls = [[0, 6.0], [1, 6.0], [-3, -3]];
  const result = clearance(footprints, walls);
  assert.equal(DEFAULT_CLEARANCE_M, 0.6);
  assert.deepEqual(result.get('cnc-1'), { distance: result.get('cnc-1').distance, against: 'lathe-1', violates: true });
  assert.ok(Math.abs(result.get('cnc-1').distance - 0.4) < 1e-9);
  assert.equal(result.get('laser-1').against, 'wall');
  assert.ok(Math.abs(result.get('laser-1').distance - 0.5) < 1e-9);
  assert.equal(result.get('laser-1').violates, true);
  assert.equal(clearance(footprints, walls, 0.3).get('laser-1').violates, false);
});

test('wall samples are what rises above head height, under the ceiling, away from the scanned machines, one per cell', () => {
  const tall = { min: [-0.5, -0.5, 0], max: [0.5, 0.5, 2.5] };
  const scanned = [footprint(tall, { translation: [0, 0, 0], rotation: identity })];
  const positions = [
    0, 0, 2.3, // the top of a tall scanned machine
    3, 0, 1.0, // furniture
    3, 0, 3.0, // ceiling
    3, 0, 2.2, 3.01, 0.01, 2.4, // the same wall cell twice
    -3, 1, 2.5,
  ];
  const walls = wallPoints(positions, scanned);
  assert.deepEqual(walls, [[3, 0], [-3, 1]]);
});
