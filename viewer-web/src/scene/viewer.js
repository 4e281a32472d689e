// The 3D stage: renderer, camera, orbit controls with walking keys, touch, the render loop
// (setAnimationLoop, so the same loop drives WebXR), and helpers the modes share.

import * as THREE from 'three';
import { OrbitControls } from 'three/examples/jsm/controls/OrbitControls.js';

const WALK_SPEED_M_PER_S = 1.6;
// Frames are drawn when something changed (`invalidate`), and at least this often as a safety
// net: a still view costs nothing, which phones' batteries and CPU-drawn browsers need.
const HEARTBEAT_MS = 5000;
const WALK_KEYS = { KeyW: [0, 1], ArrowUp: [0, 1], KeyS: [0, -1], ArrowDown: [0, -1], KeyA: [-1, 0], ArrowLeft: [-1, 0], KeyD: [1, 0], ArrowRight: [1, 0] };
export const BACKGROUND = new THREE.Color(0x1d2329);

export class Viewer {
  constructor(container) {
    this.container = container;
    this.renderer = new THREE.WebGLRenderer({ antialias: false, alpha: true });
    this.renderer.setPixelRatio(Math.min(window.devicePixelRatio, 2));
    this.renderer.xr.enabled = true;
    container.appendChild(this.renderer.domElement);
    this.scene = new THREE.Scene();
    this.scene.background = BACKGROUND;
    this.camera = new THREE.PerspectiveCamera(60, 1, 0.05, 500);
    this.camera.position.set(6, 5, 8);
    this.scene.add(this.camera);
    this.scene.add(new THREE.HemisphereLight(0xffffff, 0x555555, 2.2));
    const sun = new THREE.DirectionalLight(0xffffff, 1.2);
    sun.position.set(5, 10, 3);
    this.scene.add(sun);
    this.controls = new OrbitControls(this.camera, this.renderer.domElement);
    this.controls.enableDamping = false;
    this.controls.screenSpacePanning = false;
    this.controls.maxPolarAngle = Math.PI * 0.495;
    this.keys = new Set();
    this.frameHandlers = new Set();
    this.lastTick = performance.now();
    this.raycaster = new THREE.Raycaster();
    this.raycaster.params.Points.threshold = 0.03;
    this.renderCount = 0;
    this.captures = [];
    this.dirty = true;
    this.lastRender = 0;
    this.controls.addEventListener('change', () => this.invalidate());
    window.addEventListener('resize', () => this.resize());
    window.addEventListener('keydown', (e) => { if (WALK_KEYS[e.code] && !isTyping(e)) this.keys.add(e.code); });
    window.addEventListener('keyup', (e) => this.keys.delete(e.code));
    window.addEventListener('blur', () => this.keys.clear());
    this.resize();
    this.renderer.setAnimationLoop((time, frame) => this.tick(frame));
  }

  /** Asks for a frame to be drawn: something in the scene changed. */
  invalidate() {
    this.dirty = true;
  }

  resize() {
    this.invalidate();
    const { clientWidth: w, clientHeight: h } = this.container;
    this.renderer.setSize(w, h, false);
    this.camera.aspect = w / Math.max(h, 1);
    this.camera.updateProjectionMatrix();
  }

  onFrame(handler) {
    this.frameHandlers.add(handler);
    return () => this.frameHandlers.delete(handler);
  }

  tick(xrFrame) {
    const now = performance.now();
    const dt = Math.min((now - this.lastTick) / 1000, 0.1);
    this.lastTick = now;
    if (!this.renderer.xr.isPresenting) {
      this.walk(dt);
      this.controls.update();
    }
    for (const handler of this.frameHandlers) handler(dt, xrFrame);
    const due = this.dirty || this.captures.length || now - this.lastRender > HEARTBEAT_MS;
    if (!this.renderer.xr.isPresenting && !due) return;
    this.dirty = false;
    this.lastRender = now;
    this.renderer.render(this.scene, this.camera);
    this.renderCount++;
    if (this.captures.length) this.readCaptures();
  }

  // Walking keys move the camera and its target together along the floor.
  walk(dt) {
    if (!this.keys.size) return;
    const forward = new THREE.Vector3();
    this.camera.getWorldDirection(forward);
    forward.y = 0;
    if (forward.lengthSq() < 1e-8) return;
    forward.normalize();
    const right = new THREE.Vector3().crossVectors(forward, this.camera.up).normalize();
    const move = new THREE.Vector3();
    for (const code of this.keys) {
      const [x, z] = WALK_KEYS[code];
      move.addScaledVector(right, x).addScaledVector(forward, z);
    }
    if (move.lengthSq() === 0) return;
    move.normalize().multiplyScalar(WALK_SPEED_M_PER_S * dt);
    this.camera.position.add(move);
    this.controls.target.add(move);
  }

