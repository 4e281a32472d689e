// The one z-up <-> y-up turn (src/scene/axes.js), written out here on its own: the twin's up (z)
// is three.js's up (y), the twin's y (north of the floor plan) points to three.js's -z.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as THREE from 'three';
import { Z_UP_TO_Y_UP, Y_UP_TO_Z_UP, makeZUpRoot } from '../src/scene/axes.js';

const close = (a, b) => a.every((v, i) => Math.abs(v - b[i]) < 1e-12);
const turned = (m, v) => new THREE.Vector3(...v).applyMatrix4(m).toArray();

test('z-up to y-up: up stays up, the twin\'s x stays x, its y goes to -z; the way back is the inverse', () => {
  assert.ok(close(turned(Z_UP_TO_Y_UP, [0, 0, 1]), [0, 1, 0]));
  assert.ok(close(turned(Z_UP_TO_Y_UP, [1, 0, 0]), [1, 0, 0]));
  assert.ok(close(turned(Z_UP_TO_Y_UP, [0, 1, 0]), [0, 0, -1]));
  assert.ok(close(turned(Y_UP_TO_Z_UP, [0, 1, 0]), [0, 0, 1]));
  assert.ok(close(Z_UP_TO_Y_UP.clone().multiply(Y_UP_TO_Z_UP).elements, new THREE.Matrix4().elements));
  assert.equal(Z_UP_TO_Y_UP.determinant(), 1);
});

test('a z-up root is turned like the GLB\'s twin node: its matrix is the turn', () => {
  const root = makeZUpRoot();
  root.updateMatrix();
  assert.ok(close(root.matrix.elements, Z_UP_TO_Y_UP.elements));
  assert.notEqual(makeZUpRoot(), root, 'a new group each time');
});

test('the shared turns cannot be changed by mistake', () => {
  assert.throws(() => Z_UP_TO_Y_UP.multiply(new THREE.Matrix4().makeTranslation(1, 0, 0)), TypeError);
  assert.throws(() => { Y_UP_TO_Z_UP.elements[12] = 1; }, TypeError);
  assert.ok(close(turned(Z_UP_TO_Y_UP, [0, 0, 1]), [0, 1, 0]));
});
