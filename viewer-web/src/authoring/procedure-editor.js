// The instructions editor (artisans and above): on the chosen machine, create a procedure, add,
// reorder and delete its steps, write each step's text per language, pick its target on the
// scan (a new anchor on the machine, in its frame) and add a photo. Each save is one edit
// (author-edits.js); a conflict reloads the step and keeps the author's text beside it.
// The form is built once per opening and left alone while others' edits and live values
// arrive, so typing is never interrupted; the list of steps is redrawn instead.

import * as THREE from 'three';
import { el, select, button } from '../ui/ui.js';
import { localized } from '../ui/i18n.js';
import { proceduresFor } from '../document/document.js';
import { PROCEDURES } from './nested-list.js';
import { addAnchorPatch } from './anchors.js';
import { freshId } from './ids.js';
import { documentLanguages, missingTranslations, completeText, draftOf } from './texts.js';
import { textFields } from './text-fields.js';
import { EditConflict } from './author-edits.js';
import { glideTo, viewpointFor } from '../scene/camera-glide.js';

const ACCEPTED_MEDIA = 'image/jpeg,image/png,image/webp,video/mp4';

export class ProcedureEditor {
  /**
   * @param ctx the instructions mode's context (app/mode-context.js) with its `authoring`:
   *   { edits (AuthorEdits), picker (TargetPicker), upload(file), mediaFigure(item) }
   * @param mode the instructions mode: its machine and procedure, its highlight, `choose(machine, procedure)`
   */
  constructor(ctx, mode) {
    this.ctx = ctx;
    this.mode = mode;
    this.form = null;
    ctx.authoring.edits.onChange(() => this.refresh());
  }

  get authoring() {
    return this.ctx.authoring;
  }

  get languages() {
    return documentLanguages(this.ctx.document);
  }

  get procedure() {
    return PROCEDURES.item(this.ctx.document, this.mode.procedureId);
  }

  /** Fills `panel` with the editor. */
  show(panel) {
    this.panel = panel;
    this.sections = { head: el('div'), list: el('div'), form: el('div', { class: 'author-form' }), foot: el('div') };
    panel.replaceChildren(...Object.values(this.sections));
    this.refresh();
    this.renderForm();
    this.lookAtMachine();
  }

  /** The camera turns to the machine being edited, where its targets are clicked. */
  lookAtMachine() {
    const rig = this.ctx.placement.rigs.get(this.mode.machineId);
    if (!rig) return;
    const centre = rig.userData.box.getCenter(new THREE.Vector3());
    const view = viewpointFor(this.ctx.viewer, rig.localToWorld(centre), 3);
    glideTo(this.ctx.viewer, view.position, view.target, 0.8);
  }

  close() {
    this.authoring.picker.cancel();
    this.form = null;
    this.clearTarget();
    this.panel = null;
  }

  /** Others' edits and our own: the list is redrawn, the form kept as the author left it. */
  documentChanged() {
    if (this.panel) this.refresh();
  }

  refresh() {
    if (!this.panel) return;
    const { ctx } = this;
    const doc = ctx.document;
    const procedures = proceduresFor(doc, this.mode.machineId);
    if (!procedures.some((p) => p.id === this.mode.procedureId)) this.mode.procedureId = procedures[0]?.id ?? null;
    this.sections.head.replaceChildren(
      el('label', {}, ctx.t('machine'), select((doc.machines || []).map((m) => [m.id, m.name]), this.mode.machineId, (id) => this.chooseMachine(id), { 'data-testid': 'edit-machine' })),
      procedures.length
        ? el('label', {}, ctx.t('procedure'), select(procedures.map((p) => [p.id, localized(p.title, ctx.lang)]), this.mode.procedureId, (id) => { this.mode.procedureId = id; this.closeForm(); }, { 'data-testid': 'edit-procedure' }))
        : el('p', { class: 'muted' }, ctx.t('noProcedures')),
      el('div', { class: 'row' }, button(`+ ${ctx.t('newProcedure')}`, () => this.openForm('new-procedure'), { 'data-testid': 'procedure-new' })),
    );
    this.sections.list.replaceChildren(...(this.procedure ? this.procedureParts(this.procedure) : []));
    this.sections.foot.replaceChildren(el('div', { class: 'row' },
      button(`↶ ${ctx.t('undoMine')}`, () => this.undo(), { disabled: !this.authoring.edits.canUndo, 'data-testid': 'author-undo' }),
      button(ctx.t('doneEditing'), () => this.mode.setEditing(false), { 'data-testid': 'edit-done' })));
  }

