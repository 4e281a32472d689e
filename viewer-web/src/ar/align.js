// Rigid alignment of the twin to the real room from tapped point pairs (Kabsch/Horn), with
// the residual the user is shown. Pure math on [x, y, z] arrays so it runs in node tests too.

function centroid(points) {
  const c = [0, 0, 0];
  for (const p of points) for (let i = 0; i < 3; i++) c[i] += p[i] / points.length;
  return c;
}

// Eigenvector of the largest eigenvalue of a symmetric 4x4 matrix (cyclic Jacobi rotations:
// exact to rounding, whatever the eigenvalue gaps).
function dominantEigenvector(matrix) {
  const a = matrix.map((row) => row.slice());
  const v = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]];
  for (let sweep = 0; sweep < 50; sweep++) {
    let off = 0;
    for (let p = 0; p < 4; p++) for (let q = p + 1; q < 4; q++) off += a[p][q] * a[p][q];
    if (off < 1e-30) break;
    for (let p = 0; p < 4; p++) {
      for (let q = p + 1; q < 4; q++) {
        if (Math.abs(a[p][q]) < 1e-300) continue;
        const theta = (a[q][q] - a[p][p]) / (2 * a[p][q]);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < 4; k++) {
          const akp = a[k][p], akq = a[k][q];
          a[k][p] = c * akp - s * akq;
          a[k][q] = s * akp + c * akq;
        }
        for (let k = 0; k < 4; k++) {
          const apk = a[p][k], aqk = a[q][k];
          a[p][k] = c * apk - s * aqk;
          a[q][k] = s * apk + c * aqk;
        }
        for (let k = 0; k < 4; k++) {
          const vkp = v[k][p], vkq = v[k][q];
          v[k][p] = c * vkp - s * vkq;
          v[k][q] = s * vkp + c * vkq;
        }
      }
    }
  }
  let best = 0;
  for (let i = 1; i < 4; i++) if (a[i][i] > a[best][best]) best = i;
  const e = [v[0][best], v[1][best], v[2][best], v[3][best]];
  const norm = Math.hypot(...e);
  return e.map((x) => x / norm);
}

export function rotate(q, p) {
  // q = [w, x, y, z]
  const [w, x, y, z] = q;
  const uv = [y * p[2] - z * p[1], z * p[0] - x * p[2], x * p[1] - y * p[0]];
  const uuv = [y * uv[2] - z * uv[1], z * uv[0] - x * uv[2], x * uv[1] - y * uv[0]];
  return [0, 1, 2].map((i) => p[i] + 2 * (w * uv[i] + uuv[i]));
}

/**
 * Fits the rigid transform T_target_source (no scale) that maps `source` points onto `target`.
 * Returns {quaternion: [x, y, z, w], translation: [x, y, z], rmsResidual, residuals} in metres.
 */
export function fitRigid(source, target) {
  if (!Array.isArray(source) || !Array.isArray(target) || source.length !== target.length) {
    throw new Error('alignment needs the same number of model points and room points.');
  }
  if (source.length < 3) throw new Error('alignment needs at least three point pairs: tap three anchors.');
  const cs = centroid(source);
  const ct = centroid(target);
  const S = [[0, 0, 0], [0, 0, 0], [0, 0, 0]];
  for (let k = 0; k < source.length; k++) {
    const a = source[k].map((v, i) => v - cs[i]);
    const b = target[k].map((v, i) => v - ct[i]);
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) S[i][j] += a[i] * b[j];
  }
  const [[Sxx, Sxy, Sxz], [Syx, Syy, Syz], [Szx, Szy, Szz]] = S;
  const spread = source.reduce((m, p) => Math.max(m, Math.hypot(...p.map((v, i) => v - cs[i]))), 0);
  if (spread < 1e-6) throw new Error('the three model anchors coincide: choose anchors that are apart.');
  // Horn's quaternion method: the best rotation is the top eigenvector of N.
  const N = [
    [Sxx + Syy + Szz, Syz - Szy, Szx - Sxz, Sxy - Syx],
    [Syz - Szy, Sxx - Syy - Szz, Sxy + Syx, Szx + Sxz],
    [Szx - Sxz, Sxy + Syx, -Sxx + Syy - Szz, Syz + Szy],
    [Sxy - Syx, Szx + Sxz, Syz + Szy, -Sxx - Syy + Szz],
  ];
  const q = dominantEigenvector(N);
  const rc = rotate(q, cs);
  const translation = ct.map((v, i) => v - rc[i]);
  const residuals = source.map((p, k) => {
    const m = rotate(q, p).map((v, i) => v + translation[i]);
    return Math.hypot(...m.map((v, i) => v - target[k][i]));
  });
  const rmsResidual = Math.sqrt(residuals.reduce((s, r) => s + r * r, 0) / residuals.length);
  return { quaternion: [q[1], q[2], q[3], q[0]], translation, rmsResidual, residuals };
}
