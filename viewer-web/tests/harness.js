// What the browser tests and the benchmark share: the sample twin made at run time, a real
// `twin serve` on a free port, headless Debian Chromium through playwright-core, screenshots.

import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { chromium } from 'playwright-core';

const HERE = dirname(fileURLToPath(import.meta.url));
export const VIEWER_ROOT = resolve(HERE, '..');
export const PROJECT_ROOT = resolve(VIEWER_ROOT, '..');
export const ARTIFACTS = join(PROJECT_ROOT, 'artifacts', 'viewer');
export const VENV_BIN = join(PROJECT_ROOT, '.venv', 'bin');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export function checkBuilt() {
  if (!existsSync(join(VIEWER_ROOT, 'dist', 'index.html'))) {
    throw new Error('viewer-web/dist is missing: run "npm run build" first (scripts/test.sh does).');
  }
}

/** A fresh temporary folder, removed by the returned function. */
export function scratch(prefix = 'twin-viewer-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Makes the sample workshop's scan folder and exports its twin (tests/fixtures/make_sample_twin.py). */
export function makeSampleTwin(folder, { points = 400_000 } = {}) {
  execFileSync(join(VENV_BIN, 'python'), [join(HERE, 'fixtures', 'make_sample_twin.py'), folder, '--points', String(points)], { stdio: ['ignore', 'ignore', 'inherit'] });
  return folder;
}

/** Starts `twin serve` on a free port; resolves with its URLs once it says where to go. */
export function startServer(folders, { db, publish = [] } = {}) {
  const args = ['serve', ...folders, '--port', '0', '--db', db, ...publish.flatMap((name) => ['--publish', name])];
  const child = spawn(join(VENV_BIN, 'twin'), args, { cwd: PROJECT_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`twin serve did not start in 60 s:\n${output}`)), 60_000);
    const read = (chunk) => {
      output += chunk;
      const url = output.match(/^open (http\S+)/m)?.[1];
      const admin = output.match(/^admin link .*?: (http\S+)/m)?.[1];
      if (url && admin && /stop with Ctrl-C/.test(output)) {
        clearTimeout(timer);
        resolvePromise({
          url, adminUrl: admin, adminToken: new URL(admin).hash.replace('#token=', ''), child,
          output: () => output,
          stop: () => new Promise((done) => { if (child.exitCode !== null) return done(); child.once('exit', done); child.kill('SIGTERM'); }),
        });
      }
    };
    child.stdout.on('data', read);
    child.stderr.on('data', read);
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`twin serve exited with ${code}:\n${output}`)); });
  });
}

/** Headless Chromium with a fresh profile; `device` overrides the viewport (e.g. a phone's, with touch). */
export async function launchBrowser(device = {}) {
  const userDataDir = scratch('twin-chromium-');
  const context = await chromium.launchPersistentContext(userDataDir.dir, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1100, height: 760 },
    ...device,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--disable-quic', '--no-first-run', '--use-angle=swiftshader', '--enable-unsafe-swiftshader',
      '--ignore-gpu-blocklist'],
  });
  return { context, close: async () => { await context.close(); userDataDir.remove(); } };
}

/** Opens the viewer and waits until it is running (not necessarily fully streamed). */
export async function openViewer(context, url, { timeoutMs = 180_000, initScript = null } = {}) {
  const page = await context.newPage();
  if (initScript) await page.addInitScript(initScript);
  page.consoleErrors = [];
  page.on('console', (m) => m.type() === 'error' && page.consoleErrors.push(m.text()));
  page.on('pageerror', (e) => page.consoleErrors.push(String(e)));
  await page.goto(url);
  try {
    await page.waitForFunction(() => window.twinViewer && (window.twinViewer.ready || window.twinViewer.failed), null, { timeout: timeoutMs, polling: 100 });
  } catch (error) {
    const stage = await page.evaluate(() => window.twinViewer?.stage).catch(() => 'unknown');
    throw new Error(`the viewer was not ready in ${timeoutMs / 1000} s (it was ${stage}): ${error.message}`);
  }
  const failed = await page.evaluate(() => window.twinViewer.failed);
  if (failed) throw new Error(`the viewer failed to start: ${failed}`);
  return page;
}

export async function waitForFullLoad(page, timeoutMs = 300_000) {
  await page.waitForFunction(() => window.twinViewer.progress.complete, null, { timeout: timeoutMs, polling: 200 });
}

