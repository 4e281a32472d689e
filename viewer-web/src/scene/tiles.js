// Streams a 3D Tiles 1.1 point cloud (additive refinement, GLB content) node by node under a
// point budget, Potree style: a tile is refined while its screen-space error is above the
// limit, and tiles are taken in order of their projected size on screen, which puts the
// nearest and the coarsest first; loading stops where the budget is spent.

import * as THREE from 'three';
import { Y_UP_TO_Z_UP } from './axes.js';

// A tile's geometric error is its point spacing: refine where gaps would show between 2 px points.
export const DEFAULT_MAX_SCREEN_SPACE_ERROR_PX = 2;
export const DESKTOP_POINT_BUDGET = 3_000_000;
export const PHONE_POINT_BUDGET = 800_000;

export function defaultPointBudget(nav = globalThis.navigator, screen = globalThis.screen) {
  const touch = (nav?.maxTouchPoints ?? 0) > 0;
  const small = Math.min(screen?.width ?? 1920, screen?.height ?? 1080) < 800;
  return touch && small ? PHONE_POINT_BUDGET : DESKTOP_POINT_BUDGET;
}

function boundingSphere(volume, transform) {
  let center;
  let radius;
  if (volume.box) {
    const b = volume.box;
    center = new THREE.Vector3(b[0], b[1], b[2]);
    radius = Math.hypot(b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11]);
  } else if (volume.sphere) {
    center = new THREE.Vector3(volume.sphere[0], volume.sphere[1], volume.sphere[2]);
    radius = volume.sphere[3];
  } else {
    throw new Error('this viewer reads tiles with a "box" or "sphere" bounding volume, not geographic "region" ones.');
  }
  center.applyMatrix4(transform);
  return new THREE.Sphere(center, radius * transform.getMaxScaleOnAxis());
}

/** The tiles of a tileset.json as a flat list with parents, depths and bounds in the tileset frame. */
export function readTileset(json, baseDir = '') {
  if (!json || !json.root) throw new Error('tileset.json has no "root" tile: is it a 3D Tiles tileset?');
  const tiles = [];
  const visit = (node, parent, parentTransform) => {
    const transform = parentTransform.clone();
    if (node.transform) transform.multiply(new THREE.Matrix4().fromArray(node.transform));
    const uri = node.content?.uri ?? node.content?.url ?? null;
    const tile = {
      index: tiles.length,
      parent,
      children: [],
      depth: parent ? parent.depth + 1 : 0,
      geometricError: Number(node.geometricError ?? 0),
      sphere: boundingSphere(node.boundingVolume || {}, transform),
      transform,
      uri: uri ? baseDir + uri : null,
      pointsHint: node.extras?.points ?? node.content?.extras?.points ?? null,
      state: 'unloaded',
      object: null,
      points: 0,
      lastWanted: -1,
    };
    tiles.push(tile);
    if (parent) parent.children.push(tile);
    for (const child of node.children || []) visit(child, tile, transform);
  };
  visit(json.root, null, new THREE.Matrix4());
  return tiles;
}

/** Potree's priority: how big the tile's bounding sphere looks, in pixels. */
export function projectedSizePx(tile, cameraPosition, pixelsPerRadian) {
  return (tile.sphere.radius * pixelsPerRadian) / Math.max(cameraPosition.distanceTo(tile.sphere.center), 1e-3);
}

export function screenSpaceErrorPx(tile, cameraPosition, pixelsPerRadian) {
  const distance = Math.max(cameraPosition.distanceTo(tile.sphere.center) - tile.sphere.radius, 1e-3);
  return (tile.geometricError * pixelsPerRadian) / distance;
}

/**
 * The tiles to show: from the root, biggest on screen first, children only of tiles that
 * are shown and still too coarse, skipping tiles outside the frustum, until the budget is spent.
 * Unloaded tiles count with their hint, or their parent's points, or the mean loaded tile.
 */
export function selectTiles(tiles, { cameraPosition, frustum, pixelsPerRadian, pointBudget, maxScreenSpaceErrorPx }) {
  const loaded = tiles.filter((t) => t.state === 'loaded');
  const mean = loaded.length ? loaded.reduce((s, t) => s + t.points, 0) / loaded.length : 0;
  const estimate = (t) => (t.state === 'loaded' ? t.points : t.pointsHint ?? (t.parent?.state === 'loaded' ? t.parent.points : mean));
  const wanted = [];
  const queue = [{ tile: tiles[0], priority: Infinity }];
  let spent = 0;
  while (queue.length) {
    let best = 0;
    for (let i = 1; i < queue.length; i++) if (queue[i].priority > queue[best].priority) best = i;
    const { tile } = queue.splice(best, 1)[0];
    const cost = estimate(tile);
    if (wanted.length > 0 && spent + cost > pointBudget) continue;
    spent += cost;
    wanted.push(tile);
    if (screenSpaceErrorPx(tile, cameraPosition, pixelsPerRadian) <= maxScreenSpaceErrorPx) continue;
    for (const child of tile.children) {
      if (frustum && !frustum.intersectsSphere(child.sphere)) continue;
      queue.push({ tile: child, priority: projectedSizePx(child, cameraPosition, pixelsPerRadian) });
    }
  }
  return wanted;
}

/**
 * Keeps the tiles of one tileset loaded and shown for a camera. `fetchBytes(path)` gives a
 * tile's bytes (HTTP or the protocol's get_asset), `parse(bytes)` a three.js object.
 */