  /** Frames a box (scene coordinates) from a three-quarter view above. */
  frame(box) {
    const center = box.getCenter(new THREE.Vector3());
    const size = box.getSize(new THREE.Vector3()).length();
    this.controls.target.copy(center);
    this.camera.position.copy(center).add(new THREE.Vector3(0.45, 0.55, 0.7).normalize().multiplyScalar(Math.max(size, 1) * 0.85));
    this.camera.near = Math.max(size / 2000, 0.02);
    this.camera.far = Math.max(size * 20, 100);
    this.camera.updateProjectionMatrix();
    this.controls.update();
  }

  /** The first hit under a pointer event (or normalised device coordinates) among `objects`. */
  pick(event, objects, recursive = true) {
    const ndc = event instanceof THREE.Vector2 ? event : this.toNdc(event);
    this.raycaster.setFromCamera(ndc, this.camera);
    // What a clipping plane cuts away is not drawn, so it cannot be picked either.
    const kept = (point) => this.renderer.clippingPlanes.every((plane) => plane.distanceToPoint(point) >= 0);
    return this.raycaster.intersectObjects(objects, recursive).find((hit) => isPickable(hit.object) && kept(hit.point)) || null;
  }

  toNdc(event) {
    const rect = this.renderer.domElement.getBoundingClientRect();
    return new THREE.Vector2(((event.clientX - rect.left) / rect.width) * 2 - 1, -((event.clientY - rect.top) / rect.height) * 2 + 1);
  }

  /** Where a scene point appears on the page, in CSS pixels (for people and tests). */
  toScreen(point) {
    const p = point.clone().project(this.camera);
    const rect = this.renderer.domElement.getBoundingClientRect();
    return { x: rect.left + ((p.x + 1) / 2) * rect.width, y: rect.top + ((1 - p.y) / 2) * rect.height, inFront: p.z < 1 };
  }

  /**
   * Reads the next drawn frame back (3D or WebXR): the share of pixels that show something
   * (differ from the background, or are not transparent when there is none, as in AR), and
   * the mean colour inside an optional CSS-pixel rectangle.
   */
  capture(rect = null) {
    return new Promise((resolve) => this.captures.push({ rect, resolve }));
  }

  readCaptures() {
    const gl = this.renderer.getContext();
    const session = this.renderer.xr.getSession();
    if (session) gl.bindFramebuffer(gl.FRAMEBUFFER, session.renderState.baseLayer?.framebuffer ?? null);
    const width = gl.drawingBufferWidth, height = gl.drawingBufferHeight;
    const pixels = new Uint8Array(width * height * 4);
    gl.readPixels(0, 0, width, height, gl.RGBA, gl.UNSIGNED_BYTE, pixels);
    const background = this.scene.background instanceof THREE.Color ? this.scene.background.clone().convertLinearToSRGB() : null;
    const bg = background ? [background.r * 255, background.g * 255, background.b * 255] : null;
    let shown = 0;
    for (let i = 0; i < pixels.length; i += 4) {
      const differs = bg ? Math.abs(pixels[i] - bg[0]) + Math.abs(pixels[i + 1] - bg[1]) + Math.abs(pixels[i + 2] - bg[2]) > 24 : pixels[i + 3] > 0;
      if (differs) shown++;
    }
    const cssWidth = this.renderer.domElement.getBoundingClientRect().width || width;
    for (const { rect, resolve } of this.captures.splice(0)) {
      const stats = { width, height, geometryFraction: shown / (width * height) };
      if (rect) {
        const scale = width / cssWidth;
        const x0 = Math.max(0, Math.floor(rect.x * scale)), x1 = Math.min(width, Math.ceil((rect.x + rect.width) * scale));
        const y0 = Math.max(0, Math.floor(height - (rect.y + rect.height) * scale)), y1 = Math.min(height, Math.ceil(height - rect.y * scale));
        const sum = [0, 0, 0];
        let n = 0;
        for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) {
          const i = (y * width + x) * 4;
          sum[0] += pixels[i]; sum[1] += pixels[i + 1]; sum[2] += pixels[i + 2]; n++;
        }
        stats.meanColor = sum.map((v) => v / Math.max(n, 1));
      }
      resolve(stats);
    }
  }
}

function isPickable(object) {
  for (let o = object; o; o = o.parent) if (!o.visible || o.userData.notPickable) return false;
  return true;
}

function isTyping(event) {
  return ['INPUT', 'SELECT', 'TEXTAREA'].includes(event.target?.tagName);
}
