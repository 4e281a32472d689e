// Undo of one's own last edit: what an edit changed is kept as the items it touched, by id
// (procedures, tours, anchors), before and after. Undoing sends the inverse as a new edit made
// on the newest document, so it reverts only those items and leaves others' work alone; if
// someone changed one of them since, the undo is refused rather than overwrite their change.

import { pointer } from '../net/json-patch.js';

export const UNDOABLE_LISTS = ['anchors', 'procedures', 'tours'];
const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

export class UndoConflict extends Error {
  name = 'UndoConflict';
  constructor(list, id) {
    super(`"${id}" (${list}) was changed by someone else since: it is not undone.`);
    this.list = list;
    this.id = id;
  }
}

/** What an edit changed: [{ list, id, before, beforeIndex, after }] for every item added, changed or removed. */
export function changedItems(before, after, lists = UNDOABLE_LISTS) {
  const changes = [];
  for (const list of lists) {
    const old = before[list] || [];
    const now = after[list] || [];
    const ids = new Set([...old, ...now].map((item) => item.id));
    for (const id of ids) {
      const beforeIndex = old.findIndex((item) => item.id === id);
      const was = old[beforeIndex] ?? null;
      const is = now.find((item) => item.id === id) ?? null;
      if (!same(was, is)) changes.push({ list, id, before: was, beforeIndex, after: is });
    }
  }
  return changes;
}

/**
 * The patch that puts the changed items back as they were, made on `current`; throws
 * UndoConflict when an item is no longer as the edit left it. Anchors come back before the
 * steps that use them and go after them (the document is checked after the whole patch, but
 * the order keeps each operation meaningful on its own).
 */
export function undoPatch(current, changes) {
  const order = (c) => (c.list === 'anchors' ? (c.before ? 0 : 2) : 1);
  const patch = [];
  let doc = { ...current };
  for (const change of [...changes].sort((a, b) => order(a) - order(b))) {
    const items = doc[change.list] || [];
    const index = items.findIndex((item) => item.id === change.id);
    if (!same(items[index] ?? null, change.after)) throw new UndoConflict(change.list, change.id);
    let next;
    if (!change.before) {
      patch.push({ op: 'remove', path: pointer(change.list, index) });
      next = items.filter((_, i) => i !== index);
    } else if (!change.after) {
      const at = Math.min(change.beforeIndex, items.length);
      patch.push(doc[change.list] ? { op: 'add', path: pointer(change.list, at), value: change.before } : { op: 'add', path: pointer(change.list), value: [change.before] });
      next = [...items.slice(0, at), change.before, ...items.slice(at)];
    } else {
      patch.push({ op: 'replace', path: pointer(change.list, index), value: change.before });
      next = items.map((item, i) => (i === index ? change.before : item));
    }
    doc = { ...doc, [change.list]: next };
  }
  return patch;
}
