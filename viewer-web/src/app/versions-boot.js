// Attaches the version switch (src/ui/versions-panel.js) to the viewer app once it runs: its own
// panel, fed from the app's twin root, tiles and connection. Kept out of main.js so that the
// switch is one module to read; it needs only what the app exposes (window.twinViewer).

import { VersionsPanel } from '../ui/versions-panel.js';
import './../ui/versions-panel.css';

function whenRunning(app) {
  return new Promise((resolve, reject) => {
    const check = () => (app.ready ? resolve() : app.failed ? reject(new Error(app.failed)) : setTimeout(check, 100));
    check();
  });
}

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

const app = window.twinViewer;
whenRunning(app).then(() => {
  const container = document.createElement('aside');
  container.id = 'versions';
  container.dataset.testid = 'versions';
  container.hidden = true;
  document.body.append(container);
  app.versions = new VersionsPanel(versionsContext(app, container));
  app.versions.start();
  document.getElementById('language').addEventListener('change', () => app.versions.render());
}).catch(() => { /* the app shows its own error */ });
