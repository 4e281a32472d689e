// The viewer on a phone-sized touch screen, driven by real touch input (Chrome DevTools
// Protocol touch events, which the browser turns into pointer events as a phone's screen does):
// one finger orbits, two fingers pinch to zoom, and in the planner one finger drags a machine
// (the move reaches a second page, snapped to the floor), a tap selects one, and two taps measure.
// Screenshots go to artifacts/viewer/touch-*.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { servedSampleSuite, waitForFullLoad, screenshot } from './harness.js';

const PHONE = { viewport: { width: 390, height: 844 }, screen: { width: 390, height: 844 }, hasTouch: true, isMobile: true, deviceScaleFactor: 2 };

const suite = servedSampleSuite({ points: 200_000, device: PHONE });
const { adminUrl } = suite;

async function open(url) {
  const page = await suite.open(url);
  page.touch = await touchScreen(page);
  return page;
}

/**
 * Fingers on the page's screen: each gesture is a list of frames, a frame the CSS-pixel positions
 * of the fingers down at that moment (a frame with more fingers than the one before puts the new
 * ones down). Each frame waits for the next animation frame; at the end all fingers lift.
 */
async function touchScreen(page) {
  const cdp = await page.context().newCDPSession(page);
  const send = (type, fingers) => cdp.send('Input.dispatchTouchEvent', {
    type, touchPoints: fingers.map(([x, y], id) => ({ x, y, id, radiusX: 4, radiusY: 4, force: 1 })),
  });
  const nextFrame = () => page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => resolve())));
  return {
    async gesture(frames) {
      let down = 0;
      for (const fingers of frames) {
        await send(fingers.length > down ? 'touchStart' : 'touchMove', fingers);
        down = fingers.length;
        await nextFrame();
      }
      await send('touchEnd', []);
      await nextFrame();
    },
    tap: (x, y) => send('touchStart', [[x, y]]).then(() => send('touchEnd', [])).then(nextFrame),
  };
}

/** `steps` frames from `from` to `to` (each a list of finger positions), evenly spaced. */
function slide(from, to, steps = 8) {
  return Array.from({ length: steps + 1 }, (_, k) => from.map(([x, y], i) => [x + ((to[i][0] - x) * k) / steps, y + ((to[i][1] - y) * k) / steps]));
}

function waitGlide(page) {
  return page.waitForFunction(() => !window.twinViewer.viewer.glideStop, null, { polling: 50, timeout: 45_000 });
}

// The camera, to the micrometre: the controls' damping leaves float noise of 1e-15 m that is no orbit.
function cameraState(page) {
  return page.evaluate(() => {
    const { camera, controls } = window.twinViewer.viewer;
    const round = (v) => Math.round(v * 1e6) / 1e6 + 0; // + 0: -0 and 0 are the same place
    return { position: camera.position.toArray().map(round), target: controls.target.toArray().map(round),
      distance: round(camera.position.distanceTo(controls.target)),
      direction: camera.getWorldDirection(new window.twinViewer.THREE.Vector3()).toArray().map(round) };
  });
}

// The part of the screen the 3D view shows unobstructed: below the top bar, above the panel (at the bottom on a phone).
function openView(page) {
  return page.evaluate(() => ({ width: innerWidth, top: document.getElementById('top').getBoundingClientRect().bottom,
    bottom: document.getElementById('panel').getBoundingClientRect().top }));
}

// Where a point of the twin's z-up world (metres) appears on the page.
function onScreen(page, point) {
  return page.evaluate((p) => {
    const app = window.twinViewer;
    return app.viewer.toScreen(app.twin.root.localToWorld(new app.THREE.Vector3(...p)));
  }, point);
}

// Where a machine's body appears on the page (the middle of its box).
function machineOnScreen(page, machineId) {
  return page.evaluate((id) => {
    const app = window.twinViewer;
    const rig = app.placement.rigs.get(id);
    const body = rig.children.find((c) => c.name === id) || rig;
    return app.viewer.toScreen(new app.THREE.Box3().setFromObject(body).getCenter(new app.THREE.Vector3()));
  }, machineId);
}

function assertInView(spot, view, what) {
  assert.ok(spot.inFront && spot.x > 5 && spot.x < view.width - 5 && spot.y > view.top + 5 && spot.y < view.bottom - 5,
    `${what} is on the open part of the screen: ${JSON.stringify(spot)} in ${JSON.stringify(view)}`);
}

const REVISION = () => window.twinViewer.connection.twins.get(window.twinViewer.twinName).revision;
const sub = (a, b) => a.map((v, i) => v - b[i]);
const length = (v) => Math.hypot(...v);

