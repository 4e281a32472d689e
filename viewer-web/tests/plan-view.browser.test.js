// The planner's 2D plan in headless Chromium against a real `twin serve` of the sample twin whose
// floor plan `twin plan` found: walls and machines drawn, a corner dragged is saved as a revision
// that another page sees, and the downloaded plan is a valid SVG of that revision.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { servedSampleSuite, screenshot, VENV_BIN } from './harness.js';

const suite = servedSampleSuite({
  points: 150_000,
  prepare: (folder) => execFileSync(join(VENV_BIN, 'twin'), ['plan', folder, '-o', join(folder, 'plan.svg')], { stdio: ['ignore', 'ignore', 'inherit'] }),
});
const { open, adminUrl } = suite;

/** What the page's plan view draws: walls (points in plan metres), machines (centre), corner handles. */
function planShown(page) {
  return page.evaluate(() => {
    const view = document.querySelector('[data-testid=plan-view]');
    const box = view.getBoundingClientRect();
    const points = (element) => element.getAttribute('points').trim().split(/\s+/).map((p) => p.split(',').map(Number)).map(([x, y]) => [x, -y]);
    const inside = (element) => { const r = element.getBoundingClientRect(); return r.width + r.height > 5 && r.left >= box.left - 1 && r.right <= box.right + 1 && r.top >= box.top - 1 && r.bottom <= box.bottom + 1; };
    return {
      size: [box.width, box.height],
      walls: [...view.querySelectorAll('[data-testid=plan-wall]')].map((w) => ({ id: w.dataset.id, points: points(w), shown: inside(w) })),
      machines: [...view.querySelectorAll('[data-testid=plan-machine]')].map((m) => {
        const corners = points(m.querySelector('polygon'));
        return { id: m.dataset.id, name: m.textContent, shown: inside(m), centre: [0, 1].map((k) => corners.reduce((s, c) => s + c[k], 0) / corners.length) };
      }),
      corners: view.querySelectorAll('[data-testid=plan-corner]').length,
    };
  });
}

const near = (a, b, tolerance) => Math.hypot(a[0] - b[0], a[1] - b[1]) < tolerance;

