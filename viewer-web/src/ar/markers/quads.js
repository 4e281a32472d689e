// Convex quadrilaterals among closed contours: Douglas-Peucker polygon approximation (as
// cv.approxPolyDP on a closed curve) and the aruco detector's shape rules.

// OpenCV's defaults: polygonalApproxAccuracyRate, minCornerDistanceRate (both of the contour's
// length) and minDistanceToBorder (pixels).
const ACCURACY_RATE = 0.03;
const MIN_CORNER_DISTANCE_RATE = 0.05;
const MIN_DISTANCE_TO_BORDER = 3;

/** Vertex indices of the closed contour's Douglas-Peucker approximation, or null past `maxVertices`. */
function approximatePolygon(points, epsilon, maxVertices) {
  const n = points.length / 2;
  if (n < 4) return null;
  // Split the closed curve at two far-apart points, then simplify both halves.
  const a = farthestFrom(points, 0, n);
  const b = farthestFrom(points, a, n);
  const kept = [a];
  for (const [from, to] of [[a, b], [b, a]]) {
    const chain = simplifyChain(points, n, from, to, epsilon, maxVertices);
    if (!chain) return null;
    kept.push(...chain, to);
    if (kept.length > maxVertices + 1) return null;
  }
  kept.pop(); // the last chain ends where the polygon started
  return kept.length <= maxVertices ? kept : null;
}

function farthestFrom(points, index, n) {
  const x = points[2 * index], y = points[2 * index + 1];
  let best = index, bestDistance = -1;
  for (let i = 0; i < n; i++) {
    const d = (points[2 * i] - x) ** 2 + (points[2 * i + 1] - y) ** 2;
    if (d > bestDistance) { bestDistance = d; best = i; }
  }
  return best;
}

/** Interior vertices kept between contour indices `from` and `to` (walking forward, wrapping). */
function simplifyChain(points, n, from, to, epsilon, maxVertices) {
  const span = (to - from + n) % n;
  const kept = [];
  const pending = [[0, span]];
  while (pending.length) {
    const [s, e] = pending.pop();
    const i0 = (from + s) % n, i1 = (from + e) % n;
    const x0 = points[2 * i0], y0 = points[2 * i0 + 1];
    const dx = points[2 * i1] - x0, dy = points[2 * i1 + 1] - y0;
    const length = Math.hypot(dx, dy) || 1;
    let worst = -1, worstDistance = epsilon;
    for (let k = s + 1; k < e; k++) {
      const i = (from + k) % n;
      const distance = Math.abs((points[2 * i] - x0) * dy - (points[2 * i + 1] - y0) * dx) / length;
      if (distance > worstDistance) { worstDistance = distance; worst = k; }
    }
    if (worst < 0) continue;
    kept.push(worst);
    if (kept.length > maxVertices) return null;
    pending.push([s, worst], [worst, e]);
  }
  return kept.sort((p, q) => p - q).map((k) => (from + k) % n);
}

/**
 * Marker-shaped quads among the contours, each as 4 [x, y] corners, clockwise on screen
 * (cv.aruco's candidate rules: 4 convex vertices, no very short side, away from the image edge).
 */
export function quadCandidates(contours, width, height) {
  const quads = [];
  for (const contour of contours) {
    const length = contour.length / 2;
    const vertices = approximatePolygon(contour, length * ACCURACY_RATE, 4);
    if (!vertices || vertices.length !== 4) continue;
    const corners = vertices.map((i) => [contour[2 * i], contour[2 * i + 1]]);
    if (!isConvex(corners)) continue;
    let shortest = Infinity;
    for (let i = 0; i < 4; i++) {
      const [ax, ay] = corners[i], [bx, by] = corners[(i + 1) % 4];
      shortest = Math.min(shortest, (ax - bx) ** 2 + (ay - by) ** 2);
    }
    if (shortest < (length * MIN_CORNER_DISTANCE_RATE) ** 2) continue;
    if (corners.some(([x, y]) => x < MIN_DISTANCE_TO_BORDER || y < MIN_DISTANCE_TO_BORDER
      || x > width - 1 - MIN_DISTANCE_TO_BORDER || y > height - 1 - MIN_DISTANCE_TO_BORDER)) continue;
    const [p0, p1, p2] = corners;
    const cross = (p1[0] - p0[0]) * (p2[1] - p0[1]) - (p1[1] - p0[1]) * (p2[0] - p0[0]);
    if (cross < 0) [corners[1], corners[3]] = [corners[3], corners[1]];
    quads.push(corners);
  }
  return quads;
}

function isConvex(corners) {
  let sign = 0;
  for (let i = 0; i < 4; i++) {
    const [ax, ay] = corners[i], [bx, by] = corners[(i + 1) % 4], [cx, cy] = corners[(i + 2) % 4];
    const cross = (bx - ax) * (cy - by) - (by - ay) * (cx - bx);
    if (cross === 0) return false;
    if (sign === 0) sign = Math.sign(cross);
    else if (Math.sign(cross) !== sign) return false;
  }
  return true;
}
