// The viewer in headless Chromium against a real `twin serve` of the sample workshop's twin:
// loading, the three modes, two pages editing live, and WebXR AR on the iwer emulator.
// Screenshots of each go to artifacts/viewer/.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PHONE_POINT_BUDGET } from '../src/scene/tiles.js';
import { servedSampleSuite, assertLabelsDrawnThenEndAr, launchBrowser, openViewer, waitForFullLoad, screenshot, xrEmulatorScript, xrEnvironment } from './harness.js';

const suite = servedSampleSuite();
const { open, adminUrl } = suite;

function waitGlide(page) {
  return page.waitForFunction(() => !window.twinViewer.viewer.glideStop, null, { polling: 50, timeout: 45_000 });
}

// Mean colour of the screen box around an object, drawn with and without it: what it adds.
function colourWithAndWithout(page, expression) {
  return page.evaluate(async (expr) => {
    const app = window.twinViewer;
    const THREE = app.THREE;
    const object = eval(expr); // eslint-disable-line no-eval
    const box = new THREE.Box3().setFromObject(object);
    const xs = [], ys = [];
    for (const x of [box.min.x, box.max.x]) for (const y of [box.min.y, box.max.y]) for (const z of [box.min.z, box.max.z]) {
      const s = app.viewer.toScreen(new THREE.Vector3(x, y, z));
      xs.push(s.x); ys.push(s.y);
    }
    const rect = { x: Math.min(...xs), y: Math.min(...ys), width: Math.max(...xs) - Math.min(...xs), height: Math.max(...ys) - Math.min(...ys) };
    const shown = await app.viewer.capture(rect);
    object.visible = false;
    const hidden = await app.viewer.capture(rect);
    object.visible = true;
    return { rect, shown: shown.meanColor, hidden: hidden.meanColor };
  }, expression);
}

const colourDistance = (a, b) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);

test('the served sample twin loads: geometry on the canvas, progress to 100 %, and AR says it is unavailable', async () => {
  const page = await open(suite.server.url);
  await waitForFullLoad(page);
  const state = await page.evaluate(async () => {
    const app = window.twinViewer;
    const frame = await app.viewer.capture();
    return {
      progress: app.progress, frame, role: app.role, mode: app.mode.name,
      bar: document.getElementById('progress').getAttribute('aria-valuenow'),
      barText: document.getElementById('progress-text').textContent,
      arStatus: document.getElementById('ar-status').hidden ? null : document.getElementById('ar-status').textContent,
      tilePoints: app.tiles.progress.points, tilesShown: app.tiles.group.children.filter((c) => c.visible).length,
      budget: app.tiles.pointBudget,
    };
  });
  assert.equal(state.progress.fraction, 1);
  assert.equal(state.bar, '100');
  assert.match(state.barText, /100 %/);
  assert.ok(state.frame.geometryFraction > 0.5, `only ${(state.frame.geometryFraction * 100).toFixed(1)} % of the canvas shows geometry`);
  assert.ok(state.tilePoints > 10_000 && state.tilePoints <= state.budget, `tile points ${state.tilePoints}`);
  assert.ok(state.tilesShown >= 2, 'several tiles are shown');
  assert.equal(state.role, 'visitor');
  assert.equal(state.mode, 'tour', 'visitors start in the tour');
  assert.match(state.arStatus, /not available/);
  await screenshot(page, 'load');
  assert.deepEqual(page.consoleErrors, []);
});

test('on a phone-sized touch screen: the phone point budget, the panel below the view, geometry drawn', async () => {
  const phone = await launchBrowser({ viewport: { width: 390, height: 780 }, screen: { width: 390, height: 780 }, hasTouch: true, isMobile: true, deviceScaleFactor: 1 });
  try {
    const page = await openViewer(phone.context, `${suite.server.url}?mode=tour&lang=it`);
    await waitForFullLoad(page);
    const state = await page.evaluate(async () => {
      const app = window.twinViewer;
      const panel = document.getElementById('panel').getBoundingClientRect();
      return { budget: app.tiles.pointBudget, panelTop: panel.top, panelWidth: panel.width, width: innerWidth, height: innerHeight,
        frame: await app.viewer.capture() };
    });
    assert.equal(state.budget, PHONE_POINT_BUDGET);
    assert.ok(state.panelTop > state.height / 2, 'the panel sits in the lower half');
    assert.ok(state.panelWidth > state.width * 0.9, 'the panel spans the screen');
    assert.ok(state.frame.geometryFraction > 0.5);
    await page.tap('[data-testid=tour-next]');
    await page.waitForFunction(() => window.twinViewer.mode.stopIndex === 1, null, { timeout: 30_000 });
    await screenshot(page, 'phone');
  } finally {
    await phone.close();
  }
});