  /** The procedure's title and its steps, each with its missing translations and its buttons. */
  procedureParts(procedure) {
    const { ctx } = this;
    const missingOf = (text) => {
      const missing = missingTranslations(text, this.languages);
      return missing.length ? el('span', { class: 'missing-translation', 'data-testid': 'missing-translation' }, `${ctx.t('missingTranslation')}: ${missing.join(', ').toUpperCase()}`) : null;
    };
    const count = procedure.steps.length;
    return [
      el('h4', { 'data-testid': 'edit-title' }, localized(procedure.title, ctx.lang), ' ', missingOf(procedure.title),
        button('✎', () => this.openForm('title'), { 'aria-label': ctx.t('editTitle'), 'data-testid': 'title-edit', class: 'small' })),
      el('ol', { class: 'edit-steps', 'data-testid': 'edit-steps' }, procedure.steps.map((step, i) => el('li', { 'data-step': step.id },
        el('span', { class: 'step-line' }, localized(step.text, ctx.lang)), step.media?.length ? ' 📷' : '', ' ', missingOf(step.text),
        el('span', { class: 'step-buttons' },
          button('↑', () => this.save((doc) => PROCEDURES.moveChild(doc, procedure.id, step.id, i - 1)), { disabled: i === 0, 'aria-label': ctx.t('moveUp'), 'data-testid': 'edit-step-up', class: 'small' }),
          button('↓', () => this.save((doc) => PROCEDURES.moveChild(doc, procedure.id, step.id, i + 1)), { disabled: i === count - 1, 'aria-label': ctx.t('moveDown'), 'data-testid': 'edit-step-down', class: 'small' }),
          button('✎', () => this.openForm('step', step), { 'aria-label': ctx.t('editStep'), 'data-testid': 'edit-step-edit', class: 'small' }),
          button('✕', () => this.save((doc) => PROCEDURES.removeChild(doc, procedure.id, step.id)), { 'aria-label': ctx.t('deleteStep'), 'data-testid': 'edit-step-delete', class: 'small' }))))),
      el('div', { class: 'row' }, button(`+ ${ctx.t('addStep')}`, () => this.openForm('step'), { 'data-testid': 'step-add' })),
    ];
  }

  chooseMachine(machineId) {
    this.mode.machineId = machineId;
    this.mode.procedureId = null;
    this.closeForm();
    this.lookAtMachine();
  }

  /** Opens the form: 'new-procedure' (title and first step), 'step' (a new one, or `step` to change) or 'title'. */
  openForm(kind, step = null) {
    this.authoring.picker.cancel();
    const procedure = this.procedure;
    const languages = this.languages;
    this.form = {
      kind, stepId: step?.id ?? null,
      title: draftOf(kind === 'title' ? procedure.title : null, languages),
      text: draftOf(step?.text, languages),
      target: step ? { anchor: step.anchor } : null,
      media: (step?.media || []).slice(),
      base: kind === 'title' ? this.titleBase(procedure.id) : step ? this.stepBase(procedure.id, step.id) : null,
      mine: null,
      uploading: false,
    };
    this.renderForm();
    this.showTarget();
    this.refresh();
  }

  stepBase(procedureId, stepId) {
    return { read: (doc) => PROCEDURES.child(doc, procedureId, stepId), value: PROCEDURES.child(this.ctx.document, procedureId, stepId) };
  }

