// The document's floor plan (`floor_plan`: walls as x-y polylines in metres, openings on them,
// found in the scan by `twin plan`) and the JSON patch of a planner's wall correction: a corner
// dragged moves the ends of every wall that meets there, so the outline stays closed.

import { pointer } from '../net/json-patch.js';

// Wall ends closer than this are one corner (the finder writes shared corners as equal numbers).
const SAME_CORNER_M = 0.001;

/** The corners of the plan's walls: [{ point: [x, y], ends: [{ wall, index }] }] (index into the wall's points). */
export function planCorners(floorPlan) {
  const corners = [];
  (floorPlan?.walls || []).forEach((wall, wallIndex) => {
    for (const index of new Set([0, wall.points.length - 1])) {
      const point = wall.points[index];
      const corner = corners.find((c) => Math.hypot(c.point[0] - point[0], c.point[1] - point[1]) < SAME_CORNER_M);
      if (corner) corner.ends.push({ wall: wallIndex, index });
      else corners.push({ point: point.slice(0, 2), ends: [{ wall: wallIndex, index }] });
    }
  });
  return corners;
}

const rounded = (point) => point.map((v) => +v.toFixed(4));

/**
 * The patch that moves the corner `corner` (one of planCorners) to `to` (x, y metres). The
 * openings of each moved wall keep their distance from the wall's other end (the one that stays).
 */
export function moveCornerPatch(document, corner, to) {
  const plan = document.floor_plan;
  if (!plan) throw new Error('the twin has no floor plan to correct: run `twin plan` on its scan folder first.');
  const patch = [];
  for (const { wall: wallIndex, index } of corner.ends) {
    const wall = plan.walls[wallIndex];
    if (!wall) throw new Error(`the floor plan has no wall ${wallIndex + 1} any more: someone else changed it.`);
    const kept = wall.points[index === 0 ? wall.points.length - 1 : 0];
    const before = wall.points[index];
    patch.push({ op: 'replace', path: pointer('floor_plan', 'walls', wallIndex, 'points', index), value: rounded(to) });
    if (wall.points.length !== 2) continue; // openings follow straight walls only
    const oldLength = Math.hypot(before[0] - kept[0], before[1] - kept[1]);
    const newLength = Math.hypot(to[0] - kept[0], to[1] - kept[1]);
    if (oldLength < 1e-9 || newLength < 1e-9) continue;
    const oldDir = [(before[0] - kept[0]) / oldLength, (before[1] - kept[1]) / oldLength];
    const newDir = [(to[0] - kept[0]) / newLength, (to[1] - kept[1]) / newLength];
    (plan.openings || []).forEach((opening, openingIndex) => {
      if (opening.wall !== wall.id) return;
      const points = opening.points.map((p) => {
        const along = (p[0] - kept[0]) * oldDir[0] + (p[1] - kept[1]) * oldDir[1];
        return rounded([kept[0] + along * newDir[0], kept[1] + along * newDir[1]]);
      });
      patch.push({ op: 'replace', path: pointer('floor_plan', 'openings', openingIndex, 'points'), value: points });
    });
  }
  return patch;
}