test('a twin the server does not have is refused with a sentence on the page, not a blank canvas', async () => {
  await assert.rejects(open(`${suite.server.url}?twin=no-such-twin`), /failed to start: .*no-such-twin/);
  const page = suite.browser.context.pages().at(-1);
  suite.track(page);
  const shown = await page.textContent('[data-testid=panel]');
  assert.match(shown, /no-such-twin/);
});

test('instructions: each step highlights its anchor, and done reaches another artisan', async () => {
  const page = await open(adminUrl('?mode=instructions&lang=en'));
  const other = await open(adminUrl('?mode=instructions&lang=it'));
  await waitGlide(page);
  const first = await page.evaluate(() => {
    const app = window.twinViewer;
    const mode = app.mode;
    const step = mode.procedure.steps[mode.stepIndex];
    return { procedure: mode.procedure.id, step: step.id, anchor: step.anchor, text: document.querySelector('[data-testid=step-text]').textContent,
      expected: step.text.en, onAnchor: mode.highlight.current?.parent === app.placement.anchors.get(step.anchor) };
  });
  assert.equal(first.procedure, 'printer-1-load-filament');
  assert.equal(first.text, first.expected);
  assert.ok(first.onAnchor, 'the highlight hangs on the step\'s anchor');
  const seen = await colourWithAndWithout(page, 'app.mode.highlight.current');
  assert.ok(colourDistance(seen.shown, seen.hidden) > 8, `the highlight changes the pixels where it is: ${JSON.stringify(seen)}`);
  await screenshot(page, 'instructions');

  await page.click('[data-testid=step-next]');
  await waitGlide(page);
  const second = await page.evaluate(() => {
    const app = window.twinViewer;
    const step = app.mode.procedure.steps[app.mode.stepIndex];
    return { index: app.mode.stepIndex, text: document.querySelector('[data-testid=step-text]').textContent, expected: step.text.en,
      onAnchor: app.mode.highlight.current?.parent === app.placement.anchors.get(step.anchor), kind: step.highlight?.kind,
      arrow: app.mode.highlight.current?.children.some((c) => c.type === 'Group') };
  });
  assert.equal(second.index, 1);
  assert.equal(second.text, second.expected);
  assert.ok(second.onAnchor);
  assert.equal(second.kind, 'arrow');
  assert.ok(second.arrow, 'an arrow is drawn for an arrow highlight');

  await page.click('[data-testid=step-done]');
  await other.waitForFunction(({ procedure, step }) => window.twinViewer.modes.instructions.done.get(`${procedure}/${step}`) === true,
    { procedure: first.procedure, step: 'spool' }, { timeout: 30_000 });
  // The sender moves on once the server acknowledges, which may come after the other page hears of it.
  await page.waitForFunction(() => window.twinViewer.mode.stepIndex === 2, null, { timeout: 30_000 })
    .catch(() => assert.fail('done moves on to the next step'));
  // Live state, as a bridge sends it. The other artisan is on the step that waits for a hot nozzle:
  // it cannot be done while the nozzle temperature is unknown.
  const waiting = () => other.evaluate(() => ({ waiting: document.querySelector('[data-testid=step-waiting]')?.textContent ?? null,
    doneDisabled: document.querySelector('[data-testid=step-done]')?.disabled }));
  assert.deepEqual(await waiting(), { waiting: 'In attesa di: nozzle_temp >= 200', doneDisabled: true });
  const sendState = (properties) => page.evaluate((p) => window.twinViewer.connection.request({ op: 'machine_state', twin: window.twinViewer.twinName, machine: 'printer-1', properties: p }), properties);
  const at = Date.now() / 1000;
  await sendState({ nozzle_temp: { value: 212.5, unit: '°C', quality: 'good', source_time_s: at }, status: { value: 'running', quality: 'good', source_time_s: at } });
  await other.waitForFunction(() => /nozzle_temp 212\.5 °C/.test(document.querySelector('[data-testid=machine-state]')?.textContent ?? ''), null, { timeout: 30_000 });
  assert.deepEqual(await waiting(), { waiting: null, doneDisabled: false }, 'a hot nozzle lets the step be done');
  const label = await other.evaluate(() => {
    const sprite = window.twinViewer.placement.rigs.get('printer-1').getObjectByName('name-label');
    return { text: sprite.userData.text, border: sprite.userData.label.border, status: document.querySelector('[data-testid=machine-status]').textContent };
  });
  assert.deepEqual(label, { text: 'FDM 3D printer · ▶ in funzione', border: '#2ecc71', status: '▶ in funzione' });
  // The panel charts the first number over the last hour (values a client sends are not history: none yet).
  await other.waitForFunction(() => window.twinViewer.mode.chart?.property === 'nozzle_temp' && !window.twinViewer.mode.chart.loading, null, { timeout: 30_000 });
  assert.match(await other.evaluate(() => document.querySelector('.live-chart-box').textContent), /nozzle_temp \(°C\), ultima ora.*Ancora nessuno storico/);
  // An alarm is a toast with its rule; offline values are shown as offline and never satisfy a step.
  await sendState({ nozzle_temp: { value: 270, unit: '°C', quality: 'good', source_time_s: at + 1 }, status: { value: 'alarm', quality: 'good', source_time_s: at + 1 } });
  await other.waitForFunction(() => { const n = document.getElementById('notice'); return !n.hidden && n.className === 'alarm'; }, null, { timeout: 30_000 });
  assert.equal(await other.evaluate(() => document.getElementById('notice').textContent), 'Allarme su FDM 3D printer: nozzle_temp > 265');
  await screenshot(other, 'instructions-live-alarm');
  await sendState({ nozzle_temp: { value: 270, unit: '°C', quality: 'offline', source_time_s: at + 1 }, status: { value: 'alarm', quality: 'offline', source_time_s: at + 1 } });
  await other.waitForFunction(() => /non raggiungibile/.test(document.querySelector('[data-testid=machine-status]')?.textContent ?? ''), null, { timeout: 30_000 });
  assert.match(await other.evaluate(() => document.querySelector('[data-property=nozzle_temp]').textContent), /270 °C non raggiungibile/);
  assert.deepEqual(await waiting(), { waiting: 'In attesa di: nozzle_temp >= 200', doneDisabled: true });
  const italian = await other.evaluate(() => document.querySelector('[data-testid=step-text]').textContent);
  const expectedItalian = await other.evaluate(() => window.twinViewer.mode.procedure.steps[0].text.it);
  assert.equal(italian, expectedItalian, 'the other artisan reads Italian');
});

