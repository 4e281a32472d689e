import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planCorners, moveCornerPatch } from '../src/document/floor-plan.js';
import { applyPatch, clone } from '../src/net/json-patch.js';

// A 4 x 3 m room as `twin plan` writes it: each wall ends where the next begins; a door on the south wall.
const room = {
  version: 1,
  name: 'lab',
  floor_plan: {
    walls: [
      { id: 'wall-1', points: [[0, 0], [4, 0]], confidence: 1 },
      { id: 'wall-2', points: [[4, 0], [4, 3]], confidence: 1 },
      { id: 'wall-3', points: [[4, 3], [0, 3]], confidence: 0.4 },
      { id: 'wall-4', points: [[0, 3], [0, 0]], confidence: 1 },
    ],
    openings: [{ id: 'door', kind: 'door', wall: 'wall-1', points: [[1, 0], [2, 0]], confidence: 1 }],
  },
};

test('the walls meet at four corners, each holding two wall ends', () => {
  const corners = planCorners(room.floor_plan);
  assert.deepEqual(corners.map((c) => c.point), [[0, 0], [4, 0], [4, 3], [0, 3]]);
  assert.deepEqual(corners[1].ends, [{ wall: 0, index: 1 }, { wall: 1, index: 0 }]);
  assert.deepEqual(planCorners(undefined), []);
});

test('a dragged corner moves both walls that meet there; the outline stays closed and the door keeps its place', () => {
  const corner = planCorners(room.floor_plan)[0]; // (0, 0): wall-1's start and wall-4's end
  const moved = applyPatch(clone(room), moveCornerPatch(room, corner, [0.2, -0.1]));
  const walls = moved.floor_plan.walls;
  assert.deepEqual(walls[0].points, [[0.2, -0.1], [4, 0]]);
  assert.deepEqual(walls[3].points, [[0, 3], [0.2, -0.1]]);
  assert.deepEqual(walls[1], room.floor_plan.walls[1]);
  // The door is still 2 and 3 m from the corner that stayed (4, 0), on the moved wall's line.
  const [a, b] = moved.floor_plan.openings[0].points;
  for (const [p, metres] of [[a, 3], [b, 2]]) {
    assert.ok(Math.abs(Math.hypot(p[0] - 4, p[1]) - metres) < 1e-3, `${p}`);
    const cross = (p[0] - 4) * (-0.1) - p[1] * (0.2 - 4);
    assert.ok(Math.abs(cross) < 1e-3, `${p} on the wall`);
  }
});

test('a document without a floor plan has nothing to correct', () => {
  assert.throws(() => moveCornerPatch({ version: 1, name: 'x' }, { ends: [] }, [0, 0]), /no floor plan/);
});
