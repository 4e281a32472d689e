// For the modules that attach to the viewer app once it runs (versions-boot.js, history-boot.js).

/** Resolves once `app` (window.twinViewer) has started; rejects with its error if it failed. */
export function whenRunning(app) {
  return new Promise((resolve, reject) => {
    const check = () => (app.ready ? resolve() : app.failed ? reject(new Error(app.failed)) : setTimeout(check, 100));
    check();
  });
}
