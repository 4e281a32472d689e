// The WebXR camera image (Raw Camera Access, 'camera-access') as small grey pixels for the
// marker detector, with the camera's intrinsics and pose. three.js fetches the frame's camera
// texture (XRWebGLBinding.getCameraImage) before our frame handlers run; it is valid only in that
// frame, so it is shrunk on the GPU into a small render target of our own there and then, and
// read back asynchronously (a pixel buffer and a fence: the render thread does not wait).
// Which of the texture's rows is the image's top the raw camera access module does not spell
// out: GL's order (first row the bottom, as a quad with the usual texture coordinates shows it
// upright) or the other; the caller says which to assume (MarkerAligner finds out).

import * as THREE from 'three';

export const MAX_IMAGE_WIDTH_PX = 640;
const MAX_TAPS = 4;

// OpenCV camera axes (x right, y down, z forward) from WebXR's (x right, y up, -z forward).
const CV_FROM_XR_CAMERA = new THREE.Matrix4().makeScale(1, -1, -1);

/**
 * Pinhole intrinsics (OpenCV: pixel centres at integers) of an image of width x height pixels
 * that shows exactly what a WebXR projection matrix (column-major) sees.
 */
export function intrinsicsFromProjection(P, width, height) {
  if (!(width > 0 && height > 0) || P.length !== 16) throw new Error('intrinsics need a 4x4 projection matrix and a positive image size.');
  return { fx: (P[0] * width) / 2, fy: (P[5] * height) / 2, cx: ((1 - P[8]) * width) / 2 - 0.5, cy: ((1 + P[9]) * height) / 2 - 0.5 };
}

/** The grey image size (at most MAX_IMAGE_WIDTH_PX wide) for a camera image of this size. */
export function shrunkSize(width, height, maxWidth = MAX_IMAGE_WIDTH_PX) {
  const scale = Math.min(1, maxWidth / width);
  return { width: Math.round(width * scale), height: Math.round(height * scale) };
}

export class XrCameraImage {
  constructor(renderer) {
    this.renderer = renderer;
    this.target = null;
    this.material = new THREE.ShaderMaterial({
      uniforms: { camera: { value: null }, texel: { value: new THREE.Vector2() }, taps: { value: 1 } },
      vertexShader: 'varying vec2 vUv; void main() { vUv = uv; gl_Position = vec4(position.xy, 0.0, 1.0); }',
      // A box filter over the output pixel's footprint: taps x taps bilinear samples (each a 2x2 mean).
      fragmentShader: `
        uniform sampler2D camera; uniform vec2 texel; uniform int taps; varying vec2 vUv;
        void main() {
          vec3 sum = vec3(0.0);
          for (int i = 0; i < ${MAX_TAPS}; i++) for (int j = 0; j < ${MAX_TAPS}; j++) {
            if (i >= taps || j >= taps) continue;
            vec2 offset = (vec2(float(i), float(j)) + 0.5) / float(taps) - 0.5;
            sum += texture2D(camera, vUv + offset * texel).rgb;
          }
          float grey = dot(sum / float(taps * taps), vec3(0.299, 0.587, 0.114));
          gl_FragColor = vec4(grey, grey, grey, 1.0);
        }`,
      depthTest: false,
      depthWrite: false,
    });
    const quad = new THREE.Mesh(new THREE.PlaneGeometry(2, 2), this.material);
    quad.frustumCulled = false;
    this.scene = new THREE.Scene().add(quad);
    this.orthographic = new THREE.OrthographicCamera();
  }

  /**
   * The first camera-carrying view's image in this frame: a promise of { image: {data, width,
   * height} (grey, top row first), K, T_xr_camera (THREE.Matrix4, OpenCV axes, in
   * referenceSpace) }, or null (not a promise) when the frame has no camera image. Call it in
   * the frame; the promise settles after it. `topRowFirst`: the texture's first row is the
   * image's top (else its bottom, GL's order). K and the pose describe the upright image, so
   * they hold whichever order is assumed; a wrong guess only turns the grey image upside down.
   */
  grab(frame, referenceSpace, { topRowFirst = false } = {}) {
    const view = frame.getViewerPose(referenceSpace)?.views.find((v) => v.camera);
    const texture = view && this.renderer.xr.getCameraTexture(view.camera);
    if (!texture?.sourceTexture) return null;
    const { width, height } = shrunkSize(view.camera.width, view.camera.height);
    if (!this.target || this.target.width !== width || this.target.height !== height) {
      this.target?.dispose();
      this.target = new THREE.WebGLRenderTarget(width, height, { depthBuffer: false, minFilter: THREE.NearestFilter, magFilter: THREE.NearestFilter });
    }
    const scale = view.camera.width / width;
    this.material.uniforms.camera.value = texture;
    this.material.uniforms.texel.value.set(scale / view.camera.width, scale / view.camera.height);
    this.material.uniforms.taps.value = Math.min(MAX_TAPS, Math.ceil(scale / 2));
    const rgba = new Uint8Array(width * height * 4);
    const reading = this.drawOffscreen(rgba);
    const K = intrinsicsFromProjection(view.projectionMatrix, width, height);
    const T_xr_camera = new THREE.Matrix4().fromArray(view.transform.matrix).multiply(CV_FROM_XR_CAMERA);
    return reading.then(() => {
      const grey = new Uint8Array(width * height);
      // readPixels gives the texture's first row first; the detector wants the image's top first.
      for (let row = 0; row < height; row++) {
        const from = (topRowFirst ? row : height - 1 - row) * width * 4;
        for (let x = 0; x < width; x++) grey[row * width + x] = rgba[from + 4 * x];
      }
      return { image: { data: grey, width, height }, K, T_xr_camera };
    });
  }

  // Drawn outside XR's camera set-up (XR's own render target is put back), read back later.
  drawOffscreen(rgba) {
    const { renderer } = this;
    const previous = renderer.getRenderTarget();
    const xrEnabled = renderer.xr.enabled;
    renderer.xr.enabled = false;
    try {
      renderer.setRenderTarget(this.target);
      renderer.render(this.scene, this.orthographic);
      return renderer.readRenderTargetPixelsAsync(this.target, 0, 0, this.target.width, this.target.height, rgba);
    } finally {
      renderer.setRenderTarget(previous);
      renderer.xr.enabled = xrEnabled;
    }
  }

  dispose() {
    this.target?.dispose();
    this.material.dispose();
  }
}
