// Benchmark of the viewer's marker detector (src/markers/detect.js, pure JS, one thread) against
// OpenCV's aruco detector from Python (the photo pipeline's settings: both dictionaries, sub-pixel
// corners) on the same OpenCV-drawn images (tests/fixtures/make_marker_images.py): detection time
// per frame at 1280x720 and 640x360, markers found and median corner error against the truth, for
// the test images, for harder ones (tiny, steep, blurry, noisy markers) and for the real photos of
// ../shared/data (no markers: the cost of looking, and false detections). A second table gives
// the camera pose's error from one 16 cm marker at 1 to 3 m: ours (detectMarkers, then
// cameraPoseFromMarkers) against cv.solvePnP (IPPE, then Levenberg-Marquardt) on OpenCV's corners.
// The two sides alternate (OpenCV, ours, OpenCV, ours) and each keeps its faster round, so a busy
// machine weighs on both alike.
//
// usage: node bench/markers.mjs [--runs 15]

import { performance } from 'node:perf_hooks';
import { detectMarkers } from '../src/ar/markers/detect.js';
import { cameraPoseFromMarkers } from '../src/ar/markers/pose.js';
import { makeMarkerImages, poseError } from '../tests/fixtures/marker-images.js';

const args = process.argv.slice(2);
const runs = args.includes('--runs') ? Number(args[args.indexOf('--runs') + 1]) : 15;
const ROUNDS = 2;

const median = (values) => values.slice().sort((a, b) => a - b)[Math.floor(values.length / 2)];
const decimals = (value, digits) => (value === undefined ? '-' : value.toFixed(digits));

function timeOurs(image) {
  const times = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    detectMarkers(image);
    times.push(performance.now() - started);
  }
  return median(times);
}

function cornerErrors(found, truthMarkers) {
  const errors = [];
  for (const truth of truthMarkers) {
    const hit = found.find((d) => d.key === truth.key);
    if (hit) hit.corners.forEach(([x, y], i) => errors.push(Math.hypot(x - truth.corners[i][0], y - truth.corners[i][1])));
  }
  return errors;
}

let images = null;
const ours = new Map(), theirs = new Map();
const keepFaster = (map, name, value) => map.set(name, Math.min(map.get(name) ?? Infinity, value));
for (let round = 0; round < ROUNDS; round++) {
  // The fixture is seeded: every round draws the same images, then OpenCV times itself on them.
  images = ['drawn', 'hard', 'real'].flatMap((scenes) => makeMarkerImages({ scenes, timeRuns: runs }));
  for (const entry of images) {
    for (const [threads, ms] of Object.entries(entry.opencv_ms)) keepFaster(theirs, `${entry.name} ${threads}`, ms);
    detectMarkers(entry.image); // warm-up: the first call compiles
    keepFaster(ours, entry.name, timeOurs(entry.image));
  }
}

const threadKeys = Object.keys(images[0].opencv_ms);
const rows = [];
const groupName = (e) => `${e.source} ${e.width}x${e.height}`;
for (const name of new Set(images.map(groupName))) {
  const group = images.filter((e) => groupName(e) === name);
  const truthCount = group.reduce((s, e) => s + e.markers.length, 0);
  const ourFound = group.map((e) => detectMarkers(e.image));
  const ourHits = ourFound.reduce((s, found, i) => s + found.filter((d) => group[i].markers.some((m) => m.key === d.key)).length, 0);
  const ourFalse = ourFound.reduce((s, found, i) => s + found.filter((d) => !group[i].markers.some((m) => m.key === d.key)).length, 0);
  const cvHits = group.reduce((s, e) => s + e.opencv.filter((d) => e.markers.some((m) => m.key === d.key)).length, 0);
  const cvFalse = group.reduce((s, e) => s + e.opencv.filter((d) => !e.markers.some((m) => m.key === d.key)).length, 0);
  const ourMs = median(group.map((e) => ours.get(e.name)));
  const cvMs = Object.fromEntries(threadKeys.map((k) => [k, median(group.map((e) => theirs.get(`${e.name} ${k}`)))]));
  rows.push({
    images: name, count: group.length, markers: truthCount,
    'ours found (false)': `${ourHits} (${ourFalse})`, 'OpenCV found (false)': `${cvHits} (${cvFalse})`,
    'ours ms': ourMs.toFixed(1),
    ...Object.fromEntries(threadKeys.map((k) => [`OpenCV ms ${k.replace('threads_', '')} thr`, cvMs[k].toFixed(1)])),
    'ours / OpenCV 1 thr': (ourMs / cvMs.threads_1).toFixed(2),
    'ours corner px (median)': decimals(median(ourFound.flatMap((found, i) => cornerErrors(found, group[i].markers))), 3),
    'OpenCV corner px (median)': decimals(median(group.flatMap((e) => cornerErrors(e.opencv, e.markers))), 3),
  });
}
console.log(`marker detection per frame (median over each size's images of the median of ${runs} runs; both dictionaries; node ${process.version})`);
console.table(rows);

const poseRows = [];
const distanceImages = makeMarkerImages({ scenes: 'distance' });
for (const width of [1280, 640]) {
  for (const distance of ['1', '1.5', '2', '3']) {
    const group = distanceImages.filter((e) => e.width === width && e.name.startsWith(`distance${distance}m_`));
    const ourErrors = group.map((e) => {
      const pose = cameraPoseFromMarkers(detectMarkers(e.image), new Map(e.markers.map((m) => [m.key, m])), e.K);
      return pose && poseError(pose.T_world_camera, e.T_world_camera);
    });
    const theirErrors = group.map((e) => e.opencv_T_world_camera && poseError(e.opencv_T_world_camera, e.T_world_camera));
    const summary = (errors) => {
      const found = errors.filter(Boolean);
      if (found.length === 0) return ['-', '-'];
      return [median(found.map((e) => e.distanceM * 100)).toFixed(2), median(found.map((e) => e.angleDeg)).toFixed(3)];
    };
    const [ourCm, ourDeg] = summary(ourErrors), [theirCm, theirDeg] = summary(theirErrors);
    poseRows.push({
      frame: `${group[0].width}x${group[0].height}`, 'distance m': Number(distance), 'marker px': Math.round(group[0].markers[0].side_px),
      images: group.length, 'ours posed': ourErrors.filter(Boolean).length, 'OpenCV posed': theirErrors.filter(Boolean).length,
      'ours cm': ourCm, 'OpenCV cm': theirCm, 'ours deg': ourDeg, 'OpenCV deg': theirDeg,
    });
  }
}
console.log('camera pose error from one 16 cm marker turned 30 deg (median over the images)');
console.table(poseRows);
