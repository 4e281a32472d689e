// Instructions mode, for artisans: a machine, one of its procedures, its steps one by one;
// each step highlights its anchor and shows its text in the chosen language; done and undo
// go to the server and come back from other artisans.

import { el, select, button } from '../ui/ui.js';
import { localized } from '../ui/i18n.js';
import { proceduresFor } from '../document/document.js';
import { HighlightSlot } from '../scene/highlight.js';
import { formatState } from '../scene/placement.js';
import { glideTo, viewpointFor } from '../scene/camera-glide.js';

export class InstructionsMode {
  /**
   * @param ctx what the mode may use of the app (app/mode-context.js): viewer, placement, document,
   *   lang, t, notify, and its own `machineState(id)`, `onStep(handler)` and `sendStep(procedure, step, done)`.
   */
  constructor(ctx) {
    this.ctx = ctx;
    this.name = 'instructions';
    this.highlight = new HighlightSlot();
    this.machineId = null;
    this.procedureId = null;
    this.stepIndex = 0;
    this.done = new Map(); // "procedure/step" -> bool
    ctx.onStep((m) => {
      this.done.set(`${m.procedure}/${m.step}`, m.done);
      if (this.panel) this.render();
    });
  }

  enter(panel) {
    this.panel = panel;
    const doc = this.ctx.document;
    const withProcedures = (doc.machines || []).filter((m) => proceduresFor(doc, m.id).length);
    if (!this.machineId) this.machineId = (withProcedures[0] || (doc.machines || [])[0])?.id ?? null;
    this.render(true);
  }

  exit() {
    this.highlight.clear();
    this.panel = null;
  }

  documentChanged() {
    if (this.panel) this.render();
  }

  get procedure() {
    return (this.ctx.document.procedures || []).find((p) => p.id === this.procedureId) || null;
  }

  choose(machineId, procedureId = null) {
    this.machineId = machineId;
    this.procedureId = procedureId;
    this.stepIndex = 0;
    this.render(true);
  }

  goTo(stepIndex) {
    const steps = this.procedure?.steps || [];
    this.stepIndex = Math.max(0, Math.min(stepIndex, steps.length - 1));
    this.render(true);
  }

  async markDone(done) {
    const procedure = this.procedure;
    const step = procedure.steps[this.stepIndex];
    try {
      await this.ctx.sendStep(procedure.id, step.id, done);
      this.done.set(`${procedure.id}/${step.id}`, done);
      if (done && this.stepIndex < procedure.steps.length - 1) this.goTo(this.stepIndex + 1);
      else this.render();
    } catch (error) {
      this.ctx.notify(error.message, 'error');
    }
  }

  render(moveCamera = false) {
    const { ctx } = this;
    const doc = ctx.document;
    const lang = ctx.lang;
    const procedures = proceduresFor(doc, this.machineId);
    if (!procedures.some((p) => p.id === this.procedureId)) this.procedureId = procedures[0]?.id ?? null;
    const procedure = this.procedure;
    const steps = procedure?.steps || [];
    this.stepIndex = Math.min(this.stepIndex, Math.max(steps.length - 1, 0));
    const step = steps[this.stepIndex];
    const machineChoice = select((doc.machines || []).map((m) => [m.id, m.name]), this.machineId, (id) => this.choose(id), { 'data-testid': 'instructions-machine', 'aria-label': ctx.t('machine') });
    const parts = [el('label', {}, ctx.t('machine'), machineChoice)];
    const state = ctx.machineState(this.machineId);
    if (state) parts.push(el('p', { class: 'muted', 'data-testid': 'machine-state' }, `${ctx.t('state')}: ${formatState(state)}`));
    if (!procedure) {
      parts.push(el('p', {}, ctx.t('noProcedures')));
      this.highlight.clear();
    } else {
      const key = `${procedure.id}/${step.id}`;
      const isDone = this.done.get(key) === true;
      parts.push(
        el('label', {}, ctx.t('procedure'), select(procedures.map((p) => [p.id, localized(p.title, lang)]), procedure.id, (id) => this.choose(this.machineId, id), { 'data-testid': 'instructions-procedure' })),
        el('div', { class: 'step-count', 'data-testid': 'step-count', 'data-summary': true }, `${ctx.t('step')} ${this.stepIndex + 1} ${ctx.t('of')} ${steps.length}`, isDone ? ` · ✓ ${ctx.t('stepDone')}` : ''),
        el('p', { class: 'step-text', 'data-testid': 'step-text', 'data-summary': true }, localized(step.text, lang)),
        el('div', { class: 'row' },
          button(ctx.t('previous'), () => this.goTo(this.stepIndex - 1), { disabled: this.stepIndex === 0, 'data-testid': 'step-previous' }),
          button(ctx.t('next'), () => this.goTo(this.stepIndex + 1), { disabled: this.stepIndex >= steps.length - 1, 'data-testid': 'step-next' }),
          isDone
            ? button(ctx.t('undo'), () => this.markDone(false), { 'data-testid': 'step-undo' })
            : button(ctx.t('done'), () => this.markDone(true), { class: 'primary', 'data-testid': 'step-done' })),
      );
      const anchor = ctx.placement.anchors.get(step.anchor);
      const label = localized(step.highlight?.label, lang) || `${ctx.t('step')} ${this.stepIndex + 1}`;
      this.highlight.show(anchor, step.highlight, label);
      if (moveCamera && anchor) {
        const where = ctx.placement.anchorPosition(step.anchor).scene;
        const view = viewpointFor(ctx.viewer, where);
        glideTo(ctx.viewer, view.position, view.target, 0.8);
      }
    }
    this.panel.replaceChildren(...parts);
    ctx.viewer.invalidate();
  }
}