test('on a phone: one finger orbits the view around its target, two fingers pinch to zoom in and out', async () => {
  const page = await open(`${suite.server.url}?mode=tour&lang=en`);
  await waitForFullLoad(page);
  await waitGlide(page);
  const view = await openView(page);
  const y = (view.top + view.bottom) / 2;

  const start = await cameraState(page);
  await page.touch.gesture(slide([[view.width * 0.3, y]], [[view.width * 0.7, y]]));
  const orbited = await cameraState(page);
  assert.ok(length(sub(orbited.position, start.position)) > 0.5, `one finger moved the camera: ${JSON.stringify({ start, orbited })}`);
  assert.ok(length(sub(orbited.target, start.target)) < 1e-6, 'orbiting keeps the target');
  assert.ok(Math.abs(orbited.distance - start.distance) < 1e-3 * start.distance, 'orbiting keeps the distance');
  const turn = Math.atan2(orbited.position[0] - orbited.target[0], orbited.position[2] - orbited.target[2])
    - Math.atan2(start.position[0] - start.target[0], start.position[2] - start.target[2]);
  assert.ok(Math.abs(Math.sin(turn)) > 0.2, `the view turned about the vertical: ${turn} rad`);

  const cx = view.width / 2;
  await page.touch.gesture(slide([[cx - 40, y], [cx + 40, y]], [[cx - 140, y], [cx + 140, y]]));
  const zoomedIn = await cameraState(page);
  assert.ok(zoomedIn.distance < orbited.distance * 0.75, `spreading two fingers zooms in: ${orbited.distance.toFixed(2)} -> ${zoomedIn.distance.toFixed(2)} m`);
  await screenshot(page, 'touch-zoomed-in');

  await page.touch.gesture(slide([[cx - 140, y], [cx + 140, y]], [[cx - 40, y], [cx + 40, y]]));
  const zoomedOut = await cameraState(page);
  assert.ok(zoomedOut.distance > zoomedIn.distance * 1.3, `pinching zooms out: ${zoomedIn.distance.toFixed(2)} -> ${zoomedOut.distance.toFixed(2)} m`);
  const frame = await page.evaluate(() => window.twinViewer.viewer.capture());
  assert.ok(frame.geometryFraction > 0.3, `the twin is still in view: ${frame.geometryFraction}`);
  await screenshot(page, 'touch-orbit');
  assert.deepEqual(page.consoleErrors, []);
});

