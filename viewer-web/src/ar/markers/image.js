// The grey image the marker code reads: input checks and bilinear sampling.

/** Throws a TypeError or RangeError that says what to fix when `image` is not a grey image { data, width, height }. */
export function checkGreyImage(image) {
  if (!image || typeof image !== 'object') {
    throw new TypeError('detectMarkers needs an image { data, width, height } with one grey byte per pixel; got nothing.');
  }
  const { data, width, height } = image;
  if (!(data instanceof Uint8Array || data instanceof Uint8ClampedArray)) {
    throw new TypeError('image.data must be a Uint8Array or Uint8ClampedArray of grey values (convert RGBA to grey first).');
  }
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`image.width and image.height must be positive integers; got ${width} x ${height}.`);
  }
  if (data.length !== width * height) {
    throw new RangeError(`image.data has ${data.length} bytes but a ${width} x ${height} grey image needs ${width * height}; `
      + 'pass one byte per pixel (convert RGBA to grey first).');
  }
}

/** Intensity at (x, y) in pixel coordinates (pixel centres at integers), clamped to the image. */
export function bilinear(image, x, y) {
  const { data, width, height } = image;
  const cx = Math.min(Math.max(x, 0), width - 1);
  const cy = Math.min(Math.max(y, 0), height - 1);
  const x0 = Math.min(Math.floor(cx), Math.max(0, width - 2));
  const y0 = Math.min(Math.floor(cy), Math.max(0, height - 2));
  const fx = cx - x0, fy = cy - y0;
  const x1 = Math.min(x0 + 1, width - 1), y1 = Math.min(y0 + 1, height - 1);
  const top = data[y0 * width + x0] * (1 - fx) + data[y0 * width + x1] * fx;
  const bottom = data[y1 * width + x0] * (1 - fx) + data[y1 * width + x1] * fx;
  return top * (1 - fy) + bottom * fy;
}
