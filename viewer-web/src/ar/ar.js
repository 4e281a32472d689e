// WebXR immersive-ar: the twin's labels and highlights over the real machines. Where the twin
// has marker anchors and the browser grants camera access, the printed markers the camera sees
// place the twin (ar-markers.js); otherwise the user taps three known anchors in the room
// (hit-test points from the screen centre) and the rigid fit of the twin onto those taps places
// it. Either way the residual is shown and an XR anchor keeps the twin there.
// Where immersive-ar is missing (iOS Safari, desktops) the viewer says so and stays in 3D.

import * as THREE from 'three';
import { fitRigid } from './align.js';
import { MarkerAligner, FRAMES_TO_ALIGN, markerTargets, chooseAlignment } from './ar-markers.js';
import { Z_UP_TO_Y_UP, Y_UP_TO_Z_UP } from '../scene/axes.js';

const TAP_REASONS = { noMarkerAnchors: 'tapsNoMarkers', noCameraAccess: 'tapsNoCamera', markerFailure: 'tapsMarkerFailure' };
const markerNumbers = (keys) => keys.map((key) => key.split(':')[1]).join(', ');

/** Three anchors far apart (the biggest triangle found greedily): taps on them fix the pose best. */
export function alignmentAnchors(anchorsWithPositions) {
  if (anchorsWithPositions.length < 3) return anchorsWithPositions;
  const d = (a, b) => a.world.distanceTo(b.world);
  const [first] = anchorsWithPositions;
  const second = anchorsWithPositions.reduce((best, a) => (d(a, first) > d(best, first) ? a : best));
  const area = (a) => new THREE.Vector3().crossVectors(a.world.clone().sub(first.world), second.world.clone().sub(first.world)).length();
  const third = anchorsWithPositions.reduce((best, a) => (area(a) > area(best) ? a : best));
  return [first, second, third];
}

export class ArSession {
  constructor(app) {
    this.app = app;
    this.session = null;
    this.taps = [];
    this.alignment = null;
    this.xrAnchor = null;
    this.hidden = [];
    // The ring (drawn about +z) lies on the surface: a hit-test pose's y is the surface's normal.
    this.reticle = new THREE.Mesh(new THREE.RingGeometry(0.05, 0.07, 32).applyMatrix4(Z_UP_TO_Y_UP), new THREE.MeshBasicMaterial({ color: 0xffffff }));
    this.reticle.visible = false;
    this.reticle.matrixAutoUpdate = false;
    this.reticle.userData.notPickable = true;
  }

  /** Whether immersive-ar can start here (false too when the browser does not answer in 3 s). */
  static async supported(timeoutMs = 3000) {
    if (!navigator.xr) return false;
    const timeout = new Promise((resolve) => setTimeout(() => resolve(false), timeoutMs));
    return Promise.race([navigator.xr.isSessionSupported('immersive-ar').then(Boolean, () => false), timeout]);
  }

  get targets() {
    const { placement } = this.app;
    const withPositions = (this.app.document.anchors || []).map((a) => ({ anchor: a, world: placement.anchorPosition(a.id).world }));
    return alignmentAnchors(withPositions);
  }

  /** What the user should do now, in words. */
  prompt() {
    const { app, alignment } = this;
    if (alignment?.method === 'markers') {
      return app.t(alignment.markers.length === 1 ? 'alignedByMarker' : 'alignedByMarkers',
        { n: alignment.markers.length, ids: markerNumbers(alignment.markers), cm: (alignment.residualM * 100).toFixed(1), px: alignment.reprojectionErrorPx.toFixed(1) });
    }
    if (alignment) return app.t('aligned', { r: (alignment.rmsResidual * 100).toFixed(1) });
    if (this.markers) {
      const { phase, seen, frames, turnUncertaintyDeg } = this.markers.status;
      if (phase === 'uncertain') return app.t('markerUncertain', { ids: markerNumbers(seen), deg: turnUncertaintyDeg.toFixed(1) });
      return phase === 'seen' ? app.t('markerSeen', { ids: markerNumbers(seen), n: frames, total: FRAMES_TO_ALIGN }) : app.t('lookingForMarkers');
    }
    const target = this.targets[this.taps.length];
    const why = TAP_REASONS[this.path?.reason] ? app.t(TAP_REASONS[this.path.reason], { message: this.path.message }) : '';
    return [why, target ? app.t('alignHint', { n: this.taps.length + 1, name: target.anchor.name || target.anchor.id }) : ''].filter(Boolean).join(' ');
  }

  async start(overlay) {
    const { app } = this;
    const targets = markerTargets(app.document.anchors, (machineId) => app.placement.rigs.get(machineId)?.matrix ?? null);
    const session = await navigator.xr.requestSession('immersive-ar', {
      requiredFeatures: ['hit-test'],
      // The camera is asked for only where there are markers to look for.
      optionalFeatures: ['anchors', 'local-floor', 'dom-overlay', ...(targets.size ? ['camera-access'] : [])],
      ...(overlay ? { domOverlay: { root: overlay } } : {}),
    });
    this.session = session;
    this.taps = [];
    this.alignment = null;
    this.savedBackground = app.scene.background;
    const root = app.twin.root;
    this.savedRoot = { position: root.position.clone(), quaternion: root.quaternion.clone() };
    app.scene.background = null;
    app.renderer.xr.setReferenceSpaceType(session.enabledFeatures?.includes('local-floor') === false ? 'local' : 'local-floor');
    await app.renderer.xr.setSession(session);
    this.referenceSpace = app.renderer.xr.getReferenceSpace();
    const viewerSpace = await session.requestReferenceSpace('viewer');
    this.hitTestSource = await session.requestHitTestSource({ space: viewerSpace });
    this.chooseAlignment(session, targets);
    app.scene.add(this.reticle);
    this.hideScan();
    app.placement.showNameLabels(true);
    session.addEventListener('select', () => this.tap());
    session.addEventListener('end', () => this.ended());
    this.stopFrames = app.viewer.onFrame((dt, frame) => frame && this.frame(frame));
    app.onArChange?.();
  }

