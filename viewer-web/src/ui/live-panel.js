// The live panel of a machine: its status, each live value with its unit and quality (stale and
// offline marked, never shown as live), and a chart of one numeric property over the last hour
// (the server's `history`: mean with its min-max band per point).

import { el } from './ui.js';
import { liveValue, formatValue, machineStatus, isNumeric, statusText } from '../document/live-values.js';

const SVG = 'http://www.w3.org/2000/svg';
const CHART = { width: 280, height: 70, pad: 4 };

function svg(tag, attributes) {
  const element = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  return element;
}

/** The chart of history points ([t, mean, min, max]) as an SVG element; null without points. */
export function historyChart(points) {
  const numeric = points.filter((p) => p.length === 4);
  if (!numeric.length) return null;
  const t0 = numeric[0][0];
  const t1 = Math.max(numeric[numeric.length - 1][0], t0 + 1);
  const low = Math.min(...numeric.map((p) => p[2]));
  const high = Math.max(...numeric.map((p) => p[3]), low + 1e-9);
  const x = (t) => CHART.pad + ((t - t0) / (t1 - t0)) * (CHART.width - 2 * CHART.pad);
  const y = (v) => CHART.height - CHART.pad - ((v - low) / (high - low)) * (CHART.height - 2 * CHART.pad);
  const chart = svg('svg', { viewBox: `0 0 ${CHART.width} ${CHART.height}`, class: 'live-chart', 'data-testid': 'live-chart', role: 'img' });
  const band = [...numeric.map((p) => `${x(p[0]).toFixed(1)},${y(p[3]).toFixed(1)}`),
    ...numeric.slice().reverse().map((p) => `${x(p[0]).toFixed(1)},${y(p[2]).toFixed(1)}`)];
  chart.append(
    svg('polygon', { points: band.join(' '), class: 'band' }),
    svg('polyline', { points: numeric.map((p) => `${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join(' '), class: 'mean' }),
  );
  chart.dataset.points = String(numeric.length);
  return chart;
}

/**
 * The panel's element. `chart`: {property, points, unit} fetched for this machine, or null;
 * `onChart(property)`: the user picked a property to chart.
 */
export function livePanel({ properties, chart, onChart, t }) {
  const status = machineStatus(properties);
  const rows = Object.entries(properties).filter(([name]) => name !== 'status').map(([name, property]) => {
    const live = liveValue(property);
    const quality = live.quality === 'good' ? null : el('span', { class: `quality ${live.quality}` }, t(live.quality));
    const attributes = { class: `live-value ${live.quality}`, 'data-property': name };
    if (isNumeric(property)) Object.assign(attributes, { onClick: () => onChart(name), title: t('lastHour'), class: `${attributes.class} chartable${chart?.property === name ? ' charted' : ''}` });
    return el('li', attributes, el('span', { class: 'name' }, name), ' ', el('span', { class: 'value' }, formatValue(live)), quality ? ' ' : null, quality);
  });
  const parts = [];
  if (status) parts.push(el('div', { class: `live-status status-${status.status}`, 'data-testid': 'machine-status' }, statusText(status, t)));
  parts.push(el('ul', { class: 'live-values' }, rows));
  if (chart) {
    const drawn = historyChart(chart.points);
    const unit = chart.unit ?? liveValue(properties[chart.property]).unit;
    parts.push(el('div', { class: 'live-chart-box' },
      el('div', { class: 'muted' }, `${chart.property}${unit ? ` (${unit})` : ''}, ${t('lastHour')}`),
      drawn ?? el('p', { class: 'muted' }, t('noHistory'))));
  }
  return el('section', { class: 'live', 'data-testid': 'machine-state', 'aria-label': t('live') }, parts);
}
