import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as THREE from 'three';
import { readTileset, selectTiles, screenSpaceErrorPx } from '../src/scene/tiles.js';

// An octree of depth 2 over a 8 m room: root, 2 children, each with 2 children.
function box(cx, size) { const h = size / 2; return { box: [cx, 0, 1, h, 0, 0, 0, h, 0, 0, 0, 1] }; }
const tileset = {
  asset: { version: '1.1' },
  geometricError: 1,
  root: {
    boundingVolume: box(0, 8), geometricError: 0.5, refine: 'ADD', content: { uri: 'r.glb' },
    children: [
      { boundingVolume: box(-2, 4), geometricError: 0.25, content: { uri: 'r0.glb' },
        children: [{ boundingVolume: box(-3, 2), geometricError: 0, content: { uri: 'r00.glb' } }, { boundingVolume: box(-1, 2), geometricError: 0, content: { uri: 'r01.glb' } }] },
      { boundingVolume: box(2, 4), geometricError: 0.25, content: { uri: 'r1.glb' },
        children: [{ boundingVolume: box(1, 2), geometricError: 0, content: { uri: 'r10.glb' } }, { boundingVolume: box(3, 2), geometricError: 0, content: { uri: 'r11.glb' } }] },
    ],
  },
};

function loadedTiles(pointsEach) {
  const tiles = readTileset(tileset, 'tiles/');
  for (const t of tiles) { t.state = 'loaded'; t.points = pointsEach; }
  return tiles;
}

test('the tileset is read with depths, uris and bounds', () => {
  const tiles = readTileset(tileset, 'tiles/');
  assert.equal(tiles.length, 7);
  assert.deepEqual(tiles.map((t) => t.depth), [0, 1, 2, 2, 1, 2, 2]);
  assert.equal(tiles[1].uri, 'tiles/r0.glb');
  assert.ok(Math.abs(tiles[1].sphere.center.x + 2) < 1e-12);
  assert.throws(() => readTileset({}), /no "root" tile/);
  assert.throws(() => readTileset({ root: { boundingVolume: { region: [0, 0, 1, 1, 0, 1] } } }), /region/);
});

test('near a side, its tiles come first and the budget cuts the far side', () => {
  const tiles = loadedTiles(100);
  const near = { cameraPosition: new THREE.Vector3(3, 0, 1.5), frustum: null, pixelsPerRadian: 1000, maxScreenSpaceErrorPx: 16 };
  const all = selectTiles(tiles, { ...near, pointBudget: 1e9 });
  assert.equal(all.length, 7, 'no budget limit: every tile with an error above the limit is refined');
  const some = selectTiles(tiles, { ...near, pointBudget: 450 });
  // Biggest on screen first: the root, the near half, its nearest leaf, then its other leaf.
  assert.deepEqual(some.map((t) => t.uri), ['tiles/r.glb', 'tiles/r1.glb', 'tiles/r11.glb', 'tiles/r10.glb']);
  assert.ok(!some.some((t) => t.uri.startsWith('tiles/r0')), 'the far side waits for budget');
});

test('far away, the coarse tiles are enough', () => {
  const tiles = loadedTiles(100);
  const far = selectTiles(tiles, { cameraPosition: new THREE.Vector3(0, -2000, 1), frustum: null, pixelsPerRadian: 1000, maxScreenSpaceErrorPx: 16, pointBudget: 1e9 });
  assert.deepEqual(far.map((t) => t.uri), ['tiles/r.glb']);
  assert.ok(screenSpaceErrorPx(tiles[0], new THREE.Vector3(0, -2000, 1), 1000) < 16);
});

test('tiles outside the frustum are not loaded', () => {
  const tiles = loadedTiles(100);
  const camera = new THREE.PerspectiveCamera(30, 1, 0.1, 100);
  camera.up.set(0, 0, 1);
  camera.position.set(3, -3, 1);
  camera.lookAt(3, 0, 1); // looking at the +x half only
  camera.updateMatrixWorld();
  const frustum = new THREE.Frustum().setFromProjectionMatrix(new THREE.Matrix4().multiplyMatrices(camera.projectionMatrix, camera.matrixWorldInverse));
  const seen = selectTiles(tiles, { cameraPosition: camera.position, frustum, pixelsPerRadian: 1000, maxScreenSpaceErrorPx: 16, pointBudget: 1e9 });
  assert.ok(seen.some((t) => t.uri === 'tiles/r11.glb'));
  assert.ok(!seen.some((t) => t.uri === 'tiles/r00.glb'));
});
