// Puts the document's machines and anchors in the scene for the chosen layout. Each machine
// gets a rig (a group at its document pose under the twin root) that carries its GLB node,
// its anchors and whatever the modes attach (highlights, outlines), so all of it moves
// together when a planner moves the machine.

import * as THREE from 'three';
import { machinesIn, AS_IS } from '../document/document.js';
import { makeLabel, setLabelText } from './labels.js';
import { liveValue, formatValue, machineStatus, statusText } from '../document/live-values.js';

const CLEARANCE_RED = 0xff2a2a;
const SELECTED = 0xffd400;

function poseMatrix(pose) {
  const [x, y, z, w] = pose.rotation;
  return new THREE.Matrix4().compose(new THREE.Vector3(...pose.translation), new THREE.Quaternion(x, y, z, w).normalize(), new THREE.Vector3(1, 1, 1));
}

function boundsBox(bounds) {
  return new THREE.Box3(new THREE.Vector3(...bounds.min), new THREE.Vector3(...bounds.max));
}

function boxMesh(box, material) {
  const size = box.getSize(new THREE.Vector3());
  const mesh = new THREE.Mesh(new THREE.BoxGeometry(size.x, size.y, size.z), material);
  box.getCenter(mesh.position);
  return mesh;
}

function boxEdges(box, color) {
  const size = box.getSize(new THREE.Vector3());
  const lines = new THREE.LineSegments(new THREE.EdgesGeometry(new THREE.BoxGeometry(size.x, size.y, size.z)), new THREE.LineBasicMaterial({ color, depthTest: false, transparent: true }));
  box.getCenter(lines.position);
  lines.renderOrder = 5;
  lines.userData.notPickable = true;
  return lines;
}

/** Machine state properties in a line: "spindle: running, temperature: 210". */
const STATUS_BORDERS = { running: '#2ecc71', alarm: '#ff3333', idle: '#9aa0a6', offline: '#555555' };
const DEFAULT_BORDER = '#ff8800';
const LABEL_VALUES = 2; // without a status, a label shows this many values; the panel shows them all

/** What a machine's name label says of its live state: its status badge, else its first values. */
export function labelState(properties = {}, t = (key) => key) {
  const status = machineStatus(properties);
  if (status) return statusText(status, t);
  return Object.entries(properties).slice(0, LABEL_VALUES).map(([name, property]) => {
    const live = liveValue(property);
    return `${name}: ${formatValue(live)}${live.quality === 'good' ? '' : ` (${t(live.quality)})`}`;
  }).join(', ');
}

export class Placement {
  constructor(root) {
    this.root = root;
    this.rigs = new Map(); // machine id -> rig
    this.anchors = new Map(); // anchor id -> Object3D
    this.layoutId = AS_IS;
    this.document = null;
    this.listeners = new Set();
  }

