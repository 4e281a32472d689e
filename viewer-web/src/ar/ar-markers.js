// Marker-based alignment in WebXR AR: where the twin document has marker anchors (printed
// ArUco/AprilTag markers measured by the photo pipeline) and the browser grants camera access,
// the camera frames are searched for them a few times a second (in a worker), each frame's
// camera pose against the markers gives the room-to-twin transform T_xr_world, and once several
// frames agree (marker-fusion.js) the twin is placed, with no tap.

import * as THREE from 'three';
import { XrCameraImage } from './xr-camera.js';
import { fuseSightings, fromRowMajor, remember } from './marker-fusion.js';

export const FRAMES_TO_ALIGN = 5;
const FRAMES_KEPT = { perPlace: FRAMES_TO_ALIGN, total: 4 * FRAMES_TO_ALIGN };
const DETECTION_INTERVAL_MS = 250;
// A frame's own pose counts when its corners reproject this well.
const MAX_REPROJECTION_PX = 3;
// The twin is placed once its turn about up is this sure (one standard deviation): 0.3 degrees
// move a point 5 m away by 2.6 cm. One 16 cm marker seen from one place rarely gets there (its
// turn is loose, above all square on); two markers a few metres apart, or one seen from a few
// places, do.
export const MAX_TURN_UNCERTAINTY_DEG = 0.3;

const rowMajor = (m) => m.clone().transpose().toArray();

/** The dictionary:id key of a document marker ("DICT_4X4_50:7"), as the detector names them. */
export const markerKey = (marker) => `${marker.dictionary}:${marker.id}`;

/**
 * The document's marker anchors as the pose solver wants them: key -> { T_world_marker (16
 * numbers, row-major), size_m, anchorId }. An anchor on a machine is in the machine's frame:
 * `machinePose(machineId)` (a THREE.Matrix4, T_world_machine) puts it in the world.
 */
export function markerTargets(anchors = [], machinePose = () => null) {
  const targets = new Map();
  for (const anchor of anchors) {
    if (!anchor.marker || !anchor.rotation || !anchor.position) continue;
    const [x, y, z, w] = anchor.rotation;
    let T = new THREE.Matrix4().compose(new THREE.Vector3(...anchor.position), new THREE.Quaternion(x, y, z, w).normalize(), new THREE.Vector3(1, 1, 1));
    if (anchor.machine) {
      const machine = machinePose(anchor.machine);
      if (!machine) continue; // its machine is not placed in this layout
      T = machine.clone().multiply(T);
    }
    targets.set(markerKey(anchor.marker), { T_world_marker: rowMajor(T), size_m: anchor.marker.size_m, anchorId: anchor.id });
  }
  return targets;
}

/**
 * How this session aligns the twin: by markers when the document has marker anchors and the
 * session granted camera access, else by taps, with the reason.
 */
export function chooseAlignment(targetCount, enabledFeatures) {
  if (!targetCount) return { method: 'taps', reason: 'noMarkerAnchors' };
  if (!enabledFeatures?.includes('camera-access')) return { method: 'taps', reason: 'noCameraAccess' };
  return { method: 'markers' };
}

/** The room-to-twin transform of one frame: T_xr_world = T_xr_camera * inverse(T_world_camera). */
export function xrFromWorld(T_xr_camera, T_world_camera) {
  return T_xr_camera.clone().multiply(T_world_camera.clone().invert());
}

/**
 * Which row of the camera texture is the image's top, found out: a vertically flipped marker is
 * a mirror image, which no dictionary matches, so until a known marker is seen the assumed order
 * alternates every FRAMES_PER_GUESS frames, and the order it is first seen in is kept.
 */
export class RowOrderSearch {
  static FRAMES_PER_GUESS = 4;

  constructor() {
    this.topRowFirst = false; // GL's order first
    this.locked = false;
    this.framesWithout = 0;
  }

  /** One searched frame, grabbed assuming `topRowFirst`, did or did not show a known marker. */
  searched(topRowFirst, sawKnownMarker) {
    if (this.locked) return;
    if (sawKnownMarker) {
      Object.assign(this, { topRowFirst, locked: true });
    } else if (topRowFirst === this.topRowFirst && ++this.framesWithout >= RowOrderSearch.FRAMES_PER_GUESS) {
      Object.assign(this, { topRowFirst: !this.topRowFirst, framesWithout: 0 });
    }
  }
}

