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

/** Instructions: a machine's live state and its history, and the steps done and undone, ours and other artisans'. */
export function instructionsContext(app) {
  const { connection, twinName } = app;
  return modeContext(app, {
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
