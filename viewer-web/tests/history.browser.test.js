// Artisans' rights and the document's history in the browser against a real `twin serve` of the
// sample twin (issue 14): an artisan whose token is limited to the lathe edits the lathe's
// procedure in the instructions editor and is refused on the laser's, with the server's sentence;
// a planner's history panel lists the artisan's edit (who, when, what) and restores the revision
// before it, which the artisan's page receives live; a viewer gets no history. Screenshot:
// artifacts/viewer/history-panel.png.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { servedSampleSuite, screenshot, VENV_BIN, PROJECT_ROOT } from './harness.js';

const suite = servedSampleSuite({ points: 100_000 });

/** A token for the sample twin made in the running server's database (`extra`: e.g. --machine lathe-1). */
function token(role, name, ...extra) {
  const args = suite.server.child.spawnargs;
  const db = args[args.indexOf('--db') + 1];
  return execFileSync(join(VENV_BIN, 'twin'), ['token', 'create', '--twin', 'sample', '--role', role, '--name', name, '--db', db, ...extra],
    { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim();
}

const url = (query, tokenValue) => `${suite.server.url}${query}#token=${tokenValue}`;
const TEXT = { it: 'Ferma il mandrino.', en: 'Stop the spindle.' };

/** The lathe's first procedure, written by the planner through the protocol (the sample has none on the lathe). */
function addLatheProcedure(page) {
  return page.evaluate((text) => {
    const app = window.twinViewer;
    const procedure = { id: 'lathe-1-stop', machine: 'lathe-1', title: { it: 'Arresto', en: 'Stopping' },
      steps: [{ id: 'spindle', text, anchor: 'lathe-1-chuck' }] };
    return app.connection.edit(app.twinName, () => [{ op: 'add', path: '/procedures/-', value: procedure }]);
  }, TEXT);
}

const procedureOf = (page, id) => page.evaluate((id) => window.twinViewer.document.procedures.find((p) => p.id === id), id);

/** Edits the first step's English text of the machine's procedure in the instructions editor, as a person does. */
async function editFirstStep(page, machineId, en) {
  await page.selectOption('[data-testid=instructions-machine]', machineId);
  await page.click('[data-testid=edit-instructions]');
  await page.click('[data-testid=edit-steps] li:nth-child(1) [data-testid=edit-step-edit]');
  await page.fill('[data-testid=step-text-en]', en);
  await page.click('[data-testid=step-save]');
}

test('an artisan limited to the lathe edits its procedure and is refused the laser\'s; a planner sees the edit in the history and restores the revision before it', async () => {
  const planner = await suite.open(url('?mode=instructions&lang=en', token('planner', 'maria')));
  const artisan = await suite.open(url('?mode=instructions&lang=en', token('artisan', 'luca', '--machine', 'lathe-1')));
  const viewer = await suite.open(url('?mode=instructions&lang=en', token('viewer', 'vera')));
  const before = (await addLatheProcedure(planner)).revision;
  await artisan.waitForFunction((r) => window.twinViewer.connection.twins.get('sample').revision >= r, before, { timeout: 30_000 });

  // 1. The artisan's own machine: saved, every page receives it.
  await editFirstStep(artisan, 'lathe-1', 'Luca: stop the spindle and wait until it stands still.');
  await planner.waitForFunction(() => /Luca: stop/.test(JSON.stringify(window.twinViewer.document.procedures)), null, { timeout: 30_000 });
  const edited = before + 1;
  await artisan.waitForFunction((r) => window.twinViewer.connection.twins.get('sample').revision === r, edited, { timeout: 30_000 });
  await artisan.click('[data-testid=edit-done]');

  // 2. Another machine's procedure: refused with the server's sentence, nothing stored.
  const laserBefore = await procedureOf(artisan, 'laser-1-start');
  await editFirstStep(artisan, 'laser-1', 'Luca was here.');
  await artisan.waitForFunction(() => /not among yours \(lathe-1\)/.test(document.querySelector('[data-testid=notice]').textContent), null, { timeout: 30_000 });
  assert.deepEqual(await procedureOf(planner, 'laser-1-start'), laserBefore);
  assert.equal(await planner.evaluate(() => window.twinViewer.connection.twins.get('sample').revision), edited);

  // 3. The planner's history: the artisan's edit on top, who and what; restore the revision before it.
  assert.equal(await viewer.$('[data-testid=history-open]'), null, 'viewers get no history');
  assert.equal(await artisan.$('[data-testid=history-open]'), null, 'nor do artisans');
  await planner.click('[data-testid=history-open]');
  await planner.waitForSelector(`[data-testid=history-entry][data-revision="${edited}"]`, { timeout: 30_000 });
  const top = await planner.$$eval('[data-testid=history-entry]', (items) => items.slice(0, 2).map((li) => ({ revision: Number(li.dataset.revision), text: li.textContent })));
  assert.equal(top[0].revision, edited);
  assert.match(top[0].text, /luca/);
  assert.match(top[0].text, /changed \/procedures\/\d+\/steps\/0/);
  assert.match(top[0].text, /current/);
  assert.equal(await planner.$(`[data-testid=history-entry][data-revision="${edited}"] [data-testid=history-restore]`), null, 'the current revision is not offered');
  assert.match(top[1].text, /maria/);
  assert.match(top[1].text, /added procedures 'lathe-1-stop'/);
  await screenshot(planner, 'history-panel');
  await planner.click(`[data-testid=history-entry][data-revision="${before}"] [data-testid=history-restore]`);
  await artisan.waitForFunction((en) => window.twinViewer.document.procedures.find((p) => p.id === 'lathe-1-stop').steps[0].text.en === en, TEXT.en, { timeout: 30_000 });
  await planner.waitForSelector(`[data-testid=history-entry][data-revision="${edited + 1}"]`, { timeout: 30_000 });
  assert.match(await planner.textContent(`[data-testid=history-entry][data-revision="${edited + 1}"]`), /maria.*restored revision \d+ \(1 change\)/);
  assert.match(await planner.textContent('[data-testid=notice]'), new RegExp(`Revision ${before} restored: now revision ${edited + 1}`));

  // 4. The restore is undone like any edit: restore the artisan's revision.
  await planner.click(`[data-testid=history-entry][data-revision="${edited}"] [data-testid=history-restore]`);
  await artisan.waitForFunction(() => /Luca: stop/.test(window.twinViewer.document.procedures.find((p) => p.id === 'lathe-1-stop').steps[0].text.en), null, { timeout: 30_000 });
  for (const page of [planner, artisan, viewer]) assert.deepEqual(page.consoleErrors, []);
});
