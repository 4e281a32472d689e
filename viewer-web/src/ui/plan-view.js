// The planner's 2D plan, drawn in the page as SVG in the document's metres (x right, y up): the
// floor plan's walls (dashed where the scan barely saw them, with their other face where it was
// seen) and openings, and each machine's footprint where the current layout puts it. Planners drag a corner to correct the walls (an
// edit of /floor_plan, so a revision like any other), and download the plan as SVG, PDF or DXF
// from the server (twin/serve/http_plan.py), drawn by the same code as `twin plan`.

import { el, button } from './ui.js';
import { planCorners, moveCornerPatch } from '../document/floor-plan.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const MARGIN_M = 0.5;
const UNCERTAIN_BELOW = 0.5; // as twin plan draws them
const SNAP_M = 0.01;

function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attributes)) if (value != null && value !== false) element.setAttribute(key, value);
  element.append(...children);
  return element;
}

// Plan y is up, the SVG's is down.
const flip = ([x, y]) => [x, -y];
const polygonPoints = (points) => points.map((p) => flip(p).join(',')).join(' ');

export class PlanView {
  /**
   * @param ctx the planner's context: document, t, notify, canEdit, edit(makePatch), downloadPlan(format, layoutId)
   */
  constructor(ctx) {
    this.ctx = ctx;
    this.drawing = svg('svg', { 'data-testid': 'plan-view', class: 'plan-view', role: 'img' });
    this.element = el('div', { class: 'plan' });
    this.drag = null;
    this.drawing.addEventListener('pointermove', (e) => this.dragTo(e));
    this.drawing.addEventListener('pointerup', (e) => this.dragEnd(e));
    this.drawing.addEventListener('pointercancel', () => { this.drag = null; this.draw(); });
  }

  /** Redraws with `footprints` (Map machine id -> { name, polygon }) in the layout `layoutId`. */
  update(footprints, layoutId) {
    this.footprints = footprints;
    this.layoutId = layoutId;
    if (!this.drag) this.draw();
  }

  draw() {
    const { ctx } = this;
    const plan = ctx.document.floor_plan;
    this.drawing.setAttribute('aria-label', ctx.t('planView'));
    const downloads = el('div', { class: 'row' }, ctx.t('downloadPlan'), ...['svg', 'pdf', 'dxf'].map((format) =>
      button(format.toUpperCase(), () => this.download(format), { disabled: !plan, 'data-testid': `plan-download-${format}` })));
    if (!plan?.walls?.length) {
      this.element.replaceChildren(el('p', { class: 'muted', 'data-testid': 'plan-missing' }, ctx.t('noFloorPlan')), downloads);
      return;
    }
    const walls = plan.walls.map((wall) => wall.points.map((p) => p.slice(0, 2)));
    if (this.drag) for (const { wall, index } of this.drag.corner.ends) walls[wall][index] = this.drag.point;
    const all = [...walls.flat(), ...[...this.footprints.values()].flatMap((f) => f.polygon)];
    const xs = all.map((p) => p[0]), ys = all.map((p) => p[1]);
    const [x0, y0] = [Math.min(...xs) - MARGIN_M, Math.min(...ys) - MARGIN_M];
    const [x1, y1] = [Math.max(...xs) + MARGIN_M, Math.max(...ys) + MARGIN_M];
    if (!this.drag) this.drawing.setAttribute('viewBox', `${x0} ${-y1} ${x1 - x0} ${y1 - y0}`); // still while dragging
    const machines = [...this.footprints].map(([id, { name, polygon }]) => {
      const [cx, cy] = flip([polygon.reduce((s, p) => s + p[0], 0) / polygon.length, polygon.reduce((s, p) => s + p[1], 0) / polygon.length]);
      return svg('g', { 'data-testid': 'plan-machine', 'data-id': id },
        svg('polygon', { points: polygonPoints(polygon), class: 'machine' }),
        svg('text', { x: cx, y: cy, class: 'name' }, name));
    });
    const wallLines = plan.walls.map((wall, k) => svg('polyline', {
      points: polygonPoints(walls[k]), class: wall.confidence < UNCERTAIN_BELOW ? 'wall uncertain' : 'wall', 'data-testid': 'plan-wall', 'data-id': wall.id,
    }));
    // A wall whose other face was seen (thickness_m) shows it too, outside the outline (which runs counter-clockwise).
    const otherFaces = plan.walls.flatMap((wall, k) => {
      const [a, b] = [walls[k][0], walls[k].at(-1)];
      const length = Math.hypot(b[0] - a[0], b[1] - a[1]);
      if (!wall.thickness_m || length === 0) return [];
      const out = [(b[1] - a[1]) / length * wall.thickness_m, -(b[0] - a[0]) / length * wall.thickness_m];
      return [svg('polyline', { points: polygonPoints(walls[k].map((p) => [p[0] + out[0], p[1] + out[1]])), class: 'wall other-face', 'data-testid': 'plan-wall-other-face' })];
    });
    const openings = (plan.openings || []).map((o) => svg('polyline', { points: polygonPoints(o.points), class: `opening ${o.kind}` }));
    const corners = ctx.canEdit ? planCorners(plan).map((corner, k) => {
      const [cx, cy] = flip(this.drag?.index === k ? this.drag.point : corner.point);
      const handle = svg('circle', { cx, cy, r: 0.15, class: 'corner', 'data-testid': 'plan-corner', 'data-index': k });
      handle.addEventListener('pointerdown', (e) => this.dragStart(e, corner, k));
      return handle;
    }) : [];
    this.drawing.replaceChildren(...machines, ...wallLines, ...otherFaces, ...openings, ...corners);
    this.element.replaceChildren(this.drawing, downloads);
  }

  /** Where the pointer is in plan metres, snapped to the centimetre. */
  planPoint(event) {
    const at = new DOMPoint(event.clientX, event.clientY).matrixTransform(this.drawing.getScreenCTM().inverse());
    return [Math.round(at.x / SNAP_M) * SNAP_M, Math.round(-at.y / SNAP_M) * SNAP_M].map((v) => +v.toFixed(4));
  }

  dragStart(event, corner, index) {
    if (event.button !== 0) return;
    this.drawing.setPointerCapture(event.pointerId);
    this.drag = { corner, index, point: corner.point, pointerId: event.pointerId, moved: false };
    event.preventDefault();
  }

  dragTo(event) {
    if (this.drag?.pointerId !== event.pointerId) return;
    this.drag.point = this.planPoint(event);
    this.drag.moved = true;
    this.draw();
  }

  async dragEnd(event) {
    if (this.drag?.pointerId !== event.pointerId) return;
    const { corner, point, moved } = this.drag;
    this.drag = null;
    if (!moved) return this.draw();
    try {
      // Against the document as it is when the edit goes (another planner may have moved walls meanwhile).
      await this.ctx.edit((doc) => moveCornerPatch(doc, planCorners(doc.floor_plan).find((c) => sameEnds(c, corner)) || corner, point));
    } catch (error) {
      this.ctx.notify(error.message, 'error');
    }
    this.draw();
  }

  async download(format) {
    try {
      const { blob, fileName } = await this.ctx.downloadPlan(format, this.layoutId);
      const link = el('a', { href: URL.createObjectURL(blob), download: fileName });
      link.click();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    } catch (error) {
      this.ctx.notify(error.message, 'error');
    }
  }
}

const sameEnds = (a, b) => a.ends.length === b.ends.length && a.ends.every((e, k) => e.wall === b.ends[k].wall && e.index === b.ends[k].index);