export async function screenshot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const path = join(ARTIFACTS, `${name}.png`);
  await page.screenshot({ path });
  return path;
}

/**
 * An init script that installs Meta's WebXR emulator (iwer, a Quest 3) with its synthetic
 * environment module (@iwer/sem, for hit-test) before the page's own scripts run. With
 * `cameraAccess`, the emulator also grants WebXR Raw Camera Access, its camera seeing the room
 * the test sets (tests/fixtures/xr-camera-access.js).
 */
export function xrEmulatorScript({ cameraAccess = false } = {}) {
  const iwer = readFileSync(join(VIEWER_ROOT, 'node_modules', 'iwer', 'build', 'iwer.min.js'), 'utf8');
  const sem = readFileSync(join(VIEWER_ROOT, 'node_modules', '@iwer', 'sem', 'build', 'iwer-sem.min.js'), 'utf8');
  // Chromium has a navigator.xr of its own (without AR here): the emulator replaces it.
  const install = `
    window.xrDevice = new IWER.XRDevice(IWER.metaQuest3);
    window.xrDevice.installRuntime({ forceInstall: true });
    window.xrDevice.installSEM(IWER_SEM.SyntheticEnvironmentModule);`;
  const camera = cameraAccess ? readFileSync(join(HERE, 'fixtures', 'xr-camera-access.js'), 'utf8') : '';
  return `${iwer}\n${sem}\n${install}\n${camera}`;
}

/** One of the rooms @iwer/sem ships (captures/NAME.json), as JSON to load into the emulator. */
export function xrEnvironment(name = 'office_small') {
  return JSON.parse(readFileSync(join(VIEWER_ROOT, 'node_modules', '@iwer', 'sem', 'captures', `${name}.json`), 'utf8'));
}

/**
 * The browser suites' common setting, registered as node:test hooks: the sample twin made
 * (`points` cloud points) and served by a real `twin serve`, one Chromium (`device` as for
 * launchBrowser), `prepare(folder)` run on the scan folder before it is served, and every page a
 * test opened closed after it (SwiftShader draws them all on the CPU). Returns { server, browser, open(url, options), adminUrl(query) }; server and browser
 * are set once the suite's `before` hook has run.
 */
export function servedSampleSuite({ points = 400_000, device = {}, prepare = null } = {}) {
  const suite = { server: null, browser: null };
  const pages = [];
  let workspace;
  before(async () => {
    checkBuilt();
    workspace = scratch();
    const folder = makeSampleTwin(join(workspace.dir, 'sample'), { points });
    prepare?.(folder);
    suite.server = await startServer([folder], { db: join(workspace.dir, 'twin.sqlite'), publish: ['sample'] });
    suite.browser = await launchBrowser(device);
  });
  after(async () => {
    await suite.browser?.close();
    await suite.server?.stop();
    workspace?.remove();
  });
  afterEach(async () => {
    for (const page of pages.splice(0)) if (!page.isClosed()) await page.close();
  });
  suite.open = async (url, options) => {
    const page = await openViewer(suite.browser.context, url, options);
    pages.push(page);
    return page;
  };
  /** Pages opened some other way, to be closed after the test too. */
  suite.track = (page) => pages.push(page);
  suite.adminUrl = (query = '') => suite.server.adminUrl.replace('/#', `/${query}#`);
  return suite;
}

/**
 * In an AR session whose view shows anchored labels: they add drawn pixels (the frame captured
 * with and without them, reticle hidden), the view is kept as screenshot `name`, and the session ends.
 */
export async function assertLabelsDrawnThenEndAr(page, name) {
  await page.waitForTimeout(500);
  const pixels = await page.evaluate(async () => {
    const app = window.twinViewer;
    app.ar.reticle.material.visible = false;
    const withLabels = await app.viewer.capture();
    app.placement.showNameLabels(false);
    const without = await app.viewer.capture();
    app.placement.showNameLabels(true);
    app.ar.reticle.material.visible = true;
    return { withLabels: withLabels.geometryFraction, without: without.geometryFraction };
  });
  assert.ok(pixels.withLabels > pixels.without + 0.001, `labels add drawn pixels: ${JSON.stringify(pixels)}`);
  await screenshot(page, name);
  await page.evaluate(() => window.twinViewer.ar.end());
  await page.waitForFunction(() => !window.twinViewer.ar.session, null, { timeout: 30_000 });
}
