// RFC 6902 JSON Patch, applied atomically: the server sends the document as a snapshot and
// then as patches, and the planner sends its edits the same way.

function unescapeToken(token) {
  return token.replace(/~1/g, '/').replace(/~0/g, '~');
}

export function escapeToken(token) {
  return String(token).replace(/~/g, '~0').replace(/\//g, '~1');
}

export function pointer(...tokens) {
  return tokens.map((t) => '/' + escapeToken(t)).join('');
}

function parsePointer(path) {
  if (path === '') return [];
  if (typeof path !== 'string' || !path.startsWith('/')) {
    throw new Error(`JSON pointer "${path}" must be empty or start with "/".`);
  }
  return path.slice(1).split('/').map(unescapeToken);
}

function arrayIndex(array, token, forInsert) {
  if (forInsert && token === '-') return array.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new Error(`"${token}" is not an array index.`);
  const index = Number(token);
  const limit = forInsert ? array.length : array.length - 1;
  if (index > limit) throw new Error(`array index ${index} is out of range (length ${array.length}).`);
  return index;
}

function parentOf(document, tokens, path) {
  let node = document;
  for (const token of tokens.slice(0, -1)) {
    if (Array.isArray(node)) node = node[arrayIndex(node, token, false)];
    else if (node !== null && typeof node === 'object' && token in node) node = node[token];
    else throw new Error(`path "${path}" does not exist in the document.`);
  }
  if (node === null || typeof node !== 'object') throw new Error(`path "${path}" does not exist in the document.`);
  return node;
}

export function getAt(document, path) {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return document;
  const parent = parentOf(document, tokens, path);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) return parent[arrayIndex(parent, last, false)];
  if (!(last in parent)) throw new Error(`path "${path}" does not exist in the document.`);
  return parent[last];
}

function add(document, path, value) {
  const tokens = parsePointer(path);
  if (tokens.length === 0) return value;
  const parent = parentOf(document, tokens, path);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true), 0, value);
  else parent[last] = value;
  return document;
}

function remove(document, path) {
  const tokens = parsePointer(path);
  if (tokens.length === 0) throw new Error('cannot remove the whole document.');
  const parent = parentOf(document, tokens, path);
  const last = tokens[tokens.length - 1];
  if (Array.isArray(parent)) return parent.splice(arrayIndex(parent, last, false), 1)[0];
  if (!(last in parent)) throw new Error(`path "${path}" does not exist in the document.`);
  const value = parent[last];
  delete parent[last];
  return value;
}

function deepEqual(a, b) {
  return JSON.stringify(a) === JSON.stringify(b) ||
    (typeof a === 'object' && typeof b === 'object' && a && b &&
      Object.keys(a).length === Object.keys(b).length &&
      Object.keys(a).every((k) => deepEqual(a[k], b[k])));
}

export function clone(value) {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

/** Returns the patched copy of `document`; throws (leaving `document` untouched) if any op fails. */
export function applyPatch(document, patch) {
  if (!Array.isArray(patch)) throw new Error('a JSON patch must be a list of operations.');
  let result = clone(document);
  for (const op of patch) {
    switch (op.op) {
      case 'add': result = add(result, op.path, clone(op.value)); break;
      case 'remove': remove(result, op.path); break;
      case 'replace':
        if (op.path !== '') remove(result, op.path);
        result = add(result, op.path, clone(op.value));
        break;
      case 'move': { const value = remove(result, op.from); result = add(result, op.path, value); break; }
      case 'copy': result = add(result, op.path, clone(getAt(result, op.from))); break;
      case 'test':
        if (!deepEqual(getAt(result, op.path), op.value)) throw new Error(`test failed at "${op.path}".`);
        break;
      default: throw new Error(`unknown patch operation "${op.op}".`);
    }
  }
  return result;
}
