// Loading the twin's GLB (docs/architecture.md: a root node `twin` turns the z-up world into
// glTF's y-up; machines are nodes named by id carrying their document fields in `extras`).

import * as THREE from 'three';
import { GLTFLoader } from 'three/examples/jsm/loaders/GLTFLoader.js';
import { MeshoptDecoder } from 'three/examples/jsm/libs/meshopt_decoder.module.js';
import { makeZUpRoot } from './axes.js';

export const TWIN_ROOT_NODE = 'twin';

export function makeGltfLoader() {
  const loader = new GLTFLoader();
  loader.setMeshoptDecoder(MeshoptDecoder);
  return loader;
}

/**
 * Puts the GLB in `scene` and returns the twin's z-up root (the `twin` node, or one made with
 * the same turn, axes.js's, when the file lacks it), the clouds and the scanned meshes.
 */
export function installTwin(scene, gltf) {
  let root = gltf.scene.getObjectByName(TWIN_ROOT_NODE);
  if (!root) {
    root = makeZUpRoot();
    root.name = TWIN_ROOT_NODE;
    root.add(...gltf.scene.children);
    gltf.scene.add(root);
  }
  scene.add(gltf.scene);
  gltf.scene.updateMatrixWorld(true);
  const clouds = [];
  const meshes = [];
  root.traverse((o) => {
    if (o.isPoints) clouds.push(o);
    else if (o.isMesh) meshes.push(o);
  });
  for (const cloud of clouds) {
    cloud.material = new THREE.PointsMaterial({ size: 2, sizeAttenuation: false, vertexColors: Boolean(cloud.geometry.attributes.color), color: cloud.geometry.attributes.color ? 0xffffff : 0x9aa4ad });
  }
  return { gltf, root, clouds, meshes };
}

/** Vertex positions of `objects` in the root's (z-up world) frame, as one flat array. */
export function positionsInRoot(root, objects, maxPerObject = 200_000) {
  const toRoot = root.matrixWorld.clone().invert();
  const out = [];
  const p = new THREE.Vector3();
  for (const object of objects) {
    const position = object.geometry?.attributes?.position;
    if (!position) continue;
    const matrix = toRoot.clone().multiply(object.matrixWorld);
    const step = Math.max(1, Math.floor(position.count / maxPerObject));
    for (let i = 0; i < position.count; i += step) {
      p.fromBufferAttribute(position, i).applyMatrix4(matrix);
      out.push(p.x, p.y, p.z);
    }
  }
  return out;
}
