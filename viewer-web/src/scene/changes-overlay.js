// The "changes since" overlay's outlines: each change region of a version's changes.json (twin
// diff's: kind, centroid, bounds in the twin's z-up world) as a box outline under the twin's root,
// coloured by kind; a moved object also gets its new place, its old box carried by the motion.

import * as THREE from 'three';

export const CHANGE_COLORS = { added: 0xd62828, removed: 0x2f6fe0, moved: 0xf2a900 };

/** The 4x4 of twin diff's JSON (rows) as a three.js matrix. */
export function matrixFromRows(rows) {
  return new THREE.Matrix4().set(...rows.flat());
}

/** An outline of the axis-aligned box `bounds` ({min, max}, root frame), moved by `matrix` if given. */
export function boxOutline(bounds, color, matrix = null) {
  const min = new THREE.Vector3(...bounds.min);
  const max = new THREE.Vector3(...bounds.max);
  const size = max.clone().sub(min).max(new THREE.Vector3(0.02, 0.02, 0.02)); // a flat region still shows
  const outline = new THREE.LineSegments(new THREE.EdgesGeometry(new THREE.BoxGeometry(size.x, size.y, size.z)),
    new THREE.LineBasicMaterial({ color, depthTest: false, transparent: true }));
  outline.renderOrder = 10; // drawn over the cloud, so a region inside a machine still shows
  outline.position.copy(min.add(max).multiplyScalar(0.5));
  if (matrix) {
    outline.updateMatrix();
    outline.matrix.premultiply(matrix);
    outline.matrix.decompose(outline.position, outline.quaternion, outline.scale);
  }
  return outline;
}

export class ChangesOverlay {
  constructor(root) {
    this.root = root;
    this.group = new THREE.Group();
    this.group.name = 'changes-overlay';
    root.add(this.group);
    this.changes = [];
  }

  /** Outlines `changes` (replacing what was shown). */
  show(changes) {
    this.clear();
    this.changes = changes;
    changes.forEach((change, index) => {
      const color = CHANGE_COLORS[change.kind] ?? 0xffffff;
      const outline = boxOutline(change.bounds, color);
      outline.name = `change-${index}`;
      this.group.add(outline);
      if (change.motion) {
        const moved = boxOutline(change.bounds, color, matrixFromRows(change.motion.T));
        moved.name = `change-${index}-new-place`;
        this.group.add(moved);
      }
    });
  }

  clear() {
    for (const child of [...this.group.children]) {
      child.geometry.dispose();
      child.material.dispose();
      this.group.remove(child);
    }
    this.changes = [];
  }

  /** Where to look at change `index`: its centroid (its new place's, for a move) in scene coordinates. */
  focus(index) {
    const change = this.changes[index];
    const centre = new THREE.Vector3(...change.centroid);
    if (change.motion) centre.applyMatrix4(matrixFromRows(change.motion.T));
    this.root.updateWorldMatrix(true, false);
    return this.root.localToWorld(centre);
  }
}
