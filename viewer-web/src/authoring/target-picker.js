// A target picked on the scan: in 3D, a click (a tap that does not move: a moving pointer still
// orbits) cast as a ray onto the points and meshes; in AR, a tap where the hit-test reticle is on
// the real machine. The point is returned in the machine's frame (the machine's rig under the twin
// root is that frame), so an anchor made from it follows the machine; without a machine, in
// the twin's world frame (z-up).

import * as THREE from 'three';

const TAP_SLOP_PX = 10;
// The server keeps a machine's anchors within this of its box (twin/document/references.py).
export const ANCHOR_REACH_M = 0.5;

/** Whether a point in a machine's frame lies within the anchor reach of its box. */
export function withinReach(box, local, reachM = ANCHOR_REACH_M) {
  return box.clone().expandByScalar(reachM - 1e-6).containsPoint(local);
}

/** A point and surface normal in the scene, as { machine?, position, normal } in `frame`'s coordinates. */
function inFrame(frame, machine, point, normal) {
  frame.updateWorldMatrix(true, false);
  const position = frame.worldToLocal(point.clone());
  const inverse = new THREE.Quaternion();
  frame.getWorldQuaternion(inverse).invert();
  const local = normal.clone().applyQuaternion(inverse).normalize();
  return { ...(machine ? { machine } : {}), position: position.toArray(), normal: local.toArray() };
}

export class TargetPicker {
  /**
   * @param viewer the 3D stage, @param root the twin's root, @param placement the machines' rigs,
   * @param ar() the app's AR session (ar/ar.js: its alignment, last hit and reticle) or null, @param notify, @param t
   */
  constructor({ viewer, root, placement, ar, notify, t }) {
    Object.assign(this, { viewer, root, placement, ar, notify, t });
    this.pending = null;
  }

  get picking() {
    return Boolean(this.pending);
  }

  /** Resolves with the next point picked on `machineId` (null: anywhere, in the world frame), or null when cancelled. */
  pick(machineId = null) {
    this.cancel();
    return new Promise((resolve) => {
      const finish = (target) => { this.stop(); resolve(target); };
      const listeners = {
        pointerdown: (e) => { if (e.isPrimary && e.button === 0) this.tap = { id: e.pointerId, x: e.clientX, y: e.clientY }; },
        pointermove: (e) => { if (this.tap?.id === e.pointerId && Math.hypot(e.clientX - this.tap.x, e.clientY - this.tap.y) > TAP_SLOP_PX) this.tap = null; },
        pointerup: (e) => {
          if (this.tap?.id !== e.pointerId) return;
          this.tap = null;
          const hit = this.viewer.pick(e, [this.root]);
          if (!hit) return;
          const normal = hit.face ? hit.face.normal.clone().transformDirection(hit.object.matrixWorld) : this.viewer.raycaster.ray.direction.clone().negate();
          this.offer(machineId, hit.point, normal, finish);
        },
      };
      const container = this.viewer.container;
      for (const [type, handler] of Object.entries(listeners)) container.addEventListener(type, handler, { capture: true });
      // In AR, a tap on the real machine; AR may also begin after the pick did.
      const xr = this.viewer.renderer.xr;
      const onSelect = () => this.arTap(machineId, finish);
      const listenToSession = () => xr.getSession()?.addEventListener('select', onSelect);
      listenToSession();
      xr.addEventListener('sessionstart', listenToSession);
      this.pending = {
        machineId, resolve,
        stop: () => {
          for (const [type, handler] of Object.entries(listeners)) container.removeEventListener(type, handler, { capture: true });
          xr.removeEventListener('sessionstart', listenToSession);
          xr.getSession()?.removeEventListener('select', onSelect);
        },
      };
    });
  }

  // In AR, the tap lands where the reticle is; the twin must be aligned first for the machine to be there.
  arTap(machineId, finish) {
    const ar = this.ar();
    if (!ar?.alignment) return this.notify(this.t('alignFirst'), 'error');
    if (!ar.lastHit) return;
    const normal = new THREE.Vector3().setFromMatrixColumn(ar.reticle.matrix, 1); // a hit pose's y is the surface normal
    this.offer(machineId, ar.lastHit, normal, finish);
  }

  offer(machineId, point, normal, finish) {
    if (!machineId) return finish(inFrame(this.root, null, point, normal));
    const rig = this.placement.rigs.get(machineId);
    const target = inFrame(rig, machineId, point, normal);
    if (!withinReach(rig.userData.box, new THREE.Vector3(...target.position))) {
      return this.notify(this.t('notOnMachine', { machine: rig.userData.machine?.name || machineId }), 'error');
    }
    finish(target);
  }

  stop() {
    this.pending?.stop();
    this.pending = null;
  }

  cancel() {
    const pending = this.pending;
    this.stop();
    pending?.resolve(null);
  }
}
