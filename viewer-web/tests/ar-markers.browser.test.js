// Marker-based AR alignment in headless Chromium against a real `twin serve` of the sample
// workshop (whose document carries its five printed markers, marker-0 .. marker-4), on the
// iwer emulator with WebXR Raw Camera Access emulated (tests/fixtures/xr-camera-access.js): the
// emulated camera sees OpenCV's marker images where a test-chosen T_xr_world puts the
// document's markers, and the viewer must find that transform with no tap. Artifacts: the AR
// view once aligned (ar-markers.png) and what the emulated camera saw (ar-markers-camera.png).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { servedSampleSuite, assertLabelsDrawnThenEndAr, xrEmulatorScript, ARTIFACTS } from './harness.js';
import { furnishRoom, lookAtMarker, phoneFieldOfView, enterAr, alignmentError } from './ar-room.js';

// The room in the XR space: the twin's world turned 35 degrees about up and moved.
const ROOM = { turnDeg: 35, shift: [0.6, 0, -1.2] };

const suite = servedSampleSuite();
const { open, adminUrl } = suite;

/** Records every text the AR prompt shows. */
function recordPrompts(page) {
  return page.evaluate(() => {
    window.promptLog = [];
    const prompt = document.getElementById('ar-prompt');
    new MutationObserver(() => window.promptLog.at(-1) !== prompt.textContent && window.promptLog.push(prompt.textContent))
      .observe(prompt, { childList: true, characterData: true, subtree: true });
  });
}