  onChange(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Places everything for `document` in layout `layoutId` (unknown layouts fall back to as-is). */
  apply(document, layoutId = this.layoutId) {
    this.document = document;
    this.layoutId = (document.layouts || []).some((l) => l.id === layoutId) ? layoutId : AS_IS;
    const placed = machinesIn(document, this.layoutId);
    const placedIds = new Set(placed.map((m) => m.id));
    for (const [id, rig] of this.rigs) rig.visible = placedIds.has(id);
    for (const machine of placed) {
      const rig = this.rigs.get(machine.id) || this.makeRig(machine, document);
      rig.userData.machine = machine;
      rig.visible = true;
      poseMatrix(machine.pose).decompose(rig.position, rig.quaternion, rig.scale);
      rig.updateMatrixWorld(true);
    }
    this.placeAnchors(document);
    for (const listener of this.listeners) listener(this);
  }

  makeRig(machine, document) {
    const rig = new THREE.Group();
    rig.name = `rig:${machine.id}`;
    rig.userData.machineId = machine.id;
    this.root.add(rig);
    // The GLB shows the machine where it was at export: its as-is pose (in the node's extras,
    // else the document's). Attached to a rig at that pose, the node keeps its place.
    const asScanned = (document.machines || []).find((m) => m.id === machine.id);
    const node = this.root.getObjectByName(machine.node || machine.id);
    const box = boundsBox(machine.bounds);
    if (node && node !== rig) {
      const scanPose = node.userData?.machine?.pose || asScanned?.pose || machine.pose;
      poseMatrix(scanPose).decompose(rig.position, rig.quaternion, rig.scale);
      this.root.updateMatrixWorld(true);
      rig.attach(node);
    } else {
      // A machine without geometry in the file (e.g. one a layout adds): its box stands in.
      rig.add(boxMesh(box, new THREE.MeshStandardMaterial({ color: 0x8fa3b5, transparent: true, opacity: 0.55 })));
      rig.add(boxEdges(box, 0xcfd8e0));
    }
    const clearance = new THREE.Group();
    const padded = box.clone().expandByScalar(0.01);
    const redBox = boxMesh(padded, new THREE.MeshBasicMaterial({ color: CLEARANCE_RED, transparent: true, opacity: 0.55, depthWrite: false }));
    redBox.renderOrder = 4;
    clearance.add(redBox, boxEdges(padded, CLEARANCE_RED));
    clearance.name = 'clearance';
    clearance.visible = false;
    clearance.userData.notPickable = true;
    rig.add(clearance);
    const outline = boxEdges(box.clone().expandByScalar(0.03), SELECTED);
    outline.name = 'selected';
    outline.visible = false;
    rig.add(outline);
    const label = makeLabel(machine.name || machine.id, { heightM: 0.12, border: '#3aa0ff' });
    label.name = 'name-label';
    label.position.set((box.min.x + box.max.x) / 2, (box.min.y + box.max.y) / 2, box.max.z + 0.12);
    label.visible = false;
    rig.add(label);
    rig.userData.box = box;
    this.rigs.set(machine.id, rig);
    return rig;
  }

  placeAnchors(document) {
    const seen = new Set();
    for (const anchor of document.anchors || []) {
      seen.add(anchor.id);
      let object = this.anchors.get(anchor.id);
      if (!object) {
        object = new THREE.Object3D();
        object.name = `anchor:${anchor.id}`;
        this.anchors.set(anchor.id, object);
      }
      const parent = anchor.machine ? this.rigs.get(anchor.machine) : this.root;
      (parent || this.root).add(object);
      object.position.set(...anchor.position);
      object.userData.anchor = anchor;
      // Point the anchor's +z along its normal so highlights can stand on the surface.
      const normal = new THREE.Vector3(...(anchor.normal || [0, 0, 1])).normalize();
      object.quaternion.setFromUnitVectors(new THREE.Vector3(0, 0, 1), normal);
      object.updateMatrixWorld(true);
    }
    for (const [id, object] of this.anchors) if (!seen.has(id)) { object.removeFromParent(); this.anchors.delete(id); }
  }

  /** The rig a picked object belongs to, if any. */
  rigOf(object) {
    for (let o = object; o; o = o.parent) if (o.userData.machineId && this.rigs.get(o.userData.machineId) === o) return o;
    return null;
  }

  setClearance(machineId, violates) {
    const rig = this.rigs.get(machineId);
    if (!rig) return;
    rig.getObjectByName('clearance').visible = violates;
    rig.userData.violates = violates;
  }

  /** Shows a machine's live state on its name label (in 3D and in AR): its status badge, the border in its colour. */
  setState(machineId, properties, t) {
    const rig = this.rigs.get(machineId);
    if (!rig) return;
    const name = rig.userData.machine.name || machineId;
    const label = rig.getObjectByName('name-label');
    label.userData.label.border = STATUS_BORDERS[machineStatus(properties)?.status] ?? DEFAULT_BORDER;
    setLabelText(label, [name, labelState(properties, t)].filter(Boolean).join(' · '));
  }

  setSelected(machineId) {
    for (const [id, rig] of this.rigs) rig.getObjectByName('selected').visible = id === machineId;
  }

  showNameLabels(show) {
    for (const rig of this.rigs.values()) rig.getObjectByName('name-label').visible = show;
  }

  /** Where an anchor is now, in scene (y-up) coordinates and in the twin's z-up world. */
  anchorPosition(anchorId) {
    const object = this.anchors.get(anchorId);
    if (!object) return null;
    object.updateWorldMatrix(true, false);
    const scene = object.getWorldPosition(new THREE.Vector3());
    const world = this.root.worldToLocal(scene.clone());
    return { scene, world };
  }
}
