// Validates glTF/GLB files with the Khronos glTF Validator (npm gltf-validator) and prints one JSON
// object: {"<path>": <the validator's report>, ...}. Usage: node validate_gltf.mjs FILE...
// The validator is resolved from viewer-web/node_modules (override with GLTF_VALIDATOR=path/to/package).
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const packagePath = process.env.GLTF_VALIDATOR ?? path.join(here, "..", "..", "..", "viewer-web", "node_modules", "gltf-validator");
const validator = createRequire(import.meta.url)(packagePath);

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error("usage: node validate_gltf.mjs FILE.glb [FILE.glb ...]");
  process.exit(2);
}
const reports = {};
for (const file of files) {
  const bytes = new Uint8Array(await readFile(file));
  reports[file] = await validator.validateBytes(bytes, {
    uri: path.basename(file),
    maxIssues: 50,
    externalResourceFunction: (uri) => readFile(path.resolve(path.dirname(file), decodeURIComponent(uri))).then((b) => new Uint8Array(b)),
  });
}
console.log(JSON.stringify(reports));
