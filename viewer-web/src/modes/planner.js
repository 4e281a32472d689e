// Planner mode: select, move (on the floor) and rotate machines, measure point to point and
// save named measurements, check clearances (default 60 cm to the scanned walls and to other
// machines), save and switch named layouts, see and correct the 2D floor plan (ui/plan-view.js). Moves and saves are edits to the document, so every
// open viewer sees them.

import * as THREE from 'three';
import { el, select, button } from '../ui/ui.js';
import { AS_IS, setPosePatch, saveLayoutPatch, saveMeasurementPatch, measurementLength } from '../document/document.js';
import { clearance, footprint, DEFAULT_CLEARANCE_M } from '../scene/clearance.js';
import { makeLabel } from '../scene/labels.js';
import { glideTo } from '../scene/camera-glide.js';
import { PlanView } from '../ui/plan-view.js';

const ROTATE_STEP_RAD = Math.PI / 12;
// A pointer that moves farther than this between down and up orbits the view rather than taps.
const TAP_SLOP_PX = 10;
const FLOOR_SNAP_M = 0.05;
// The planner cuts the scan at this height, so that a view from above shows the floor plan.
const SECTION_HEIGHT_M = 2.2;
const Z = new THREE.Vector3(0, 0, 1);

function yawOf(quaternion) {
  const x = new THREE.Vector3(1, 0, 0).applyQuaternion(quaternion);
  return Math.atan2(x.y, x.x);
}

/** The height of a machine's frame: on the floor when it is about there, else where it is (on a bench). */
function snappedHeight(rig, z) {
  const onFloor = -rig.userData.machine.bounds.min[2];
  return Math.abs(z - onFloor) < FLOOR_SNAP_M ? onFloor : z;
}

/** An upright pose (z-up world) from a rig's position and heading. */
function floorPose(rig, yaw = yawOf(rig.quaternion)) {
  const q = new THREE.Quaternion().setFromAxisAngle(Z, yaw);
  const z = snappedHeight(rig, rig.position.z);
  return { translation: [rig.position.x, rig.position.y, z].map((v) => +v.toFixed(4)), rotation: q.toArray().map((v) => +v.toFixed(6)) };
}

/**
 * The part of the canvas (CSS pixels, relative to it) that the top bar and the panel leave
 * free: the panel stands at the right on wide screens and at the bottom on phones.
 */
function freeArea(canvas, bar, panel) {
  let left = 0, right = canvas.width, top = 0, bottom = canvas.height;
  if (bar && bar.bottom - canvas.top < canvas.height / 3) top = Math.max(0, bar.bottom - canvas.top);
  if (panel?.width && panel.left - canvas.left > canvas.width / 2) right = panel.left - canvas.left;
  else if (panel?.height && panel.top - canvas.top > canvas.height / 2) bottom = panel.top - canvas.top;
  return { left, top, width: right - left, height: bottom - top };
}

const MEASURE_COLOR = 0x00e0ff;

/** Draws a measurement (scene points) into `group`: its line, and a label with `text` in the middle. */
function drawMeasurement(group, points, text) {
  const line = new THREE.Line(new THREE.BufferGeometry().setFromPoints(points), new THREE.LineBasicMaterial({ color: MEASURE_COLOR, depthTest: false }));
  line.renderOrder = 7;
  const label = makeLabel(text, { border: '#00e0ff' });
  label.position.copy(points[0]).add(points.at(-1)).multiplyScalar(0.5);
  group.add(line, label);
}

function clearGroup(group) {
  for (const object of [...group.children]) {
    object.removeFromParent();
    object.geometry?.dispose();
    object.material.map?.dispose();
    object.material.dispose();
  }
}

