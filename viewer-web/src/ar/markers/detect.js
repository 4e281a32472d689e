// ArUco / AprilTag detection in a grey image, after OpenCV's aruco detector: adaptive thresholds at
// several window sizes, outer contours, convex quads, cell reading and dictionary match, then
// sub-pixel corners from the square's edges.

import { adaptiveThreshold, integralImage, outerContours } from './contours.js';
import { compiledDictionary, identify } from './decode.js';
import { checkGreyImage } from './image.js';
import { quadCandidates } from './quads.js';
import { refineCorners } from './refine.js';

export const DEFAULT_DICTIONARIES = ['DICT_4X4_50', 'DICT_APRILTAG_36h11'];

// OpenCV thresholds with windows of 3, 13 and 23 pixels; 9 and 23 find the same markers in our
// test images, the hard ones included (11 px markers, blur of 3 px), in about 80 % of the time.
const THRESHOLD_WINDOWS = [9, 23];
const THRESHOLD_OFFSET = 7; // OpenCV's adaptiveThreshConstant
const MIN_PERIMETER_RATE = 0.03; // of the image's longer side (minMarkerPerimeterRate)
const MAX_PERIMETER_RATE = 4; // (maxMarkerPerimeterRate)
const SAME_PLACE_RATE = 0.2; // quads whose centres and sides differ by less than this share of a side are one square

/**
 * Markers in a grey image { data, width, height } (one byte per pixel, top row first):
 * [{ key: 'DICT_4X4_50:7', dictionary, id, corners: [[x, y] x 4] }], corners top-left, top-right,
 * bottom-right, bottom-left of the printed marker, sub-pixel, pixel centres at integers.
 * A marker seen at two places in one image is left out (which one is meant is ambiguous).
 */
export function detectMarkers(image, { dictionaries = DEFAULT_DICTIONARIES } = {}) {
  checkGreyImage(image);
  if (!Array.isArray(dictionaries) || dictionaries.length === 0) {
    throw new TypeError(`dictionaries must be a non-empty array of dictionary names such as ${JSON.stringify(DEFAULT_DICTIONARIES)}.`);
  }
  const compiled = dictionaries.map(compiledDictionary);
  const { data, width, height } = image;
  const longer = Math.max(width, height);
  const limits = { minLength: MIN_PERIMETER_RATE * longer, maxLength: MAX_PERIMETER_RATE * longer };
  const integral = integralImage(data, width, height);
  const { binary, scratch } = buffersFor(width, height);
  const finestCells = Math.max(...compiled.map((d) => d.markerSize)) + 2;
  const found = [], read = [];
  for (const window of THRESHOLD_WINDOWS) {
    adaptiveThreshold(data, width, height, integral, window, THRESHOLD_OFFSET, binary);
    for (const corners of quadCandidates(outerContours(binary, width, height, limits, scratch), width, height)) {
      // Another window's quad of the same square reads the same: read each square once.
      if (read.some((other) => samePlace(other, corners))) continue;
      read.push(corners);
      // The contour's corners lie up to a pixel inside the square; when its cells do not read
      // as a marker from them, they may from the square's own edges (small or blurred markers).
      const marker = identifyAny(image, corners, compiled)
        ?? identifyAny(image, refineCorners(image, corners, meanSide(corners) / finestCells), compiled);
      // A square read again from another window's slightly different outline is not a second sighting.
      if (marker && !found.some((other) => other.dictionary === marker.dictionary && other.id === marker.id
        && samePlace(other.corners, marker.corners, 0.5))) found.push(marker);
    }
  }
  const counts = new Map();
  for (const marker of found) {
    const key = `${marker.dictionary.name}:${marker.id}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return found
    .filter((marker) => counts.get(`${marker.dictionary.name}:${marker.id}`) === 1)
    .map(({ dictionary, id, corners }) => ({
      key: `${dictionary.name}:${id}`, dictionary: dictionary.name, id,
      corners: refineCorners(image, corners, meanSide(corners) / (dictionary.markerSize + 2)),
    }));
}

function identifyAny(image, corners, dictionaries) {
  for (const dictionary of dictionaries) {
    const marker = identify(image, corners, dictionary);
    if (marker) return { dictionary, id: marker.id, corners: marker.corners };
  }
  return null;
}

// Frames of one video keep their size: their work buffers are made once (a few MB at 720p), not per frame.
let buffers = { width: 0, height: 0 };
function buffersFor(width, height) {
  if (buffers.width !== width || buffers.height !== height) {
    buffers = { width, height, binary: new Uint8Array(width * height), scratch: new Int32Array((width + 2) * (height + 2)) };
  }
  return buffers;
}

function samePlace(a, b, rate = SAME_PLACE_RATE) {
  const centre = (q) => [q.reduce((s, p) => s + p[0], 0) / 4, q.reduce((s, p) => s + p[1], 0) / 4];
  const [ax, ay] = centre(a), [bx, by] = centre(b);
  const sideA = meanSide(a), sideB = meanSide(b);
  return Math.hypot(ax - bx, ay - by) < rate * Math.min(sideA, sideB) && Math.abs(sideA - sideB) < rate * Math.max(sideA, sideB);
}

function meanSide(q) {
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += Math.hypot(q[i][0] - q[(i + 1) % 4][0], q[i][1] - q[(i + 1) % 4][1]);
  return sum / 4;
}
