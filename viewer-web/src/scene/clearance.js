// The planner's clearance check, on the floor plane (z-up world, metres): each machine's
// footprint against the scanned walls and against every other machine.

export const DEFAULT_CLEARANCE_M = 0.6;

function rotateZUp(q, p) {
  const [x, y, z, w] = q;
  const uv = [y * p[2] - z * p[1], z * p[0] - x * p[2], x * p[1] - y * p[0]];
  const uuv = [y * uv[2] - z * uv[1], z * uv[0] - x * uv[2], x * uv[1] - y * uv[0]];
  return [0, 1, 2].map((i) => p[i] + 2 * (w * uv[i] + uuv[i]));
}

function cross(o, a, b) {
  return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
}

/** Convex hull (counter-clockwise) of 2D points, Andrew's monotone chain. */
export function convexHull(points) {
  const pts = points.slice().sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  if (pts.length < 3) return pts;
  const lower = [];
  for (const p of pts) {
    while (lower.length >= 2 && cross(lower[lower.length - 2], lower[lower.length - 1], p) <= 0) lower.pop();
    lower.push(p);
  }
  const upper = [];
  for (const p of pts.reverse()) {
    while (upper.length >= 2 && cross(upper[upper.length - 2], upper[upper.length - 1], p) <= 0) upper.pop();
    upper.push(p);
  }
  return lower.slice(0, -1).concat(upper.slice(0, -1));
}

/** Floor footprint of a box {min, max} (machine frame) placed at pose {translation, rotation}. */
export function footprint(box, pose) {
  const corners = [];
  for (const x of [box.min[0], box.max[0]]) for (const y of [box.min[1], box.max[1]]) for (const z of [box.min[2], box.max[2]]) {
    const p = rotateZUp(pose.rotation, [x, y, z]);
    corners.push([p[0] + pose.translation[0], p[1] + pose.translation[1]]);
  }
  return convexHull(corners);
}

function pointSegmentDistance(p, a, b) {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  const len2 = dx * dx + dy * dy;
  const t = len2 > 0 ? Math.max(0, Math.min(1, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / len2)) : 0;
  return Math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy);
}

export function insidePolygon(p, polygon) {
  // Convex and counter-clockwise: inside when left of every edge.
  if (polygon.length < 3) return false;
  return polygon.every((a, i) => cross(a, polygon[(i + 1) % polygon.length], p) >= 0);
}

export function pointPolygonDistance(p, polygon) {
  if (insidePolygon(p, polygon)) return 0;
  let best = Infinity;
  for (let i = 0; i < polygon.length; i++) best = Math.min(best, pointSegmentDistance(p, polygon[i], polygon[(i + 1) % polygon.length]));
  return best;
}

export function polygonDistance(a, b) {
  if (a.some((p) => insidePolygon(p, b)) || b.some((p) => insidePolygon(p, a))) return 0;
  let best = Infinity;
  for (const p of a) best = Math.min(best, pointPolygonDistance(p, b));
  for (const p of b) best = Math.min(best, pointPolygonDistance(p, a));
  return best; // convex polygons that do not contain each other's corners and do not cross: min vertex-edge
}

/**
 * Wall samples on the floor plane from scanned points (z-up): what rises above head height but
 * stays below the ceiling is wall (furniture and machines rarely reach `minZ`), away from where
 * the machines stood when scanned, thinned to one sample per `cellM` grid cell.
 */
export function wallPoints(positions, scannedFootprints, { minZ = 2.0, ceilingGapM = 0.15, marginM = 0.03, cellM = 0.1 } = {}) {
  let top = -Infinity;
  for (let i = 2; i < positions.length; i += 3) top = Math.max(top, positions[i]);
  const maxZ = top - ceilingGapM;
  const cells = new Map();
  for (let i = 0; i + 2 < positions.length; i += 3) {
    const z = positions[i + 2];
    if (z < minZ || z > maxZ) continue;
    const p = [positions[i], positions[i + 1]];
    const key = `${Math.floor(p[0] / cellM)},${Math.floor(p[1] / cellM)}`;
    if (cells.has(key)) continue;
    if (scannedFootprints.some((f) => pointPolygonDistance(p, f) <= marginM)) continue;
    cells.set(key, p);
  }
  return [...cells.values()];
}

/**
 * For each machine footprint (Map id -> polygon): its smallest distance to the walls or another
 * machine, what that is, and whether it violates `minDistanceM`.
 */
export function clearance(footprints, walls, minDistanceM = DEFAULT_CLEARANCE_M) {
  const result = new Map();
  const ids = [...footprints.keys()];
  for (const id of ids) {
    const polygon = footprints.get(id);
    let distance = Infinity;
    let against = null;
    for (const w of walls) {
      const d = pointPolygonDistance(w, polygon);
      if (d < distance) { distance = d; against = 'wall'; }
    }
    for (const other of ids) {
      if (other === id) continue;
      const d = polygonDistance(polygon, footprints.get(other));
      if (d < distance) { distance = d; against = other; }
    }
    result.set(id, { distance, against, violates: distance < minDistanceM });
  }
  return result;
}
