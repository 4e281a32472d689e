// Sub-pixel corners: each side of the marker's black square is located where the intensity across
// it (dark inside, white outside) is halfway up, a line is fitted to those edge points, and the
// corners become the intersections of neighbouring lines. This uses the whole side rather than a
// small window round the corner, so blur and perspective do not pull the corners.

import { bilinear } from './image.js';

const SIDE_MARGIN = 0.12; // share of a side left out at each end, where the corner's blur bends the edge
const PROFILE_STEP = 0.25; // pixels between intensity samples across an edge
const PASSES = 2;
const MIN_EDGE_CONTRAST = 15; // grey levels between the dark and bright ends of a profile; below, noise decides

/**
 * Corners ([x, y] x 4, clockwise on screen) moved onto the edges of the dark square they outline;
 * `cellPx` is the marker's cell size in pixels (how far from the first guess an edge can be).
 * A side that shows no clear edge (a dark object touching the marker) keeps its first guess.
 */
export function refineCorners(image, corners, cellPx) {
  const reach = Math.min(4, Math.max(1.5, 0.45 * cellPx));
  let current = corners;
  for (let pass = 0; pass < PASSES; pass++) {
    const lines = [];
    for (let side = 0; side < 4; side++) {
      const [a, b] = [current[side], current[(side + 1) % 4]];
      const length = Math.hypot(b[0] - a[0], b[1] - a[1]);
      if (length === 0) return current;
      lines.push(edgeLine(image, a, b, reach) ?? { point: a, direction: [(b[0] - a[0]) / length, (b[1] - a[1]) / length] });
    }
    const next = [];
    for (let k = 0; k < 4; k++) {
      const corner = intersect(lines[(k + 3) % 4], lines[k]);
      if (!corner || Math.hypot(corner[0] - corners[k][0], corner[1] - corners[k][1]) > 2 * reach) return current;
      next.push(corner);
    }
    current = next;
  }
  return current;
}

/** The line { point, direction } of the edge between a and b, with outside to the left on screen. */
function edgeLine(image, a, b, reach) {
  const dx = b[0] - a[0], dy = b[1] - a[1];
  const length = Math.hypot(dx, dy);
  if (length < 4) return null;
  const ux = dx / length, uy = dy / length;
  const nx = uy, ny = -ux; // outward normal for clockwise corners (y down)
  const count = Math.max(6, Math.min(80, Math.round(length * (1 - 2 * SIDE_MARGIN))));
  const steps = Math.round(reach / PROFILE_STEP);
  const profile = new Float64Array(2 * steps + 1);
  const points = [], contrasts = [];
  let strongest = 0;
  for (let i = 0; i < count; i++) {
    const t = SIDE_MARGIN + (1 - 2 * SIDE_MARGIN) * (i + 0.5) / count;
    const px = a[0] + dx * t, py = a[1] + dy * t;
    for (let s = -steps; s <= steps; s++) {
      profile[s + steps] = bilinear(image, px + nx * s * PROFILE_STEP, py + ny * s * PROFILE_STEP);
    }
    // The edge is where the profile crosses halfway between its dark (inner) and bright (outer)
    // ends; bilinear samples make the profile piecewise linear, so the crossing is sub-pixel
    // (the steepest rise would be flat across a whole pixel).
    const last = 2 * steps;
    const dark = (profile[0] + profile[1]) / 2, bright = (profile[last] + profile[last - 1]) / 2;
    const contrast = bright - dark;
    if (contrast < MIN_EDGE_CONTRAST) continue;
    const half = (dark + bright) / 2;
    let steepest = 1, steepestRise = -Infinity;
    for (let s = 1; s < last; s++) {
      const rise = profile[s + 1] - profile[s - 1];
      if (rise > steepestRise) { steepestRise = rise; steepest = s; }
    }
    let crossing = null;
    for (let s = 0; s < last; s++) {
      if (profile[s] > half || profile[s + 1] <= half) continue;
      const at = s + (half - profile[s]) / (profile[s + 1] - profile[s]);
      if (crossing === null || Math.abs(at - steepest) < Math.abs(crossing - steepest)) crossing = at;
    }
    if (crossing === null) continue;
    const along = (crossing - steps) * PROFILE_STEP;
    points.push([px + nx * along, py + ny * along]);
    contrasts.push(contrast);
    strongest = Math.max(strongest, contrast);
  }
  // Only clear edges count: weak rises are other structure (a cell edge, noise).
  const kept = points.filter((_, i) => contrasts[i] >= 0.4 * strongest);
  if (kept.length < 4) return null;
  return fitLine(kept);
}

/** Total least squares line through points: centroid and principal direction. */
function fitLine(points) {
  const cx = points.reduce((s, p) => s + p[0], 0) / points.length;
  const cy = points.reduce((s, p) => s + p[1], 0) / points.length;
  let sxx = 0, sxy = 0, syy = 0;
  for (const [x, y] of points) {
    sxx += (x - cx) ** 2; sxy += (x - cx) * (y - cy); syy += (y - cy) ** 2;
  }
  const angle = 0.5 * Math.atan2(2 * sxy, sxx - syy);
  return { point: [cx, cy], direction: [Math.cos(angle), Math.sin(angle)] };
}

function intersect(l1, l2) {
  const [x1, y1] = l1.point, [d1x, d1y] = l1.direction;
  const [x2, y2] = l2.point, [d2x, d2y] = l2.direction;
  const det = d1x * -d2y + d2x * d1y;
  if (Math.abs(det) < 1e-9) return null;
  const s = ((x2 - x1) * -d2y + d2x * (y2 - y1)) / det;
  return [x1 + s * d1x, y1 + s * d1y];
}
