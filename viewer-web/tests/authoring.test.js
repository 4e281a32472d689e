// The pure parts of authoring: texts per language, new ids, the patches of procedures, tours
// and anchors, and undo by items.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyPatch } from '../src/net/json-patch.js';
import { missingTranslations, completeText, draftOf } from '../src/authoring/texts.js';
import { freshId, slug } from '../src/authoring/ids.js';
import { PROCEDURES, TOURS } from '../src/authoring/nested-list.js';
import { addAnchorPatch, moveAnchorPatch, renameAnchorPatch, anchorUses } from '../src/authoring/anchors.js';
import { changedItems, undoPatch, UndoConflict } from '../src/authoring/undo.js';
import { AuthorEdits } from '../src/authoring/author-edits.js';

const LANGS = ['it', 'en'];

function sampleDocument() {
  return {
    version: 1, name: 'shop', languages: LANGS,
    machines: [{ id: 'lathe-1', name: 'Lathe' }],
    anchors: [{ id: 'chuck', machine: 'lathe-1', position: [0, 0, 1] }],
    procedures: [{ id: 'p', machine: 'lathe-1', title: { it: 'T', en: 'T en' }, steps: [
      { id: 'a', text: { it: 'A', en: 'A en' }, anchor: 'chuck' },
      { id: 'b', text: { it: 'B', en: 'B en' }, anchor: 'chuck' },
      { id: 'c', text: { it: 'C', en: 'C en' }, anchor: 'chuck' }] }],
  };
}

test('missing translations: empty texts and verbatim copies of another language', () => {
  assert.deepEqual(missingTranslations({ it: 'Accendi', en: 'Switch on' }, LANGS), []);
  assert.deepEqual(missingTranslations({ it: 'Accendi' }, LANGS), ['en']);
  assert.deepEqual(missingTranslations({ it: 'Accendi', en: '  ' }, LANGS), ['en']);
  assert.deepEqual(missingTranslations({ it: 'Accendi', en: 'Accendi' }, LANGS), ['en'], 'a copy reads as untranslated');
  assert.deepEqual(missingTranslations({ en: 'Switch on' }, LANGS), ['it']);
  assert.deepEqual(missingTranslations(undefined, LANGS), ['it', 'en']);
});

test('a text to save has every language: the written one copied where one is missing', () => {
  assert.deepEqual(completeText({ it: ' Accendi ', en: '' }, LANGS), { it: 'Accendi', en: 'Accendi' });
  assert.deepEqual(completeText({ it: '', en: 'On' }, LANGS), { it: 'On', en: 'On' });
  assert.equal(completeText({ it: '', en: ' ' }, LANGS), null);
  assert.deepEqual(draftOf({ it: 'Accendi', en: 'Accendi' }, LANGS), { it: 'Accendi', en: '' }, 'a copy comes back as missing');
});

test('new ids are glTF node names (no dots or accents) and never taken', () => {
  assert.equal(slug('Cambio dell’utensile è facile.', 'x'), 'cambio-dell-utensile-e-facile');
  assert.equal(slug('...', 'point'), 'point');
  assert.equal(freshId(['a', 'a-2'], 'A'), 'a-3');
  assert.match(freshId([], 'x'.repeat(100)), /^x{48}$/);
});

test('procedure patches: add, reorder, replace and delete steps by id; the last step takes the procedure', () => {
  let doc = sampleDocument();
  doc = applyPatch(doc, PROCEDURES.moveChild(doc, 'p', 'c', 0));
  assert.deepEqual(doc.procedures[0].steps.map((s) => s.id), ['c', 'a', 'b']);
  doc = applyPatch(doc, PROCEDURES.addChild(doc, 'p', { id: 'd', text: { it: 'D', en: 'D' }, anchor: 'chuck' }, 1));
  assert.deepEqual(doc.procedures[0].steps.map((s) => s.id), ['c', 'd', 'a', 'b']);
  doc = applyPatch(doc, PROCEDURES.replaceChild(doc, 'p', 'a', { id: 'a', text: { it: 'A2', en: 'A2' }, anchor: 'chuck' }));
  assert.equal(PROCEDURES.child(doc, 'p', 'a').text.it, 'A2');
  assert.deepEqual(PROCEDURES.moveChild(doc, 'p', 'c', 0), [], 'no move, no operation');
  for (const id of ['c', 'd', 'a']) doc = applyPatch(doc, PROCEDURES.removeChild(doc, 'p', id));
  assert.deepEqual(doc.procedures[0].steps.map((s) => s.id), ['b']);
  doc = applyPatch(doc, PROCEDURES.removeChild(doc, 'p', 'b'));
  assert.deepEqual(doc.procedures, [], 'a procedure keeps at least one step: its last one removes it');
  assert.throws(() => PROCEDURES.index(doc, 'p'), /no procedures item "p"/);
});

test('tour patches: a first tour creates the list; publish is one field', () => {
  let doc = sampleDocument();
  const tour = { id: 't', title: { it: 'V', en: 'V' }, public: false, stops: [{ id: 's', anchor: 'chuck', viewpoint: { position: [0, 0, 1], target: [1, 0, 1] }, title: { it: 'S', en: 'S' }, description: { it: 'D', en: 'D' } }] };
  doc = applyPatch(doc, TOURS.addItem(doc, tour));
  doc = applyPatch(doc, TOURS.replaceField(doc, 't', 'public', true));
  assert.equal(doc.tours[0].public, true);
});

