// The viewer's marker detector against images OpenCV drew (tests/fixtures/make_marker_images.py):
// it finds what OpenCV's detector finds, with the right ids, corners close to the truth, and
// nothing in images without markers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectMarkers } from '../src/ar/markers/detect.js';
import { MARKER_DICTIONARIES } from '../src/ar/markers/dictionaries.js';
import { outerContours } from '../src/ar/markers/contours.js';
import { refineCorners } from '../src/ar/markers/refine.js';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { makeMarkerImages, PYTHON, SHARED_DATA } from './fixtures/marker-images.js';

const images = makeMarkerImages();
const detections = new Map(images.map((entry) => [entry.name, detectMarkers(entry.image)]));
const median = (values) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)];
const cornerErrors = (found, truth) => found.corners.map(([x, y], i) => Math.hypot(x - truth.corners[i][0], y - truth.corners[i][1]));

test('the dictionaries hold OpenCV\'s 50 ArUco 4x4 and 587 AprilTag 36h11 codes', () => {
  assert.equal(MARKER_DICTIONARIES.DICT_4X4_50.codes.length, 50);
  assert.equal(MARKER_DICTIONARIES.DICT_4X4_50.markerSize, 4);
  assert.equal(MARKER_DICTIONARIES.DICT_APRILTAG_36h11.codes.length, 587);
  assert.equal(MARKER_DICTIONARIES.DICT_APRILTAG_36h11.markerSize, 6);
  assert.equal(new Set(MARKER_DICTIONARIES.DICT_APRILTAG_36h11.codes).size, 587);
});

test('dictionaries.js is what its generator makes from OpenCV today', () => {
  const script = fileURLToPath(new URL('../scripts/make_marker_dictionaries.py', import.meta.url));
  assert.doesNotThrow(() => execFileSync(PYTHON, [script, '--check'], { stdio: ['ignore', 'ignore', 'pipe'] }));
});

test('every marker OpenCV finds is found, with the same id', () => {
  let compared = 0;
  for (const entry of images) {
    const ours = new Set(detections.get(entry.name).map((d) => d.key));
    for (const theirs of entry.opencv) {
      assert.ok(ours.has(theirs.key), `${entry.name}: OpenCV finds ${theirs.key}, we do not (we find ${[...ours]})`);
      compared++;
    }
  }
  assert.ok(compared >= 40, `only ${compared} OpenCV detections to compare`);
});

test('every drawn marker is found, small (25 px) and tilted (60 deg) ones too, and nothing else', () => {
  for (const entry of images) {
    const found = detections.get(entry.name);
    assert.deepEqual(found.map((d) => d.key).sort(), entry.markers.map((m) => m.key).sort(), entry.name);
    for (const d of found) {
      const [dictionary, id] = d.key.split(':');
      assert.equal(d.dictionary, dictionary);
      assert.equal(d.id, Number(id));
    }
  }
  const all = images.flatMap((entry) => entry.markers);
  assert.ok(all.some((m) => m.side_px < 26), 'the images hold a marker of 25 px or less');
  assert.ok(all.some((m) => m.tilt_deg > 55), 'the images hold a marker tilted by more than 55 deg');
  assert.ok(all.some((m) => m.dictionary === 'DICT_APRILTAG_36h11') && all.some((m) => m.dictionary === 'DICT_4X4_50'));
});

test('corners are within a tenth of a pixel of the truth (median), closer than OpenCV\'s sub-pixel ones', () => {
  const ours = [], theirs = [];
  for (const entry of images) {
    const errors = [];
    for (const truth of entry.markers) {
      const found = detections.get(entry.name).find((d) => d.key === truth.key);
      if (found) errors.push(...cornerErrors(found, truth));
      const opencv = entry.opencv.find((d) => d.key === truth.key);
      if (opencv) theirs.push(...cornerErrors(opencv, truth));
    }
    if (errors.length) assert.ok(median(errors) < 0.1, `${entry.name}: median corner error ${median(errors).toFixed(3)} px`);
    ours.push(...errors);
  }
  assert.ok(median(ours) < 0.05, `median corner error ${median(ours).toFixed(3)} px`);
  assert.ok(median(ours) < median(theirs), `ours ${median(ours).toFixed(3)} px, OpenCV's ${median(theirs).toFixed(3)} px`);
  assert.ok(Math.max(...ours) < 0.5, `worst corner error ${Math.max(...ours).toFixed(3)} px`);
});

