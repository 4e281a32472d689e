// The patches of the two ordered lists authors edit: procedures with their steps, tours with
// their stops. Items and children are found by id in the document the patch is made for (so a
// patch made again on a newer document still hits the right item), and a list that must not be
// empty (a procedure's steps, a tour's stops: the schema's minItems) loses its parent with its last child.

import { pointer } from '../net/json-patch.js';
import { appendPatch } from '../document/document.js';

export class NestedList {
  /** e.g. new NestedList('procedures', 'steps') */
  constructor(list, children) {
    this.list = list;
    this.children = children;
  }

  items(document) {
    return document[this.list] || [];
  }

  item(document, id) {
    return this.items(document).find((item) => item.id === id) || null;
  }

  child(document, id, childId) {
    return (this.item(document, id)?.[this.children] || []).find((c) => c.id === childId) || null;
  }

  index(document, id) {
    const index = this.items(document).findIndex((item) => item.id === id);
    if (index < 0) throw new Error(`the document has no ${this.list} item "${id}" (any more).`);
    return index;
  }

  childIndex(document, id, childId) {
    const index = this.item(document, id)[this.children].findIndex((c) => c.id === childId);
    if (index < 0) throw new Error(`"${id}" has no ${this.children} item "${childId}" (any more).`);
    return index;
  }

  addItem(document, item) {
    return appendPatch(document, this.list, item);
  }

  replaceField(document, id, field, value) {
    return [{ op: 'replace', path: pointer(this.list, this.index(document, id), field), value }];
  }

  removeItem(document, id) {
    return [{ op: 'remove', path: pointer(this.list, this.index(document, id)) }];
  }

  addChild(document, id, child, at = null) {
    const count = this.item(document, id)?.[this.children]?.length ?? 0;
    const where = at == null || at >= count ? '-' : Math.max(0, at);
    return [{ op: 'add', path: pointer(this.list, this.index(document, id), this.children, where), value: child }];
  }

  replaceChild(document, id, childId, child) {
    const i = this.index(document, id);
    return [{ op: 'replace', path: pointer(this.list, i, this.children, this.childIndex(document, id, childId)), value: child }];
  }

  moveChild(document, id, childId, toIndex) {
    const i = this.index(document, id);
    const count = this.item(document, id)[this.children].length;
    const from = this.childIndex(document, id, childId);
    const to = Math.max(0, Math.min(count - 1, toIndex));
    if (from === to) return [];
    return [{ op: 'move', from: pointer(this.list, i, this.children, from), path: pointer(this.list, i, this.children, to) }];
  }

  /** Removes a child; the last one takes its parent with it. */
  removeChild(document, id, childId) {
    if (this.item(document, id)[this.children].length === 1) return this.removeItem(document, id);
    const i = this.index(document, id);
    return [{ op: 'remove', path: pointer(this.list, i, this.children, this.childIndex(document, id, childId)) }];
  }
}

export const PROCEDURES = new NestedList('procedures', 'steps');
export const TOURS = new NestedList('tours', 'stops');