test('anchors: on a machine in its frame, ids clear of machines and the GLB nodes, moved, renamed, their uses', () => {
  const doc = sampleDocument();
  const { id, patch } = addAnchorPatch(doc, { machine: 'lathe-1', position: [0.123456, 0, 1], normal: [0, -1, 0] }, 'Stringi il mandrino');
  assert.equal(id, 'lathe-1-stringi-il-mandrino');
  let after = applyPatch(doc, patch);
  assert.deepEqual(after.anchors[1], { id, machine: 'lathe-1', position: [0.1235, 0, 1], normal: [0, -1, 0], name: 'Stringi il mandrino' });
  assert.equal(addAnchorPatch({ machines: [{ id: 'room' }] }, { position: [0, 0, 0] }, 'room').id, 'room-2');
  assert.deepEqual(addAnchorPatch({}, { position: [1, 2, 3] }).patch, [{ op: 'add', path: '/anchors', value: [{ id: 'point', position: [1, 2, 3] }] }]);
  after = applyPatch(after, moveAnchorPatch(after, id, { position: [1, 2, 3] }));
  assert.deepEqual(after.anchors[1], { id, position: [1, 2, 3], normal: [0, -1, 0], name: 'Stringi il mandrino' }, 'moved into the room: no machine');
  after = applyPatch(after, renameAnchorPatch(after, id, ''));
  assert.equal(after.anchors[1].name, undefined);
  assert.deepEqual(anchorUses(doc, 'chuck'), ['p/a', 'p/b', 'p/c']);
});

test('undo puts back exactly the items an edit changed, on a newer document, and refuses when someone changed them since', () => {
  const before = sampleDocument();
  const { id, patch: anchorPatch } = addAnchorPatch(before, { machine: 'lathe-1', position: [0, 0, 0.5] }, 'new');
  const edit = [...anchorPatch, ...PROCEDURES.replaceChild(before, 'p', 'b', { id: 'b', text: { it: 'B2', en: 'B2' }, anchor: id })];
  const after = applyPatch(before, edit);
  const changes = changedItems(before, after);
  assert.deepEqual(changes.map((c) => `${c.list}/${c.id}`), [`anchors/${id}`, 'procedures/p']);

  // Someone else adds a procedure meanwhile: the undo leaves it alone.
  const other = { id: 'q', machine: 'lathe-1', title: { it: 'Q', en: 'Q' }, steps: [{ id: 'x', text: { it: 'X', en: 'X' }, anchor: 'chuck' }] };
  const newer = applyPatch(after, [{ op: 'add', path: '/procedures/0', value: other }]);
  const undone = applyPatch(newer, undoPatch(newer, changes));
  assert.deepEqual(undone.procedures, [other, before.procedures[0]]);
  assert.deepEqual(undone.anchors, before.anchors);

  // A removal comes back where it was.
  const removed = applyPatch(before, PROCEDURES.removeItem(before, 'p'));
  assert.deepEqual(applyPatch(removed, undoPatch(removed, changedItems(before, removed))), before);

  const changedSince = applyPatch(after, PROCEDURES.replaceField(after, 'p', 'title', { it: 'Z', en: 'Z' }));
  assert.throws(() => undoPatch(changedSince, changes), (e) => e instanceof UndoConflict && e.id === 'p');
});

test('one undo at a time: a second tap before the first undo\'s ack does not undo the same edit again', async () => {
  let doc = sampleDocument();
  let release;
  const sent = [];
  const edits = new AuthorEdits({
    document: () => doc,
    waitForRevision: async () => {},
    edit: async (makePatch) => {
      const patch = makePatch(doc);
      sent.push(patch);
      if (sent.length > 1) await new Promise((resolve) => { release = resolve; });
      doc = applyPatch(doc, patch);
      return { ok: true };
    },
  });
  await edits.save((d) => PROCEDURES.replaceField(d, 'p', 'title', { it: 'Z', en: 'Z' }));
  assert.equal(edits.canUndo, true);
  const first = edits.undo();
  assert.equal(edits.canUndo, false, 'not offered while the undo is on its way');
  assert.equal(await edits.undo(), null, 'a second tap meanwhile does nothing');
  release();
  await first;
  assert.equal(sent.length, 2, 'the edit and one undo');
  assert.deepEqual(doc, sampleDocument());
  assert.equal(edits.canUndo, false);
});

test('an undo is done once this page\'s document has it: the ack can overtake one\'s own delta', async () => {
  let doc = sampleDocument();
  let revision = 0;
  let deltaArrived;
  const edits = new AuthorEdits({
    document: () => doc,
    edit: async (makePatch) => { doc = applyPatch(doc, makePatch(doc)); return { ok: true, revision: ++revision }; },
    waitForRevision: (wanted) => (wanted <= 1 ? Promise.resolve() : new Promise((resolve) => { deltaArrived = resolve; })),
  });
  await edits.save((d) => PROCEDURES.replaceField(d, 'p', 'title', { it: 'Z', en: 'Z' }));
  let done = false;
  const undo = edits.undo().then(() => { done = true; });
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(done, false, 'still waiting for the delta of revision 2');
  assert.equal(edits.undoing, true);
  deltaArrived();
  await undo;
  assert.equal(edits.undoing, false);
});
