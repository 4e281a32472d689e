// The viewer app: connects with the twin protocol, loads the twin's GLB, streams its tiled
// cloud, places the document's machines, and runs the Instructions, Tour and Planner modes
// and WebXR AR. URL: `?twin=NAME&mode=tour&lang=it&budget=500000`, token in `#token=...`.

import * as THREE from 'three';
import { Viewer } from '../scene/viewer.js';
import { Connection } from '../net/connection.js';
import { makeGltfLoader, installTwin, positionsInRoot } from '../scene/twin-loader.js';
import { makeZUpRoot } from '../scene/axes.js';
import { TileStreamer, defaultPointBudget } from '../scene/tiles.js';
import { Placement } from '../scene/placement.js';
import { Presence } from '../net/presence.js';
import { InstructionsMode } from '../modes/instructions.js';
import { TourMode } from '../modes/tour.js';
import { PlannerMode } from '../modes/planner.js';
import { instructionsContext, tourContext, plannerContext, authoringTools } from './mode-context.js';
import { ArSession } from '../ar/ar.js';
import { wallPoints, footprint } from '../scene/clearance.js';
import { ghostUniforms, cullGhosts, updateGhosts } from '../scene/ghosts.js';
import { pickLanguage, t } from '../ui/i18n.js';
import { el, button, disclosure } from '../ui/ui.js';
import { icon } from '../ui/icons.js';
import { machineStatus } from '../document/live-values.js';
import { PanelFold } from '../ui/panel-fold.js';

const EDITOR_ROLES = ['planner', 'admin'];
const $ = (id) => document.getElementById(id);

function readToken() {
  const hash = new URLSearchParams(location.hash.slice(1));
  return hash.get('token') || new URLSearchParams(location.search).get('token');
}

async function fetchWithProgress(url, headers, onBytes) {
  const response = await fetch(url, { headers });
  if (!response.ok) throw new Error(`${url} answered ${response.status} ${response.statusText}.`);
  const total = Number(response.headers.get('content-length')) || 0;
  if (!response.body?.getReader) return new Uint8Array(await response.arrayBuffer()).buffer;
  const reader = response.body.getReader();
  const chunks = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    received += value.length;
    onBytes(received, total);
  }
  const bytes = new Uint8Array(received);
  let offset = 0;
  for (const chunk of chunks) { bytes.set(chunk, offset); offset += chunk.length; }
  return bytes.buffer;
}

class App {
  constructor() {
    this.params = new URLSearchParams(location.search);
    this.token = readToken();
    this.lang = pickLanguage(this.params.get('lang'), navigator.languages || []);
    this.timings = { start: performance.now() };
    this.progress = { glb: 0, tiles: null, fraction: 0, complete: false, points: 0 };
    this.mode = null;
    this.errors = [];
    this.machineStates = new Map(); // machine id -> its latest properties (merged from machine_states)
  }

  // three.js itself, for whoever inspects the scene from the console (and the browser tests).
  get THREE() {
    return THREE;
  }

  t(key, values) {
    return t(this.lang, key, values);
  }

  get document() {
    return this.connection.document(this.twinName);
  }

  get role() {
    return this.connection.role(this.twinName);
  }

  get canEdit() {
    return EDITOR_ROLES.includes(this.role);
  }

  get scene() {
    return this.viewer.scene;
  }

  get renderer() {
    return this.viewer.renderer;
  }

