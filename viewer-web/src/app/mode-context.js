// What a mode may use of the app, and nothing more: the modes never see the App, its
// connection or its twin's name. Each context holds the parts every mode uses (below) and the
// few actions of its own mode. Values that change while the page is open (the document, the
// language, the role) are getters, so a mode reads them when it needs them.
//
// Every mode's context:
//   viewer      the 3D stage (scene/viewer.js): camera, controls, renderer, pick, invalidate
//   placement   the machines and anchors as placed for the current layout (scene/placement.js)
//   root        the twin's root: its frame is the document's (z-up, metres)
//   document    the twin document as it is now
//   lang, t     the chosen language, and the viewer's words in it
//   notify      a notice to the user (`notify(message, 'error')` for an error)

import { AuthorEdits } from '../authoring/author-edits.js';
import { TargetPicker } from '../authoring/target-picker.js';
import { uploadMedia } from '../authoring/media-upload.js';
import { mediaFigure } from '../ui/step-media.js';

const AUTHOR_ROLES = ['artisan', 'planner', 'admin'];

/** The parts every mode uses, plus `own` (getters in `own` stay getters). */
function modeContext(app, own) {
  const shared = {
    viewer: app.viewer,
    placement: app.placement,
    root: app.twin.root,
    get document() { return app.document; },
    get lang() { return app.lang; },
    t: (key, values) => app.t(key, values),
    notify: (message, kind) => app.notify(message, kind),
  };
  return Object.defineProperties(shared, Object.getOwnPropertyDescriptors(own));
}

/** A step's photo or video, fetched with the page's token. */
function figure(app, item) {
  return mediaFigure({ twin: app.twinName, headers: app.headers, item, lang: app.lang, onError: (error) => app.notify(error.message, 'error') });
}

/**
 * The editors' tools, one set for the page (so undo takes back one's last edit in any editor):
 * `canAuthor` (artisans and above) and `canPlan` (planners and admins), `edits` (one edit per
 * save, against the current revision), `picker` (targets clicked on the scan or tapped in AR),
 * `upload(file)` (a step's photo) and `mediaFigure(item)`.
 */
export function authoringTools(app) {
  const { connection, twinName } = app;
  return {
    get canAuthor() { return AUTHOR_ROLES.includes(app.role); },
    get canPlan() { return app.canEdit; },
    edits: new AuthorEdits({
      edit: (makePatch) => connection.edit(twinName, makePatch, 1),
      waitForRevision: (revision) => connection.waitForRevision(twinName, revision),
      document: () => app.document,
    }),
    picker: new TargetPicker({ viewer: app.viewer, root: app.twin.root, placement: app.placement, ar: () => app.ar, notify: (m, kind) => app.notify(m, kind), t: (k, v) => app.t(k, v) }),
    upload: (file) => uploadMedia({ twin: twinName, token: app.token, file }),
    mediaFigure: (item) => figure(app, item),
  };
}

/** Instructions: a machine's live state and its history, the steps done and undone, ours and other artisans', the steps' media, and the editor's tools. */
export function instructionsContext(app, authoring) {
  const { connection, twinName } = app;
  return modeContext(app, {
    authoring,
    mediaFigure: (item) => figure(app, item),
    machineState: (machineId) => app.machineStates.get(machineId),
    history: (machineId, property) => connection.request({ op: 'history', twin: twinName, machine: machineId, property }),
    onStep: (handler) => connection.on('step', (m) => m.twin === twinName && handler(m)),
    sendStep: (procedureId, stepId, done) => connection.step(twinName, procedureId, stepId, done),
  });
}

/** Tour: how many other viewers are in the twin. */
export function tourContext(app) {
  return modeContext(app, { visitors: () => app.presence.count });
}

/** The plan of a layout as the server draws it (twin/serve/http_plan.py): { blob, fileName }; throws the server's sentence. */
async function downloadPlan(app, format, layoutId) {
  const url = `/twins/${encodeURIComponent(app.twinName)}/plan.${format}?layout=${encodeURIComponent(layoutId)}`;
  const response = await fetch(url, { headers: app.headers });
  if (!response.ok) throw new Error((await response.text()).trim() || `${url} answered ${response.status}.`);
  const fileName = response.headers.get('content-disposition')?.match(/filename="([^"]+)"/)?.[1] || `plan.${format}`;
  return { blob: await response.blob(), fileName };
}

/** Planner: edits of the document (where the role allows them), layouts, and the scan for clearances and the top view. */
export function plannerContext(app) {
  const { connection, twinName } = app;
  return modeContext(app, {
    get canEdit() { return app.canEdit; },
    edit: (makePatch) => connection.edit(twinName, makePatch),
    setLayout: (layoutId) => app.setLayout(layoutId),
    wallPoints: () => app.wallPoints(),
    scanned: () => [...app.twin.meshes, ...app.twin.clouds, app.tiles?.group].filter(Boolean),
    downloadPlan: (format, layoutId) => downloadPlan(app, format, layoutId),
  });
}