export class PlannerMode {
  /**
   * @param ctx what the mode may use of the app (app/mode-context.js): viewer, placement, root,
   *   document, t, notify, and its own `canEdit`, `edit(makePatch)`, `setLayout(id)`,
   *   `wallPoints()` (for the clearance check), `scanned()` (the scan's objects, for the top view) and
   *   `downloadPlan(format, layoutId)` (the plan file the server draws).
   */
  constructor(ctx) {
    this.ctx = ctx;
    this.name = 'planner';
    this.tool = 'move';
    this.selectedId = null;
    this.clearanceM = DEFAULT_CLEARANCE_M;
    this.result = new Map();
    this.measureGroup = new THREE.Group();
    this.measureGroup.name = 'measurements';
    this.measureGroup.userData.notPickable = true;
    this.measurePoints = [];
    this.measurements = []; // metres, newest last
    this.measured = null; // the last measurement's points in the document's frame, until saved
    this.savedGroup = new THREE.Group();
    this.savedGroup.name = 'saved-measurements';
    this.savedGroup.userData.notPickable = true;
    this.planView = new PlanView(ctx);
    this.listeners = {
      pointerdown: (e) => this.pointerDown(e),
      pointermove: (e) => this.pointerMove(e),
      pointerup: (e) => this.pointerUp(e),
      pointercancel: (e) => { this.tap = null; this.pointerUp(e); },
    };
  }

  enter(panel) {
    this.panel = panel;
    const target = this.ctx.viewer.container;
    for (const [type, handler] of Object.entries(this.listeners)) target.addEventListener(type, handler, { capture: true });
    this.ctx.viewer.scene.add(this.measureGroup, this.savedGroup);
    this.drawSaved();
    this.ctx.placement.showNameLabels(true);
    this.section = new THREE.Plane();
    this.ctx.viewer.renderer.clippingPlanes = [this.section];
    this.stopSection = this.ctx.viewer.onFrame(() => this.updateSection());
    this.checkClearance();
    this.render();
  }

  updateSection() {
    const { root } = this.ctx;
    const normal = new THREE.Vector3(0, 0, -1).transformDirection(root.matrixWorld);
    this.section.setFromNormalAndCoplanarPoint(normal, root.localToWorld(new THREE.Vector3(0, 0, SECTION_HEIGHT_M)));
  }

  exit() {
    const target = this.ctx.viewer.container;
    for (const [type, handler] of Object.entries(this.listeners)) target.removeEventListener(type, handler, { capture: true });
    this.measureGroup.removeFromParent();
    this.savedGroup.removeFromParent();
    this.stopSection();
    this.ctx.viewer.renderer.clippingPlanes = [];
    this.ctx.placement.showNameLabels(false);
    this.ctx.placement.setSelected(null);
    for (const id of this.ctx.placement.rigs.keys()) this.ctx.placement.setClearance(id, false);
    this.ctx.viewer.invalidate();
    this.panel = null;
  }

  documentChanged() {
    if (!this.panel) return;
    if (!this.drag) this.checkClearance();
    this.drawSaved();
    this.render();
  }

  /** Draws the document's measurements, redrawn only when they changed (every move is a document change too). */
  drawSaved() {
    const { ctx } = this;
    const measurements = ctx.document.measurements || [];
    const key = JSON.stringify(measurements);
    if (key === this.savedKey) return;
    this.savedKey = key;
    clearGroup(this.savedGroup);
    for (const m of measurements) {
      const points = m.points.map((p) => ctx.root.localToWorld(new THREE.Vector3(...p)));
      drawMeasurement(this.savedGroup, points, `${m.name}: ${measurementLength(m.points).toFixed(2)} m`);
    }
    ctx.viewer.invalidate();
  }