test('AR with camera access: two printed markers align the twin with no tap, the prompt shows the residual, a label renders', async () => {
  const page = await open(adminUrl('?mode=instructions&lang=en'), { initScript: xrEmulatorScript({ cameraAccess: true }) });
  await phoneFieldOfView(page);
  const room = await furnishRoom(page, ROOM);
  const byId = Object.fromEntries(room.markers.map((m) => [m.id, m]));
  assert.ok(byId['marker-0'] && byId['marker-1'], `the sample's markers are in the document: ${Object.keys(byId)}`);
  await recordPrompts(page);

  // Marker 0 first, square on from 1.2 m: its turn is too loose to place the twin, and the
  // prompt says what to do; then marker 1, 4.3 m along the wall, from 15 degrees aside.
  await lookAtMarker(page, byId['marker-0'].T_xr_marker, 1.2, 0);
  await enterAr(page);
  assert.deepEqual(await page.evaluate(() => [window.twinViewer.ar.path, window.twinViewer.ar.session.enabledFeatures.includes('camera-access')]),
    [{ method: 'markers' }, true]);
  await page.waitForFunction(() => window.twinViewer.ar.markers?.status.phase === 'uncertain', null, { timeout: 60_000, polling: 50 });
  const uncertain = await page.evaluate(() => ({ alignment: window.twinViewer.ar.alignment, prompt: document.querySelector('[data-testid=ar-prompt]').textContent }));
  assert.equal(uncertain.alignment, null, 'one marker square on does not place the twin');
  assert.deepEqual(await page.evaluate(() => { const { topRowFirst, locked } = window.twinViewer.ar.markers.rowOrder; return { topRowFirst, locked }; }),
    { topRowFirst: false, locked: true }, 'the emulator\'s texture is in GL\'s order, found first');
  mkdirSync(ARTIFACTS, { recursive: true });
  const cameraImage = await page.evaluate(() => window.xrCameraRoom.snapshot());
  writeFileSync(join(ARTIFACTS, 'ar-markers-camera.png'), Buffer.from(cameraImage.split(',')[1], 'base64'));
  assert.match(uncertain.prompt, /^Marker 0 seen, but too far or too square on to fix the turn \(±\d+\.\d°\): come closer, step to the side, or look at another marker too\.$/);
  await lookAtMarker(page, byId['marker-1'].T_xr_marker, 1.3, 15);
  await page.waitForFunction(() => window.twinViewer.ar.alignment, null, { timeout: 60_000, polling: 100 });

  const result = {
    ...await page.evaluate(() => ({ alignment: window.twinViewer.ar.alignment, taps: window.twinViewer.ar.taps.length,
      prompt: document.querySelector('[data-testid=ar-prompt]').textContent, prompts: window.promptLog })),
    ...await alignmentError(page, room, ['marker-0', 'marker-1']),
  };
  console.log(`marker alignment: ${JSON.stringify({ ...result, prompts: undefined })}`);
  assert.equal(result.alignment.method, 'markers');
  assert.equal(result.taps, 0, 'no tap');
  assert.deepEqual(result.alignment.markers, ['DICT_4X4_50:0', 'DICT_4X4_50:1']);
  assert.ok(result.alignment.frames >= 5);
  assert.ok(result.turnDeg < 1, `the twin is turned ${result.turnDeg} deg from the truth`);
  assert.ok(result.atMarkersM < 0.02, `the markers are placed ${result.atMarkersM} m off`);
  assert.ok(result.atOriginM < 0.05 && result.atFarCornerM < 0.05, `the room's corners are ${result.atOriginM} and ${result.atFarCornerM} m off`);
  const { residualM, reprojectionErrorPx } = result.alignment;
  assert.equal(result.prompt, `Aligned by 2 markers (0, 1): ${(residualM * 100).toFixed(1)} cm / ${reprojectionErrorPx.toFixed(1)} px`);
  assert.ok(reprojectionErrorPx < 1.5, `reprojection ${reprojectionErrorPx} px`);
  // What the user read on the way: looking, then marker 0 seen.
  assert.match(result.prompts[0], /^Looking for markers/);
  assert.ok(result.prompts.some((p) => /^Marker 0 seen: hold still \(\d of 5 views\)/.test(p)), JSON.stringify(result.prompts));
  await page.waitForFunction(() => window.twinViewer.ar.xrAnchor, null, { timeout: 30_000 });

  // Step back and look at the printer's name label: it renders where the markers put the twin.
  const label = await page.evaluate(() => {
    const app = window.twinViewer;
    const sprite = app.placement.rigs.get('printer-1').getObjectByName('name-label');
    const p = sprite.getWorldPosition(new app.THREE.Vector3());
    const eye = p.clone().add(new app.THREE.Vector3(0, 0.3, 2.2).applyAxisAngle(new app.THREE.Vector3(0, 1, 0), Math.PI / 5));
    const q = new app.THREE.Quaternion().setFromRotationMatrix(new app.THREE.Matrix4().lookAt(eye, p, new app.THREE.Vector3(0, 1, 0)));
    window.xrDevice.position.set(eye.x, eye.y, eye.z);
    window.xrDevice.quaternion.set(q.x, q.y, q.z, q.w);
    return { visible: sprite.visible };
  });
  assert.ok(label.visible);
  await assertLabelsDrawnThenEndAr(page, 'ar-markers');
  assert.deepEqual(page.consoleErrors, []);
});

