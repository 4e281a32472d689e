// Presence: this viewer's camera pose goes to the server a few times a second (in the twin's
// z-up world frame, as the protocol wants); other viewers appear as small, discreet markers.

import * as THREE from 'three';

const SEND_INTERVAL_S = 0.3;
// Someone standing where we stand (the same tour stop) would fill the view: hide them up close.
const HIDE_CLOSER_THAN_M = 0.8;

export class Presence {
  constructor({ viewer, root, connection, twin, mode }) {
    Object.assign(this, { viewer, root, connection, twin, mode });
    this.others = new Map(); // client -> marker
    this.sinceSent = Infinity;
    this.lastSent = '';
    this.group = new THREE.Group();
    this.group.name = 'presence';
    this.group.userData.notPickable = true;
    root.add(this.group);
    connection.on('presence', (m) => m.twin === twin && this.received(m));
    viewer.onFrame((dt) => this.tick(dt));
  }

  get count() {
    return this.others.size;
  }

  tick(dt) {
    const eye = this.viewer.camera.getWorldPosition(new THREE.Vector3());
    for (const marker of this.others.values()) {
      marker.visible = marker.getWorldPosition(new THREE.Vector3()).distanceTo(eye) > HIDE_CLOSER_THAN_M;
    }
    this.sinceSent += dt;
    if (this.sinceSent < SEND_INTERVAL_S) return;
    this.sinceSent = 0;
    const camera = this.viewer.renderer.xr.isPresenting ? this.viewer.renderer.xr.getCamera() : this.viewer.camera;
    this.root.updateWorldMatrix(true, false);
    const toRoot = this.root.matrixWorld.clone().invert().multiply(camera.matrixWorld);
    const position = new THREE.Vector3(), quaternion = new THREE.Quaternion();
    toRoot.decompose(position, quaternion, new THREE.Vector3());
    const pose = { position: position.toArray().map((v) => +v.toFixed(3)), quaternion: quaternion.toArray().map((v) => +v.toFixed(4)) };
    const key = JSON.stringify([pose, this.mode()]);
    if (key === this.lastSent) return;
    this.lastSent = key;
    this.connection.presence(this.twin, pose, this.mode());
  }

  received(message) {
    if (message.left) {
      this.others.get(message.client)?.removeFromParent();
      this.others.delete(message.client);
      this.viewer.invalidate();
      return;
    }
    let marker = this.others.get(message.client);
    if (!marker) {
      marker = new THREE.Group();
      const material = new THREE.MeshBasicMaterial({ color: 0x9fb7cc, transparent: true, opacity: 0.6 });
      const head = new THREE.Mesh(new THREE.SphereGeometry(0.08, 12, 8), material);
      const nose = new THREE.Mesh(new THREE.ConeGeometry(0.04, 0.12, 10), material);
      nose.rotation.x = -Math.PI / 2; // cameras look along their -z
      nose.position.z = -0.1;
      marker.add(head, nose);
      marker.userData.notPickable = true;
      this.group.add(marker);
      this.others.set(message.client, marker);
    }
    marker.position.fromArray(message.pose.position);
    marker.quaternion.fromArray(message.pose.quaternion);
    marker.userData.name = message.name;
    marker.userData.mode = message.mode;
    this.viewer.invalidate();
  }
}
