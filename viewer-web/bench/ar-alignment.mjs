// Benchmark of marker-based AR alignment on the iwer emulator with emulated camera access
// (tests/fixtures/xr-camera-access.js): for the sample workshop's printed markers seen from
// several distances and angles, how long the alignment takes, how far it is from the room's
// true transform, and what it costs the render thread. The anchor is the same session's own
// frame time once aligned (no camera frames read): the ratio says how much slower frames are
// while the markers are looked for. Headless Chromium with SwiftShader: the CPU draws, so
// frame times are far above a phone's GPU; the ratio and the accuracy carry over better.
//
// usage: node bench/ar-alignment.mjs [--field-of-view 60]

import { join } from 'node:path';
import { writeFileSync, mkdirSync } from 'node:fs';
import { checkBuilt, scratch, makeSampleTwin, startServer, launchBrowser, openViewer, xrEmulatorScript, ARTIFACTS } from '../tests/harness.js';
import { furnishRoom, lookAtMarker, phoneFieldOfView, enterAr, alignmentError } from '../tests/ar-room.js';

const args = process.argv.slice(2);
const option = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : fallback; };
const fieldOfViewDeg = option('--field-of-view', 60);
const ROOM = { turnDeg: 35, shift: [0.6, 0, -1.2] };
const ALIGN_TIMEOUT_MS = 15_000;
const FRAME_WINDOW_MS = 2000;

// Each scenario: where the device looks, in turn ([marker id, distance m, side deg]).
const SCENARIOS = [
  { name: 'one marker, 0.8 m, head-on', views: [['marker-0', 0.8, 0]] },
  { name: 'one marker, 1.5 m, 30 deg', views: [['marker-0', 1.5, 30]] },
  { name: 'one marker, 2.5 m, 30 deg', views: [['marker-0', 2.5, 30]] },
  { name: 'one marker, 3.5 m, head-on', views: [['marker-0', 3.5, 0]] },
  { name: 'one marker, 1.2 m, 60 deg', views: [['marker-0', 1.2, 60]] },
  { name: 'one marker from 3.5 m, then 1.2 m at 40 deg', views: [['marker-0', 3.5, 0], ['marker-0', 1.2, 40]] },
  { name: 'one marker from three places, 1.2 m', views: [['marker-0', 1.2, -35], ['marker-0', 1.2, 0], ['marker-0', 1.2, 35]] },
  { name: 'one marker from three places, 0.8 m', views: [['marker-0', 0.8, -35], ['marker-0', 0.8, 0], ['marker-0', 0.8, 35]] },
  { name: 'two markers, one wall, 1.3 m', views: [['marker-0', 1.3, -20], ['marker-1', 1.3, 15]] },
  { name: 'two markers, two walls, 1.3 m', views: [['marker-0', 1.3, -20], ['marker-2', 1.3, 15]] },
];

const median = (values) => { const s = values.slice().sort((a, b) => a - b); return s.length ? s[Math.floor(s.length / 2)] : NaN; };
const mean = (values) => (values.length ? values.reduce((s, v) => s + v, 0) / values.length : NaN);

// Times the aligner's camera reads (on the render thread, and until the pixels are back),
// detector round trips (worker), and every frame.
function instrument(page) {
  return page.evaluate(() => {
    const aligner = window.twinViewer.ar.markers;
    const stats = { grabMs: [], readMs: [], roundTripMs: [], frameTimes: [], sent: new Map() };
    window.benchStats = stats;
    const grab = aligner.camera.grab.bind(aligner.camera);
    aligner.camera.grab = (...a) => {
      const t = performance.now();
      const reading = grab(...a);
      stats.grabMs.push(performance.now() - t);
      reading?.then(() => stats.readMs.push(performance.now() - t));
      return reading;
    };
    const post = aligner.worker.postMessage.bind(aligner.worker);
    aligner.worker.postMessage = (message, transfer) => { stats.sent.set(message.id, performance.now()); post(message, transfer); };
    const located = aligner.located.bind(aligner);
    aligner.located = (data) => { if (stats.sent.has(data.id)) stats.roundTripMs.push(performance.now() - stats.sent.get(data.id)); located(data); };
    window.twinViewer.viewer.onFrame(() => stats.frameTimes.push(performance.now()));
    stats.start = performance.now();
  });
}