test('tour: the camera glides from stop to stop, in English or Italian, with other visitors shown', async () => {
  const page = await open(`${suite.server.url}?mode=tour&lang=en`);
  const visitor = await open(`${suite.server.url}?mode=tour&lang=it`);
  await waitGlide(page);
  await page.click('[data-testid=tour-next]');
  await waitGlide(page);
  const state = await page.evaluate(() => {
    const app = window.twinViewer;
    const stop = app.mode.tour.stops[app.mode.stopIndex];
    const expected = app.twin.root.localToWorld(new app.THREE.Vector3(...stop.viewpoint.position));
    return { index: app.mode.stopIndex, count: document.querySelector('[data-testid=tour-stop-count]').textContent,
      title: document.querySelector('[data-testid=tour-stop-title]').textContent, expectedTitle: stop.title.en,
      cameraError: app.viewer.camera.position.distanceTo(expected) };
  });
  assert.equal(state.index, 1);
  assert.match(state.count, /^Stop 2 of \d+$/);
  assert.equal(state.title, state.expectedTitle);
  assert.ok(state.cameraError < 0.01, `the camera is ${state.cameraError} m from the stop's viewpoint`);

  await page.selectOption('[data-testid=language]', 'it');
  const italian = await page.evaluate(() => ({ title: document.querySelector('[data-testid=tour-stop-title]').textContent,
    expected: window.twinViewer.mode.tour.stops[1].title.it, count: document.querySelector('[data-testid=tour-stop-count]').textContent }));
  assert.equal(italian.title, italian.expected);
  assert.match(italian.count, /^Tappa 2 di \d+$/);

  await page.waitForFunction(() => window.twinViewer.presence.count >= 1, null, { timeout: 30_000 });
  await page.waitForFunction(() => /visitatori/.test(document.querySelector('[data-testid=tour-presence]').textContent), null, { timeout: 45_000 });
  await screenshot(page, 'tour');
});

