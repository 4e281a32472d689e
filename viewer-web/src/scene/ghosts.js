// The scanned cloud still holds each machine where it stood when scanned. When a planner moves
// a machine away (or a layout removes it), its old points would stay behind as a ghost: the
// cloud's materials skip the points inside those machines' scanned boxes.

import * as THREE from 'three';
import { machinesIn } from '../document/document.js';

const MAX_GHOSTS = 16;
const MARGIN_M = 0.03; // the scan's noise around a machine's box
const FLOOR_KEPT_M = 0.02; // the floor under a machine stays: the box starts this far above its base
const MOVED_M = 0.01;

/** The boxes to skip, shared by every cloud material: inverse box matrices (world to unit cube). */
export function ghostUniforms() {
  return { ghostBoxes: { value: Array.from({ length: MAX_GHOSTS }, () => new THREE.Matrix4()) }, ghostCount: { value: 0 } };
}

/** Makes `material` (points) skip what lies inside the boxes of `uniforms`. */
export function cullGhosts(material, uniforms) {
  material.onBeforeCompile = (shader) => {
    Object.assign(shader.uniforms, uniforms);
    shader.vertexShader = shader.vertexShader
      .replace('void main() {', `#define MAX_GHOSTS ${MAX_GHOSTS}\nuniform mat4 ghostBoxes[ MAX_GHOSTS ];\nuniform int ghostCount;\nvoid main() {`)
      .replace('#include <project_vertex>', `#include <project_vertex>
  vec4 ghostWorld = modelMatrix * vec4( transformed, 1.0 );
  for ( int i = 0; i < MAX_GHOSTS; i ++ ) {
    if ( i >= ghostCount ) break;
    vec3 q = ( ghostBoxes[ i ] * ghostWorld ).xyz;
    if ( all( lessThanEqual( abs( q ), vec3( 0.5 ) ) ) ) gl_Position = vec4( 2.0, 2.0, 2.0, 1.0 ); // outside the view: not drawn
  }`);
  };
  material.customProgramCacheKey = () => 'cull-ghosts';
  material.needsUpdate = true;
}

/** Points the uniforms at the scanned boxes of the machines that are no longer where they were scanned. */
export function updateGhosts(uniforms, document, layoutId, root) {
  const placed = new Map(machinesIn(document, layoutId).map((m) => [m.id, m]));
  root.updateWorldMatrix(true, false);
  let count = 0;
  for (const scanned of document.machines || []) {
    if (count >= MAX_GHOSTS) break;
    const now = placed.get(scanned.id);
    const moved = !now || Math.hypot(...now.pose.translation.map((v, i) => v - scanned.pose.translation[i])) > MOVED_M ||
      now.pose.rotation.some((v, i) => Math.abs(v - scanned.pose.rotation[i]) > 1e-4);
    if (!moved) continue;
    const min = new THREE.Vector3(...scanned.bounds.min).subScalar(MARGIN_M);
    min.z = scanned.bounds.min[2] + FLOOR_KEPT_M;
    const max = new THREE.Vector3(...scanned.bounds.max).addScalar(MARGIN_M);
    const [x, y, z, w] = scanned.pose.rotation;
    const T_world_box = new THREE.Matrix4().compose(new THREE.Vector3(...scanned.pose.translation), new THREE.Quaternion(x, y, z, w).normalize(), new THREE.Vector3(1, 1, 1))
      .multiply(new THREE.Matrix4().compose(min.clone().add(max).multiplyScalar(0.5), new THREE.Quaternion(), max.clone().sub(min)));
    uniforms.ghostBoxes.value[count].multiplyMatrices(root.matrixWorld, T_world_box).invert();
    count++;
  }
  uniforms.ghostCount.value = count;
}
