// The emulated room of marker-based AR, shared by the browser test and the benchmark: the
// document's printed markers put into the emulated camera's view (tests/fixtures/
// xr-camera-access.js) where a chosen T_xr_world puts them, the emulated device aimed at them,
// and how far the viewer's alignment is from that T_xr_world.

import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { PROJECT_ROOT, VIEWER_ROOT, xrEnvironment } from './harness.js';

/** OpenCV's images of markers ("DICT_4X4_50:0", ...) on white paper (tests/fixtures/make_marker_textures.py). */
export function markerTextures(keys) {
  const python = join(PROJECT_ROOT, '.venv', 'bin', 'python');
  return JSON.parse(execFileSync(python, [join(VIEWER_ROOT, 'tests', 'fixtures', 'make_marker_textures.py'), ...keys], { encoding: 'utf8' }));
}

/**
 * Puts the document's markers into the emulated camera's room where T_xr_world (the twin's
 * world turned `turnDeg` about up and shifted by `shift`, metres) puts them. Returns
 * { T_xr_world, markers: [{ key, id, T_xr_marker }] } (column-major arrays).
 */
export async function furnishRoom(page, { turnDeg, shift }) {
  const keys = await page.evaluate(() => window.twinViewer.document.anchors.filter((a) => a.marker).map((a) => `${a.marker.dictionary}:${a.marker.id}`));
  const textures = markerTextures(keys);
  return page.evaluate(async ({ turnDeg, shift, textures }) => {
    const app = window.twinViewer;
    const THREE = app.THREE;
    const T_xr_world = new THREE.Matrix4().makeRotationY(THREE.MathUtils.degToRad(turnDeg)).setPosition(...shift)
      .multiply(new THREE.Matrix4().makeRotationX(-Math.PI / 2));
    const markers = app.document.anchors.filter((a) => a.marker).map((a) => {
      const key = `${a.marker.dictionary}:${a.marker.id}`;
      const T_world_marker = new THREE.Matrix4().compose(new THREE.Vector3(...a.position), new THREE.Quaternion(...a.rotation), new THREE.Vector3(1, 1, 1));
      return { key, id: a.id, T_xr_marker: T_xr_world.clone().multiply(T_world_marker).toArray(), size_m: a.marker.size_m, ...textures[key] };
    });
    await window.xrCameraRoom.setMarkers(markers);
    return { T_xr_world: T_xr_world.toArray(), markers: markers.map(({ key, id, T_xr_marker }) => ({ key, id, T_xr_marker })) };
  }, { turnDeg, shift, textures });
}

/** Stands the emulated device `distance` m in front of a marker, `sideDeg` to its side, looking at its centre. */
export function lookAtMarker(page, T_xr_marker, distance, sideDeg) {
  return page.evaluate(({ T_xr_marker, distance, sideDeg }) => {
    const THREE = window.twinViewer.THREE;
    const T = new THREE.Matrix4().fromArray(T_xr_marker);
    const side = THREE.MathUtils.degToRad(sideDeg);
    const eye = new THREE.Vector3(Math.sin(side) * distance, -0.1, Math.cos(side) * distance).applyMatrix4(T);
    const centre = new THREE.Vector3().setFromMatrixPosition(T);
    const q = new THREE.Quaternion().setFromRotationMatrix(new THREE.Matrix4().lookAt(eye, centre, new THREE.Vector3(0, 1, 0)));
    window.xrDevice.position.set(eye.x, eye.y, eye.z);
    window.xrDevice.quaternion.set(q.x, q.y, q.z, q.w);
  }, { T_xr_marker, distance, sideDeg });
}

/** Narrows the emulated device's vertical field of view to a phone camera's. */
export function phoneFieldOfView(page, degrees = 60) {
  return page.evaluate((deg) => { window.xrDevice.fovy = (deg * Math.PI) / 180; }, degrees);
}

/** Enters AR (with the emulator's office room for hit-test) and waits until the session chose its alignment. */
export async function enterAr(page) {
  await page.evaluate((room) => window.xrDevice.sem.loadEnvironment(room), xrEnvironment('office_small'));
  await page.click('[data-testid=ar-enter]');
  await page.waitForFunction(() => window.twinViewer.ar.session && window.twinViewer.ar.path, null, { timeout: 45_000 });
}

/**
 * How far the twin's placement is from the room's T_xr_world: the turn between them (degrees)
 * and the distance (metres) at the markers `atMarkers` (ids), at the world's origin and at the
 * room's far corner (8, 6, 0).
 */
export function alignmentError(page, room, atMarkers) {
  return page.evaluate(({ T_xr_world, markers, atMarkers }) => {
    const app = window.twinViewer;
    const THREE = app.THREE;
    const truth = new THREE.Matrix4().fromArray(T_xr_world);
    app.twin.root.updateMatrixWorld(true);
    const found = app.twin.root.matrixWorld.clone();
    const turn = new THREE.Quaternion().setFromRotationMatrix(found).angleTo(new THREE.Quaternion().setFromRotationMatrix(truth));
    const at = (p) => p.clone().applyMatrix4(found).distanceTo(p.clone().applyMatrix4(truth));
    const centres = markers.filter((m) => atMarkers.includes(m.id))
      .map((m) => new THREE.Vector3().setFromMatrixPosition(truth.clone().invert().multiply(new THREE.Matrix4().fromArray(m.T_xr_marker))));
    return {
      turnDeg: THREE.MathUtils.radToDeg(turn),
      atMarkersM: Math.max(...centres.map(at)),
      atOriginM: at(new THREE.Vector3()),
      atFarCornerM: at(new THREE.Vector3(8, 6, 0)),
    };
  }, { ...room, atMarkers });
}