test('in hard images (11 px, 80 deg, blur 3 px, noise 25, 9 px motion smear) every marker OpenCV finds is found, and nothing else', () => {
  const hard = makeMarkerImages({ scenes: 'hard' });
  let ours = 0, theirs = 0;
  for (const entry of hard) {
    const found = detectMarkers(entry.image).map((d) => d.key);
    const truth = new Set(entry.markers.map((m) => m.key));
    assert.deepEqual(found.filter((key) => !truth.has(key)), [], `${entry.name}: false detections`);
    for (const d of entry.opencv) assert.ok(found.includes(d.key), `${entry.name}: OpenCV finds ${d.key}, we do not`);
    ours += found.length;
    theirs += entry.opencv.filter((d) => truth.has(d.key)).length;
  }
  assert.ok(ours >= theirs, `we find ${ours} markers, OpenCV ${theirs}`);
});

test('images of clutter without markers give no detection', () => {
  const clutter = images.filter((entry) => entry.markers.length === 0);
  assert.ok(clutter.length >= 2);
  for (const entry of clutter) assert.deepEqual(detectMarkers(entry.image), [], entry.name);
  // Pure noise neither.
  let seed = 7;
  const data = new Uint8Array(640 * 360).map(() => { seed = (seed * 1103515245 + 12345) >>> 0; return seed >>> 24; });
  assert.deepEqual(detectMarkers({ data, width: 640, height: 360 }), []);
});

test('real photos and RGB-D frames without markers (../shared/data) give no detection', (t) => {
  if (!existsSync(SHARED_DATA)) {
    t.skip(`real test data not found at ${SHARED_DATA} (set TWIN_SHARED_DATA to use another copy)`);
    return;
  }
  const real = makeMarkerImages({ scenes: 'real' });
  assert.ok(real.length >= 20, `only ${real.length} real images`);
  for (const entry of real) assert.deepEqual(detectMarkers(entry.image), [], entry.name);
});

test('a marker seen twice in one image is left out; another one beside it is kept', () => {
  const entry = images.find((e) => e.name === 'pose_multi_1280');
  const { image } = entry;
  const truth = entry.markers.find((m) => m.key === 'DICT_4X4_50:21');
  // Copy the region round that marker to the image's bottom-left corner: the same key twice.
  const xs = truth.corners.map((c) => c[0]), ys = truth.corners.map((c) => c[1]);
  const x0 = Math.floor(Math.min(...xs)) - 25, y0 = Math.floor(Math.min(...ys)) - 25;
  const w = Math.ceil(Math.max(...xs)) + 25 - x0, h = Math.ceil(Math.max(...ys)) + 25 - y0;
  const data = Uint8Array.from(image.data);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) data[(image.height - h - 5 + y) * image.width + 5 + x] = image.data[(y0 + y) * image.width + x0 + x];
  }
  const keys = detectMarkers({ data, width: image.width, height: image.height }).map((d) => d.key);
  assert.ok(!keys.includes('DICT_4X4_50:21'), `found ${keys}`);
  assert.ok(keys.includes('DICT_4X4_50:3'), `found ${keys}`);
});

test('a single dictionary can be asked for', () => {
  const entry = images.find((e) => e.name === 'mixed_1280');
  const found = detectMarkers(entry.image, { dictionaries: ['DICT_APRILTAG_36h11'] });
  assert.deepEqual(found.map((d) => d.key).sort(),
    entry.markers.filter((m) => m.dictionary === 'DICT_APRILTAG_36h11').map((m) => m.key).sort());
});

