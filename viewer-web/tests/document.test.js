import { test } from 'node:test';
import assert from 'node:assert/strict';
import { machinesIn, setPosePatch, saveLayoutPatch, saveMeasurementPatch, measurementLength, AS_IS } from '../src/document/document.js';
import { applyPatch } from '../src/net/json-patch.js';
import { localized, pickLanguage, t } from '../src/ui/i18n.js';

const pose = (x, y) => ({ translation: [x, y, 0], rotation: [0, 0, 0, 1] });
const box = { min: [-0.5, -0.5, 0], max: [0.5, 0.5, 1] };
const doc = {
  version: 1,
  name: 'lab',
  machines: [
    { id: 'cnc-1', name: 'CNC', kind: 'cnc_mill', pose: pose(1, 1), bounds: box },
    { id: 'lathe-1', name: 'Lathe', kind: 'lathe', pose: pose(3, 1), bounds: box },
  ],
  layouts: [{ id: 'open', name: 'Open', poses: { 'cnc-1': pose(5, 5) }, remove: ['lathe-1'],
    add: [{ id: 'saw-1', name: 'Saw', kind: 'saw', pose: pose(0, 4), bounds: box }] }],
};

test('a layout overrides poses, removes and adds machines', () => {
  assert.deepEqual(machinesIn(doc, AS_IS).map((m) => m.id), ['cnc-1', 'lathe-1']);
  const open = machinesIn(doc, 'open');
  assert.deepEqual(open.map((m) => [m.id, m.pose.translation[0], m.added]), [['cnc-1', 5, false], ['saw-1', 0, true]]);
});

test('moving a machine patches the right place for each layout', () => {
  const moved = applyPatch(doc, setPosePatch(doc, AS_IS, 'lathe-1', pose(4, 2)));
  assert.deepEqual(moved.machines[1].pose.translation, [4, 2, 0]);
  const inLayout = applyPatch(doc, setPosePatch(doc, 'open', 'cnc-1', pose(6, 6)));
  assert.deepEqual(inLayout.layouts[0].poses['cnc-1'].translation, [6, 6, 0]);
  assert.deepEqual(inLayout.machines[0].pose.translation, [1, 1, 0], 'the scan pose stays');
  const added = applyPatch(doc, setPosePatch(doc, 'open', 'saw-1', pose(7, 7)));
  assert.deepEqual(added.layouts[0].add[0].pose.translation, [7, 7, 0]);
  assert.throws(() => setPosePatch(doc, AS_IS, 'nope', pose(0, 0)), /no machine "nope"/);
});

test('saving a layout copies what is placed under a fresh id', () => {
  const { id, patch } = saveLayoutPatch(doc, 'open', 'Open');
  assert.equal(id, 'open-2');
  const saved = applyPatch(doc, patch).layouts[1];
  assert.deepEqual(saved.poses, { 'cnc-1': pose(5, 5) });
  assert.deepEqual(saved.remove, ['lathe-1']);
  assert.deepEqual(saved.add.map((m) => m.id), ['saw-1']);
  assert.ok(!('added' in saved.add[0]));
  const first = saveLayoutPatch({ machines: doc.machines }, AS_IS, 'Prova à 1');
  assert.equal(first.id, 'prova-a-1');
  assert.equal(applyPatch({ machines: doc.machines }, first.patch).layouts.length, 1);
});

test('saving a measurement appends it, rounded, under a fresh id', () => {
  const points = [[3.00001, 2, 0], [5, 4, 0.123456]];
  const first = saveMeasurementPatch({ machines: [] }, 'Floor diagonal', points);
  assert.deepEqual(first.patch, [{ op: 'add', path: '/measurements', value: [{ id: 'floor-diagonal', name: 'Floor diagonal', points: [[3, 2, 0], [5, 4, 0.1235]] }] }]);
  const saved = applyPatch({ machines: [] }, first.patch);
  const second = saveMeasurementPatch(saved, 'Floor diagonal', points);
  assert.equal(second.id, 'floor-diagonal-2');
  assert.equal(second.patch[0].path, '/measurements/-');
  assert.equal(measurementLength([[0, 0, 0], [3, 4, 0], [3, 4, 2]]), 7);
});

test('texts fall back from the chosen language to English to any', () => {
  assert.equal(localized({ it: 'Accendi', en: 'Switch on' }, 'it'), 'Accendi');
  assert.equal(localized({ en: 'Switch on' }, 'it'), 'Switch on');
  assert.equal(localized({ de: 'Ein' }, 'it'), 'Ein');
  assert.equal(pickLanguage(null, ['it-IT', 'en']), 'it');
  assert.equal(pickLanguage('fr', ['de']), 'en');
  assert.equal(t('it', 'aligned', { r: 1.5 }), 'Allineato: residuo 1.5 cm');
});
