import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fitRigid, rotate } from '../src/ar/align.js';

function randomUnitQuaternion(seed) {
  const r = mulberry(seed);
  const q = [r() - 0.5, r() - 0.5, r() - 0.5, r() - 0.5];
  const n = Math.hypot(...q);
  return q.map((v) => v / n);
}

function mulberry(seed) {
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('three exact pairs give back the transform and a zero residual', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const q = randomUnitQuaternion(seed); // [w, x, y, z]
    const t = [seed * 0.3, -1.2, 0.7];
    const source = [[0, 0, 0], [2.5, 0.1, 0.2], [0.4, 1.8, 1.1]];
    const target = source.map((p) => rotate(q, p).map((v, i) => v + t[i]));
    const fit = fitRigid(source, target);
    assert.ok(fit.rmsResidual < 1e-6, `residual ${fit.rmsResidual}`);
    fit.translation.forEach((v, i) => assert.ok(Math.abs(v - t[i]) < 1e-6));
    // Same rotation up to the sign of the quaternion.
    const dot = Math.abs(fit.quaternion[3] * q[0] + fit.quaternion[0] * q[1] + fit.quaternion[1] * q[2] + fit.quaternion[2] * q[3]);
    assert.ok(dot > 1 - 1e-9, `quaternion dot ${dot}`);
  }
});

test('noisy taps give the residual of the best fit, not of the truth', () => {
  const source = [[0, 0, 0], [3, 0, 0], [0, 2, 0], [1, 1, 1.5]];
  const target = source.map((p) => [p[0] + 1, p[1], p[2]]);
  target[1][1] += 0.05; // one tap 5 cm off
  const fit = fitRigid(source, target);
  assert.ok(fit.rmsResidual > 0.005 && fit.rmsResidual < 0.05, `residual ${fit.rmsResidual}`);
  assert.equal(fit.residuals.length, 4);
});

test('bad input is refused with a sentence', () => {
  assert.throws(() => fitRigid([[0, 0, 0]], [[0, 0, 0]]), /three point pairs/);
  assert.throws(() => fitRigid([[0, 0, 0], [0, 0, 0], [0, 0, 0]], [[0, 0, 0], [1, 0, 0], [0, 1, 0]]), /coincide/);
  assert.throws(() => fitRigid([[0, 0, 0]], []), /same number/);
});