  // The real room is there to see: only what we add to it is drawn.
  hideScan() {
    this.app.twin.root.traverse((o) => {
      if (!(o.isMesh || o.isPoints) || !o.visible) return;
      for (let p = o; p; p = p.parent) if (p.name === 'highlight' || p.name === 'clearance' || p.name === 'selected') return;
      o.visible = false;
      this.hidden.push(o);
    });
  }

  // Markers when the twin has them and the camera is ours, else taps (the reason is shown).
  chooseAlignment(session, targets) {
    const { app } = this;
    this.path = chooseAlignment(targets.size, session.enabledFeatures);
    if (this.path.method !== 'markers') return;
    try {
      this.markers = new MarkerAligner({ renderer: app.renderer, targets, onChange: (aligner) => this.markersChanged(aligner) });
    } catch (error) {
      this.path = { method: 'taps', reason: 'markerFailure', message: error.message }; // e.g. no module workers here
    }
  }

  markersChanged(aligner) {
    if (aligner !== this.markers) return;
    if (aligner.result) {
      const { T_xr_world, ...measures } = aligner.result;
      this.markers = null;
      this.settle(T_xr_world.clone().multiply(Y_UP_TO_Z_UP), { method: 'markers', ...measures });
    } else if (aligner.status.phase === 'failed') {
      this.markers = null;
      this.path = { method: 'taps', reason: 'markerFailure', message: aligner.status.message };
    }
    this.app.onArChange?.();
  }

  frame(frame) {
    this.markers?.frame(frame, this.referenceSpace);
    const results = this.hitTestSource ? frame.getHitTestResults(this.hitTestSource) : [];
    const pose = results[0]?.getPose(this.referenceSpace);
    this.reticle.visible = Boolean(pose);
    if (pose) {
      this.reticle.matrix.fromArray(pose.transform.matrix);
      this.lastHit = new THREE.Vector3().setFromMatrixPosition(this.reticle.matrix);
    }
    if (this.pendingAnchor && frame.createAnchor) {
      const { position, quaternion } = this.pendingAnchor;
      this.pendingAnchor = null;
      frame.createAnchor(new XRRigidTransform(position, quaternion), this.referenceSpace)
        .then((anchor) => { this.xrAnchor = anchor; })
        .catch(() => { this.xrAnchor = null; });
    }
    if (this.xrAnchor && frame.trackedAnchors?.has(this.xrAnchor)) {
      const anchorPose = frame.getPose(this.xrAnchor.anchorSpace, this.referenceSpace);
      if (anchorPose) this.placeRoot(new THREE.Matrix4().fromArray(anchorPose.transform.matrix));
    }
  }

  tap() {
    if (this.alignment) return;
    if (this.markers) {
      // A tap while markers are looked for: the user aligns by hand instead.
      this.markers.stop();
      this.markers = null;
      this.path = { method: 'taps', reason: 'chosen' };
      this.app.onArChange?.();
      return;
    }
    if (!this.lastHit) return;
    this.taps.push(this.lastHit.clone());
    if (this.taps.length === 3) this.align();
    this.app.onArChange?.();
  }

  align() {
    const targets = this.targets;
    // Model points in the twin's y-up frame before any placement: the root's own turn.
    const source = targets.map((t) => t.world.clone().applyMatrix4(Z_UP_TO_Y_UP).toArray());
    const fit = fitRigid(source, this.taps.map((p) => p.toArray()));
    const T_xr_model = new THREE.Matrix4().compose(new THREE.Vector3(...fit.translation), new THREE.Quaternion(...fit.quaternion), new THREE.Vector3(1, 1, 1));
    this.settle(T_xr_model, { method: 'taps', ...fit, anchors: targets.map((t) => t.anchor.id), taps: this.taps.map((p) => p.toArray()) });
  }

  // Places the twin and asks for an XR anchor there, which holds it from then on.
  settle(T_xr_model, alignment) {
    this.placeRoot(T_xr_model);
    this.alignment = alignment;
    const position = new THREE.Vector3(), quaternion = new THREE.Quaternion();
    T_xr_model.decompose(position, quaternion, new THREE.Vector3());
    this.pendingAnchor = { position: { x: position.x, y: position.y, z: position.z }, quaternion: { x: quaternion.x, y: quaternion.y, z: quaternion.z, w: quaternion.w } };
  }

  placeRoot(T_xr_model) {
    const root = this.app.twin.root;
    new THREE.Matrix4().multiplyMatrices(T_xr_model, Z_UP_TO_Y_UP).decompose(root.position, root.quaternion, root.scale);
    root.updateMatrixWorld(true);
  }

  async end() {
    await this.session?.end();
  }

  ended() {
    const { app } = this;
    this.stopFrames?.();
    this.markers?.stop();
    this.hitTestSource?.cancel?.();
    this.reticle.removeFromParent();
    for (const o of this.hidden) o.visible = true;
    this.hidden = [];
    app.scene.background = this.savedBackground;
    app.twin.root.position.copy(this.savedRoot.position);
    app.twin.root.quaternion.copy(this.savedRoot.quaternion);
    app.twin.root.updateMatrixWorld(true);
    app.placement.showNameLabels(app.mode?.name === 'planner');
    app.viewer.invalidate();
    Object.assign(this, { session: null, xrAnchor: null, hitTestSource: null, pendingAnchor: null, markers: null, path: null });
    app.onArChange?.();
  }
}