/**
 * Watches the camera for the document's markers during an AR session and aligns once enough
 * frames agree on a turn sure enough. `status` says what is happening ({ phase: 'looking' |
 * 'seen' | 'uncertain' | 'aligned' | 'failed', seen: [keys], frames, turnUncertaintyDeg,
 * message }); `result` is fuseSightings' once aligned.
 */
export class MarkerAligner {
  constructor({ renderer, targets, onChange = () => {} }) {
    this.targets = targets;
    this.onChange = onChange;
    this.camera = new XrCameraImage(renderer);
    this.markers = [...targets].map(([key, t]) => [key, { T_world_marker: t.T_world_marker, size_m: t.size_m }]);
    this.dictionaries = [...new Set([...targets.keys()].map((key) => key.split(':')[0]))];
    this.sightings = [];
    this.result = null;
    this.status = { phase: 'looking', seen: [], frames: 0 };
    this.pending = new Map(); // request id -> its frame's T_xr_camera and K
    this.busy = false; // a frame is being read or searched
    this.nextId = 0;
    this.rowOrder = new RowOrderSearch();
    this.lastGrab = -Infinity;
    this.worker = new Worker(new URL('./ar-markers-worker.js', import.meta.url), { type: 'module' });
    this.worker.onmessage = ({ data }) => this.located(data);
    this.worker.onerror = (event) => this.fail(event.message || 'the marker detector stopped');
  }

  /** Call in each XR frame: every DETECTION_INTERVAL_MS, one frame goes to the detector. */
  frame(frame, referenceSpace, now = performance.now()) {
    if (this.result || !this.worker || this.busy || now - this.lastGrab < DETECTION_INTERVAL_MS) return;
    const { topRowFirst } = this.rowOrder;
    const grabbing = this.camera.grab(frame, referenceSpace, { topRowFirst });
    if (!grabbing) return;
    this.lastGrab = now;
    this.busy = true;
    grabbing.then((grabbed) => {
      if (!this.worker) return;
      const id = this.nextId++;
      this.pending.set(id, { T_xr_camera: grabbed.T_xr_camera, K: grabbed.K, topRowFirst });
      this.worker.postMessage({ id, image: grabbed.image, K: grabbed.K, markers: this.markers, dictionaries: this.dictionaries }, [grabbed.image.data.buffer]);
    }, (error) => this.fail(`the camera image could not be read: ${error.message}`));
  }

  located({ id, detections, pose, error }) {
    const frame = this.pending.get(id);
    this.pending.delete(id);
    this.busy = false;
    if (error) return this.fail(error);
    if (!frame || this.result) return;
    const { topRowFirst, ...frameSeen } = frame;
    const known = detections.filter((d) => this.targets.has(d.key));
    this.rowOrder.searched(topRowFirst, known.length > 0);
    if (pose && pose.reprojectionErrorPx <= MAX_REPROJECTION_PX) {
      const sighting = { ...frameSeen, detections: known, T_xr_world: xrFromWorld(frame.T_xr_camera, fromRowMajor(pose.T_world_camera)) };
      this.sightings = remember(this.sightings, sighting, FRAMES_KEPT);
    }
    const fused = fuseSightings(this.sightings, this.targets, FRAMES_TO_ALIGN);
    const sure = fused && fused.turnUncertaintyDeg <= MAX_TURN_UNCERTAINTY_DEG;
    this.result = sure ? fused : null;
    const seen = known.map((d) => d.key);
    if (sure) this.status = { phase: 'aligned', seen: fused.markers, frames: fused.frames, turnUncertaintyDeg: fused.turnUncertaintyDeg };
    else if (fused) this.status = { phase: 'uncertain', seen: seen.length ? seen : fused.markers, frames: fused.frames, turnUncertaintyDeg: fused.turnUncertaintyDeg };
    else this.status = { phase: seen.length ? 'seen' : 'looking', seen, frames: this.sightings.length };
    if (this.result) this.stop();
    this.onChange(this);
  }

  fail(message) {
    this.status = { phase: 'failed', seen: [], frames: 0, message };
    this.stop();
    this.onChange(this);
  }

  stop() {
    this.worker?.terminate();
    this.worker = null;
    this.camera.dispose();
  }
}
