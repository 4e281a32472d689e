// Every save of an editor is one `edit` against the current base revision, never re-made
// silently on a newer document: an item someone else changed since the author began (seen in
// the document, or as the server's `stale_revision`) is a conflict the editor shows, with the
// author's draft kept. Each own edit is remembered for undo (undo.js).

import { applyPatch } from '../net/json-patch.js';
import { changedItems, undoPatch } from './undo.js';

const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/** The item the author was editing changed under them; `current` is it as it is now (null: removed). */
export class EditConflict extends Error {
  name = 'EditConflict';
  constructor(current) {
    super('someone else changed this meanwhile.');
    this.current = current;
  }
}

export class AuthorEdits {
  /**
   * @param edit(makePatch) one edit attempt (Connection.edit with attempts = 1); throws the server's error
   * @param waitForRevision(revision) resolves once the document has reached `revision`
   * @param document() the document as it is now
   */
  constructor({ edit, waitForRevision, document }) {
    this.editOnce = edit;
    this.waitForRevision = waitForRevision;
    this.document = document;
    this.undoable = []; // own edits, newest last: the items each changed
    this.undoing = false; // one undo at a time: a second tap meanwhile would undo the same edit again
    this.listeners = new Set();
  }

  onChange(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  get canUndo() {
    return this.undoable.length > 0 && !this.undoing;
  }

  /**
   * Saves `makePatch(document)`. `base`: { read(document) -> the item edited, value: it when the
   * draft began }; when the item is no longer that value, EditConflict. A `stale_revision` whose
   * newer revisions left the item alone (someone edited something else) is saved again on the
   * newest document: nothing of anyone's is lost that way. Resolves with the ack.
   */
  async save(makePatch, base = null, attempts = 3) {
    const check = (doc) => { if (base && !same(base.read(doc), base.value)) throw new EditConflict(base.read(doc)); };
    for (let attempt = 1; ; attempt++) {
      let before, patch;
      try {
        const ack = await this.editOnce((doc) => {
          check(doc);
          before = doc;
          patch = makePatch(doc);
          return patch;
        });
        this.remember(changedItems(before, applyPatch(before, patch)));
        return ack;
      } catch (error) {
        if (error.code !== 'stale_revision' || attempt >= attempts) throw error;
        await this.waitForRevision(error.revision);
      }
    }
  }

  remember(changes) {
    if (changes.length) this.undoable.push(changes);
    for (const listener of this.listeners) listener();
  }

  /** Undoes one's last edit as a new edit (throws UndoConflict when someone changed those items since). */
  async undo() {
    const changes = this.undoable.at(-1);
    if (!changes || this.undoing) return null;
    this.undoing = true;
    this.remember([]);
    try {
      const ack = await this.editOnce((doc) => undoPatch(doc, changes));
      this.undoable.pop();
      // The ack can overtake one's own delta: the next undo must start from the document that has it.
      await this.waitForRevision(ack.revision);
      return ack;
    } finally {
      this.undoing = false;
      this.remember([]);
    }
  }
}
