// Attaches the version switch (src/ui/versions-panel.js) to the viewer app once it runs: its own
// panel, fed from the app's twin root, tiles and connection, with the carry-over proposals
// (src/ui/proposals-panel.js) below it for planners. Kept out of main.js so that the switch is one
// module to read; it needs only what the app exposes (window.twinViewer).

import { VersionsPanel, documentVersions } from '../ui/versions-panel.js';
import { ProposalsPanel } from '../ui/proposals-panel.js';
import './../ui/versions-panel.css';
import { whenRunning } from './when-running.js';

/** What the panel needs of the app; the first version's tile fetching and parsing reused for the others. */
function versionsContext(app, container) {
  const base = `/twins/${encodeURIComponent(app.twinName)}/`;
  const fetchBytes = app.tiles?.fetchBytes ?? (async (path) => {
    const response = await fetch(base + path, { headers: app.headers });
    if (!response.ok) throw new Error(`${path} answered ${response.status} ${response.statusText}`);
    return response.arrayBuffer();
  });
  return {
    container, viewer: app.viewer, root: app.twin.root, baseTiles: app.tiles, fetchBytes, pointBudget: app.tiles?.pointBudget,
    parse: async (bytes) => (await app.gltfLoader.parseAsync(bytes, '')).scene,
    lang: () => app.lang, document: () => app.document, notify: (message, kind) => app.notify(message, kind),
  };
}

/** A version's open proposal over HTTP (planners and admins only; the server answers 404 once none is open). */
async function fetchProposal(app, versionId) {
  const path = `/twins/${encodeURIComponent(app.twinName)}/versions/${encodeURIComponent(versionId)}/proposed.patch.json`;
  const response = await fetch(path, { headers: app.headers });
  if (response.status === 404) return null;
  if (!response.ok) throw new Error(`${response.status} ${(await response.text()).trim()}`);
  return response.json();
}

function proposalsContext(app) {
  return {
    versions: () => documentVersions(app.document), role: () => app.role, document: () => app.document,
    fetchProposal: (versionId) => fetchProposal(app, versionId),
    edit: (makePatch) => app.connection.edit(app.twinName, makePatch, 1), // the proposal's own tests guard it
    lang: () => app.lang, notify: (message, kind) => app.notify(message, kind),
  };
}

const app = window.twinViewer;
whenRunning(app).then(() => {
  const container = document.createElement('aside');
  container.id = 'versions';
  container.dataset.testid = 'versions';
  container.hidden = true;
  document.body.append(container);
  app.proposals = new ProposalsPanel(proposalsContext(app));
  app.versions = new VersionsPanel({ ...versionsContext(app, container), footer: app.proposals.element });
  app.versions.start();
  app.proposals.load();
  // An edit (this page's or another's) may accept or overtake a proposal: offer only those that still apply.
  app.connection.on('document', (event) => event.twin === app.twinName && app.proposals.render());
  document.getElementById('language').addEventListener('change', () => { app.versions.render(); app.proposals.render(); });
}).catch(() => { /* the app shows its own error */ });
