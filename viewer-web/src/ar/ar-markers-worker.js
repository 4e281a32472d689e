// The marker detector and pose solver off the render thread (a 640-pixel frame takes tens of
// milliseconds there, a dropped frame or two here). One request at a time: the grey image, the
// intrinsics, the document's markers; the answer: what was seen and the camera's pose, if any.

import { detectMarkers } from './markers/detect.js';
import { cameraPoseFromMarkers } from './markers/pose.js';

self.onmessage = ({ data: { id, image, K, markers, dictionaries } }) => {
  try {
    const detections = detectMarkers(image, { dictionaries });
    const pose = cameraPoseFromMarkers(detections, new Map(markers), K);
    self.postMessage({ id, detections, pose });
  } catch (error) {
    self.postMessage({ id, error: `marker detection failed: ${error.message}` });
  }
};