  render() {
    const { ctx } = this;
    const doc = ctx.document;
    const layouts = [[AS_IS, ctx.t('asIs')], ...(doc.layouts || []).map((l) => [l.id, l.name])];
    const nameInput = el('input', { type: 'text', placeholder: ctx.t('layoutName'), 'data-testid': 'layout-name', size: 14 });
    const measurementName = el('input', { type: 'text', placeholder: ctx.t('measurementName'), 'data-testid': 'measurement-name', size: 14 });
    const saved = doc.measurements || [];
    const selected = this.selectedId ? ctx.placement.rigs.get(this.selectedId) : null;
    const violations = [...this.result].filter(([, r]) => r.violates);
    this.panel.replaceChildren(
      el('label', {}, ctx.t('layout'), select(layouts, ctx.placement.layoutId, (id) => ctx.setLayout(id), { 'data-testid': 'layout-choice' })),
      ctx.canEdit ? el('div', { class: 'row' }, nameInput, button(ctx.t('saveAs'), () => this.saveLayout(nameInput.value), { 'data-testid': 'layout-save' })) : el('p', { class: 'muted' }, ctx.t('readOnly')),
      el('div', { class: 'row' },
        button(ctx.t('move'), () => this.setTool('move'), { class: this.tool === 'move' ? 'active' : '', 'data-testid': 'tool-move' }),
        button(ctx.t('measure'), () => this.setTool('measure'), { class: this.tool === 'measure' ? 'active' : '', 'data-testid': 'tool-measure' }),
        button(`⟲ ${ctx.t('rotate')}`, () => this.rotateSelected(ROTATE_STEP_RAD), { disabled: !selected || !ctx.canEdit, 'data-testid': 'rotate-left' }),
        button('⟳', () => this.rotateSelected(-ROTATE_STEP_RAD), { disabled: !selected || !ctx.canEdit, 'data-testid': 'rotate-right' }),
        button(ctx.t('topView'), () => this.topView(), { 'data-testid': 'top-view' })),
      el('p', { class: 'muted', 'data-testid': 'planner-hint', 'data-summary': true },
        this.tool === 'measure'
          ? (this.measurements.length ? `${ctx.t('measure')}: ${this.measurements.at(-1).toFixed(2)} m` : ctx.t('measureHint'))
          : (selected ? selected.userData.machine.name : ctx.t('selectMachine'))),
      ...(this.measured && ctx.canEdit ? [el('div', { class: 'row' }, measurementName,
        button(ctx.t('save'), () => this.saveMeasurement(measurementName.value), { 'data-testid': 'measurement-save' }))] : []),
      ...(saved.length ? [el('ul', { 'data-testid': 'measurement-list', 'aria-label': ctx.t('measurements') },
        saved.map((m) => el('li', {}, `${m.name}: ${measurementLength(m.points).toFixed(2)} m`)))] : []),
      el('label', {}, `${ctx.t('clearance')} (m)`, el('input', {
        type: 'number', min: 0, step: 0.05, value: this.clearanceM, 'data-testid': 'clearance-distance',
        onChange: (e) => { const v = Number(e.target.value); if (v >= 0) { this.clearanceM = v; this.checkClearance(); this.render(); } },
      })),
      el('ul', { class: 'clearance', 'data-testid': 'clearance-list' },
        violations.length
          ? violations.map(([id, r]) => el('li', { class: 'violation' }, `${this.nameOf(id)} ${ctx.t('tooClose')} ${r.against === 'wall' ? ctx.t('wall') : this.nameOf(r.against)} (${r.distance.toFixed(2)} m)`))
          : el('li', {}, ctx.t('clearanceOk'))),
      this.planView.element,
    );
  }

  nameOf(id) {
    return this.ctx.placement.rigs.get(id)?.userData.machine?.name || id;
  }

  setTool(tool) {
    this.tool = tool;
    this.measurePoints = [];
    this.measured = null;
    this.render();
  }

