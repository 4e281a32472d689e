// Benchmark of the viewer on loopback: time from page load (navigation start) to the first
// visible geometry and to the full point budget, for the sample workshop's twin and for a
// 10-million-point tiled cloud of the same room, in headless Chromium (SwiftShader: the CPU
// draws, so these are upper bounds of what a GPU would do). Each run is a fresh browser
// profile (cold cache). Goal: first geometry within 1 s.
//
// usage: node bench/load-time.mjs [--runs 3] [--big-points 10000000] [--no-big]

import { join } from 'node:path';
import { writeFileSync, mkdirSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { checkBuilt, scratch, makeSampleTwin, startServer, launchBrowser, openViewer, waitForFullLoad, ARTIFACTS } from '../tests/harness.js';
import { DESKTOP_POINT_BUDGET, PHONE_POINT_BUDGET } from '../src/scene/tiles.js';

const args = process.argv.slice(2);
const option = (name, fallback) => { const i = args.indexOf(name); return i >= 0 ? Number(args[i + 1]) : fallback; };
const runs = option('--runs', 3);
const bigPoints = option('--big-points', 10_000_000);
const withBig = !args.includes('--no-big');

const median = (values) => { const s = values.slice().sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };

async function measure(url) {
  const browser = await launchBrowser();
  try {
    const page = await openViewer(browser.context, url, { timeoutMs: 300_000 });
    await waitForFullLoad(page, 600_000);
    return await page.evaluate(() => {
      const app = window.twinViewer;
      return { firstGeometryMs: app.timings.firstGeometry, fullBudgetMs: app.timings.fullBudget, points: app.progress.points,
        tiles: app.tiles?.progress.loadedTiles ?? 0, budget: app.tiles?.pointBudget ?? 0 };
    });
  } finally {
    await browser.close();
  }
}

checkBuilt();
const work = scratch('twin-viewer-bench-');
try {
  const twins = [{ name: 'sample', points: 400_000 }];
  if (withBig) twins.push({ name: 'cloud10m', points: bigPoints });
  for (const twin of twins) {
    const started = performance.now();
    makeSampleTwin(join(work.dir, twin.name), { points: twin.points });
    process.stderr.write(`made ${twin.name} (${twin.points.toLocaleString()} points) in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
  const server = await startServer(twins.map((t) => join(work.dir, t.name)), { db: join(work.dir, 'twin.sqlite'), publish: twins.map((t) => t.name) });
  const rows = [];
  try {
    for (const twin of twins) {
      for (const budget of [DESKTOP_POINT_BUDGET, PHONE_POINT_BUDGET]) {
        const results = [];
        for (let run = 0; run < runs; run++) results.push(await measure(`${server.url}?twin=${twin.name}&mode=tour&budget=${budget}`));
        const first = results.map((r) => r.firstGeometryMs);
        const full = results.map((r) => r.fullBudgetMs);
        rows.push({ twin: twin.name, cloudPoints: twin.points, budget, runs,
          firstGeometryMs: median(first), firstGeometryBestMs: Math.min(...first), fullBudgetMs: median(full), fullBudgetBestMs: Math.min(...full),
          pointsShown: median(results.map((r) => r.points)), tiles: median(results.map((r) => r.tiles)) });
        process.stderr.write(`${twin.name} budget ${budget}: ${JSON.stringify(results)}\n`);
      }
    }
  } finally {
    await server.stop();
  }
  console.log('| twin | cloud points | point budget | first geometry, median (best) ms | full budget, median (best) ms | points shown | tiles | first geometry <= 1000 ms (median) |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows) {
    console.log(`| ${r.twin} | ${r.cloudPoints.toLocaleString('en')} | ${r.budget.toLocaleString('en')} | ${r.firstGeometryMs.toFixed(0)} (${r.firstGeometryBestMs.toFixed(0)}) | ${r.fullBudgetMs.toFixed(0)} (${r.fullBudgetBestMs.toFixed(0)}) | ${r.pointsShown.toLocaleString('en')} | ${r.tiles} | ${r.firstGeometryMs <= 1000 ? 'met' : 'missed'} |`);
  }
  console.log(`(${runs} cold runs each; times from navigation start; headless Chromium with SwiftShader on loopback)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  writeFileSync(join(ARTIFACTS, 'load-time.json'), JSON.stringify(rows, null, 2));
} finally {
  work.remove();
}