async function run(page, room, scenario) {
  const byId = Object.fromEntries(room.markers.map((m) => [m.id, m]));
  const [first, ...rest] = scenario.views;
  await lookAtMarker(page, byId[first[0]].T_xr_marker, first[1], first[2]);
  await enterAr(page);
  await instrument(page);
  // The next view once this one gave two frames.
  for (const [k, [id, distance, side]] of rest.entries()) {
    await page.waitForFunction((n) => window.twinViewer.ar.markers?.sightings.length >= n || window.twinViewer.ar.alignment, 2 * (k + 1), { timeout: ALIGN_TIMEOUT_MS, polling: 50 }).catch(() => {});
    await lookAtMarker(page, byId[id].T_xr_marker, distance, side);
  }
  const aligned = await page.waitForFunction(() => window.twinViewer.ar.alignment, null, { timeout: ALIGN_TIMEOUT_MS, polling: 50 }).then(() => true, () => false);
  const alignedAt = await page.evaluate(() => performance.now());
  await page.waitForTimeout(FRAME_WINDOW_MS); // frames after alignment: the anchor
  const stats = await page.evaluate((alignedAt) => {
    const { grabMs, readMs, roundTripMs, frameTimes, start } = window.benchStats;
    const intervals = (from, to) => frameTimes.filter((t) => t > from && t <= to).map((t, i, all) => (i ? t - all[i - 1] : null)).filter((v) => v !== null);
    const { ar } = window.twinViewer;
    return { grabMs, readMs, roundTripMs, searching: intervals(start, alignedAt), settled: intervals(alignedAt, performance.now()), alignMs: alignedAt - start,
      alignment: ar.alignment, status: ar.markers?.status ?? null };
  }, alignedAt);
  const error = aligned ? await alignmentError(page, room, scenario.views.map(([id]) => id)) : null;
  await page.evaluate(() => window.twinViewer.ar.end());
  await page.waitForFunction(() => !window.twinViewer.ar.session, null, { timeout: 30_000 });
  return { scenario: scenario.name, aligned, ...stats, error };
}

checkBuilt();
const work = scratch('twin-viewer-bench-');
try {
  const folder = makeSampleTwin(join(work.dir, 'sample'), { points: 100_000 });
  const server = await startServer([folder], { db: join(work.dir, 'twin.sqlite'), publish: ['sample'] });
  const browser = await launchBrowser();
  const rows = [];
  try {
    const page = await openViewer(browser.context, server.adminUrl.replace('/#', '/?mode=instructions&lang=en#'), { initScript: xrEmulatorScript({ cameraAccess: true }) });
    await phoneFieldOfView(page, fieldOfViewDeg);
    const room = await furnishRoom(page, ROOM);
    for (const scenario of SCENARIOS) {
      const r = await run(page, room, scenario);
      rows.push(r);
      process.stderr.write(`${scenario.name}: ${JSON.stringify({ ...r, grabMs: undefined, readMs: undefined, roundTripMs: undefined, searching: undefined, settled: undefined })}\n`);
    }
  } finally {
    await browser.close();
    await server.stop();
  }
  console.log('| scenario | aligned by | time to align s | turn uncertainty deg | turn off deg | off at markers cm | off at room corners cm (max) | reprojection px | residual cm | camera read ms: render thread / until read | detector round trip ms (worker) | frame ms searching / aligned (ratio) |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of rows) {
    const a = r.alignment, e = r.error;
    const searching = mean(r.searching), settled = mean(r.settled);
    console.log(`| ${r.scenario} | ${r.aligned ? `${a.markers.length} marker(s), ${a.frames} frames` : `not aligned (${r.status?.phase})`} | ${r.aligned ? (r.alignMs / 1000).toFixed(1) : '-'} | ${(a ?? r.status)?.turnUncertaintyDeg?.toFixed(2) ?? '-'} | ${e ? e.turnDeg.toFixed(3) : '-'} | ${e ? (e.atMarkersM * 100).toFixed(2) : '-'} | ${e ? (Math.max(e.atOriginM, e.atFarCornerM) * 100).toFixed(2) : '-'} | ${a ? a.reprojectionErrorPx.toFixed(2) : '-'} | ${a ? (a.residualM * 100).toFixed(2) : '-'} | ${median(r.grabMs).toFixed(1)} / ${median(r.readMs).toFixed(0)} | ${median(r.roundTripMs).toFixed(0)} | ${searching.toFixed(0)} / ${settled.toFixed(0)} (${(searching / settled).toFixed(2)}) |`);
  }
  console.log(`(vertical field of view ${fieldOfViewDeg} deg, camera 1280 px wide read at 640 px, 16 cm markers; room turned ${ROOM.turnDeg} deg and shifted ${ROOM.shift.join(', ')} m; headless Chromium with SwiftShader)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(join(ARTIFACTS, 'ar-alignment.json'), JSON.stringify(rows.map((r) => ({ ...r, searching: undefined, settled: undefined, frameMsSearching: mean(r.searching), frameMsAligned: mean(r.settled) })), null, 2));
} finally {
  work.remove();
}
