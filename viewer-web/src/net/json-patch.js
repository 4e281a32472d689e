// RFC 6902 JSON Patch, applied atomically: the server sends the document as a snapshot and
// then as patches, and the planner sends its edits the same way. fast-json-patch applies the
// operations; this is the guard around it, which must agree with the server's
// twin/serve/json_patch.py on every case of tests/json_patch_cases.json.

import { applyOperation, escapePathComponent, unescapePathComponent } from 'fast-json-patch/index.mjs';

const OPS = ['add', 'remove', 'replace', 'move', 'copy', 'test'];
// A path through these reaches Object.prototype (the server refuses them too).
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const ARRAY_INDEX = /^(0|[1-9][0-9]*)$/;

export class JsonPatchError extends Error {
  name = 'JsonPatchError';
}

export function escapeToken(token) {
  return escapePathComponent(String(token));
}

export function pointer(...tokens) {
  return tokens.map((t) => '/' + escapeToken(t)).join('');
}

export function clone(value) {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

function tokensOf(path, member) {
  if (typeof path !== 'string') throw new JsonPatchError(`its ${member} must be a JSON Pointer string, not ${JSON.stringify(path) ?? 'missing'}.`);
  if (path !== '' && !path.startsWith('/')) throw new JsonPatchError(`its ${member} "${path}" must be empty or start with "/".`);
  if (/~([^01]|$)/.test(path)) throw new JsonPatchError(`its ${member} "${path}" has a "~" not followed by 0 or 1.`);
  const tokens = path.split('/').slice(1).map(unescapePathComponent);
  const banned = tokens.find((token) => PROTOTYPE_KEYS.has(token));
  if (banned !== undefined) throw new JsonPatchError(`its ${member} "${path}" names "${banned}", which is refused: it reaches prototypes.`);
  return tokens;
}

/** Checks the shape of a patch (not whether it applies) and returns it; throws JsonPatchError. */
export function validatePatch(patch) {
  if (!Array.isArray(patch)) throw new JsonPatchError('a JSON patch must be a list of operations.');
  patch.forEach((operation, index) => {
    const where = `patch operation ${index}`;
    if (operation === null || typeof operation !== 'object' || Array.isArray(operation)) throw new JsonPatchError(`${where} must be an object.`);
    if (!OPS.includes(operation.op)) throw new JsonPatchError(`${where} has op ${JSON.stringify(operation.op)}; use one of ${OPS.join(', ')}.`);
    for (const member of ['path', ...(['move', 'copy'].includes(operation.op) ? ['from'] : [])]) {
      try {
        tokensOf(operation[member], member);
      } catch (error) {
        throw new JsonPatchError(`${where} (${operation.op}): ${error.message}`);
      }
    }
    if (['add', 'replace', 'test'].includes(operation.op) && operation.value === undefined) {
      throw new JsonPatchError(`${where} (${operation.op}) needs a "value".`);
    }
  });
  return patch;
}

// fast-json-patch finds members with obj[key] (so inherited ones such as "toString" exist),
// reads "01" as index 1, and checks no target of a move or copy: resolve every path here
// first, by RFC 6901. `forAdd` lets the last token name a new member or the array's end.
function resolve(document, path, forAdd) {
  const tokens = tokensOf(path, 'path');
  let node = document;
  tokens.forEach((token, i) => {
    const last = i === tokens.length - 1 && forAdd;
    const at = `"${pointer(...tokens.slice(0, i + 1))}"`;
    if (Array.isArray(node)) {
      if (last && token === '-') return;
      if (!ARRAY_INDEX.test(token)) throw new JsonPatchError(`${at}: "${token}" is not an array index.`);
      if (Number(token) > node.length - (last ? 0 : 1)) throw new JsonPatchError(`${at}: array index ${token} is out of range (length ${node.length}).`);
      node = node[Number(token)];
    } else if (node !== null && typeof node === 'object') {
      if (!last && !Object.hasOwn(node, token)) throw new JsonPatchError(`${at} does not exist in the document.`);
      node = node[token];
    } else {
      throw new JsonPatchError(`${at} does not exist: its parent is neither an object nor an array.`);
    }
  });
  return node;
}

export function getAt(document, path) {
  return resolve(document, path, false);
}

function apply(document, operation) {
  if (operation.op === 'remove' && operation.path === '') throw new JsonPatchError('cannot remove the whole document.');
  resolve(document, operation.path, operation.op === 'add');
  return applyOperation(document, operation, false, true).newDocument;
}

function applyOne(document, operation) {
  const { op, path, from } = operation;
  if (op === 'move' || op === 'copy') {
    // As RFC 6902 defines them (remove, then add), so the guard sees both halves.
    const value = getAt(document, from);
    if (op === 'copy') return apply(document, { op: 'add', path, value: clone(value) });
    if (path.startsWith(from + '/')) throw new JsonPatchError('cannot move a value into one of its own children.');
    if (path === from) return document;
    return apply(apply(document, { op: 'remove', path: from }), { op: 'add', path, value });
  }
  return apply(document, op === 'remove' ? { op, path } : { op, path, value: clone(operation.value) });
}

/** Returns the patched copy of `document`; throws JsonPatchError (leaving `document` untouched) if any op fails. */
export function applyPatch(document, patch) {
  validatePatch(patch);
  let result = clone(document);
  patch.forEach((operation, index) => {
    try {
      result = applyOne(result, operation);
    } catch (error) {
      // The library's messages quote the whole document: keep their first line.
      const reason = error.name === 'TEST_OPERATION_FAILED' ? 'the test failed: the value differs.' : error.message.split('\n')[0];
      throw new JsonPatchError(`patch operation ${index} (${operation.op} "${operation.path}"): ${reason}`);
    }
  });
  return result;
}