  notify(message, kind = 'info') {
    const notice = $('notice');
    notice.textContent = message;
    notice.className = kind;
    notice.hidden = false;
    if (kind === 'error') this.errors.push(message);
    clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => { notice.hidden = true; }, kind === 'info' ? 4000 : 8000);
  }

  /**
   * Start-up, step by step; each step needs the ones before it. `stage` says which step the
   * app is in (the browser tests print it when start-up stalls).
   */
  async start() {
    this.buildPage();
    await this.connect();
    await this.subscribeToTwin();
    await this.loadGlbAndTiles();
    this.placeMachines();
    this.followDocumentEdits();
    this.showOtherViewers();
    this.openFirstMode();
    await this.setUpAr();
    this.stage = 'running';
  }

  /** The 3D view, the language menu, the "more" button and the foldable panel. */
  buildPage() {
    this.viewer = new Viewer($('stage'));
    $('language').value = this.lang;
    $('language').addEventListener('change', (e) => this.setLanguage(e.target.value));
    $('more-button').append(icon('more'));
    $('more-button').setAttribute('aria-label', this.t('more'));
    disclosure($('more-button'), $('more'));
    this.panelFold = new PanelFold({ panel: $('panel'), handle: $('panel-handle'), title: $('panel-title'), summary: $('panel-summary'), body: $('panel-body') });
  }

  /** Opens the protocol's WebSocket and picks the twin: the URL's, else the first the server offers. */
  async connect() {
    const wsUrl = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`;
    this.connection = new Connection(wsUrl, { token: this.token });
    this.stage = 'connecting';
    const welcome = await this.connection.open();
    const twins = welcome.twins || [];
    this.twinName = this.params.get('twin') || twins[0]?.name;
    if (!this.twinName) throw new Error('this server offers no twin you may see: ask for a token, or check the twins "twin serve" was given.');
    $('twin-name').textContent = this.twinName;
  }

  /** Subscribes to the twin (its document and machine states), and reconnects when the server goes away. */
  async subscribeToTwin() {
    this.stage = 'subscribing';
    // The latest machine states follow the snapshot at once: listen before subscribing.
    this.connection.on('machine_states', (m) => m.twin === this.twinName && this.machineStatesChanged(m.machines));
    await this.connection.subscribe(this.twinName);
    this.connection.on('close', (event) => !event.byUser && this.reconnect());
    this.connection.on('error', (m) => m.id == null && this.notify(m.message, 'error'));
  }

  /** The cloud's tiles and the GLB come at the same time: whichever is first shows first. */
  async loadGlbAndTiles() {
    this.headers = this.token ? { Authorization: `Bearer ${this.token}` } : {};
    this.gltfLoader = makeGltfLoader();
    this.gltfLoader.setRequestHeader(this.headers);
    this.provisionalRoot = makeZUpRoot(); // turned like the GLB's root
    this.scene.add(this.provisionalRoot);
    this.timeFirstGeometry();
    const tiles = this.startTiles();
    this.stage = 'loading the GLB';
    await this.loadTwin();
    this.stage = 'opening the tileset';
    await tiles;
  }

  /** Notes the time of the first frame that draws some of the twin (`timings.firstGeometry`). */
  timeFirstGeometry() {
    const stop = this.viewer.onFrame(() => {
      if (!this.twin && !(this.tiles?.progress.points > 0)) return;
      this.viewer.invalidate();
      this.timings.firstGeometry = performance.now(); // this frame draws the first geometry
      stop();
    });
  }

  /** The document's machines and anchors for the URL's layout, with their live states; a moved machine leaves no ghost in the cloud. */
  placeMachines() {
    this.stage = 'placing the machines';
    this.placement = new Placement(this.twin.root);
    this.hideGhostsOfMovedMachines();
    this.placement.apply(this.document, this.params.get('layout') || '');
    for (const [machine, properties] of this.machineStates) this.placement.setState(machine, properties, (key, values) => this.t(key, values));
  }

  /** The cloud's points of a machine that moved away (or that the layout removes) are not drawn where it stood. */
  hideGhostsOfMovedMachines() {
    this.ghosts = ghostUniforms();
    for (const material of [...(this.tiles ? Object.values(this.tiles.materials) : []), ...this.twin.clouds.map((c) => c.material)]) cullGhosts(material, this.ghosts);
    this.placement.onChange(() => updateGhosts(this.ghosts, this.document, this.placement.layoutId, this.twin.root));
  }

  /** Every edit of the document (ours and other viewers') re-places the machines and redraws the mode. */
  followDocumentEdits() {
    this.connection.on('document', (event) => event.twin === this.twinName && this.documentChanged(event));
  }

  /** Our camera goes to the server; other viewers appear as small markers. */
  showOtherViewers() {
    this.presence = new Presence({ viewer: this.viewer, root: this.twin.root, connection: this.connection, twin: this.twinName, mode: () => this.mode?.name ?? '' });
  }

  /** The three modes, each with its own small context; the URL's mode first, else the tour for visitors and the instructions for others. */
  openFirstMode() {
    this.authoring = authoringTools(this);
    this.modes = { instructions: new InstructionsMode(instructionsContext(this, this.authoring)), tour: new TourMode(tourContext(this)), planner: new PlannerMode(plannerContext(this)) };
    this.renderModeButtons();
    this.openDeepLink();
    const wanted = this.params.get('mode');
    this.setMode(this.modes[wanted] ? wanted : this.role === 'visitor' ? 'tour' : 'instructions');
  }

  /** Printed QR codes (`twin qr`) open a machine's instructions (`machine=ID`) or a tour at a stop (`tour=ID&stop=INDEX`, from 0). */
  openDeepLink() {
    const machine = this.params.get('machine');
    const tour = this.params.get('tour');
    if ((this.document.machines || []).some((m) => m.id === machine)) this.modes.instructions.machineId = machine;
    if ((this.document.tours || []).some((t) => t.id === tour)) Object.assign(this.modes.tour, { tourId: tour, stopIndex: Math.max(0, Number(this.params.get('stop')) || 0) });
  }

  async loadTwin() {
    this.updateProgress();
    const bytes = await fetchWithProgress(`/twins/${encodeURIComponent(this.twinName)}/twin.glb`, this.headers, (received, total) => {
      this.progress.glb = total ? received / total : 0;
      this.updateProgress();
    });
    const gltf = await this.gltfLoader.parseAsync(bytes, '');
    this.twin = installTwin(this.scene, gltf);
    this.progress.glb = 1;
    if (this.tiles) this.twin.root.add(this.tiles.group); // tiles are in the twin's z-up world, like the root's children
    this.provisionalRoot.removeFromParent();
    this.hideGlbCloudWhenTiled();
    this.frameOnce(new THREE.Box3().setFromObject(this.twin.root));
    this.updateProgress();
  }

  frameOnce(box) {
    if (this.framed || box.isEmpty()) return;
    this.framed = true;
    this.viewer.frame(box);
  }

  // The GLB carries a thinned copy of the cloud; where tiles stream the cloud, it stays hidden.
  hideGlbCloudWhenTiled() {
    if (!this.twin || !this.tiles?.tiles.length) return;
    for (const cloud of this.twin.clouds) cloud.visible = false;
  }

  // The cloud streams tile by tile under the twin's root (a provisional one until the GLB is in).
  async startTiles() {
    const base = `/twins/${encodeURIComponent(this.twinName)}/`;
    const fetchBytes = this.connection.has('assets')
      ? (path) => this.connection.getAsset(this.twinName, path)
      : (path) => fetchWithProgress(base + path, this.headers, () => {});
    const budget = Number(this.params.get('budget')) || defaultPointBudget();
    this.tiles = new TileStreamer({
      parent: this.twin?.root ?? this.provisionalRoot,
      fetchBytes,
      parse: async (bytes) => (await this.gltfLoader.parseAsync(bytes, '')).scene,
      pointBudget: budget,
      onProgress: (progress) => {
        this.progress.tiles = progress;
        if (progress.complete && !this.timings.fullBudget) this.timings.fullBudget = performance.now();
        this.updateProgress();
      },
      onError: (error) => this.notify(error.message, 'error'),
      onChange: () => this.redrawSoon(),
    });
    try {
      await this.tiles.open('tiles/tileset.json');
    } catch (error) {
      this.tiles = null;
      this.progress.tiles = { complete: true, fraction: 1, points: 0, loadedTiles: 0, wantedTiles: 0, missing: error.message };
      this.timings.fullBudget = performance.now();
      this.updateProgress();
      return;
    }
    this.hideGlbCloudWhenTiled();
    // Until the GLB is in, frame the cube inside the root tile's bounding sphere.
    this.tiles.group.updateWorldMatrix(true, false);
    const sphere = this.tiles.tiles[0].sphere.clone().applyMatrix4(this.tiles.group.matrixWorld);
    this.frameOnce(new THREE.Box3().setFromCenterAndSize(sphere.center, new THREE.Vector3().setScalar((2 * sphere.radius) / Math.sqrt(3))));
    this.viewer.onFrame(() => {
      if (this.ar?.session) return;
      this.tiles.update(this.viewer.camera, this.viewer.renderer.domElement.clientHeight || 600);
    });
  }

  // Tiles arrive in bursts: one redraw for a burst (a frame of millions of points is not free).
  redrawSoon(delayMs = 1000) {
    if (this.redrawTimer) return;
    this.redrawTimer = setTimeout(() => { this.redrawTimer = null; this.viewer.invalidate(); }, delayMs);
  }

  updateProgress() {
    const tiles = this.progress.tiles;
    const fraction = 0.25 * this.progress.glb + 0.75 * (tiles ? tiles.fraction : 0);
    const complete = this.progress.glb === 1 && Boolean(tiles?.complete);
    Object.assign(this.progress, { fraction: complete ? 1 : Math.min(fraction, 0.99), complete, points: tiles?.points ?? 0 });
    const percent = Math.round(this.progress.fraction * 100);
    const bar = $('progress');
    bar.setAttribute('aria-valuenow', String(percent));
    bar.classList.toggle('complete', complete);
    $('progress-fill').style.width = `${percent}%`;
    const points = this.progress.points ? ` · ${this.progress.points.toLocaleString()} ${this.t('points')}` : '';
    $('progress-text').textContent = `${complete ? this.t('loaded') : this.t('loading')} ${percent} %${points}`;
  }

  documentChanged(event) {
    this.placement.apply(event.document);
    this.mode?.documentChanged(event);
    this.viewer.invalidate();
  }

  /** One frame per twin carries every machine whose state changed: machine id -> changed properties. */
  machineStatesChanged(machines) {
    for (const [machine, properties] of Object.entries(machines)) {
      const before = machineStatus(this.machineStates.get(machine))?.status;
      const merged = { ...(this.machineStates.get(machine) || {}), ...properties };
      this.machineStates.set(machine, merged);
      this.toastAlarm(machine, before, machineStatus(merged)?.status);
      this.placement?.setState(machine, merged, (key, values) => this.t(key, values)); // once machines are placed
    }
    if (!this.placement) return;
    this.mode?.documentChanged({ cause: 'machine_state' });
    this.viewer.invalidate();
  }

  /** A toast when a machine goes into alarm (with the rule that says so) and when it leaves it. */
  toastAlarm(machineId, before, now) {
    if (before === now || (before !== 'alarm' && now !== 'alarm')) return;
    const machine = (this.document?.machines || []).find((m) => m.id === machineId);
    const name = machine?.name || machineId;
    if (now === 'alarm') {
      const rule = machine?.status_rules?.alarm;
      this.notify(`${this.t('alarmOn', { machine: name })}${rule ? `: ${rule}` : ''}`, 'alarm');
    } else {
      this.notify(this.t('alarmOff', { machine: name }));
    }
  }

  async reconnect() {
    this.notify(this.t('disconnected'), 'error');
    for (let attempt = 0; attempt < 30; attempt++) {
      await new Promise((r) => setTimeout(r, 2000));
      try {
        await this.connection.open();
        await this.connection.subscribe(this.twinName);
        this.notify(this.t('connected'));
        return;
      } catch { /* the server is still away: try again */ }
    }
  }

  renderModeButtons() {
    $('modes').replaceChildren(...Object.keys(this.modes).map((name) =>
      button([icon(name), el('span', { class: 'label' }, this.t(name))], () => this.setMode(name), { role: 'tab', 'aria-selected': String(this.mode?.name === name), 'data-testid': `mode-${name}` })));
  }

  setMode(name) {
    this.mode?.exit();
    this.mode = this.modes[name];
    this.renderModeButtons();
    this.mode.enter($('panel-body'));
    this.panelFold.show(name, this.t(name));
    this.viewer.invalidate();
  }

  setLayout(layoutId) {
    this.placement.apply(this.document, layoutId);
    this.mode?.documentChanged({ cause: 'layout' });
    this.viewer.invalidate();
  }

  setLanguage(lang) {
    this.lang = pickLanguage(lang);
    document.documentElement.lang = this.lang;
    this.renderModeButtons();
    $('more-button').setAttribute('aria-label', this.t('more'));
    if (this.mode) this.panelFold.show(this.mode.name, this.t(this.mode.name));
    this.mode?.documentChanged({ cause: 'language' });
    this.viewer.invalidate();
    this.updateProgress();
    this.renderArControls();
  }

  /** Scanned wall samples for the clearance check, from the room's mesh and cloud. */
  wallPoints() {
    if (this.walls) return this.walls;
    const rigs = new Set(this.placement.rigs.values());
    const insideRig = (o) => { for (let p = o; p; p = p.parent) if (rigs.has(p)) return true; return false; };
    const scanned = [...this.twin.meshes, ...this.twin.clouds].filter((o) => !insideRig(o));
    const tilePoints = [];
    this.tiles?.group.traverse((o) => o.isPoints && tilePoints.push(o));
    this.twin.root.updateMatrixWorld(true);
    const positions = positionsInRoot(this.twin.root, [...scanned, ...tilePoints]);
    const asScanned = (this.document.machines || []).map((m) => footprint(m.bounds, m.pose));
    this.walls = wallPoints(positions, asScanned);
    return this.walls;
  }

  /** The AR button where immersive-ar is offered, else a note that it is not. */
  async setUpAr() {
    this.stage = 'asking for WebXR AR';
    this.ar = new ArSession(this);
    this.arSupported = await ArSession.supported();
    this.onArChange = () => this.renderArControls();
    $('ar-button').addEventListener('click', async () => {
      try {
        await this.ar.start($('ar-overlay'));
      } catch (error) {
        this.notify(`AR: ${error.message}`, 'error');
      }
    });
    $('ar-exit').addEventListener('click', () => this.ar.end());
    this.renderArControls();
  }

  renderArControls() {
    if (!this.ar) return;
    const arButton = $('ar-button');
    arButton.hidden = !this.arSupported || Boolean(this.ar.session);
    arButton.textContent = this.t('enterAR');
    $('ar-status').hidden = this.arSupported;
    $('ar-status').textContent = this.t('arUnavailable');
    $('ar-overlay').hidden = !this.ar.session;
    $('ar-prompt').textContent = this.ar.session ? this.ar.prompt() : '';
    $('ar-exit').textContent = this.t('exitAR');
  }
}

const app = new App();
window.twinViewer = app; // for people debugging in the console, and for the browser tests
app.start().then(() => { app.ready = true; }).catch((error) => {
  app.failed = error.message;
  app.notify(error.message, 'error');
  $('panel-body').replaceChildren(el('p', { class: 'error' }, `${t(app.lang, 'error')}: ${error.message}`));
});