  /** Looks straight down on the room, where a layout reads best, in the part of the screen the bars and the panel leave free. */
  topView() {
    const { viewer, root } = this.ctx;
    // The scan's extent: other viewers' markers and labels hang under the root too, often outside the room.
    const box = new THREE.Box3();
    for (const scanned of this.ctx.scanned()) box.expandByObject(scanned);
    const center = box.getCenter(new THREE.Vector3());
    const size = box.getSize(new THREE.Vector3());
    const canvas = viewer.renderer.domElement.getBoundingClientRect();
    const free = freeArea(canvas, document.getElementById('top')?.getBoundingClientRect(), document.getElementById('panel')?.getBoundingClientRect());
    // Fit the highest level drawn (the section's), which looks largest from above.
    const top = Math.min(box.max.y, root.localToWorld(new THREE.Vector3(0, 0, SECTION_HEIGHT_M)).y);
    const tanHalf = Math.tan(THREE.MathUtils.degToRad(viewer.camera.fov) / 2);
    const height = (1.05 * Math.max(size.x / free.width, size.z / free.height) * canvas.height) / 2 / tanHalf;
    // Shift the camera so that the room sits in the middle of the free part (screen up is -z here).
    const metresPerPixel = (2 * height * tanHalf) / canvas.height;
    const x = center.x + (canvas.width / 2 - (free.left + free.width / 2)) * metresPerPixel;
    const z = center.z + (canvas.height / 2 - (free.top + free.height / 2)) * metresPerPixel;
    return glideTo(viewer, new THREE.Vector3(x, top + height, z + 0.001), new THREE.Vector3(x, box.min.y, z), 0.8);
  }

  checkClearance() {
    const { placement } = this.ctx;
    const footprints = new Map();
    for (const [id, rig] of placement.rigs) {
      if (!rig.visible) continue;
      const pose = { translation: rig.position.toArray(), rotation: rig.quaternion.toArray() };
      footprints.set(id, footprint(rig.userData.machine.bounds, pose));
    }
    this.result = clearance(footprints, this.ctx.wallPoints(), this.clearanceM);
    for (const id of placement.rigs.keys()) placement.setClearance(id, this.result.get(id)?.violates ?? false);
    this.planView.update(new Map([...footprints].map(([id, polygon]) => [id, { name: this.nameOf(id), polygon }])), placement.layoutId);
    this.ctx.viewer.invalidate();
  }

  /** Where the pointer meets the horizontal plane at `heightM` (twin's z-up world), or null. */
  floorPoint(event, heightM = 0) {
    const { viewer, root } = this.ctx;
    root.updateWorldMatrix(true, false);
    const normal = Z.clone().transformDirection(root.matrixWorld);
    const plane = new THREE.Plane().setFromNormalAndCoplanarPoint(normal, root.localToWorld(new THREE.Vector3(0, 0, heightM)));
    viewer.raycaster.setFromCamera(viewer.toNdc(event), viewer.camera);
    const hit = viewer.raycaster.ray.intersectPlane(plane, new THREE.Vector3());
    return hit ? root.worldToLocal(hit) : null;
  }

  // Touch: a finger that lands on a machine drags it (the view stays still meanwhile); one that
  // lands elsewhere orbits, and a second finger (not primary) joins it to zoom, never picks.
  pointerDown(event) {
    if (event.button !== 0) return;
    if (!event.isPrimary) {
      this.tap = null;
      return;
    }
    const { ctx } = this;
    // Measuring on the tap, not the touch, lets a measuring finger orbit and zoom without marking.
    if (this.tool === 'measure') {
      this.tap = { pointerId: event.pointerId, x: event.clientX, y: event.clientY };
      return;
    }
    const hit = ctx.viewer.pick(event, [...ctx.placement.rigs.values()]);
    const rig = hit ? ctx.placement.rigOf(hit.object) : null;
    this.selectedId = rig?.userData.machineId ?? null;
    ctx.placement.setSelected(this.selectedId);
    ctx.viewer.invalidate();
    this.render();
    if (!rig || !ctx.canEdit) return;
    const start = this.floorPoint(event, rig.position.z);
    if (!start) return;
    ctx.viewer.controls.enabled = false;
    this.drag = { rig, offset: rig.position.clone().sub(start), moved: false, pointerId: event.pointerId };
    event.stopPropagation();
  }