test('outer contours: one a component, holes and what lies in them followed but only outer borders returned', () => {
  // A 20 px ring (square with a 10 px hole) holding a 4 px square, and a single pixel elsewhere.
  const width = 40, height = 30;
  const binary = new Uint8Array(width * height);
  const fill = (x0, y0, size, value) => {
    for (let y = y0; y < y0 + size; y++) for (let x = x0; x < x0 + size; x++) binary[y * width + x] = value;
  };
  fill(5, 5, 20, 1);
  fill(10, 10, 10, 0);
  fill(13, 13, 4, 1);
  binary[2 * width + 35] = 1;
  const contours = outerContours(binary, width, height, { minLength: 1, maxLength: 1000 }, new Int32Array((width + 2) * (height + 2)));
  const lengths = contours.map((c) => c.length / 2).sort((a, b) => a - b);
  assert.deepEqual(lengths, [1, 4 * 3, 4 * 19]); // a square of side s has 4 (s - 1) border pixels
  const ring = contours.find((c) => c.length / 2 === 76);
  const xs = ring.filter((_, i) => i % 2 === 0), ys = ring.filter((_, i) => i % 2 === 1);
  assert.deepEqual([Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)], [5, 24, 5, 24]);
  // Length limits leave out the small ones.
  assert.equal(outerContours(binary, width, height, { minLength: 20, maxLength: 1000 }, new Int32Array((width + 2) * (height + 2))).length, 1);
});

test('corner refinement moves guesses onto the square\'s edges; a side with no edge keeps its guess', () => {
  // A black square over pixels 30..69 (edges at 29.5 and 69.5) on white; right of it a dark band.
  const width = 100, height = 100;
  const data = new Uint8Array(width * height).fill(230);
  for (let y = 30; y < 70; y++) for (let x = 30; x < 70; x++) data[y * width + x] = 20;
  const guesses = [[30.2, 30.3], [69.1, 29.8], [69.2, 69.1], [29.9, 68.8]];
  const exact = refineCorners({ data, width, height }, guesses, 40 / 6);
  [[29.5, 29.5], [69.5, 29.5], [69.5, 69.5], [29.5, 69.5]].forEach(([x, y], i) => {
    assert.ok(Math.hypot(exact[i][0] - x, exact[i][1] - y) < 0.02, `corner ${i}: ${exact[i]}`);
  });
  for (let y = 20; y < 80; y++) for (let x = 70; x < 90; x++) data[y * width + x] = 25;
  const oneSideDark = refineCorners({ data, width, height }, guesses, 40 / 6);
  assert.ok(Math.abs(oneSideDark[0][0] - 29.5) < 0.02 && Math.abs(oneSideDark[0][1] - 29.5) < 0.02, `top-left ${oneSideDark[0]}`);
  assert.ok(Math.abs(oneSideDark[3][0] - 29.5) < 0.02 && Math.abs(oneSideDark[3][1] - 69.5) < 0.02, `bottom-left ${oneSideDark[3]}`);
  // The right side stays on the line through its guessed corners, where the top and bottom edges meet it.
  assert.ok(Math.abs(oneSideDark[1][1] - 29.5) < 0.02 && Math.abs(oneSideDark[1][0] - 69.1) < 0.05, `top-right ${oneSideDark[1]}`);
  assert.ok(Math.abs(oneSideDark[2][1] - 69.5) < 0.02 && Math.abs(oneSideDark[2][0] - 69.2) < 0.05, `bottom-right ${oneSideDark[2]}`);
});

test('bad input is refused with a sentence saying what to pass', () => {
  assert.throws(() => detectMarkers(null), /image \{ data, width, height \}/);
  assert.throws(() => detectMarkers({ data: new Uint8Array(10), width: 4, height: 4 }), /needs 16/);
  assert.throws(() => detectMarkers({ data: new Float32Array(16), width: 4, height: 4 }), /Uint8Array/);
  assert.throws(() => detectMarkers({ data: new Uint8Array(16), width: 4, height: 4 }, { dictionaries: ['DICT_5X5_9'] }), /unknown marker dictionary/);
  // Tiny images are fine and hold nothing.
  assert.deepEqual(detectMarkers({ data: new Uint8Array(1), width: 1, height: 1 }), []);
});
