// The viewer's layout on a 390x844 phone (touch, CDP touch events) and on a 1100x760 desktop:
// a one-row top bar, the progress bar gone once the twin is complete, mode panels that fold to
// a one-line handle (by touch and by keyboard, remembered per mode) and leave most of the screen
// to the 3D view, the step at hand always shown, and on the desktop no panel over the bar.
// Screenshots go to artifacts/viewer/phone-*.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { servedSampleSuite, launchBrowser, openViewer, waitForFullLoad, screenshot } from './harness.js';

const PHONE = { viewport: { width: 390, height: 844 }, screen: { width: 390, height: 844 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2 };
const MODES = ['instructions', 'tour', 'planner'];
// The bar of a phone is one row of 40 px controls.
const PHONE_BAR_MAX_PX = 56;
// Folded, the panel leaves at least this share of the phone's screen to the 3D view.
const FOLDED_FREE_SHARE = 0.6;

const suite = servedSampleSuite({ points: 200_000, device: PHONE });
const { adminUrl } = suite;

/**
 * A finger put down in the middle of `selector`, slid `dy` CSS pixels down (up if negative) in
 * a few frames, and lifted, as the phone's screen reports it (CDP touch events); dy 0 is a tap.
 */
async function touchOn(page, selector, dy = 0) {
  const box = await page.locator(selector).boundingBox();
  assert.ok(box, `${selector} is on the screen`);
  const cdp = await page.context().newCDPSession(page);
  const at = (y) => ({ touchPoints: [{ x: box.x + box.width / 2, y, id: 0, radiusX: 4, radiusY: 4, force: 1 }] });
  const y0 = box.y + box.height / 2;
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', ...at(y0) });
  for (let k = 1; dy && k <= 6; k++) {
    await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', ...at(y0 + (dy * k) / 6) });
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve())));
  }
  await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
  await cdp.detach();
}
const tapOn = (page, selector) => touchOn(page, selector);

// The bar, the panel, the handle and the screen (CSS pixels), and the panel's fold state.
function layout(page) {
  return page.evaluate(() => {
    const rect = (id) => { const r = document.getElementById(id).getBoundingClientRect(); return { top: r.top, bottom: r.bottom, left: r.left, right: r.right, height: r.height }; };
    const panel = document.getElementById('panel');
    return { width: innerWidth, height: innerHeight, top: rect('top'), panel: rect('panel'), handle: rect('panel-handle'),
      folded: panel.classList.contains('folded'), expanded: document.getElementById('panel-handle').getAttribute('aria-expanded'),
      summary: document.getElementById('panel-summary').textContent, mode: window.twinViewer.mode.name };
  });
}

// The share of the screen the 3D view shows unobstructed: below the bar, above the panel (at the bottom on a phone).
const freeShare = (l) => (Math.min(l.panel.top, l.height) - l.top.bottom) / l.height;

/** Whether the element `selector` shows whole inside the panel's visible part, on top (not scrolled away, not covered). */
function showsInPanel(page, selector) {
  return page.evaluate((sel) => {
    const element = document.querySelector(sel);
    if (!element || element.closest('[hidden]')) return false;
    const r = element.getBoundingClientRect();
    const p = document.getElementById('panel').getBoundingClientRect();
    const inside = r.height > 0 && r.top >= p.top - 0.5 && r.bottom <= p.bottom + 0.5 && r.left >= p.left - 0.5 && r.right <= p.right + 0.5;
    const hit = document.elementFromPoint(r.left + r.width / 2, r.top + Math.min(r.height / 2, 8));
    return inside && Boolean(hit) && (element === hit || element.contains(hit));
  }, selector);
}

function waitGlide(page) {
  return page.waitForFunction(() => !window.twinViewer.viewer.glideStop, null, { polling: 50, timeout: 45_000 });
}

const CONTROLS = {
  instructions: ['[data-testid=instructions-machine]', '[data-testid=step-text]', '[data-testid=step-next]', '[data-testid=step-done]'],
  tour: ['[data-testid=tour-stop-title]', '[data-testid=tour-next]'],
  planner: ['[data-testid=layout-choice]', '[data-testid=tool-measure]', '[data-testid=top-view]', '[data-testid=planner-hint]'],
};