  titleBase(procedureId) {
    return { read: (doc) => PROCEDURES.item(doc, procedureId)?.title ?? null, value: PROCEDURES.item(this.ctx.document, procedureId).title };
  }

  closeForm() {
    this.authoring.picker.cancel();
    this.form = null;
    this.clearTarget();
    this.renderForm();
    this.refresh();
  }

  renderForm() {
    if (!this.panel) return;
    const { ctx, form } = this;
    if (!form) return this.sections.form.replaceChildren();
    const languages = this.languages;
    const parts = [el('h4', {}, ctx.t(form.kind === 'new-procedure' ? 'newProcedure' : form.kind === 'title' ? 'editTitle' : form.stepId ? 'editStep' : 'addStep'))];
    if (form.kind !== 'step') parts.push(textFields({ languages, draft: form.title, mine: form.mine?.title, testid: 'procedure-title', label: ctx.t('title'), t: ctx.t }));
    if (form.kind !== 'title') {
      parts.push(
        textFields({ languages, draft: form.text, mine: form.mine?.text, multiline: true, testid: 'step-text', label: ctx.t('stepText'), t: ctx.t }),
        el('div', { class: 'row' },
          button(`${ctx.t('pickTarget')}`, () => this.pickTarget(), { 'data-testid': 'pick-target', class: form.target ? '' : 'primary' }),
          el('span', { class: 'muted', 'data-testid': 'target-status' }, this.targetStatus())),
        el('div', { class: 'media-list' }, form.media.map((item, i) => el('div', { class: 'media-item' }, this.authoring.mediaFigure(item),
          button('✕', () => { form.media.splice(i, 1); this.renderForm(); }, { 'aria-label': ctx.t('removePhoto'), 'data-testid': 'photo-remove', class: 'small' })))),
        el('label', { class: 'file' }, form.uploading ? ctx.t('uploading') : ctx.t('addPhoto'),
          el('input', { type: 'file', accept: ACCEPTED_MEDIA, 'data-testid': 'step-photo', disabled: form.uploading, onChange: (e) => this.addPhoto(e.target.files[0]) })),
      );
    }
    parts.push(el('div', { class: 'row' },
      button(ctx.t('save'), () => this.saveForm(), { class: 'primary', 'data-testid': 'step-save', disabled: form.uploading }),
      button(ctx.t('cancel'), () => this.closeForm(), { 'data-testid': 'step-cancel' })));
    this.sections.form.replaceChildren(...parts);
  }

  targetStatus() {
    const { ctx, form } = this;
    if (this.authoring.picker.picking) return ctx.t('pickHint');
    if (!form.target) return ctx.t('noTarget');
    if (form.target.anchor) return ctx.document.anchors?.find((a) => a.id === form.target.anchor)?.name || form.target.anchor;
    return ctx.t('targetPicked');
  }

  async pickTarget() {
    const form = this.form;
    const picked = this.authoring.picker.pick(this.mode.machineId);
    this.renderForm();
    const target = await picked;
    if (this.form !== form) return;
    if (target) form.target = target;
    this.renderForm();
    this.showTarget();
  }

  /** The form's target in 3D: its anchor, or the picked point on the machine (a stand-in object until saved). */
  showTarget() {
    const target = this.form?.target;
    this.clearTarget();
    if (!target) return;
    let object = target.anchor ? this.ctx.placement.anchors.get(target.anchor) : null;
    if (!target.anchor) {
      object = this.pickedPoint = new THREE.Object3D();
      object.position.set(...target.position);
      object.quaternion.setFromUnitVectors(new THREE.Vector3(0, 0, 1), new THREE.Vector3(...target.normal));
      this.ctx.placement.rigs.get(target.machine).add(object);
    }
    this.mode.highlight.show(object, { kind: 'arrow' }, this.ctx.t('target'));
    this.ctx.viewer.invalidate();
  }

  clearTarget() {
    this.mode.highlight.clear();
    this.pickedPoint?.removeFromParent();
    this.pickedPoint = null;
    this.ctx.viewer.invalidate();
  }

