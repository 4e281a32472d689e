// Tour mode, for visitors: ordered stops; the camera glides between their viewpoints; texts
// in Italian or English; other visitors shown discreetly.

import * as THREE from 'three';
import { el, select, button } from '../ui/ui.js';
import { localized } from '../ui/i18n.js';
import { HighlightSlot } from '../scene/highlight.js';
import { glideTo } from '../scene/camera-glide.js';

export class TourMode {
  /**
   * @param ctx what the mode may use of the app (app/mode-context.js): viewer, placement, root,
   *   document, lang, t, and its own `visitors()` (how many others are in this twin).
   */
  constructor(ctx) {
    this.ctx = ctx;
    this.name = 'tour';
    this.highlight = new HighlightSlot();
    this.tourId = null;
    this.stopIndex = 0;
    this.arrived = Promise.resolve();
  }

  enter(panel) {
    this.panel = panel;
    this.render(true);
    this.presenceTimer = setInterval(() => this.renderPresence(), 1000);
  }

  exit() {
    clearInterval(this.presenceTimer);
    this.highlight.clear();
    this.panel = null;
  }

  documentChanged() {
    if (this.panel) this.render(false);
  }

  get tours() {
    return this.ctx.document.tours || [];
  }

  get tour() {
    return this.tours.find((t) => t.id === this.tourId) || null;
  }

  goTo(stopIndex) {
    const stops = this.tour?.stops || [];
    this.stopIndex = Math.max(0, Math.min(stopIndex, stops.length - 1));
    this.render(true);
  }

  render(glide) {
    const { ctx } = this;
    const lang = ctx.lang;
    if (!this.tour) { this.tourId = this.tours[0]?.id ?? null; this.stopIndex = 0; }
    const tour = this.tour;
    if (!tour) {
      this.highlight.clear();
      this.panel.replaceChildren(el('p', {}, ctx.t('noTours')));
      return;
    }
    this.stopIndex = Math.min(this.stopIndex, tour.stops.length - 1);
    const stop = tour.stops[this.stopIndex];
    this.presenceLine = el('p', { class: 'presence', 'data-testid': 'tour-presence' });
    this.panel.replaceChildren(
      this.tours.length > 1
        ? select(this.tours.map((t) => [t.id, localized(t.title, lang)]), tour.id, (id) => { this.tourId = id; this.stopIndex = 0; this.render(true); }, { 'data-testid': 'tour-choice' })
        : el('h3', {}, localized(tour.title, lang)),
      el('div', { class: 'step-count', 'data-testid': 'tour-stop-count', 'data-summary': true }, `${ctx.t('stop')} ${this.stopIndex + 1} ${ctx.t('of')} ${tour.stops.length}`),
      el('h4', { 'data-testid': 'tour-stop-title', 'data-summary': true }, localized(stop.title, lang)),
      el('p', { class: 'step-text', 'data-testid': 'tour-stop-description' }, localized(stop.description, lang)),
      el('div', { class: 'row' },
        button(ctx.t('previous'), () => this.goTo(this.stopIndex - 1), { disabled: this.stopIndex === 0, 'data-testid': 'tour-previous' }),
        button(ctx.t('next'), () => this.goTo(this.stopIndex + 1), { class: 'primary', disabled: this.stopIndex >= tour.stops.length - 1, 'data-testid': 'tour-next' })),
      this.presenceLine,
    );
    this.renderPresence();
    this.highlight.show(ctx.placement.anchors.get(stop.anchor), { kind: 'outline', color: '#3aa0ff' }, localized(stop.title, lang));
    if (glide) {
      const { root } = ctx;
      const position = root.localToWorld(new THREE.Vector3(...stop.viewpoint.position));
      const target = root.localToWorld(new THREE.Vector3(...stop.viewpoint.target));
      this.arrived = glideTo(ctx.viewer, position, target, 1.5);
    }
    ctx.viewer.invalidate();
  }

  renderPresence() {
    if (!this.presenceLine) return;
    const count = this.ctx.visitors();
    this.presenceLine.textContent = count ? `${count} ${this.ctx.t('visitors')}` : '';
  }
}