test('AR with camera access, the texture\'s top row first: the row order is found and the markers still align the twin with no tap', async () => {
  const page = await open(adminUrl('?mode=instructions&lang=en'), { initScript: xrEmulatorScript({ cameraAccess: true }) });
  await phoneFieldOfView(page);
  const room = await furnishRoom(page, ROOM);
  await page.evaluate(() => window.xrCameraRoom.setTopRowFirst(true));
  const byId = Object.fromEntries(room.markers.map((m) => [m.id, m]));
  await lookAtMarker(page, byId['marker-0'].T_xr_marker, 1.2, 0);
  await enterAr(page);
  await page.waitForFunction(() => window.twinViewer.ar.markers?.status.phase === 'uncertain', null, { timeout: 60_000, polling: 50 });
  assert.deepEqual(await page.evaluate(() => { const { topRowFirst, locked } = window.twinViewer.ar.markers.rowOrder; return { topRowFirst, locked }; }),
    { topRowFirst: true, locked: true }, 'GL\'s order found nothing; the other found the marker and is kept');
  await lookAtMarker(page, byId['marker-1'].T_xr_marker, 1.3, 15);
  await page.waitForFunction(() => window.twinViewer.ar.alignment, null, { timeout: 60_000, polling: 100 });
  const result = { ...await page.evaluate(() => ({ alignment: window.twinViewer.ar.alignment, taps: window.twinViewer.ar.taps.length })),
    ...await alignmentError(page, room, ['marker-0', 'marker-1']) };
  console.log(`marker alignment, top row first: ${JSON.stringify(result)}`);
  assert.equal(result.alignment.method, 'markers');
  assert.equal(result.taps, 0, 'no tap');
  assert.deepEqual(result.alignment.markers, ['DICT_4X4_50:0', 'DICT_4X4_50:1']);
  assert.ok(result.turnDeg < 1, `the twin is turned ${result.turnDeg} deg from the truth`);
  assert.ok(result.atMarkersM < 0.02, `the markers are placed ${result.atMarkersM} m off`);
  assert.ok(result.atOriginM < 0.05 && result.atFarCornerM < 0.05, `the room's corners are ${result.atOriginM} and ${result.atFarCornerM} m off`);
  assert.ok(result.alignment.reprojectionErrorPx < 1.5, `reprojection ${result.alignment.reprojectionErrorPx} px`);
  await page.evaluate(() => window.twinViewer.ar.end());
  await page.waitForFunction(() => !window.twinViewer.ar.session, null, { timeout: 30_000 });
  assert.deepEqual(page.consoleErrors, []);
});

test('AR without camera access: the tap path is offered, and the prompt says why', async () => {
  const page = await open(adminUrl('?mode=instructions&lang=en'), { initScript: xrEmulatorScript() });
  await enterAr(page);
  const state = await page.evaluate(() => ({ path: window.twinViewer.ar.path, markers: Boolean(window.twinViewer.ar.markers),
    prompt: document.querySelector('[data-testid=ar-prompt]').textContent }));
  assert.deepEqual(state.path, { method: 'taps', reason: 'noCameraAccess' });
  assert.equal(state.markers, false, 'no camera frames are looked at');
  assert.match(state.prompt, /^This browser gives no camera access, so align by tapping\. Point at anchor 1 \(.+\) in the room and tap\.$/);
  await page.selectOption('[data-testid=language]', 'it');
  assert.match(await page.textContent('[data-testid=ar-prompt]'), /^Questo browser non dà accesso alla fotocamera: allinea toccando\. Punta all'ancora 1/);
  await page.evaluate(() => window.twinViewer.ar.end());
  await page.waitForFunction(() => !window.twinViewer.ar.session, null, { timeout: 30_000 });
});

test('AR with camera access but no marker in sight: a tap switches to aligning by taps', async () => {
  const page = await open(adminUrl('?mode=instructions&lang=en'), { initScript: xrEmulatorScript({ cameraAccess: true }) });
  await enterAr(page);
  await page.waitForFunction(() => window.twinViewer.ar.markers?.sightings && /^Looking for markers/.test(document.querySelector('[data-testid=ar-prompt]').textContent),
    null, { timeout: 30_000, polling: 50 });
  await page.evaluate(() => window.xrDevice.controllers.right.updateButtonValue('trigger', 1));
  await page.waitForTimeout(150);
  await page.evaluate(() => window.xrDevice.controllers.right.updateButtonValue('trigger', 0));
  await page.waitForFunction(() => window.twinViewer.ar.path.method === 'taps', null, { timeout: 30_000, polling: 50 });
  const state = await page.evaluate(() => ({ path: window.twinViewer.ar.path, markers: window.twinViewer.ar.markers, taps: window.twinViewer.ar.taps.length,
    prompt: document.querySelector('[data-testid=ar-prompt]').textContent }));
  assert.deepEqual(state.path, { method: 'taps', reason: 'chosen' });
  assert.equal(state.markers, null, 'the camera is no longer searched');
  assert.equal(state.taps, 0, 'the switching tap is not taken for anchor 1');
  assert.match(state.prompt, /^Point at anchor 1 \(.+\) in the room and tap\.$/);
  await page.evaluate(() => window.twinViewer.ar.end());
  await page.waitForFunction(() => !window.twinViewer.ar.session, null, { timeout: 30_000 });
});