  async addPhoto(file) {
    const form = this.form;
    if (!file || !form) return;
    form.uploading = true;
    this.renderForm();
    try {
      form.media.push(await this.authoring.upload(file));
    } catch (error) {
      this.ctx.notify(error.message, 'error');
    }
    form.uploading = false;
    if (this.form === form) this.renderForm();
  }

  /** One edit; errors are told, conflicts keep the draft. */
  async save(makePatch, base = null) {
    try {
      await this.authoring.edits.save(makePatch, base);
      return true;
    } catch (error) {
      if (error instanceof EditConflict) this.conflict(error.current);
      else this.ctx.notify(error.message, 'error');
      return false;
    }
  }

  async saveForm() {
    const { ctx, form } = this;
    const languages = this.languages;
    const title = completeText(form.title, languages);
    const text = completeText(form.text, languages);
    if (form.kind !== 'step' && !title) return ctx.notify(ctx.t('writeTitle'), 'error');
    if (form.kind !== 'title' && !text) return ctx.notify(ctx.t('writeText'), 'error');
    if (form.kind !== 'title' && !form.target) return ctx.notify(ctx.t('pickTargetFirst'), 'error');
    const machineId = this.mode.machineId;
    const procedureId = this.mode.procedureId;
    let created = null;
    const makePatch = (doc) => {
      if (form.kind === 'title') return PROCEDURES.replaceField(doc, procedureId, 'title', title);
      const patch = [];
      let anchor = form.target.anchor;
      if (!anchor) {
        const added = addAnchorPatch(doc, form.target, text[languages[0]]);
        anchor = added.id;
        patch.push(...added.patch);
      }
      const media = form.media.length ? { media: form.media } : {};
      if (form.kind === 'new-procedure') {
        created = freshId(PROCEDURES.items(doc).map((p) => p.id), `${machineId}-${title[languages[0]]}`, machineId);
        return [...patch, ...PROCEDURES.addItem(doc, { id: created, machine: machineId, title, steps: [{ id: 'step-1', text, anchor, ...media }] })];
      }
      if (!form.stepId) {
        const steps = PROCEDURES.item(doc, procedureId)?.steps || [];
        const id = freshId(steps.map((s) => s.id), `step-${steps.length + 1}`, 'step');
        return [...patch, ...PROCEDURES.addChild(doc, procedureId, { id, text, anchor, ...media })];
      }
      const { media: _old, ...kept } = PROCEDURES.child(doc, procedureId, form.stepId);
      return [...patch, ...PROCEDURES.replaceChild(doc, procedureId, form.stepId, { ...kept, text, anchor, ...media })];
    };
    if (!(await this.save(makePatch, form.base))) return;
    if (created) this.mode.procedureId = created;
    ctx.notify(ctx.t('saved'));
    this.closeForm();
  }

  /** Someone changed the item meanwhile: show theirs, keep ours beside it. */
  conflict(current) {
    const { ctx, form } = this;
    if (!form) return ctx.notify(ctx.t('conflict'), 'error');
    const languages = this.languages;
    form.mine = { title: { ...form.title }, text: { ...form.text } };
    if (form.kind === 'title') {
      form.title = draftOf(current, languages);
      form.base.value = current;
    } else if (current) {
      form.text = draftOf(current.text, languages);
      form.target = { anchor: current.anchor };
      form.media = (current.media || []).slice();
      form.base.value = current;
    } else {
      // The step was deleted: what the author wrote can still be saved as a new step.
      form.stepId = null;
      form.base = null;
      form.text = { ...form.mine.text };
    }
    ctx.notify(ctx.t(current ? 'conflict' : 'conflictDeleted'), 'error');
    this.renderForm();
    this.showTarget();
    this.refresh();
  }

  async undo() {
    try {
      await this.authoring.edits.undo();
      this.ctx.notify(this.ctx.t('undone'));
    } catch (error) {
      this.ctx.notify(error.message, 'error');
    }
  }
}
