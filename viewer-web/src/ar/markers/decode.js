// Reading a candidate quad as a marker: perspective removal of its cells, Otsu's threshold, the
// black border check and the dictionary match over four rotations with bounded Hamming
// correction (the steps of OpenCV's aruco identification).

import { MARKER_DICTIONARIES } from './dictionaries.js';
import { homographyFromPoints, applyHomography } from './homography.js';
import { bilinear } from './image.js';

const ERROR_CORRECTION_RATE = 0.6; // share of a dictionary's correctable bits we dare to correct (OpenCV's default)
const MAX_BORDER_ERROR_RATE = 0.35; // wrong border cells allowed, per inner cell (OpenCV's default)
const MIN_CONTRAST_STDDEV = 5; // a flatter patch holds no marker (OpenCV's minOtsuStdDev)
const SAMPLE_OFFSETS = [0.3, 0.5, 0.7]; // where in a cell we look: away from its edges, which blur

const compiled = new Map();

/** A dictionary's codes packed for Hamming distances: two 32-bit words a code (36 bits fit). */
export function compiledDictionary(name) {
  if (compiled.has(name)) return compiled.get(name);
  const table = MARKER_DICTIONARIES[name];
  if (!table) {
    throw new RangeError(`unknown marker dictionary ${JSON.stringify(name)}; use one of ${Object.keys(MARKER_DICTIONARIES).join(', ')}.`);
  }
  const count = table.codes.length;
  const high = new Uint32Array(count), low = new Uint32Array(count);
  table.codes.forEach((hex, i) => {
    low[i] = parseInt(hex.slice(-8), 16) >>> 0;
    high[i] = hex.length > 8 ? parseInt(hex.slice(0, -8), 16) >>> 0 : 0;
  });
  const entry = {
    name, markerSize: table.markerSize, high, low,
    maxCorrection: Math.floor(table.maxCorrectionBits * ERROR_CORRECTION_RATE),
    maxBorderErrors: Math.floor(table.markerSize * table.markerSize * MAX_BORDER_ERROR_RATE),
  };
  compiled.set(name, entry);
  return entry;
}

/** Cells (markerSize + 2 border cells a side) of the quad: 1 for white, 0 for black; null if flat. */
function readCells(image, corners, cellsPerSide) {
  const n = cellsPerSide;
  const H = homographyFromPoints([[0, 0], [n, 0], [n, n], [0, n]], corners);
  if (!H) return null;
  const per = SAMPLE_OFFSETS.length ** 2;
  const samples = new Float64Array(n * n * per);
  let k = 0;
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < n; col++) {
      for (const dy of SAMPLE_OFFSETS) {
        for (const dx of SAMPLE_OFFSETS) {
          const [x, y] = applyHomography(H, col + dx, row + dy);
          samples[k++] = bilinear(image, x, y);
        }
      }
    }
  }
  let mean = 0;
  for (const v of samples) mean += v;
  mean /= samples.length;
  let variance = 0;
  for (const v of samples) variance += (v - mean) ** 2;
  if (Math.sqrt(variance / samples.length) < MIN_CONTRAST_STDDEV) return null;
  const threshold = otsuThreshold(samples);
  const cells = new Uint8Array(n * n);
  for (let c = 0; c < n * n; c++) {
    let bright = 0;
    for (let s = 0; s < per; s++) if (samples[c * per + s] > threshold) bright++;
    cells[c] = bright * 2 > per ? 1 : 0;
  }
  return cells;
}

/** Otsu's threshold of values in 0..255: the split maximising the between-class variance. */
function otsuThreshold(values) {
  const histogram = new Float64Array(256);
  for (const v of values) histogram[Math.min(255, Math.max(0, Math.round(v)))]++;
  const total = values.length;
  let sumAll = 0;
  for (let i = 0; i < 256; i++) sumAll += i * histogram[i];
  let weightBelow = 0, sumBelow = 0, best = 0, bestVariance = -1;
  for (let t = 0; t < 256; t++) {
    weightBelow += histogram[t];
    if (weightBelow === 0) continue;
    const weightAbove = total - weightBelow;
    if (weightAbove === 0) break;
    sumBelow += t * histogram[t];
    const meanBelow = sumBelow / weightBelow, meanAbove = (sumAll - sumBelow) / weightAbove;
    const between = weightBelow * weightAbove * (meanBelow - meanAbove) ** 2;
    if (between > bestVariance) { bestVariance = between; best = t; }
  }
  return best + 0.5;
}

/**
 * The marker the quad shows in `dictionary` (a compiledDictionary), as { id, corners } with the
 * corners re-ordered so the first is the marker's top-left, or null.
 */
export function identify(image, corners, dictionary) {
  const n = dictionary.markerSize;
  const cells = readCells(image, corners, n + 2);
  if (!cells) return null;
  let borderErrors = 0;
  for (let row = 0; row < n + 2; row++) {
    for (let col = 0; col < n + 2; col++) {
      if ((row === 0 || col === 0 || row === n + 1 || col === n + 1) && cells[row * (n + 2) + col]) borderErrors++;
    }
  }
  if (borderErrors > dictionary.maxBorderErrors) return null;
  let grid = [];
  for (let row = 1; row <= n; row++) for (let col = 1; col <= n; col++) grid.push(cells[row * (n + 2) + col]);
  let best = null;
  for (let shift = 0; shift < 4; shift++) {
    const [high, low] = pack(grid);
    for (let id = 0; id < dictionary.low.length; id++) {
      const distance = popcount(high ^ dictionary.high[id]) + popcount(low ^ dictionary.low[id]);
      if (distance <= dictionary.maxCorrection && (!best || distance < best.distance)) best = { id, shift, distance };
    }
    // The grid as seen when the quad's next corner is taken as the top-left one.
    grid = grid.map((_, i) => grid[(i % n) * n + (n - 1 - Math.floor(i / n))]);
  }
  if (!best) return null;
  return { id: best.id, corners: [0, 1, 2, 3].map((k) => corners[(k + best.shift) % 4]) };
}

function pack(bits) {
  let high = 0, low = 0;
  const count = bits.length;
  for (let i = 0; i < count; i++) {
    if (!bits[i]) continue;
    const position = count - 1 - i;
    if (position < 32) low |= 1 << position;
    else high |= 1 << (position - 32);
  }
  return [high >>> 0, low >>> 0];
}

function popcount(v) {
  v -= (v >>> 1) & 0x55555555;
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
