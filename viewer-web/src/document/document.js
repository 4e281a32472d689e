// Read-only views of the twin document (twin/schemas/twin-document.schema.json) that the modes
// need: machines as placed by a layout, anchors, procedures, tours. The document itself
// changes only through JSON patches (net/json-patch.js).

import { pointer } from '../net/json-patch.js';

export const AS_IS = ''; // the scan's own layout, not listed in `layouts`

export function findLayout(document, layoutId) {
  return (document.layouts || []).find((l) => l.id === layoutId) || null;
}

/** The machines of a layout: the scan's machines with the layout's poses, removals and additions. */
export function machinesIn(document, layoutId = AS_IS) {
  const machines = document.machines || [];
  const layout = findLayout(document, layoutId);
  if (!layout) return machines.map((m) => ({ ...m, added: false }));
  const removed = new Set(layout.remove || []);
  const poses = layout.poses || {};
  return machines
    .filter((m) => !removed.has(m.id))
    .map((m) => ({ ...m, pose: poses[m.id] || m.pose, added: false }))
    .concat((layout.add || []).map((m) => ({ ...m, added: true })));
}

export function proceduresFor(document, machineId) {
  return (document.procedures || []).filter((p) => p.machine === machineId);
}

/**
 * The JSON patch that sets a machine's pose in a layout: the machine's own pose for the
 * as-is layout (a correction of the scan), else the layout's override (or its added machine).
 */
export function setPosePatch(document, layoutId, machineId, pose) {
  const value = { translation: pose.translation.slice(), rotation: pose.rotation.slice() };
  if (layoutId === AS_IS) {
    const index = (document.machines || []).findIndex((m) => m.id === machineId);
    if (index < 0) throw new Error(`the document has no machine "${machineId}".`);
    return [{ op: 'replace', path: pointer('machines', index, 'pose'), value }];
  }
  const layoutIndex = (document.layouts || []).findIndex((l) => l.id === layoutId);
  if (layoutIndex < 0) throw new Error(`the document has no layout "${layoutId}".`);
  const layout = document.layouts[layoutIndex];
  const addedIndex = (layout.add || []).findIndex((m) => m.id === machineId);
  if (addedIndex >= 0) {
    return [{ op: 'replace', path: pointer('layouts', layoutIndex, 'add', addedIndex, 'pose'), value }];
  }
  if (!layout.poses) {
    return [{ op: 'add', path: pointer('layouts', layoutIndex, 'poses'), value: { [machineId]: value } }];
  }
  return [{ op: 'add', path: pointer('layouts', layoutIndex, 'poses', machineId), value }];
}

/** An id not yet used among `items`, made from a name a person typed. */
function newId(items, name, fallback) {
  const base = String(name).toLowerCase().normalize('NFKD').replace(/[^a-z0-9_.-]+/g, '-').replace(/^[-_.]+|-+$/g, '').slice(0, 48) || fallback;
  const taken = new Set((items || []).map((item) => item.id));
  let id = base;
  for (let n = 2; taken.has(id); n++) id = `${base}-${n}`;
  return id;
}

/** The patch that appends `value` to the top-level list `list`, which the document may not have yet. */
export function appendPatch(document, list, value) {
  return document[list] ? [{ op: 'add', path: pointer(list, '-'), value }] : [{ op: 'add', path: pointer(list), value: [value] }];
}

/** The patch that saves the machines' current poses of a layout as a new named layout. */
export function saveLayoutPatch(document, fromLayoutId, name) {
  const placed = machinesIn(document, fromLayoutId);
  const source = findLayout(document, fromLayoutId);
  const layout = {
    id: newId(document.layouts, name, 'layout'),
    name: String(name),
    poses: Object.fromEntries(placed.filter((m) => !m.added).map((m) => [m.id, m.pose])),
    remove: source ? (source.remove || []).slice() : [],
    add: placed.filter((m) => m.added).map(({ added, ...m }) => m),
  };
  return { id: layout.id, patch: appendPatch(document, 'layouts', layout) };
}

/** The patch that saves a measurement (points in the document's z-up world frame, metres) under a name. */
export function saveMeasurementPatch(document, name, points) {
  const measurement = {
    id: newId(document.measurements, name, 'measurement'),
    name: String(name),
    points: points.map((p) => p.map((v) => +v.toFixed(4))),
  };
  return { id: measurement.id, patch: appendPatch(document, 'measurements', measurement) };
}

/** A measurement's length in metres: the distance, or the polyline's length. */
export function measurementLength(points) {
  let length = 0;
  for (let i = 1; i < points.length; i++) length += Math.hypot(...points[i].map((v, k) => v - points[i - 1][k]));
  return length;
}