  pointerMove(event) {
    if (this.tap?.pointerId === event.pointerId && Math.hypot(event.clientX - this.tap.x, event.clientY - this.tap.y) > TAP_SLOP_PX) this.tap = null;
    if (this.drag?.pointerId !== event.pointerId) return;
    const { rig, offset } = this.drag;
    const point = this.floorPoint(event, rig.position.z);
    if (!point) return;
    rig.position.set(point.x + offset.x, point.y + offset.y, snappedHeight(rig, rig.position.z));
    rig.updateMatrixWorld(true);
    this.drag.moved = true;
    this.checkClearance();
    event.stopPropagation();
  }

  async pointerUp(event) {
    if (this.tap?.pointerId === event.pointerId) {
      this.tap = null;
      this.measureAt(event);
    }
    if (this.drag?.pointerId !== event.pointerId) return;
    const { rig, moved } = this.drag;
    this.drag = null;
    this.ctx.viewer.controls.enabled = true;
    if (moved) await this.sendPose(rig, floorPose(rig));
  }

  async rotateSelected(angle) {
    const rig = this.ctx.placement.rigs.get(this.selectedId);
    if (!rig) return;
    await this.sendPose(rig, floorPose(rig, yawOf(rig.quaternion) + angle));
  }

  async sendPose(rig, pose) {
    const { ctx } = this;
    const id = rig.userData.machineId;
    const layoutId = ctx.placement.layoutId;
    try {
      await ctx.edit((doc) => setPosePatch(doc, layoutId, id, pose));
    } catch (error) {
      ctx.notify(error.message, 'error');
      ctx.placement.apply(ctx.document); // back to what the server holds
      this.checkClearance();
    }
  }

  async saveLayout(name) {
    const { ctx } = this;
    if (!name.trim()) return ctx.notify(ctx.t('layoutName'), 'error');
    try {
      let savedId = null;
      await ctx.edit((doc) => { const { id, patch } = saveLayoutPatch(doc, ctx.placement.layoutId, name.trim()); savedId = id; return patch; });
      ctx.setLayout(savedId);
    } catch (error) {
      ctx.notify(error.message, 'error');
    }
  }

  async saveMeasurement(name) {
    const { ctx } = this;
    if (!name.trim()) return ctx.notify(ctx.t('measurementName'), 'error');
    try {
      await ctx.edit((doc) => saveMeasurementPatch(doc, name.trim(), this.measured).patch);
      // Now drawn from the document, like everyone else's.
      this.measured = null;
      this.measurePoints = [];
      clearGroup(this.measureGroup);
      ctx.viewer.invalidate();
      this.render();
    } catch (error) {
      ctx.notify(error.message, 'error');
    }
  }

  measureAt(event) {
    const { ctx } = this;
    const hit = ctx.viewer.pick(event, [ctx.root]);
    if (!hit) return;
    if (this.measurePoints.length === 2) this.measurePoints = [];
    this.measurePoints.push(hit.point.clone());
    this.measured = null;
    const dot = new THREE.Mesh(new THREE.SphereGeometry(0.025, 10, 8), new THREE.MeshBasicMaterial({ color: MEASURE_COLOR, depthTest: false }));
    dot.position.copy(hit.point);
    dot.renderOrder = 7;
    this.measureGroup.add(dot);
    if (this.measurePoints.length === 2) {
      // The document's frame (z-up, metres) is the twin root's, whatever the scene's is.
      this.measured = this.measurePoints.map((p) => ctx.root.worldToLocal(p.clone()).toArray());
      const metres = measurementLength(this.measured);
      drawMeasurement(this.measureGroup, this.measurePoints, `${metres.toFixed(2)} m`);
      this.measurements.push(metres);
    }
    ctx.viewer.invalidate();
    this.render();
  }
}