test('planner on a phone: a tap selects a machine, a finger drags it (the other page sees it on the floor), two taps measure', async () => {
  const page = await open(adminUrl('?mode=planner&lang=en'));
  const other = await open(adminUrl('?mode=planner&lang=en'));
  await page.tap('[data-testid=top-view]');
  await waitGlide(page);
  const view = await openView(page);
  // The top view shows the whole floor in the open part of the screen, and fills most of it.
  const floor = await page.evaluate(() => {
    const app = window.twinViewer;
    const box = new app.THREE.Box3();
    for (const mesh of app.twin.meshes) box.expandByObject(mesh);
    return [[box.min.x, box.min.z], [box.max.x, box.min.z], [box.min.x, box.max.z], [box.max.x, box.max.z]]
      .map(([x, z]) => app.viewer.toScreen(new app.THREE.Vector3(x, box.min.y, z)));
  });
  floor.forEach((corner, k) => assertInView(corner, view, `floor corner ${k}`));
  const spanX = Math.max(...floor.map((c) => c.x)) - Math.min(...floor.map((c) => c.x));
  const spanY = Math.max(...floor.map((c) => c.y)) - Math.min(...floor.map((c) => c.y));
  assert.ok(spanX > 0.75 * view.width || spanY > 0.75 * (view.bottom - view.top), `the floor fills the open view: ${spanX} x ${spanY} px`);

  // A tap on the printer selects it: its name in the hint, the rotate buttons enabled, nothing sent.
  const revision = await page.evaluate(REVISION);
  const printer = await machineOnScreen(page, 'printer-1');
  assertInView(printer, view, 'the printer');
  await page.touch.tap(printer.x, printer.y);
  const selected = await page.evaluate(() => ({ id: window.twinViewer.mode.selectedId, name: window.twinViewer.placement.rigs.get('printer-1').userData.machine.name,
    hint: document.querySelector('[data-testid=planner-hint]').textContent, rotate: document.querySelector('[data-testid=rotate-left]').disabled,
    pose: window.twinViewer.document.machines.find((m) => m.id === 'printer-1').pose }));
  assert.equal(selected.id, 'printer-1');
  assert.equal(selected.hint, selected.name);
  assert.equal(selected.rotate, false, 'a selected machine can be rotated');

  // One finger drags the laser cutter into the middle of the room; a second finger put down on the
  // way (as a pinch would start) neither zooms the view nor moves the machine.
  const target = [4.0, 3.0];
  const path = await page.evaluate(({ target }) => {
    const app = window.twinViewer;
    const THREE = app.THREE;
    const rig = app.placement.rigs.get('laser-1');
    const grab = app.viewer.toScreen(new THREE.Box3().setFromObject(rig.children.find((c) => c.name === 'laser-1') || rig).getCenter(new THREE.Vector3()));
    const start = app.mode.floorPoint({ clientX: grab.x, clientY: grab.y }, rig.position.z);
    const end = start.clone().add(new THREE.Vector3(target[0] - rig.position.x, target[1] - rig.position.y, 0));
    return { grab, drop: app.viewer.toScreen(app.twin.root.localToWorld(end)), floorZ: -rig.userData.machine.bounds.min[2] };
  }, { target });
  assertInView(path.grab, view, 'the laser cutter');
  assertInView(path.drop, view, 'where it goes');
  const cameraBefore = await cameraState(page);
  const halfway = [(path.grab.x + path.drop.x) / 2, (path.grab.y + path.drop.y) / 2];
  const second = [[view.width * 0.5, view.top + 20], [view.width * 0.9, view.top + 10]];
  await page.touch.gesture([...slide([[path.grab.x, path.grab.y]], [halfway], 5),
    ...slide([halfway, second[0]], [[path.drop.x, path.drop.y], second[1]], 5)]);
  assert.deepEqual(await cameraState(page), cameraBefore, 'dragging a machine does not orbit the view');
  const arrived = await other.waitForFunction((target) => {
    const app = window.twinViewer;
    const pose = app.document.machines.find((m) => m.id === 'laser-1').pose;
    const rig = app.placement.rigs.get('laser-1').position;
    return Math.hypot(pose.translation[0] - target[0], pose.translation[1] - target[1]) < 0.05
      && Math.hypot(rig.x - target[0], rig.y - target[1]) < 0.05 && { pose, rig: rig.toArray() };
  }, target, { timeout: 45_000, polling: 100 }).then((handle) => handle.jsonValue());
  assert.equal(arrived.pose.translation[2], +path.floorZ.toFixed(4), `on the floor: ${JSON.stringify(arrived.pose)}`);
  assert.ok(Math.abs(arrived.rig[2] - path.floorZ) < 1e-4, 'the other page stands it on the floor');
  const [qx, qy] = arrived.pose.rotation;
  assert.ok(Math.hypot(qx, qy) < 1e-6, `still upright: ${arrived.pose.rotation}`);
  assert.equal(await page.evaluate(() => window.twinViewer.mode.selectedId), 'laser-1', 'the dragged machine stays selected: the second finger picks nothing');
  await page.waitForFunction(() => window.twinViewer.mode.result && !window.twinViewer.mode.drag, null, { timeout: 30_000 });
  await page.waitForFunction((r) => window.twinViewer.connection.twins.get(window.twinViewer.twinName).revision > r, revision, { timeout: 30_000 });
  assert.equal(await page.evaluate(REVISION), revision + 1, 'one edit: the drag\'s (the tap sent none)');
  await screenshot(page, 'touch-planner');
  await screenshot(other, 'touch-planner-other-page');

  // Measuring: one-finger orbits and two-finger zooms mark nothing; two taps on the floor measure 2.83 m.
  await page.tap('[data-testid=tool-measure]');
  const middle = (view.top + view.bottom) / 2;
  const measuring = await cameraState(page);
  await page.touch.gesture(slide([[view.width * 0.2, middle]], [[view.width * 0.3, middle - 40]], 4));
  const turned = await cameraState(page);
  assert.ok(length(sub(turned.direction, measuring.direction)) > 0.1, `a measuring finger still orbits: ${JSON.stringify({ measuring, turned })}`);
  await page.touch.gesture(slide([[view.width * 0.4, middle], [view.width * 0.6, middle]], [[view.width * 0.3, middle], [view.width * 0.7, middle]], 4));
  assert.ok((await cameraState(page)).distance < turned.distance * 0.9, 'two measuring fingers still zoom');
  assert.equal(await page.evaluate(() => window.twinViewer.mode.measurePoints.length), 0, 'gestures are not taps');
  await page.tap('[data-testid=top-view]');
  await waitGlide(page);
  for (const spot of [[3, 2, 0], [5, 4, 0]]) {
    const at = await onScreen(page, spot);
    assertInView(at, view, `the floor at ${spot}`);
    await page.touch.tap(at.x, at.y);
  }
  const measured = await page.evaluate(() => ({ metres: window.twinViewer.mode.measurements.at(-1), points: window.twinViewer.mode.measured,
    hint: document.querySelector('[data-testid=planner-hint]').textContent }));
  assert.ok(Math.abs(measured.metres - Math.hypot(2, 2)) < 0.1, `measured ${measured.metres} m`);
  [[3, 2, 0], [5, 4, 0]].forEach((spot, i) => assert.ok(length(sub(spot, measured.points[i])) < 0.1, `measured between ${JSON.stringify(measured.points)}`));
  assert.match(measured.hint, new RegExp(`${measured.metres.toFixed(2)} m`));
  await screenshot(page, 'touch-measure');
  assert.deepEqual(page.consoleErrors, []);
  assert.deepEqual(other.consoleErrors, []);
});
