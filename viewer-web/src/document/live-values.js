// A machine's live properties as the viewer shows them. A bridge's property is
// {value, unit?, source_time_s, quality}; a client's machine_state may send a bare value, which
// counts as good. Stale and offline values are shown as such, never as live.

export const STATUSES = ['idle', 'running', 'alarm', 'offline'];
export const STATUS_SYMBOLS = { idle: '●', running: '▶', alarm: '⚠', offline: '○' };

/** {value, unit, quality, time} of one property, whichever form it came in. */
export function liveValue(property) {
  if (property && typeof property === 'object' && !Array.isArray(property) && 'value' in property && 'quality' in property) {
    return { value: property.value, unit: property.unit ?? null, quality: property.quality, time: property.source_time_s ?? null };
  }
  return { value: property, unit: null, quality: 'good', time: null };
}

/** "212.5 °C", "Printing", "62 %": a value with its unit, numbers rounded for reading. */
export function formatValue({ value, unit }) {
  let text;
  if (typeof value === 'number') text = Number.isInteger(value) ? value.toLocaleString('en') : value.toFixed(Math.abs(value) >= 1000 ? 0 : 1);
  else if (typeof value === 'boolean') text = value ? 'yes' : 'no';
  else if (value !== null && typeof value === 'object') text = JSON.stringify(value);
  else text = String(value);
  return unit ? `${text} ${unit}` : text;
}

/** The machine's status from its `status` property ({status, quality}), or null when it has none. */
export function machineStatus(properties = {}) {
  if (!Object.hasOwn(properties, 'status')) return null;
  const { value, quality } = liveValue(properties.status);
  if (quality === 'offline') return { status: 'offline', quality };
  return { status: STATUSES.includes(value) ? value : String(value), quality };
}

/** Name -> value of the properties that are good now (what a step's condition may rely on). */
export function goodValues(properties = {}) {
  const values = {};
  for (const [name, property] of Object.entries(properties)) {
    const live = liveValue(property);
    if (live.quality === 'good') values[name] = live.value;
  }
  return values;
}

/** Whether a value may be charted (numbers only). */
export function isNumeric(property) {
  const { value } = liveValue(property);
  return typeof value === 'number' && Number.isFinite(value);
}

/** "▶ running", in the user's language, "(stale)" when the status is not current. */
export function statusText(status, t) {
  if (!status) return '';
  const word = t(`status_${status.status}`);
  const name = word === `status_${status.status}` ? status.status : word;
  const stale = status.quality === 'stale' ? ` (${t('stale')})` : '';
  return `${STATUS_SYMBOLS[status.status] ?? '●'} ${name}${stale}`;
}
