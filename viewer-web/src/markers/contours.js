// Dark blobs of a grey image as closed pixel contours: OpenCV's adaptive mean threshold (inverted,
// so dark marker borders become foreground) and the outer border of each 8-connected component,
// followed as in Suzuki & Abe (1985), the algorithm behind cv.findContours.

/** Integral image with one extra row and column of zeros, so box sums need no edge cases. */
export function integralImage(data, width, height) {
  const stride = width + 1;
  const sums = new Float64Array(stride * (height + 1));
  for (let y = 0; y < height; y++) {
    let row = 0;
    for (let x = 0; x < width; x++) {
      row += data[y * width + x];
      sums[(y + 1) * stride + x + 1] = sums[y * stride + x + 1] + row;
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
    const y0 = Math.max(0, y - half);
    const y1 = Math.min(height, y + half + 1);
    for (let x = 0; x < width; x++) {
      const x0 = Math.max(0, x - half);
      const x1 = Math.min(width, x + half + 1);
      const sum = integral[y1 * stride + x1] - integral[y0 * stride + x1] - integral[y1 * stride + x0] + integral[y0 * stride + x0];
      const mean = sum / ((y1 - y0) * (x1 - x0));
      out[y * width + x] = data[y * width + x] <= mean - offset ? 1 : 0;
    }
  }
  return out;
}

// The 8 neighbours, clockwise on screen (y down): E, SE, S, SW, W, NW, N, NE.
const DX = [1, 1, 0, -1, -1, -1, 0, 1];
const DY = [0, 1, 1, 1, 0, -1, -1, -1];
const WEST = 4;

/**
 * Outer contours (arrays [x0, y0, x1, y1, ...] of pixel centres) of the foreground's 8-connected
 * components whose bounding box could hold a contour of `minLength`..`maxLength` pixels.
 * `labels` (Int32Array, width*height) and `stack` (Int32Array, width*height) are scratch space.
 */
export function outerContours(binary, width, height, { minLength, maxLength }, labels, stack) {
  labels.fill(0);
  const contours = [];
  let label = 0;
  for (let start = 0; start < binary.length; start++) {
    if (!binary[start] || labels[start]) continue;
    label += 1;
    // Flood fill, to label the component and measure its bounding box.
    let top = 0;
    stack[top++] = start;
    labels[start] = label;
    let minX = width, maxX = 0, minY = height, maxY = 0;
    while (top > 0) {
      const p = stack[--top];
      const px = p % width;
      const py = (p - px) / width;
      if (px < minX) minX = px;
      if (px > maxX) maxX = px;
      if (py < minY) minY = py;
      if (py > maxY) maxY = py;
      for (let d = 0; d < 8; d++) {
        const qx = px + DX[d];
        const qy = py + DY[d];
        if (qx < 0 || qy < 0 || qx >= width || qy >= height) continue;
        const q = qy * width + qx;
        if (binary[q] && !labels[q]) {
          labels[q] = label;
          stack[top++] = q;
        }
      }
    }
    // A square's outer contour has about twice its bounding box's half-perimeter in pixels.
    const boxPerimeter = 2 * (maxX - minX + maxY - minY);
    if (boxPerimeter < minLength || boxPerimeter > 2 * maxLength) continue;
    const contour = followBorder(binary, width, height, start % width, Math.floor(start / width));
    const length = contour.length / 2;
    if (length >= minLength && length <= maxLength) contours.push(contour);
  }
  return contours;
}

/**
 * Suzuki & Abe's border following from (x0, y0), the first pixel of its component in raster order
 * (so its west neighbour is background): the outer border's pixels in order.
 */
function followBorder(binary, width, height, x0, y0) {
  const inside = (x, y) => x >= 0 && y >= 0 && x < width && y < height && binary[y * width + x] === 1;
  let first = -1;
  for (let k = 0; k < 8; k++) {
    const d = (WEST + k) % 8;
    if (inside(x0 + DX[d], y0 + DY[d])) { first = d; break; }
  }
  if (first < 0) return [x0, y0];
  const x1 = x0 + DX[first];
  const y1 = y0 + DY[first];
  const points = [];
  let x3 = x0, y3 = y0, towardsPrevious = first;
  for (;;) {
    let d4 = towardsPrevious;
    for (let k = 1; k <= 8; k++) {
      const d = (towardsPrevious - k + 8) % 8;
      if (inside(x3 + DX[d], y3 + DY[d])) { d4 = d; break; }
    }
    const x4 = x3 + DX[d4];
    const y4 = y3 + DY[d4];
    points.push(x3, y3);
    if (x4 === x0 && y4 === y0 && x3 === x1 && y3 === y1) break;
    towardsPrevious = (d4 + 4) % 8;
    x3 = x4;
    y3 = y4;
  }
  return points;
}
