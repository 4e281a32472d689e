// Conditions on live values in the viewer: the same cases as the server's (tests/condition_cases.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parseCondition } from '../src/document/conditions.js';

const cases = JSON.parse(readFileSync(new URL('../../tests/condition_cases.json', import.meta.url), 'utf8'));

test('every shared case holds or not as the server says', () => {
  for (const c of cases.holds) assert.equal(parseCondition(c.condition).holds(c.values), c.holds, c.condition);
});

test('every malformed shared case is refused with what was expected', () => {
  for (const c of cases.invalid) {
    assert.throws(() => parseCondition(c.condition), (error) => error.message.includes(c.error), c.condition);
  }
});

test('names lists what a condition reads, and deep nesting is refused, not a stack overflow', () => {
  assert.deepEqual([...parseCondition("not (a > 1 or b == 'x') and c.d != 0").names].sort(), ['a', 'b', 'c.d']);
  assert.throws(() => parseCondition(`${'('.repeat(40)}a > 1${')'.repeat(40)}`), /nests deeper than 16/);
});
