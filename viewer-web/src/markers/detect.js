// ArUco / AprilTag detection in a grey image, after OpenCV's aruco detector: adaptive thresholds at
// several window sizes, outer contours, convex quads, cell reading and dictionary match, then
// sub-pixel corners from the square's edges.

import { adaptiveThreshold, integralImage, outerContours } from './contours.js';
import { compiledDictionary, identify } from './decode.js';
import { checkGreyImage } from './image.js';
import { quadCandidates } from './quads.js';
import { refineCorners } from './refine.js';

export const DEFAULT_DICTIONARIES = ['DICT_4X4_50', 'DICT_APRILTAG_36h11'];

// OpenCV's defaults: windows 3, 13, 23 (adaptiveThreshWinSizeMin/Max/Step) and offset 7.
const THRESHOLD_WINDOWS = [3, 13, 23];
const THRESHOLD_OFFSET = 7;
const MIN_PERIMETER_RATE = 0.03; // of the image's longer side (minMarkerPerimeterRate)
const MAX_PERIMETER_RATE = 4; // (maxMarkerPerimeterRate)
const SAME_PLACE_RATE = 0.2; // quads whose centres are closer than this share of their side are one marker

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
  const found = [];
  for (const window of THRESHOLD_WINDOWS) {
    adaptiveThreshold(data, width, height, integral, window, THRESHOLD_OFFSET, binary);
    for (const quad of quadCandidates(outerContours(binary, width, height, limits, scratch), width, height)) {
      // The same marker's quad from another window would decode the same: read it once.
      if (found.some((marker) => samePlace(marker.corners, quad.corners))) continue;
      for (const dictionary of compiled) {
        const marker = identify(image, quad.corners, dictionary);
        if (marker) {
          found.push({ dictionary, id: marker.id, corners: marker.corners });
          break;
        }
      }
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

// Frames of one video keep their size: their work buffers are made once (a few MB at 720p), not per frame.
let buffers = { width: 0, height: 0 };
function buffersFor(width, height) {
  if (buffers.width !== width || buffers.height !== height) {
    buffers = { width, height, binary: new Uint8Array(width * height), scratch: new Int32Array((width + 2) * (height + 2)) };
  }
  return buffers;
}

function samePlace(a, b) {
  const centre = (q) => [q.reduce((s, p) => s + p[0], 0) / 4, q.reduce((s, p) => s + p[1], 0) / 4];
  const [ax, ay] = centre(a), [bx, by] = centre(b);
  return Math.hypot(ax - bx, ay - by) < SAME_PLACE_RATE * Math.min(meanSide(a), meanSide(b));
}

function meanSide(q) {
  let sum = 0;
  for (let i = 0; i < 4; i++) sum += Math.hypot(q[i][0] - q[(i + 1) % 4][0], q[i][1] - q[(i + 1) % 4][1]);
  return sum / 4;
}
