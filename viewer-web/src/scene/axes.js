// The one turn between the twin's world and three.js's. The twin document, the protocol and the
// GLB's `twin` node's children are z-up (metres, the floor at z = 0); three.js, glTF and WebXR
// are y-up. The GLB's `twin` root carries the turn from the first to the second (-90 degrees
// about x), and 3D Tiles undoes it for glTF tile content (3D Tiles 1.1, 5.4). Everything in the
// viewer that turns between the two uses these; the matrices are frozen, so a caller cannot
// change them by mistake (clone first). twin/geometry.py names the Python side's copy by its
// frames: its T_ZUP_YUP is Y_UP_TO_Z_UP here.

import * as THREE from 'three';

/** The twin's z-up world into the y-up frame of three.js, glTF and WebXR. */
export const Z_UP_TO_Y_UP = new THREE.Matrix4().makeRotationX(-Math.PI / 2);
/** y-up (three.js, glTF content, WebXR) into the twin's z-up world: the inverse turn. */
export const Y_UP_TO_Z_UP = Z_UP_TO_Y_UP.clone().invert();
Object.freeze(Z_UP_TO_Y_UP.elements);
Object.freeze(Y_UP_TO_Z_UP.elements);

/** A group turned like the GLB's `twin` root: its children are in the twin's z-up world. */
export function makeZUpRoot() {
  const root = new THREE.Group();
  root.quaternion.setFromRotationMatrix(Z_UP_TO_Y_UP);
  return root;
}
