// Attaches the document's history (src/ui/history-panel.js) to the viewer app once it runs, for
// planners and admins: a "History" button in the top bar and its own panel, fed by the app's
// connection. Kept out of main.js, like the version switch (versions-boot.js): it needs only what
// the app exposes (window.twinViewer).

import { HistoryPanel, HISTORY_ROLES, historyText } from '../ui/history-panel.js';
import './../ui/history-panel.css';
import { whenRunning } from './when-running.js';

function historyContext(app, container) {
  const { connection, twinName } = app;
  return {
    container,
    revisions: (before, limit) => connection.request({ op: 'revisions', twin: twinName, limit, ...(before ? { before } : {}) }),
    // Against the revision this page has: a newer one someone made meanwhile is answered stale_revision, never overwritten.
    restore: (revision) => connection.request({ op: 'restore', twin: twinName, base_revision: connection.twins.get(twinName).revision, revision }),
    lang: () => app.lang, notify: (message, kind) => app.notify(message, kind),
  };
}

const app = window.twinViewer;
whenRunning(app).then(() => {
  if (!HISTORY_ROLES.includes(app.role) || !app.connection.has('revisions')) return;
  const container = document.createElement('aside');
  container.id = 'history';
  container.dataset.testid = 'history';
  container.hidden = true;
  document.body.append(container);
  app.history = new HistoryPanel(historyContext(app, container));
  const open = document.createElement('button');
  open.type = 'button';
  open.dataset.testid = 'history-open';
  open.textContent = historyText(app.lang, 'open');
  open.addEventListener('click', () => app.history.toggle());
  document.getElementById('more').prepend(open);
  app.connection.on('document', (event) => event.twin === app.twinName && app.history.shown && app.history.reload());
  document.getElementById('language').addEventListener('change', () => {
    open.textContent = historyText(app.lang, 'open');
    app.history.render();
  });
}).catch(() => { /* the app shows its own error */ });
