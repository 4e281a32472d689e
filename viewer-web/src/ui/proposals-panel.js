// A version's carry-over proposal (versions/<id>/proposed.patch.json from `twin versions add`), for
// planners in the versions panel: its edits in words (its notes), what it flags, and "Accept",
// which sends its JSON Patch as an ordinary edit (a revision every page sees, undone by revision
// like any edit). No server state says a proposal was accepted: one whose `test` operations no
// longer hold against the current document (accepted, or overtaken by other edits) is not offered.

import { el } from './ui.js';
import { applyPatch } from '../net/json-patch.js';

const TEXT = {
  en: { title: 'Carry-over proposed by {version}', accept: 'Accept', dismiss: 'Dismiss', sending: 'Accepting…',
    accepted: 'Proposal of {version} accepted: revision {revision}.', refused: 'Not accepted: {reason}', flagged: 'to check',
    steps: 'steps: {steps}', failed: 'could not be loaded' },
  it: { title: 'Riporto proposto da {version}', accept: 'Accetta', dismiss: 'Ignora', sending: 'Accetto…',
    accepted: 'Proposta di {version} accettata: revisione {revision}.', refused: 'Non accettata: {reason}', flagged: 'da verificare',
    steps: 'passi: {steps}', failed: 'non caricabile' },
};
const PLANNER_ROLES = ['planner', 'admin'];

function text(lang, key, values = {}) {
  const template = (TEXT[lang] ?? TEXT.en)[key] ?? TEXT.en[key];
  return template.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? '');
}

/** Whether `proposal`'s patch applies to `document` as it is now (its guarding tests hold). */
export function proposalApplies(document, proposal) {
  try {
    applyPatch(document, proposal.patch);
    return true;
  } catch {
    return false;
  }
}

export class ProposalsPanel {
  /**
   * `context`: { versions() (the document's, oldest first), role(), document(), fetchProposal(versionId)
   * (the parsed proposal, null if there is none), edit(makePatch) (resolves with the ack), lang(), notify(message, kind) }.
   */
  constructor(context) {
    Object.assign(this, context);
    this.element = el('section', { class: 'proposals', 'data-testid': 'proposals' });
    this.proposals = [];
    this.dismissed = new Set(); // this page's choice only: another planner is still offered them
    this.sending = null;
    this.refusals = new Map(); // version id -> the sentence the last refusal gave
  }

  /** Fetches the open proposals of the later versions; only planners and admins are given them. */
  async load() {
    this.proposals = [];
    if (!PLANNER_ROLES.includes(this.role())) return this.render();
    for (const version of this.versions().slice(1)) {
      try {
        const proposal = await this.fetchProposal(version.id);
        if (proposal) this.proposals.push(proposal);
      } catch (error) {
        this.notify(`proposal of ${version.id} ${text(this.lang(), 'failed')}: ${error.message}`, 'error');
      }
    }
    this.render();
  }

  /** The proposals to offer: neither dismissed here nor overtaken by the document. */
  get offered() {
    const document = this.document();
    return this.proposals.filter((p) => !this.dismissed.has(p.version) && proposalApplies(document, p));
  }

  render() {
    const lang = this.lang();
    this.element.replaceChildren(...this.offered.map((proposal) => {
      const notes = proposal.notes.map((note) => {
        const flagged = note.kind === 'in_removed_region';
        const steps = note.steps?.length ? ` (${text(lang, 'steps', { steps: note.steps.join(', ') })})` : '';
        return el('li', { class: flagged ? 'flagged' : '', 'data-testid': 'proposal-note', 'data-kind': note.kind },
          `${flagged ? `⚠ ${text(lang, 'flagged')}: ` : ''}${note.text}${steps}`);
      });
      const edits = proposal.patch.some((operation) => operation.op !== 'test');
      const sending = this.sending === proposal.version;
      const refusal = this.refusals.get(proposal.version);
      return el('div', { class: 'proposal', 'data-testid': 'proposal', 'data-version': proposal.version },
        el('strong', {}, text(lang, 'title', { version: proposal.version })),
        el('ul', {}, notes),
        refusal ? el('p', { class: 'refusal', role: 'alert', 'data-testid': 'proposal-refusal' }, text(lang, 'refused', { reason: refusal })) : null,
        el('div', { class: 'proposal-actions' },
          edits ? el('button', { type: 'button', 'data-testid': 'proposal-accept', disabled: Boolean(this.sending), onClick: () => this.accept(proposal) },
            text(lang, sending ? 'sending' : 'accept')) : null,
          el('button', { type: 'button', 'data-testid': 'proposal-dismiss', disabled: sending, onClick: () => this.dismiss(proposal) }, text(lang, 'dismiss'))),
      );
    }));
  }

  /** Sends the proposal's patch as an edit of the current revision; a refusal is shown with its sentence and the proposal kept. */
  async accept(proposal) {
    this.sending = proposal.version;
    this.refusals.delete(proposal.version);
    this.render();
    try {
      const ack = await this.edit(() => proposal.patch);
      this.notify(text(this.lang(), 'accepted', { version: proposal.version, revision: ack.revision }), 'info');
    } catch (error) {
      this.refusals.set(proposal.version, error.message);
    } finally {
      this.sending = null;
      this.render();
    }
  }

  dismiss(proposal) {
    this.dismissed.add(proposal.version);
    this.render();
  }
}
