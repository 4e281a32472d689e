// The small dense linear algebra the marker code needs: square solves, 3x3 rotations, 4x4 rigid
// transforms (row-major arrays of 16), all in plain arrays.

/** Solves A x = b for square A (array of rows) by Gaussian elimination with partial pivoting; null if singular. */
export function solve(A, b) {
  const n = b.length;
  const M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let pivot = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(M[r][c]) > Math.abs(M[pivot][c])) pivot = r;
    if (Math.abs(M[pivot][c]) < 1e-300) return null;
    [M[c], M[pivot]] = [M[pivot], M[c]];
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      if (f === 0) continue;
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Array(n);
  for (let r = n - 1; r >= 0; r--) {
    let s = M[r][n];
    for (let k = r + 1; k < n; k++) s -= M[r][k] * x[k];
    x[r] = s / M[r][r];
  }
  return x;
}

/** Product of 3x3 matrices given as arrays of 9 (row-major). */
export function mul3(A, B) {
  const C = new Array(9);
  for (let i = 0; i < 3; i++) {
    for (let j = 0; j < 3; j++) C[3 * i + j] = A[3 * i] * B[j] + A[3 * i + 1] * B[3 + j] + A[3 * i + 2] * B[6 + j];
  }
  return C;
}

export function cross(a, b) {
  return [a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]];
}

/** Rotation matrix (9, row-major) of the rotation vector w (axis times angle in radians). */
export function rodrigues(w) {
  const angle = Math.hypot(w[0], w[1], w[2]);
  if (angle < 1e-12) return [1, -w[2], w[1], w[2], 1, -w[0], -w[1], w[0], 1];
  const [x, y, z] = w.map((v) => v / angle);
  const c = Math.cos(angle), s = Math.sin(angle), t = 1 - c;
  return [
    t * x * x + c, t * x * y - s * z, t * x * z + s * y,
    t * x * y + s * z, t * y * y + c, t * y * z - s * x,
    t * x * z - s * y, t * y * z + s * x, t * z * z + c,
  ];
}

/** 4x4 rigid transform (16, row-major) from rotation (9, row-major) and translation (3). */
export function rigid(R, t) {
  return [R[0], R[1], R[2], t[0], R[3], R[4], R[5], t[1], R[6], R[7], R[8], t[2], 0, 0, 0, 1];
}

export function rotationOf(T) {
  return [T[0], T[1], T[2], T[4], T[5], T[6], T[8], T[9], T[10]];
}

export function translationOf(T) {
  return [T[3], T[7], T[11]];
}

/** Product of 4x4 matrices (16, row-major). */
export function mul4(A, B) {
  const C = new Array(16);
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 4; j++) {
      C[4 * i + j] = A[4 * i] * B[j] + A[4 * i + 1] * B[4 + j] + A[4 * i + 2] * B[8 + j] + A[4 * i + 3] * B[12 + j];
    }
  }
  return C;
}

/** Inverse of a rigid 4x4 transform (rotation transposed, translation rotated back). */
export function invertRigid(T) {
  const R = rotationOf(T), t = translationOf(T);
  const Rt = [R[0], R[3], R[6], R[1], R[4], R[7], R[2], R[5], R[8]];
  return rigid(Rt, [0, 1, 2].map((i) => -(Rt[3 * i] * t[0] + Rt[3 * i + 1] * t[1] + Rt[3 * i + 2] * t[2])));
}

/** Applies a 4x4 transform to a 3D point. */
export function transformPoint(T, p) {
  return [0, 1, 2].map((i) => T[4 * i] * p[0] + T[4 * i + 1] * p[1] + T[4 * i + 2] * p[2] + T[4 * i + 3]);
}
