// The patches of anchors that authors place by clicking the scan (or tapping in AR): on a
// machine, the position and normal are in the machine's frame, so the anchor follows the
// machine wherever a planner moves it; in the room, they are in the world frame.

import { pointer } from '../net/json-patch.js';
import { appendPatch } from '../document/document.js';
import { freshId, nodeNames } from './ids.js';

const round = (v) => v.map((x) => +x.toFixed(4));
const NAME_LENGTH = 60;

/** A short anchor name from a text a person wrote (a step's first words). */
export function anchorName(text) {
  const line = String(text ?? '').trim().split('\n')[0];
  return line.length > NAME_LENGTH ? `${line.slice(0, NAME_LENGTH - 1)}…` : line;
}

/** The patch that adds an anchor: { id, anchor, patch }. `target`: { machine?, position, normal? }. */
export function addAnchorPatch(document, target, name = '') {
  const base = target.machine ? `${target.machine}-${name || 'point'}` : name || 'point';
  const anchor = {
    id: freshId(nodeNames(document), base, 'point'),
    ...(target.machine ? { machine: target.machine } : {}),
    position: round(target.position),
    ...(target.normal ? { normal: round(target.normal) } : {}),
    ...(name ? { name: anchorName(name) } : {}),
  };
  return { id: anchor.id, anchor, patch: appendPatch(document, 'anchors', anchor) };
}

function anchorIndex(document, id) {
  const index = (document.anchors || []).findIndex((a) => a.id === id);
  if (index < 0) throw new Error(`the document has no anchor "${id}" (any more).`);
  return index;
}

/** The patch that moves an anchor to a new point (same frame rules as addAnchorPatch). */
export function moveAnchorPatch(document, id, target) {
  const i = anchorIndex(document, id);
  const { machine, position, normal } = target;
  const anchor = { ...document.anchors[i], position: round(position), ...(normal ? { normal: round(normal) } : {}) };
  if (machine) anchor.machine = machine;
  else delete anchor.machine;
  return [{ op: 'replace', path: pointer('anchors', i), value: anchor }];
}

export function renameAnchorPatch(document, id, name) {
  const i = anchorIndex(document, id);
  const anchor = { ...document.anchors[i] };
  if (name.trim()) anchor.name = name.trim();
  else delete anchor.name;
  return [{ op: 'replace', path: pointer('anchors', i), value: anchor }];
}

/** Which procedure steps and tour stops use an anchor (an anchor in use cannot be removed). */
export function anchorUses(document, id) {
  const steps = (document.procedures || []).flatMap((p) => p.steps.filter((s) => s.anchor === id).map((s) => `${p.id}/${s.id}`));
  const stops = (document.tours || []).flatMap((t) => t.stops.filter((s) => s.anchor === id).map((s) => `${t.id}/${s.id}`));
  return [...steps, ...stops];
}
