// A step's or a stop's highlight at an anchor: an arrow onto the surface, an outline ring
// around the spot, or a label. Built in the anchor's frame (+z along its normal) and added to
// the anchor, so it follows the machine wherever the planner puts it.

import * as THREE from 'three';
import { makeLabel } from './labels.js';

export const DEFAULT_HIGHLIGHT_COLOR = '#ff8800';

function overlayMaterial(color) {
  return new THREE.MeshBasicMaterial({ color, depthTest: false, depthWrite: false, transparent: true, opacity: 0.95 });
}

function arrow(color) {
  const group = new THREE.Group();
  const head = new THREE.Mesh(new THREE.ConeGeometry(0.06, 0.14, 20), overlayMaterial(color));
  head.rotation.x = -Math.PI / 2; // cone tip along -z, onto the surface
  head.position.z = 0.08;
  const shaft = new THREE.Mesh(new THREE.CylinderGeometry(0.018, 0.018, 0.28, 12), overlayMaterial(color));
  shaft.rotation.x = Math.PI / 2;
  shaft.position.z = 0.29;
  group.add(head, shaft);
  return group;
}

function ring(color) {
  const mesh = new THREE.Mesh(new THREE.TorusGeometry(0.14, 0.018, 10, 40), overlayMaterial(color));
  mesh.position.z = 0.01;
  return mesh;
}

/** A highlight group for `highlight` ({kind, color}) with an optional label text. */
export function makeHighlight(highlight, labelText) {
  const color = highlight?.color || DEFAULT_HIGHLIGHT_COLOR;
  const kind = highlight?.kind || 'arrow';
  const group = new THREE.Group();
  group.name = 'highlight';
  group.userData.notPickable = true;
  if (kind === 'arrow') group.add(arrow(color));
  if (kind === 'outline') group.add(ring(color));
  if (labelText) {
    const label = makeLabel(labelText, { border: color });
    label.name = 'highlight-label';
    label.position.z = kind === 'arrow' ? 0.48 : 0.2;
    group.add(label);
  }
  group.traverse((o) => { o.renderOrder = Math.max(o.renderOrder, 6); });
  return group;
}

/** One highlight at a time in a mode: `show(anchorObject, highlight, text)` replaces the last. */
export class HighlightSlot {
  constructor() {
    this.current = null;
  }

  show(anchorObject, highlight, labelText) {
    this.clear();
    if (!anchorObject) return null;
    this.current = makeHighlight(highlight, labelText);
    anchorObject.add(this.current);
    return this.current;
  }

  clear() {
    if (!this.current) return;
    this.current.removeFromParent();
    this.current.traverse((o) => { o.geometry?.dispose(); o.material?.map?.dispose(); o.material?.dispose(); });
    this.current = null;
  }
}
