// Instructions mode, for artisans: a machine with its live panel, one of its procedures, its
// steps one by one; each step highlights its anchor and shows its text in the chosen language,
// and the live values it names; a step that waits for a condition ("bed_temp >= 60") can be done
// only once that holds on good values. Done and undo go to the server and come back from other artisans.

import { el, select, button } from '../ui/ui.js';
import { localized } from '../ui/i18n.js';
import { proceduresFor } from '../document/document.js';
import { HighlightSlot } from '../scene/highlight.js';
import { livePanel } from '../ui/live-panel.js';
import { parseCondition } from '../document/conditions.js';
import { liveValue, formatValue, goodValues, isNumeric } from '../document/live-values.js';
import { glideTo, viewpointFor } from '../scene/camera-glide.js';
import { ProcedureEditor } from '../authoring/procedure-editor.js';

const CHART_REFRESH_MS = 15_000; // the chart of the last hour is fetched again at most this often

export class InstructionsMode {
  /**
   * @param ctx what the mode may use of the app (app/mode-context.js): viewer, placement, document,
   *   lang, t, notify, and its own `machineState(id)`, `history(machine, property)`, `onStep(handler)`,
   *   `sendStep(procedure, step, done)`, `mediaFigure(item)` and `authoring` (the editor's tools, `canAuthor`).
   */
  constructor(ctx) {
    this.ctx = ctx;
    this.name = 'instructions';
    this.highlight = new HighlightSlot();
    this.machineId = null;
    this.procedureId = null;
    this.stepIndex = 0;
    this.done = new Map(); // "procedure/step" -> bool
    this.chart = null; // {machine, property, points, unit, fetchedAt} of the live panel's chart
    this.editor = new ProcedureEditor(ctx, this);
    this.editing = false;
    ctx.onStep((m) => {
      this.done.set(`${m.procedure}/${m.step}`, m.done);
      if (this.panel && !this.editing) this.render();
    });
  }

  enter(panel) {
    this.panel = panel;
    const doc = this.ctx.document;
    const withProcedures = (doc.machines || []).filter((m) => proceduresFor(doc, m.id).length);
    if (!this.machineId) this.machineId = (withProcedures[0] || (doc.machines || [])[0])?.id ?? null;
    if (this.editing) this.editor.show(panel);
    else this.render(true);
  }

  exit() {
    this.editor.close();
    this.editing = false;
    this.highlight.clear();
    this.panel = null;
  }

  documentChanged(event) {
    if (!this.panel) return;
    // While editing, live values do not redraw the editor (the author may be typing).
    if (this.editing) { if (event?.cause !== 'machine_state') this.editor.documentChanged(); } else this.render();
  }

  /** Between reading the instructions and editing them (artisans and above). */
  setEditing(editing) {
    this.editing = editing && this.ctx.authoring.canAuthor;
    this.highlight.clear();
    if (this.editing) this.editor.show(this.panel);
    else { this.editor.close(); this.render(true); }
  }

  get procedure() {
    return (this.ctx.document.procedures || []).find((p) => p.id === this.procedureId) || null;
  }

  /** The chart of `property` of the current machine (the first numeric one when null), fetched when old. */
  chartFor(state, property = null) {
    const chosen = property ?? (this.chart?.machine === this.machineId ? this.chart.property : null)
      ?? Object.keys(state).find((name) => name !== 'status' && isNumeric(state[name]));
    if (!chosen) return null;
    const current = this.chart?.machine === this.machineId && this.chart.property === chosen ? this.chart : null;
    if (!current || (!current.loading && performance.now() - current.fetchedAt > CHART_REFRESH_MS)) {
      const machine = this.machineId;
      this.chart = { machine, property: chosen, points: current?.points ?? [], unit: current?.unit ?? null, fetchedAt: performance.now(), loading: true };
      this.ctx.history(machine, chosen).then((answer) => {
        if (this.chart?.machine !== machine || this.chart.property !== chosen) return;
        this.chart = { machine, property: chosen, points: answer.points, unit: answer.unit ?? null, fetchedAt: performance.now(), loading: false };
        if (this.panel) this.render();
      }).catch((error) => {
        this.chart.loading = false;
        this.ctx.notify(error.message, 'error');
      });
    }
    return this.chart;
  }

  /** What a step shows of live values, and whether its condition lets it be done. */
  stepLive(step, procedure) {
    const live = step.live;
    if (!live) return { parts: [], blocked: false };
    const state = this.ctx.machineState(live.machine ?? procedure.machine) || {};
    const parts = (live.show || []).filter((name) => name in state).map((name) => {
      const value = liveValue(state[name]);
      return el('span', { class: `live-value ${value.quality}` }, `${name}: ${formatValue(value)}`, value.quality === 'good' ? '' : ` (${this.ctx.t(value.quality)})`);
    });
    let blocked = false;
    if (live.wait_for) {
      blocked = !parseCondition(live.wait_for).holds(goodValues(state));
      if (blocked) parts.push(el('p', { class: 'step-waiting', 'data-testid': 'step-waiting' }, `${this.ctx.t('waitingFor')}: ${live.wait_for}`));
    }
    return { parts: [el('div', { class: 'step-live', 'data-testid': 'step-live' }, parts)], blocked };
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
    if (ctx.authoring.canAuthor) parts.push(el('div', { class: 'row' }, button(`✎ ${ctx.t('editInstructions')}`, () => this.setEditing(true), { 'data-testid': 'edit-instructions' })));
    const state = ctx.machineState(this.machineId);
    if (state) {
      const chart = this.chartFor(state);
      parts.push(livePanel({ properties: state, chart, t: ctx.t, onChart: (name) => { this.chartFor(state, name); this.render(); } }));
    }
    if (!procedure) {
      parts.push(el('p', {}, ctx.t('noProcedures')));
      this.highlight.clear();
    } else {
      const key = `${procedure.id}/${step.id}`;
      const isDone = this.done.get(key) === true;
      const live = this.stepLive(step, procedure);
      parts.push(
        el('label', {}, ctx.t('procedure'), select(procedures.map((p) => [p.id, localized(p.title, lang)]), procedure.id, (id) => this.choose(this.machineId, id), { 'data-testid': 'instructions-procedure' })),
        el('div', { class: 'step-count', 'data-testid': 'step-count', 'data-summary': true }, `${ctx.t('step')} ${this.stepIndex + 1} ${ctx.t('of')} ${steps.length}`, isDone ? ` · ✓ ${ctx.t('stepDone')}` : ''),
        el('p', { class: 'step-text', 'data-testid': 'step-text', 'data-summary': true }, localized(step.text, lang)),
        ...(step.media || []).map((item) => ctx.mediaFigure(item)),
        ...live.parts,
        el('div', { class: 'row' },
          button(ctx.t('previous'), () => this.goTo(this.stepIndex - 1), { disabled: this.stepIndex === 0, 'data-testid': 'step-previous' }),
          button(ctx.t('next'), () => this.goTo(this.stepIndex + 1), { disabled: this.stepIndex >= steps.length - 1, 'data-testid': 'step-next' }),
          isDone
            ? button(ctx.t('undo'), () => this.markDone(false), { 'data-testid': 'step-undo' })
            : button(ctx.t('done'), () => this.markDone(true), { class: 'primary', 'data-testid': 'step-done', disabled: live.blocked })),
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
