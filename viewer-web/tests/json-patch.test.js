import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { applyPatch, JsonPatchError, pointer } from '../src/net/json-patch.js';

// The cases the server's twin/serve/json_patch.py must pass too (tests/test_protocol_json_patch.py).
const { cases } = JSON.parse(readFileSync(new URL('../../tests/json_patch_cases.json', import.meta.url), 'utf8'));

test('the shared table has cases', () => assert.ok(cases.length > 100, `only ${cases.length} cases`));

for (const c of cases) {
  test(`shared case: ${c.name}`, () => {
    const document = structuredClone(c.doc);
    const patch = structuredClone(c.patch);
    if ('error' in c) {
      assert.throws(() => applyPatch(document, patch), (error) => {
        assert.ok(error instanceof JsonPatchError, `${error.name}: ${error.message}`);
        if ('error_op' in c) assert.match(error.message, new RegExp(`^patch operation ${c.error_op} `));
        return true;
      });
    } else {
      assert.deepStrictEqual(applyPatch(document, patch), c.expected);
    }
    assert.deepStrictEqual(document, c.doc, 'applyPatch must not change its input');
    assert.deepStrictEqual(patch, c.patch, 'applyPatch must not change the patch');
  });
}

test('add, replace, remove, move, copy and test follow RFC 6902', () => {
  const doc = { machines: [{ id: 'a', pose: { translation: [0, 0, 0] } }], layouts: {} };
  const out = applyPatch(doc, [
    { op: 'replace', path: '/machines/0/pose/translation', value: [1, 2, 0] },
    { op: 'add', path: '/machines/-', value: { id: 'b' } },
    { op: 'add', path: pointer('layouts', 'a/b~c'), value: { poses: {} } },
    { op: 'copy', from: '/machines/0/pose', path: '/machines/1/pose' },
    { op: 'move', from: '/machines/1/pose', path: '/spare' },
    { op: 'test', path: '/spare/translation', value: [1, 2, 0] },
    { op: 'remove', path: '/machines/1' },
  ]);
  assert.deepEqual(out.machines, [{ id: 'a', pose: { translation: [1, 2, 0] } }]);
  assert.deepEqual(Object.keys(out.layouts), ['a/b~c']);
  assert.deepEqual(out.spare, { translation: [1, 2, 0] });
  assert.deepEqual(doc.machines[0].pose.translation, [0, 0, 0], 'the input is untouched');
});

test('a failing operation leaves the document untouched and says why', () => {
  const doc = { a: [1, 2] };
  assert.throws(() => applyPatch(doc, [{ op: 'add', path: '/a/-', value: 3 }, { op: 'remove', path: '/b' }]), /does not exist/);
  assert.deepEqual(doc, { a: [1, 2] });
  assert.throws(() => applyPatch(doc, [{ op: 'test', path: '/a', value: [2, 1] }]), /test failed/);
  assert.throws(() => applyPatch(doc, [{ op: 'replace', path: '/a/5', value: 0 }]), /out of range/);
});

test('a refused prototype path pollutes nothing', () => {
  for (const path of ['/__proto__/polluted', '/constructor/prototype/polluted']) {
    assert.throws(() => applyPatch({}, [{ op: 'add', path, value: true }]), JsonPatchError);
  }
  assert.equal({}.polluted, undefined);
});