// Drags a machine with the mouse so that its frame lands at `target` (z-up world, metres).
async function dragMachine(page, machineId, target) {
  const path = await page.evaluate(({ machineId, target }) => {
    const app = window.twinViewer;
    const THREE = app.THREE;
    const rig = app.placement.rigs.get(machineId);
    const box = new THREE.Box3().setFromObject(rig.children.find((c) => c.name === machineId) || rig);
    const grab = app.viewer.toScreen(box.getCenter(new THREE.Vector3()));
    const start = app.mode.floorPoint({ clientX: grab.x, clientY: grab.y }, rig.position.z);
    const end = start.clone().add(new THREE.Vector3(target[0] - rig.position.x, target[1] - rig.position.y, 0));
    const drop = app.viewer.toScreen(app.twin.root.localToWorld(end));
    return { grab, drop };
  }, { machineId, target });
  await page.mouse.move(path.grab.x, path.grab.y);
  await page.mouse.down();
  await page.mouse.move(path.drop.x, path.drop.y, { steps: 6 });
  await page.mouse.up();
  await page.waitForFunction(({ machineId, target }) => {
    const app = window.twinViewer;
    const placed = app.placement.rigs.get(machineId);
    const doc = app.document;
    const layout = (doc.layouts || []).find((l) => l.id === app.placement.layoutId);
    const pose = layout?.poses?.[machineId] || doc.machines.find((m) => m.id === machineId).pose;
    return placed && Math.hypot(pose.translation[0] - target[0], pose.translation[1] - target[1]) < 0.05;
  }, { machineId, target }, { timeout: 45_000, polling: 100 });
}

function machineState(page, machineId) {
  return page.evaluate(async (machineId) => {
    const app = window.twinViewer;
    const THREE = app.THREE;
    const rig = app.placement.rigs.get(machineId);
    const box = new THREE.Box3().setFromObject(rig.children.find((c) => c.name === machineId) || rig);
    const xs = [], ys = [];
    for (const x of [box.min.x, box.max.x]) for (const y of [box.min.y, box.max.y]) for (const z of [box.min.z, box.max.z]) {
      const s = app.viewer.toScreen(new THREE.Vector3(x, y, z));
      xs.push(s.x); ys.push(s.y);
    }
    const rect = { x: Math.min(...xs), y: Math.min(...ys), width: Math.max(...xs) - Math.min(...xs), height: Math.max(...ys) - Math.min(...ys) };
    const frame = await app.viewer.capture(rect);
    const clearance = app.modes.planner.result.get(machineId);
    return { position: rig.position.toArray(), colour: frame.meanColor, violates: rig.userData.violates === true, clearance };
  }, machineId);
}

const isRed = ([r, g, b]) => r > g + 35 && r > b + 35;