test('phone: a one-row bar, the progress bar gone once complete, and each mode folded by touch leaves >= 60 % of the screen to the 3D view', async () => {
  const page = await suite.open(adminUrl('?mode=instructions&lang=en'));
  await waitForFullLoad(page);
  await page.waitForFunction(() => getComputedStyle(document.getElementById('progress')).visibility === 'hidden', null, { timeout: 30_000, polling: 100 });
  const progress = await page.evaluate(() => ({ now: document.getElementById('progress').getAttribute('aria-valuenow'), complete: window.twinViewer.progress.complete }));
  assert.deepEqual(progress, { now: '100', complete: true }, 'the bar is hidden, its state still readable');

  const shares = {};
  for (const mode of MODES) {
    await tapOn(page, `[data-testid=mode-${mode}]`);
    await page.waitForFunction((m) => window.twinViewer.mode.name === m, mode, { timeout: 10_000 });
    await waitGlide(page);
    const open = await layout(page);
    assert.ok(open.top.bottom <= PHONE_BAR_MAX_PX, `${mode}: the bar is one row: ${open.top.bottom} px`);
    assert.equal(open.folded, false, `${mode} starts unfolded`);
    assert.ok(open.panel.top > open.height / 2, `${mode}: the panel is in the lower half`);
    for (const control of CONTROLS[mode]) assert.ok(await showsInPanel(page, control), `${mode}: ${control} shows in the unfolded panel`);
    await screenshot(page, `phone-${mode}-open`);

    await tapOn(page, '[data-testid=panel-toggle]');
    await page.waitForFunction(() => document.getElementById('panel').classList.contains('folded'), null, { timeout: 10_000 });
    const folded = await layout(page);
    assert.equal(folded.expanded, 'false');
    assert.ok(folded.panel.height <= 60, `${mode}: folded to one line: ${folded.panel.height} px`);
    assert.ok(await page.isHidden(CONTROLS[mode][0]), `${mode}: the folded panel hides its controls`);
    shares[mode] = { open: freeShare(open), folded: freeShare(folded) };
    assert.ok(shares[mode].folded >= FOLDED_FREE_SHARE, `${mode}: folded, the 3D view has ${(100 * shares[mode].folded).toFixed(0)} % of the screen`);
    await screenshot(page, `phone-${mode}-folded`);

    if (mode === 'instructions') {
      const step = await page.evaluate(() => { const m = window.twinViewer.mode; return m.procedure.steps[m.stepIndex].text.en; });
      assert.match(folded.summary, /^Step 1 of \d+ · /, 'the handle names the step');
      assert.ok(folded.summary.endsWith(step), 'and carries its text');
      assert.ok(await page.isVisible('[data-testid=panel-summary]'));
    }
    await tapOn(page, '[data-testid=panel-toggle]');
    await page.waitForFunction(() => !document.getElementById('panel').classList.contains('folded'), null, { timeout: 10_000 });
    assert.ok(await showsInPanel(page, CONTROLS[mode].at(-1)), `${mode}: unfolded again, its controls are back`);
  }
  console.log(`top bar ${(await layout(page)).top.bottom} px; free 3D share of a 390x844 screen (unfolded / folded): ${MODES.map((m) => `${m} ${(100 * shares[m].open).toFixed(0)} % / ${(100 * shares[m].folded).toFixed(0)} %`).join(', ')}`);
  assert.deepEqual(page.consoleErrors, []);
});

test('phone: the step in view stays above the unfolded panel, and the handle keeps it folded: the instruction is never hidden', async () => {
  const page = await suite.open(adminUrl('?mode=instructions&lang=en'));
  await waitGlide(page);
  await page.locator('[data-testid=step-next]').tap();
  await waitGlide(page);
  const spot = await page.evaluate(() => {
    const app = window.twinViewer;
    const step = app.mode.procedure.steps[app.mode.stepIndex];
    return { ...app.viewer.toScreen(app.placement.anchorPosition(step.anchor).scene), panelTop: document.getElementById('panel').getBoundingClientRect().top,
      barBottom: document.getElementById('top').getBoundingClientRect().bottom, text: step.text.en };
  });
  assert.ok(spot.inFront && spot.y > spot.barBottom && spot.y < spot.panelTop, `the step's anchor shows between bar and panel: ${JSON.stringify(spot)}`);
  assert.ok(await showsInPanel(page, '[data-testid=step-text]'), 'its text shows whole in the panel');
  await tapOn(page, '[data-testid=panel-toggle]');
  await page.waitForFunction(() => document.getElementById('panel').classList.contains('folded'), null, { timeout: 10_000 });
  assert.match(await page.textContent('[data-testid=panel-summary]'), new RegExp(`^Step 2 of \\d+ · ${spot.text.slice(0, 20)}`));
  await screenshot(page, 'phone-step-folded');
});

