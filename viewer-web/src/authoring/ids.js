// New ids for what authors add (procedures, steps, anchors, tours, stops). The document's ids
// are glTF node names too (anchors are nodes): letters, digits, '-' and '_' only, which is
// stricter than document.js's ids for layouts and measurements (those may hold '.').

const GLB_NODE_NAMES = ['twin', 'room', 'cloud']; // the GLB's own nodes (twin/document/references.py)
const MAX_LENGTH = 48;

export function slug(name, fallback) {
  const base = String(name ?? '').toLowerCase().normalize('NFKD').replace(/[\u0300-\u036f]/g, '')
    .replace(/[^a-z0-9_-]+/g, '-').replace(/^[-_]+|[-_]+$/g, '').slice(0, MAX_LENGTH).replace(/[-_]+$/, '');
  return base || fallback;
}

/** `base` (made an id), or `base-2`, `base-3`... whichever `taken` does not hold. */
export function freshId(taken, base, fallback = 'item') {
  const used = new Set(taken);
  const stem = slug(base, fallback);
  let id = stem;
  for (let n = 2; used.has(id); n++) id = `${stem}-${n}`;
  return id;
}

/** Every name a new anchor must not take: anchors and machines (glTF nodes both), and the GLB's own nodes. */
export function nodeNames(document) {
  return [...GLB_NODE_NAMES, ...(document.anchors || []).map((a) => a.id), ...(document.machines || []).flatMap((m) => [m.id, m.node].filter(Boolean))];
}
