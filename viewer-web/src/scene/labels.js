// Text labels as sprites: they face the camera, stay readable through geometry (no depth
// test) and render in WebXR too, where HTML overlays would not follow the room.

import * as THREE from 'three';

const PIXELS_PER_METRE = 512;

export function makeLabel(text, { heightM = 0.1, color = '#ffffff', background = 'rgba(20, 24, 28, 0.85)', border = '#ff8800' } = {}) {
  const canvas = document.createElement('canvas');
  const sprite = new THREE.Sprite(new THREE.SpriteMaterial({ map: new THREE.CanvasTexture(canvas), depthTest: false, depthWrite: false, transparent: true }));
  sprite.renderOrder = 10;
  sprite.userData.notPickable = true;
  sprite.userData.label = { heightM, color, background, border };
  setLabelText(sprite, text);
  return sprite;
}

export function setLabelText(sprite, text) {
  const { heightM, color, background, border } = sprite.userData.label;
  if (sprite.userData.text === text) return;
  sprite.userData.text = text;
  const canvas = sprite.material.map.image;
  const fontPx = Math.round(heightM * PIXELS_PER_METRE * 0.5);
  const ctx = canvas.getContext('2d');
  ctx.font = `600 ${fontPx}px system-ui, sans-serif`;
  const pad = fontPx * 0.5;
  canvas.width = Math.ceil(ctx.measureText(text).width + 2 * pad);
  canvas.height = Math.ceil(heightM * PIXELS_PER_METRE * 0.5 + 2 * pad);
  ctx.font = `600 ${fontPx}px system-ui, sans-serif`;
  ctx.fillStyle = background;
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.lineWidth = Math.max(4, fontPx * 0.12);
  ctx.strokeStyle = border;
  ctx.strokeRect(ctx.lineWidth / 2, ctx.lineWidth / 2, canvas.width - ctx.lineWidth, canvas.height - ctx.lineWidth);
  ctx.fillStyle = color;
  ctx.textBaseline = 'middle';
  ctx.fillText(text, pad, canvas.height / 2);
  sprite.material.map.dispose();
  sprite.material.map = new THREE.CanvasTexture(canvas);
  sprite.material.map.colorSpace = THREE.SRGBColorSpace;
  sprite.material.needsUpdate = true;
  sprite.scale.set((heightM * canvas.width) / canvas.height, heightM, 1);
  sprite.center.set(0.5, 0);
}
