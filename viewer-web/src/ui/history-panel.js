// The document's history for planners and admins (the protocol's `revisions`, docs/protocol.md):
// who changed what, when, newest first, a page at a time, and "Restore this revision", which asks
// the server to make the document as it was then. The server commits that as a new edit, so every
// page receives it as an ordinary delta and it appears here too, to be undone by restoring the
// revision before it. The list is read again whenever the document changes while it is shown.

import { el } from './ui.js';

const TEXT = {
  en: { title: 'History', open: 'History', close: 'Close', restore: 'Restore this revision', restoring: 'Restoring…',
    current: 'current', older: 'Older revisions', imported: 'As first imported (revision 0)',
    restored: 'Revision {revision} restored: now revision {now}.', unchanged: 'The document is already as at revision {revision}.',
    refused: 'Not restored: {reason}', failed: 'The history could not be read: {reason}', empty: 'No edits yet.' },
  it: { title: 'Cronologia', open: 'Cronologia', close: 'Chiudi', restore: 'Ripristina questa revisione', restoring: 'Ripristino…',
    current: 'attuale', older: 'Revisioni precedenti', imported: 'Come importato (revisione 0)',
    restored: 'Revisione {revision} ripristinata: ora revisione {now}.', unchanged: 'Il documento è già come alla revisione {revision}.',
    refused: 'Non ripristinata: {reason}', failed: 'Impossibile leggere la cronologia: {reason}', empty: 'Ancora nessuna modifica.' },
};
export const HISTORY_ROLES = ['planner', 'admin'];
const PAGE = 50;

export function historyText(lang, key, values = {}) {
  const template = (TEXT[lang] ?? TEXT.en)[key] ?? TEXT.en[key];
  return template.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? '');
}

export class HistoryPanel {
  /**
   * `context`: { container, revisions(before, limit) (a page from the server: { revision, revisions, more }),
   * restore(revision) (resolves with the ack), lang(), notify(message, kind) }.
   */
  constructor(context) {
    Object.assign(this, context);
    this.entries = [];
    this.head = null;
    this.more = false;
    this.restoring = null;
    this.reading = null; // the newest page's read in flight
    this.again = false; // the document changed while it was out
  }

  get shown() {
    return !this.container.hidden;
  }

  async toggle() {
    this.container.hidden = this.shown;
    if (this.shown) await this.reload();
    else this.container.replaceChildren();
  }

  /** The newest page again (after an edit: the list begins at the new head); asked again while a read is out, read once more after it. */
  async reload() {
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = (async () => {
      do {
        this.again = false;
        const page = await this.read(undefined);
        if (page) Object.assign(this, { entries: page.revisions, head: page.revision, more: page.more });
      } while (this.again);
    })().finally(() => { this.reading = null; this.render(); });
    return this.reading;
  }

  async older() {
    const page = await this.read(this.entries.at(-1)?.revision);
    if (!page) return;
    this.entries.push(...page.revisions);
    this.more = page.more;
    this.render();
  }

  async read(before) {
    try {
      return await this.revisions(before, PAGE);
    } catch (error) {
      this.notify(historyText(this.lang(), 'failed', { reason: error.message }), 'error');
      return null;
    }
  }

  async restoreRevision(revision) {
    const lang = this.lang();
    this.restoring = revision;
    this.render();
    try {
      const ack = await this.restore(revision);
      this.notify(historyText(lang, ack.revision === this.head ? 'unchanged' : 'restored', { revision, now: ack.revision }), 'info');
    } catch (error) {
      this.notify(historyText(lang, 'refused', { reason: error.message }), 'error');
    } finally {
      this.restoring = null;
      await this.reload();
    }
  }

  /** One line per revision: number, who, when, what; the head is the current document and has no restore. */
  entry(revision, who, when, what, paths = []) {
    const lang = this.lang();
    const current = revision === this.head;
    return el('li', { class: current ? 'current' : '', 'data-testid': 'history-entry', 'data-revision': String(revision), title: paths.join('\n') },
      el('div', { class: 'history-line' }, el('strong', {}, `r${revision}`), ` · ${who}`, when ? ` · ${when}` : '',
        current ? el('span', { class: 'muted' }, ` (${historyText(lang, 'current')})`) : null),
      el('div', { class: 'history-summary', 'data-testid': 'history-summary' }, what),
      current ? null : el('button', { type: 'button', 'data-testid': 'history-restore', disabled: this.restoring !== null,
        onClick: () => this.restoreRevision(revision) }, historyText(lang, this.restoring === revision ? 'restoring' : 'restore')));
  }

  render() {
    if (!this.shown) return;
    const lang = this.lang();
    const time = (seconds) => new Date(seconds * 1000).toLocaleString(lang, { dateStyle: 'short', timeStyle: 'short' });
    const items = this.entries.map((e) => this.entry(e.revision, e.author, time(e.time_s), e.summary, e.paths));
    if (!this.more && this.head !== null) items.push(this.entry(0, 'import', '', historyText(lang, 'imported')));
    this.container.replaceChildren(
      el('div', { class: 'history-head' }, el('strong', {}, historyText(lang, 'title')),
        el('button', { type: 'button', 'data-testid': 'history-close', onClick: () => this.toggle() }, historyText(lang, 'close'))),
      this.head === 0 ? el('p', { class: 'muted' }, historyText(lang, 'empty')) : null,
      el('ol', { class: 'history-list', 'data-testid': 'history-list' }, items),
      this.more ? el('button', { type: 'button', 'data-testid': 'history-older', onClick: () => this.older() }, historyText(lang, 'older')) : null,
    );
  }
}