test('planner: a move in one page arrives in another, layouts compare, and a clearance violation turns the machine red', async () => {
  const page = await open(adminUrl('?mode=planner&lang=en'));
  await page.click('[data-testid=top-view]');
  await waitGlide(page);
  await page.fill('[data-testid=layout-name]', 'Laser moved');
  await page.click('[data-testid=layout-save]');
  await page.waitForFunction(() => window.twinViewer.placement.layoutId === 'laser-moved', null, { timeout: 30_000 });

  const other = await open(adminUrl('?mode=instructions&lang=en&layout=laser-moved'));
  await other.selectOption('[data-testid=instructions-machine]', 'laser-1');
  await waitGlide(other);
  const before = await other.evaluate(() => {
    const app = window.twinViewer;
    return { rig: app.placement.rigs.get('laser-1').position.toArray(),
      highlight: app.mode.highlight.current.getWorldPosition(new app.THREE.Vector3()).toArray() };
  });

  // Into the middle of the room: far from walls and machines.
  await dragMachine(page, 'laser-1', [4.0, 3.0]);
  const centre = await machineState(page, 'laser-1');
  assert.equal(centre.violates, false, `in the middle of the room: ${JSON.stringify(centre.clearance)}`);
  assert.ok(!isRed(centre.colour), `not red: ${centre.colour}`);
  await other.waitForFunction(() => Math.hypot(...window.twinViewer.placement.rigs.get('laser-1').position.toArray().slice(0, 2).map((v, i) => v - [4, 3][i])) < 0.05,
    null, { timeout: 30_000, polling: 100 });
  const after = await other.evaluate(() => {
    const app = window.twinViewer;
    return { rig: app.placement.rigs.get('laser-1').position.toArray(),
      highlight: app.mode.highlight.current.getWorldPosition(new app.THREE.Vector3()).toArray() };
  });
  // The other page's step highlight moved with the machine (scene y-up: x and z are the floor).
  const moved = (a, b) => [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
  const rigMove = moved(before.rig, after.rig);
  const highlightMove = moved(before.highlight, after.highlight);
  assert.ok(Math.hypot(rigMove[0], rigMove[1]) > 3, 'the machine moved in the other page');
  assert.ok(Math.abs(highlightMove[0] - rigMove[0]) < 0.7 && Math.abs(highlightMove[2] + rigMove[1]) < 0.7,
    `the highlight followed: machine ${rigMove}, highlight ${highlightMove}`);

  // Where the laser stood, its scanned points are no longer drawn (one ghost box in the cloud's shader).
  assert.equal(await page.evaluate(() => window.twinViewer.ghosts.ghostCount.value), 1);

  // Next to the lathe: closer than 60 cm.
  await dragMachine(page, 'laser-1', [2.1, 4.0]);
  const close = await machineState(page, 'laser-1');
  assert.equal(close.violates, true);
  assert.equal(close.clearance.against, 'lathe-1');
  assert.ok(close.clearance.distance < 0.6);
  assert.ok(isRed(close.colour), `the machine is drawn red: ${close.colour}`);
  const listed = await page.textContent('[data-testid=clearance-list]');
  assert.match(listed, /CO2 laser cutter too close to Metal lathe/);
  await screenshot(page, 'planner');
  await screenshot(other, 'planner-other-page');

  // Measuring two spots of the empty floor, 2.83 m apart.
  await page.click('[data-testid=tool-measure]');
  for (const spot of [[3, 2], [5, 4]]) {
    const at = await page.evaluate((p) => window.twinViewer.viewer.toScreen(window.twinViewer.twin.root.localToWorld(new window.twinViewer.THREE.Vector3(p[0], p[1], 0))), spot);
    await page.mouse.click(at.x, at.y);
  }
  const measured = await page.evaluate(() => window.twinViewer.modes.planner.measurements.at(-1));
  assert.ok(Math.abs(measured - Math.hypot(2, 2)) < 0.1, `measured ${measured} m`);
  assert.match(await page.textContent('[data-testid=planner-hint]'), new RegExp(`${measured.toFixed(2)} m`));

  // Saved, it arrives in the other page's document in the document's frame (z-up, metres).
  await page.fill('[data-testid=measurement-name]', 'Floor diagonal');
  await page.click('[data-testid=measurement-save]');
  await page.waitForSelector('[data-testid=measurement-list] >> text=Floor diagonal', { timeout: 30_000 });
  const saved = await other.waitForFunction(() => (window.twinViewer.document.measurements || []).find((m) => m.name === 'Floor diagonal'),
    null, { timeout: 30_000, polling: 100 }).then((handle) => handle.jsonValue());
  assert.equal(saved.id, 'floor-diagonal');
  [[3, 2, 0], [5, 4, 0]].forEach((spot, i) => assert.ok(Math.hypot(...spot.map((v, k) => v - saved.points[i][k])) < 0.05, `saved ${JSON.stringify(saved.points)}`));

  // The scan's own layout still has the laser by its wall.
  await page.selectOption('[data-testid=layout-choice]', '');
  const asScanned = await page.evaluate(() => window.twinViewer.placement.rigs.get('laser-1').position.toArray());
  assert.ok(Math.abs(asScanned[0] - 7.45) < 1e-6 && Math.abs(asScanned[1] - 2.4) < 1e-6, `as scanned: ${asScanned}`);
  assert.equal(await page.evaluate(() => window.twinViewer.ghosts.ghostCount.value), 0, 'no ghosts where nothing moved');
});

// Turns the emulated headset (standing at 1.6 m) to `yaw` and `pitch` (radians).
function aim(page, yaw, pitch) {
  return page.evaluate(({ yaw, pitch }) => {
    const app = window.twinViewer;
    const q = new app.THREE.Quaternion().setFromEuler(new app.THREE.Euler(pitch, yaw, 0, 'YXZ'));
    window.xrDevice.position.set(0, 1.6, 0);
    window.xrDevice.quaternion.set(q.x, q.y, q.z, q.w);
  }, { yaw, pitch });
}

async function tapWithController(page, count) {
  await page.evaluate(() => window.xrDevice.controllers.right.updateButtonValue('trigger', 1));
  await page.waitForTimeout(150);
  await page.evaluate(() => window.xrDevice.controllers.right.updateButtonValue('trigger', 0));
  await page.waitForFunction((n) => window.twinViewer.ar.taps.length >= n, count, { timeout: 30_000, polling: 50 });
}

test('AR: an immersive-ar session starts on the emulator, three taps align the twin, and an anchored label renders', async () => {
  const page = await open(adminUrl('?mode=instructions&lang=en'), { initScript: xrEmulatorScript() });
  await page.evaluate((room) => window.xrDevice.sem.loadEnvironment(room), xrEnvironment('office_small'));
  assert.equal(await page.isVisible('[data-testid=ar-enter]'), true, 'the AR button is offered');
  assert.equal(await page.isVisible('[data-testid=ar-status]'), false, 'no "AR unavailable" note');
  await page.click('[data-testid=ar-enter]');
  await page.waitForFunction(() => window.twinViewer.ar.session && window.twinViewer.ar.hitTestSource, null, { timeout: 45_000 });
  assert.equal(await page.evaluate(() => window.twinViewer.ar.session.mode ?? 'immersive-ar'), 'immersive-ar');

  // Three taps on the emulated room's floor and furniture, each where the headset looks.
  const taps = [];
  for (const [k, yaw] of [0, 2.1, -2.1].entries()) {
    const previous = await page.evaluate(() => window.twinViewer.ar.lastHit?.toArray() ?? null);
    await aim(page, yaw, -0.9);
    await page.waitForFunction((prev) => {
      const hit = window.twinViewer.ar.lastHit;
      return hit && (!prev || hit.distanceTo(new window.twinViewer.THREE.Vector3(...prev)) > 0.05);
    }, previous, { timeout: 30_000, polling: 50 });
    await tapWithController(page, k + 1);
    taps.push(await page.evaluate((i) => window.twinViewer.ar.taps[i].toArray(), k));
  }
  const result = await page.evaluate(() => {
    const app = window.twinViewer;
    const { alignment } = app.ar;
    const distances = alignment.anchors.map((id, k) => app.placement.anchorPosition(id).scene.distanceTo(new app.THREE.Vector3(...alignment.taps[k])));
    return { alignment, distances, prompt: document.querySelector('[data-testid=ar-prompt]').textContent };
  });
  assert.equal(result.alignment.anchors.length, 3);
  assert.deepEqual(result.alignment.taps, taps);
  // The twin is placed by the fit: each anchor now lies from its tap by the residual reported.
  result.distances.forEach((d, k) => assert.ok(Math.abs(d - result.alignment.residuals[k]) < 1e-4, `anchor ${k}: ${d} vs ${result.alignment.residuals[k]}`));
  const rms = Math.sqrt(result.distances.reduce((s, d) => s + d * d, 0) / 3);
  assert.ok(Math.abs(rms - result.alignment.rmsResidual) < 1e-4);
  assert.match(result.prompt, new RegExp(`residual ${(result.alignment.rmsResidual * 100).toFixed(1)} cm`));
  await page.waitForFunction(() => window.twinViewer.ar.xrAnchor, null, { timeout: 30_000 });

  // Look at the printer's name label: it renders where the alignment put it.
  const label = await page.evaluate(() => {
    const app = window.twinViewer;
    const sprite = app.placement.rigs.get('printer-1').getObjectByName('name-label');
    const p = sprite.getWorldPosition(new app.THREE.Vector3());
    return { position: p.toArray(), visible: sprite.visible };
  });
  assert.ok(label.visible);
  const eye = [0, 1.6, 0];
  const d = label.position.map((v, i) => v - eye[i]);
  await aim(page, Math.atan2(-d[0], -d[2]), Math.atan2(d[1], Math.hypot(d[0], d[2])));
  await assertLabelsDrawnThenEndAr(page, 'ar');
});
