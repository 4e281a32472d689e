// The modes' contexts (src/app/mode-context.js) on a stand-in app: they hold only what the
// modes use, read the live values when asked, and speak for the app's own twin only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { instructionsContext, tourContext, plannerContext } from '../src/app/mode-context.js';

function standInApp() {
  const handlers = [];
  const sent = [];
  const app = {
    twinName: 'sample',
    viewer: { name: 'viewer' },
    placement: { name: 'placement' },
    twin: { root: { name: 'root' }, meshes: ['mesh'], clouds: ['cloud'] },
    tiles: null,
    lang: 'it',
    role: 'planner',
    document: { revision: 1 },
    machineStates: new Map([['printer', { nozzle_c: 210 }]]),
    presence: { count: 2 },
    connection: {
      on: (op, handler) => handlers.push([op, handler]),
      step: (...args) => { sent.push(['step', ...args]); return Promise.resolve(); },
      edit: (...args) => { sent.push(['edit', ...args]); return Promise.resolve(); },
    },
    get canEdit() { return this.role === 'planner'; },
    t: (key, values) => `${app.lang}:${key}${values ? JSON.stringify(values) : ''}`,
    notify: (message, kind) => sent.push(['notify', message, kind]),
    setLayout: (id) => sent.push(['layout', id]),
    wallPoints: () => [1, 2],
  };
  return { app, handlers, sent };
}

const SHARED = ['viewer', 'placement', 'root', 'document', 'lang', 't', 'notify'];

test('each mode gets the shared parts and its own few, no more', () => {
  const { app } = standInApp();
  assert.deepEqual(Object.keys(instructionsContext(app)).sort(), [...SHARED, 'authoring', 'history', 'machineState', 'mediaFigure', 'onStep', 'sendStep'].sort());
  assert.deepEqual(Object.keys(tourContext(app)).sort(), [...SHARED, 'visitors'].sort());
  assert.deepEqual(Object.keys(plannerContext(app)).sort(), [...SHARED, 'canEdit', 'edit', 'setLayout', 'wallPoints', 'scanned', 'downloadPlan'].sort());
  const ctx = plannerContext(app);
  assert.equal(ctx.viewer, app.viewer);
  assert.equal(ctx.placement, app.placement);
  assert.equal(ctx.root, app.twin.root);
});

test('the document, the language and the role are read when asked, not when the context was made', () => {
  const { app } = standInApp();
  const ctx = plannerContext(app);
  app.document = { revision: 2 };
  app.lang = 'en';
  app.role = 'visitor';
  assert.deepEqual(ctx.document, { revision: 2 });
  assert.equal(ctx.lang, 'en');
  assert.equal(ctx.t('next'), 'en:next');
  assert.equal(ctx.canEdit, false);
  app.presence.count = 5;
  assert.equal(tourContext(app).visitors(), 5);
});

test('steps and edits go to the app\'s twin; steps of other twins do not reach the mode', async () => {
  const { app, handlers, sent } = standInApp();
  const ctx = instructionsContext(app);
  const seen = [];
  ctx.onStep((m) => seen.push(m.step));
  const [[op, handler]] = handlers;
  assert.equal(op, 'step');
  handler({ twin: 'other', step: 'a' });
  handler({ twin: 'sample', step: 'b' });
  assert.deepEqual(seen, ['b']);
  await ctx.sendStep('p', 's', true);
  const makePatch = () => [];
  await plannerContext(app).edit(makePatch);
  assert.deepEqual(sent, [['step', 'sample', 'p', 's', true], ['edit', 'sample', makePatch]]);
  assert.deepEqual(ctx.machineState('printer'), { nozzle_c: 210 });
});

test('the scan for the top view: meshes, clouds and the tiles when there are any', () => {
  const { app } = standInApp();
  const ctx = plannerContext(app);
  assert.deepEqual(ctx.scanned(), ['mesh', 'cloud']);
  app.tiles = { group: 'tiles' };
  assert.deepEqual(ctx.scanned(), ['mesh', 'cloud', 'tiles']);
  assert.deepEqual(ctx.wallPoints(), [1, 2]);
});