test('planner: the 2D plan shows the walls and machines, a dragged corner is a revision another page sees, and the plan downloads as SVG', async () => {
  const page = await open(adminUrl('?mode=planner&lang=en'));
  await page.waitForSelector('[data-testid=plan-wall]', { timeout: 30_000 });
  const shown = await planShown(page);
  assert.ok(shown.size[0] > 200 && shown.size[1] > 100, `the plan has room on the page: ${shown.size}`);
  assert.equal(shown.walls.length, 4);
  assert.ok(shown.walls.every((w) => w.shown), 'every wall is drawn inside the plan');
  const ends = shown.walls.flatMap((w) => w.points);
  for (const corner of [[0, 0], [8, 0], [8, 6], [0, 6]]) assert.ok(ends.some((p) => near(p, corner, 0.03)), `a wall ends at ${corner}`);
  // The machines where the document puts them (their footprints' centres, from bounds and pose).
  const machines = Object.fromEntries(shown.machines.map((m) => [m.id, m]));
  assert.deepEqual(Object.keys(machines).sort(), ['cnc-1', 'laser-1', 'lathe-1', 'printer-1']);
  assert.ok(near(machines['cnc-1'].centre, [6.6, 5.35], 0.01) && machines['cnc-1'].name === 'CNC milling machine', JSON.stringify(machines['cnc-1']));
  assert.ok(near(machines['laser-1'].centre, [7.45, 2.4], 0.01), JSON.stringify(machines['laser-1']));
  assert.ok(shown.machines.every((m) => m.shown));
  assert.equal(shown.corners, 4, 'a planner gets a handle on each corner');

  const other = await open(`${suite.server.url}?mode=planner&lang=en`);
  await other.waitForSelector('[data-testid=plan-wall]', { timeout: 30_000 });
  assert.equal((await planShown(other)).corners, 0, 'a visitor sees the plan but gets no handles');
  const revisionBefore = await page.evaluate(() => window.twinViewer.connection.twins.get(window.twinViewer.twinName).revision);

  // Drag the south-west corner 30 cm east and 20 cm north (the plan scrolled into the panel's view first).
  await page.locator('[data-testid=plan-view]').scrollIntoViewIfNeeded();
  const path = await page.evaluate(() => {
    const view = document.querySelector('[data-testid=plan-view]');
    const handle = [...view.querySelectorAll('[data-testid=plan-corner]')].find((c) => Math.hypot(Number(c.getAttribute('cx')), Number(c.getAttribute('cy'))) < 0.05);
    const toScreen = (x, y) => new DOMPoint(x, -y).matrixTransform(view.getScreenCTM());
    const from = toScreen(Number(handle.getAttribute('cx')), -Number(handle.getAttribute('cy')));
    const to = toScreen(0.3, 0.2);
    return { from: [from.x, from.y], to: [to.x, to.y] };
  });
  await page.mouse.move(...path.from);
  await page.mouse.down();
  await page.mouse.move(...path.to, { steps: 8 });
  await page.mouse.up();

  const corrected = await other.waitForFunction(() => {
    const walls = window.twinViewer.document.floor_plan?.walls || [];
    const moved = walls.flatMap((w) => w.points).filter((p) => Math.hypot(p[0] - 0.3, p[1] - 0.2) < 0.03);
    return moved.length === 2 && { walls, revision: window.twinViewer.connection.twins.get(window.twinViewer.twinName).revision };
  }, null, { timeout: 30_000, polling: 100 }).then((handle) => handle.jsonValue());
  assert.ok(corrected.revision > revisionBefore, `a new revision: ${revisionBefore} -> ${corrected.revision}`);
  const otherShown = await planShown(other);
  assert.equal(otherShown.walls.filter((w) => w.points.some((p) => near(p, [0.3, 0.2], 0.03))).length, 2, 'the other page draws both moved walls');
  assert.ok(!otherShown.walls.flatMap((w) => w.points).some((p) => near(p, [0, 0], 0.03)), 'and no wall at the old corner');
  // A wall's thickness (as twin plan measures it where both faces were seen) shows as its other face.
  await page.evaluate(() => window.twinViewer.connection.edit(window.twinViewer.twinName, () => [{ op: 'add', path: '/floor_plan/walls/1/thickness_m', value: 0.24 }]));
  await other.waitForSelector('[data-testid=plan-wall-other-face]', { timeout: 30_000 });
  const [wall, face] = await other.evaluate(() => ['plan-wall', 'plan-wall-other-face'].map((id) => document.querySelectorAll(`[data-testid=${id}]`)[id === 'plan-wall' ? 1 : 0].getAttribute('points')));
  const gap = (a, b) => { const [p, q] = [a, b].map((t) => t.trim().split(/\s+/)[0].split(',').map(Number)); return Math.hypot(p[0] - q[0], p[1] - q[1]); };
  assert.ok(Math.abs(gap(wall, face) - 0.24) < 1e-6, `the other face 0.24 m out: ${wall} / ${face}`);
  await screenshot(page, 'plan-view');
  await screenshot(other, 'plan-view-other-page');

  // The download is the server's plan of that revision, a valid SVG with the corrected wall.
  await page.waitForSelector('[data-testid=plan-wall-other-face]', { timeout: 30_000 });
  const [download] = await Promise.all([page.waitForEvent('download', { timeout: 30_000 }), page.click('[data-testid=plan-download-svg]')]);
  assert.equal(download.suggestedFilename(), 'sample-as-scanned-plan.svg');
  const text = readFileSync(await download.path(), 'utf8');
  const parsed = await page.evaluate((source) => {
    const svg = new DOMParser().parseFromString(source, 'image/svg+xml');
    return { error: svg.querySelector('parsererror')?.textContent ?? null, root: svg.documentElement.localName,
      walls: svg.querySelectorAll('#walls polyline').length, texts: [...svg.querySelectorAll('text')].map((t) => t.textContent) };
  }, text);
  assert.equal(parsed.error, null);
  assert.equal(parsed.root, 'svg');
  assert.equal(parsed.walls, 5, 'four walls and the thick one\'s other face');
  assert.ok(parsed.texts.includes('CNC milling machine'), parsed.texts.join(' | '));
  assert.ok(parsed.texts.some((t) => t.includes(`revision: ${corrected.revision + 1}`)), parsed.texts.join(' | '));
  assert.ok(parsed.texts.includes('wall 0.24'), 'the downloaded plan says how thick the wall is');
  assert.deepEqual(page.consoleErrors, []);
});
