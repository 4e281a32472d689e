// Moves the camera and its orbit target smoothly to a viewpoint (the tour's glide, and the
// instructions' look at a step).

const smoothstep = (x) => x * x * (3 - 2 * x);

/** Glides to `position` looking at `target` (scene coordinates); resolves when there. */
export function glideTo(viewer, position, target, durationS = 1.2) {
  viewer.glideStop?.();
  const fromPosition = viewer.camera.position.clone();
  const fromTarget = viewer.controls.target.clone();
  let elapsed = 0;
  return new Promise((resolve) => {
    const stop = viewer.onFrame((dt) => {
      elapsed += dt;
      const k = smoothstep(Math.min(elapsed / durationS, 1));
      viewer.camera.position.lerpVectors(fromPosition, position, k);
      viewer.controls.target.lerpVectors(fromTarget, target, k);
      viewer.camera.lookAt(viewer.controls.target);
      if (k >= 1) { finish(); }
    });
    const finish = () => { stop(); viewer.glideStop = null; resolve(); };
    viewer.glideStop = finish;
  });
}

/** A viewpoint that looks at `target` from `distanceM` away, from the camera's side, a bit above. */
export function viewpointFor(viewer, target, distanceM = 2.2) {
  const direction = viewer.camera.position.clone().sub(target);
  direction.y = 0;
  if (direction.lengthSq() < 1e-6) direction.set(0, 0, 1);
  direction.normalize().multiplyScalar(distanceM * 0.8);
  direction.y = distanceM * 0.6;
  return { position: target.clone().add(direction), target: target.clone() };
}