export class TileStreamer {
  constructor({ parent, fetchBytes, parse, pointBudget = defaultPointBudget(), maxScreenSpaceErrorPx = DEFAULT_MAX_SCREEN_SPACE_ERROR_PX,
    concurrency = 4, onProgress = () => {}, onError = () => {}, onChange = () => {} }) {
    Object.assign(this, { fetchBytes, parse, pointBudget, maxScreenSpaceErrorPx, concurrency, onProgress, onError, onChange });
    this.group = new THREE.Group();
    this.group.name = 'tiles';
    parent.add(this.group);
    this.tiles = [];
    this.loading = 0;
    this.frame = 0;
    this.materials = {
      colored: new THREE.PointsMaterial({ size: 2, sizeAttenuation: false, vertexColors: true }),
      plain: new THREE.PointsMaterial({ size: 2, sizeAttenuation: false, color: 0x9aa4ad }),
    };
    this.progress = { loadedTiles: 0, wantedTiles: 0, points: 0, fraction: 0, complete: false };
  }

  async open(tilesetPath) {
    const bytes = await this.fetchBytes(tilesetPath);
    const json = JSON.parse(new TextDecoder().decode(bytes));
    const baseDir = tilesetPath.includes('/') ? tilesetPath.slice(0, tilesetPath.lastIndexOf('/') + 1) : '';
    this.tiles = readTileset(json, baseDir);
  }

  /** Call once per frame (cheap): chooses tiles for `camera`, shows them, asks for the missing ones. */
  update(camera, viewportHeightPx) {
    if (!this.tiles.length) return;
    this.frame++;
    this.group.updateWorldMatrix(true, false);
    const toLocal = this.group.matrixWorld.clone().invert();
    const cameraPosition = camera.getWorldPosition(new THREE.Vector3()).applyMatrix4(toLocal);
    const frustum = new THREE.Frustum().setFromProjectionMatrix(
      new THREE.Matrix4().multiplyMatrices(camera.projectionMatrix, camera.matrixWorldInverse).multiply(this.group.matrixWorld));
    const pixelsPerRadian = viewportHeightPx / (2 * Math.tan(THREE.MathUtils.degToRad(camera.fov ?? 60) / 2));
    const wanted = selectTiles(this.tiles, { cameraPosition, frustum, pixelsPerRadian, pointBudget: this.pointBudget, maxScreenSpaceErrorPx: this.maxScreenSpaceErrorPx });
    const wantedSet = new Set(wanted);
    for (const tile of this.tiles) {
      if (tile.object && tile.object.visible !== wantedSet.has(tile)) {
        tile.object.visible = wantedSet.has(tile);
        this.onChange();
      }
    }
    for (const tile of wanted) tile.lastWanted = this.frame;
    this.wanted = wanted;
    this.pump();
    this.evict(wantedSet);
    const ready = wanted.filter((t) => t.state === 'loaded' || t.state === 'failed' || !t.uri);
    const points = wanted.reduce((s, t) => s + (t.state === 'loaded' ? t.points : 0), 0);
    this.progress = { loadedTiles: ready.length, wantedTiles: wanted.length, points, fraction: ready.length / wanted.length, complete: ready.length === wanted.length };
    this.onProgress(this.progress);
  }

  // Starts the missing wanted tiles, best first, up to the concurrency; called each frame and as
  // soon as a tile arrives, so that slow frames (a big cloud drawn on a weak GPU) do not hold it up.
  pump() {
    for (const tile of this.wanted || []) {
      if (this.loading >= this.concurrency) break;
      if (tile.state === 'unloaded' && tile.uri) this.load(tile);
    }
  }

  async load(tile) {
    tile.state = 'loading';
    this.loading++;
    try {
      const object = await this.parse(await this.fetchBytes(tile.uri));
      const holder = new THREE.Group();
      holder.name = `tile-${tile.index}`;
      holder.matrixAutoUpdate = false;
      // glTF content is y-up; 3D Tiles turns it z-up before the tile's transform (3D Tiles 1.1, 5.4).
      holder.matrix.multiplyMatrices(tile.transform, Y_UP_TO_Z_UP);
      holder.add(object);
      let points = 0;
      object.traverse((o) => {
        if (!o.isPoints) return;
        points += o.geometry.attributes.position.count;
        o.material = o.geometry.attributes.color ? this.materials.colored : this.materials.plain;
      });
      tile.points = points;
      tile.object = holder;
      tile.state = 'loaded';
      holder.visible = false; // shown by the next update, if still wanted
      this.group.add(holder);
    } catch (error) {
      tile.state = 'failed';
      this.onError(new Error(`tile ${tile.uri} could not be loaded: ${error.message}`));
    } finally {
      this.loading--;
      this.pump();
    }
  }

  // Frees the least recently wanted tiles once twice the budget is held in memory.
  evict(wantedSet) {
    let held = this.tiles.reduce((s, t) => s + (t.state === 'loaded' ? t.points : 0), 0);
    if (held <= 2 * this.pointBudget) return;
    const candidates = this.tiles.filter((t) => t.state === 'loaded' && !wantedSet.has(t)).sort((a, b) => a.lastWanted - b.lastWanted);
    for (const tile of candidates) {
      if (held <= 2 * this.pointBudget) break;
      held -= tile.points;
      tile.object.traverse((o) => o.geometry?.dispose());
      this.group.remove(tile.object);
      Object.assign(tile, { object: null, state: 'unloaded', points: 0 });
    }
  }
}
