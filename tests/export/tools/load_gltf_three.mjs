// Loads GLB files the way the viewer does (three.js GLTFLoader with the meshopt decoder) and prints
// one JSON object: {"<path>": {"points", "triangles", "names", "extras"}}. Usage: node load_gltf_three.mjs FILE...
// three.js is resolved from viewer-web/node_modules (override with THREE_DIR=path/to/three).
import { readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const three = process.env.THREE_DIR ?? path.join(here, "..", "..", "..", "viewer-web", "node_modules", "three");
const { GLTFLoader } = await import(pathToFileURL(path.join(three, "examples/jsm/loaders/GLTFLoader.js")));
const { MeshoptDecoder } = await import(pathToFileURL(path.join(three, "examples/jsm/libs/meshopt_decoder.module.js")));

const loader = new GLTFLoader();
loader.setMeshoptDecoder(MeshoptDecoder);
const out = {};
for (const file of process.argv.slice(2)) {
  const bytes = await readFile(file);
  const data = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const gltf = await new Promise((resolve, reject) => loader.parse(data, "", resolve, reject));
  const report = { points: 0, triangles: 0, names: [], extras: gltf.scene.userData };
  gltf.scene.traverse((object) => {
    if (object.isPoints) report.points += object.geometry.attributes.position.count;
    if (object.isMesh) report.triangles += object.geometry.index.count / 3;
    if (object.name) report.names.push(object.name);
  });
  out[file] = report;
}
console.log(JSON.stringify(out));