test('phone: each mode remembers its fold (across mode switches and reloads), and the keyboard folds and unfolds', async () => {
  const page = await suite.open(adminUrl('?mode=tour&lang=en'));
  const folded = () => page.evaluate(() => document.getElementById('panel').classList.contains('folded'));
  assert.equal(await folded(), false);
  await page.focus('[data-testid=panel-toggle]');
  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.getElementById('panel').classList.contains('folded'), null, { timeout: 10_000 });
  await tapOn(page, '[data-testid=mode-planner]');
  await page.waitForFunction(() => window.twinViewer.mode.name === 'planner', null, { timeout: 10_000 });
  assert.equal(await folded(), false, 'the planner keeps its own (unfolded) state');
  await tapOn(page, '[data-testid=mode-tour]');
  await page.waitForFunction(() => window.twinViewer.mode.name === 'tour', null, { timeout: 10_000 });
  assert.equal(await folded(), true, 'the tour is folded as it was left');

  await page.reload();
  await page.waitForFunction(() => window.twinViewer?.ready, null, { timeout: 180_000, polling: 100 });
  assert.equal(await folded(), true, 'a reload keeps the tour folded');
  await page.focus('[data-testid=panel-toggle]');
  await page.keyboard.press('Space');
  await page.waitForFunction(() => !document.getElementById('panel').classList.contains('folded'), null, { timeout: 10_000 });
  assert.equal(await page.getAttribute('[data-testid=panel-toggle]', 'aria-expanded'), 'true');
  // Unfolded, Tab goes from the handle into the panel's controls.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => Boolean(document.activeElement.closest('#panel-body'))), true);

  // A finger sliding the handle down folds the panel, sliding it up unfolds it (once each, not twice).
  await touchOn(page, '[data-testid=panel-toggle]', 60);
  await page.waitForFunction(() => document.getElementById('panel').classList.contains('folded'), null, { timeout: 10_000 });
  await touchOn(page, '[data-testid=panel-toggle]', -60);
  await page.waitForFunction(() => !document.getElementById('panel').classList.contains('folded'), null, { timeout: 10_000 });
  await touchOn(page, '[data-testid=panel-toggle]', -60);
  assert.equal(await folded(), false, 'sliding up an unfolded panel leaves it unfolded');
});

test('phone: the "more" button holds the language and the AR note, out of the bar', async () => {
  const page = await suite.open(adminUrl('?mode=tour&lang=en'));
  assert.equal(await page.isVisible('[data-testid=language]'), false, 'the language sits behind "more"');
  assert.equal(await page.isVisible('[data-testid=ar-status]'), false);
  await tapOn(page, '[data-testid=more]');
  await page.waitForSelector('[data-testid=language]', { state: 'visible', timeout: 10_000 });
  assert.match(await page.textContent('[data-testid=ar-status]'), /not available/);
  assert.equal(await page.getAttribute('[data-testid=more]', 'aria-expanded'), 'true');
  await screenshot(page, 'phone-more');
  await page.selectOption('[data-testid=language]', 'it');
  await page.waitForFunction(() => window.twinViewer.lang === 'it' && document.getElementById('panel-title').textContent === window.twinViewer.t('tour'), null, { timeout: 10_000 });
  assert.equal(await page.getAttribute('[data-testid=more]', 'aria-label'), 'Altro: lingua, AR');
  await page.keyboard.press('Escape');
  assert.equal(await page.isVisible('[data-testid=language]'), false, 'Escape closes the menu');
  const bar = await layout(page);
  assert.ok(bar.top.bottom <= PHONE_BAR_MAX_PX, `the bar stays one row in Italian: ${bar.top.bottom} px`);
});

test('desktop 1100x760: the bar keeps its controls inline, the panel stands right of and below the bar, and folds too', async () => {
  const desktop = await launchBrowser();
  try {
    const page = await openViewer(desktop.context, adminUrl('?mode=instructions&lang=en'));
    await waitForFullLoad(page);
    assert.equal(await page.isVisible('[data-testid=more]'), false, 'no "more" button on a wide screen');
    assert.equal(await page.isVisible('[data-testid=language]'), true);
    for (const mode of MODES) {
      await page.click(`[data-testid=mode-${mode}]`);
      const l = await layout(page);
      assert.equal(l.mode, mode);
      assert.ok(l.panel.top >= l.top.bottom, `${mode}: the panel starts below the bar (${l.panel.top} >= ${l.top.bottom})`);
      assert.ok(l.panel.left > l.width / 2 && l.panel.bottom <= l.height, `${mode}: the panel stands at the right, on the screen`);
      const labels = await page.evaluate(() => [...document.querySelectorAll('#modes .label')].map((e) => e.getBoundingClientRect().width));
      assert.ok(labels.every((w) => w > 20), 'every mode tab shows its name');
      for (const control of CONTROLS[mode]) assert.ok(await showsInPanel(page, control), `${mode}: ${control} shows in the panel`);
    }
    await page.click('[data-testid=panel-toggle]');
    const folded = await layout(page);
    assert.ok(folded.folded && folded.panel.height <= 60, `the planner folds to a line: ${folded.panel.height} px`);
    await screenshot(page, 'phone-desktop-folded');
  } finally {
    await desktop.close();
  }
});
