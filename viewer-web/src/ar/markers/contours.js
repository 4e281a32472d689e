// Dark blobs of a grey image as closed pixel contours: OpenCV's adaptive mean threshold (inverted,
// so dark marker borders become foreground) and the outer borders of 8-connected components,
// found as in Suzuki & Abe (1985), the algorithm behind cv.findContours.

/** Integral image with one extra row and column of zeros, so box sums need no edge cases. */
export function integralImage(data, width, height) {
  const stride = width + 1;
  // 255 * 2^24 pixels still fit 32 bits unsigned; larger images need doubles.
  const sums = width * height < 1 << 24 ? new Uint32Array(stride * (height + 1)) : new Float64Array(stride * (height + 1));
  for (let y = 0; y < height; y++) {
    let row = 0;
    const above = y * stride + 1, here = (y + 1) * stride + 1, pixels = y * width;
    for (let x = 0; x < width; x++) {
      row += data[pixels + x];
      sums[here + x] = sums[above + x] + row;
    }
  }
  return sums;
}

/**
 * Foreground (1) where a pixel is darker than the mean of its window x window neighbourhood minus
 * `offset` (cv.adaptiveThreshold, ADAPTIVE_THRESH_MEAN_C, THRESH_BINARY_INV); near the image edge
 * the window is the part inside the image.
 */
export function adaptiveThreshold(data, width, height, integral, window, offset, out) {
  const stride = width + 1;
  const half = window >> 1;
  for (let y = 0; y < height; y++) {
    const y0 = Math.max(0, y - half), y1 = Math.min(height, y + half + 1);
    const top = y0 * stride, bottom = y1 * stride, rows = y1 - y0, pixels = y * width;
    // Comparing pixel * area with sum - offset * area avoids a division a pixel.
    const fullArea = rows * window;
    const inner0 = Math.min(half, width), inner1 = Math.max(inner0, width - half);
    for (let x = 0; x < width; x++) {
      if (x === inner0 && inner0 < inner1) {
        // Windows wholly inside the row: one area for all.
        for (; x < inner1; x++) {
          const x0 = x - half, x1 = x + half + 1;
          const sum = integral[bottom + x1] - integral[top + x1] - integral[bottom + x0] + integral[top + x0];
          out[pixels + x] = data[pixels + x] * fullArea <= sum - offset * fullArea ? 1 : 0;
        }
        if (x >= width) break;
      }
      const x0 = Math.max(0, x - half), x1 = Math.min(width, x + half + 1);
      const area = rows * (x1 - x0);
      const sum = integral[bottom + x1] - integral[top + x1] - integral[bottom + x0] + integral[top + x0];
      out[pixels + x] = data[pixels + x] * area <= sum - offset * area ? 1 : 0;
    }
  }
  return out;
}

// The 8 neighbours, clockwise on screen (y down): E, SE, S, SW, W, NW, N, NE.
const DX = [1, 1, 0, -1, -1, -1, 0, 1];
const DY = [0, 1, 1, 1, 0, -1, -1, -1];
const EAST = 0;
const WEST = 4;

/**
 * Outer contours (arrays [x0, y0, x1, y1, ...] of pixel centres) of the foreground's 8-connected
 * components, `minLength`..`maxLength` pixels long. Suzuki & Abe's raster scan: every border, outer
 * or of a hole, is followed once and labelled, so the scan never follows it again; only outer ones
 * are returned. `scratch` is an Int32Array of (width + 2) * (height + 2), reused between calls.
 */
export function outerContours(binary, width, height, { minLength, maxLength }, scratch) {
  // A frame of background round the image spares every neighbour look-up a bounds check.
  const stride = width + 2;
  const f = scratch;
  f.fill(0, 0, stride);
  f.fill(0, (height + 1) * stride);
  for (let y = 0; y < height; y++) {
    const row = (y + 1) * stride;
    f[row] = 0;
    f[row + width + 1] = 0;
    for (let x = 0; x < width; x++) f[row + 1 + x] = binary[y * width + x];
  }
  const offsets = Int32Array.from(DX, (dx, d) => dx + DY[d] * stride);
  const path = new Int32Array(Math.ceil(maxLength) + 1);
  const contours = [];
  let border = 1;
  for (let y = 1; y <= height; y++) {
    for (let p = y * stride + 1, end = y * stride + width; p <= end; p++) {
      const value = f[p];
      if (value === 0) continue;
      let from;
      if (value === 1 && f[p - 1] === 0) from = WEST; // an outer border starts here
      else if (value >= 1 && f[p + 1] === 0) from = EAST; // a hole's border starts here
      else continue;
      border += 1;
      const length = follow(f, p, from, border, offsets, from === WEST ? path : null);
      if (from === WEST && length >= minLength && length <= maxLength) {
        const points = new Array(2 * length);
        for (let k = 0; k < length; k++) {
          points[2 * k] = (path[k] % stride) - 1;
          points[2 * k + 1] = Math.floor(path[k] / stride) - 1;
        }
        contours.push(points);
      }
    }
  }
  return contours;
}

/**
 * Follows the border through pixel p (labelled image f, 0 = background), starting the search at
 * neighbour `from`, and labels its pixels with +-label as Suzuki & Abe's step 3.4 does. Writes the
 * border's pixel indices into `path` while they fit; returns the border's length in pixels.
 */
function follow(f, p, from, label, offsets, path) {
  let first = -1;
  for (let k = 0; k < 8; k++) {
    const d = (from + k) & 7;
    if (f[p + offsets[d]] !== 0) { first = d; break; }
  }
  if (first < 0) {
    f[p] = -label;
    if (path && path.length) path[0] = p;
    return 1;
  }
  const p1 = p + offsets[first];
  const room = path ? path.length : 0;
  let length = 0;
  let p3 = p, towardsPrevious = first;
  for (;;) {
    let d4 = towardsPrevious, eastIsBackground = false;
    for (let k = 1; k <= 8; k++) {
      const d = (towardsPrevious - k + 8) & 7;
      if (f[p3 + offsets[d]] !== 0) { d4 = d; break; }
      if (d === EAST) eastIsBackground = true;
    }
    if (eastIsBackground) f[p3] = -label;
    else if (f[p3] === 1) f[p3] = label;
    if (length < room) path[length] = p3;
    length++;
    const p4 = p3 + offsets[d4];
    if (p4 === p && p3 === p1) break;
    towardsPrevious = (d4 + 4) & 7;
    p3 = p4;
  }
  return length;
}
