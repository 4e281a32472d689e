// The version switch and the "changes since" overlay: the scans of the room over time that the
// document lists (`versions`, from `twin versions add`), each shown by its own tiles in place of
// the first version's; with the overlay on, the version's points coloured by their distance to the
// first (its change-tiles: grey unchanged, red out of the old surface, blue behind it), its change
// regions outlined and listed, and a click on one flies there.

import { el } from './ui.js';
import { TileStreamer } from '../scene/tiles.js';
import { ChangesOverlay } from '../scene/changes-overlay.js';
import { glideTo, viewpointFor } from '../scene/camera-glide.js';

const TEXT = {
  en: { version: 'Version', changesSince: 'Changes since {first}', noChanges: 'No changes above the level of detection.', first: 'first scan',
    added: 'added', removed: 'removed', moved: 'moved', failed: 'could not be loaded' },
  it: { version: 'Versione', changesSince: 'Modifiche da {first}', noChanges: 'Nessuna modifica sopra la soglia di rilevamento.', first: 'prima scansione',
    added: 'aggiunto', removed: 'rimosso', moved: 'spostato', failed: 'non caricabile' },
};

function text(lang, key, values = {}) {
  const template = (TEXT[lang] ?? TEXT.en)[key] ?? TEXT.en[key];
  return template.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? '');
}

/** The document's versions, oldest first; the first is the twin's own cloud (tiles/). */
export function documentVersions(document) {
  return Array.isArray(document?.versions) ? document.versions : [];
}

export class VersionsPanel {
  /**
   * `context`: { container, viewer, root (the twin's z-up root), baseTiles (the first version's
   * TileStreamer, or null), fetchBytes(path), parse(bytes), pointBudget, lang(), document(), notify,
   * footer (an element shown below the switch, e.g. the carry-over proposals; optional) }.
   */
  constructor(context) {
    Object.assign(this, context);
    this.overlay = new ChangesOverlay(this.root);
    this.selected = null;
    this.showChanges = false;
    this.streamer = null;
    this.changes = [];
  }

  get versions() {
    return documentVersions(this.document());
  }

  /** Shows the panel where the document lists more than one version, on the first one. */
  start() {
    this.selected = this.versions[0]?.id ?? null;
    this.render();
  }

  render() {
    const versions = this.versions;
    const lang = this.lang();
    this.container.hidden = versions.length < 2;
    if (versions.length < 2) return this.container.replaceChildren();
    const first = versions[0];
    const picker = el('select', { 'data-testid': 'version-select', 'aria-label': text(lang, 'version'), onChange: (e) => this.select(e.target.value) },
      versions.map((v, i) => el('option', { value: v.id }, `${v.id} · ${v.date.slice(0, 10)}${i === 0 ? ` (${text(lang, 'first')})` : ''}`)));
    picker.value = this.selected;
    const toggle = el('input', { type: 'checkbox', 'data-testid': 'changes-toggle', checked: this.showChanges, disabled: this.selected === first.id,
      onChange: (e) => this.setShowChanges(e.target.checked) });
    const items = this.showChanges ? this.changes.map((change, index) => el('li', {},
      el('button', { type: 'button', class: `change change-${change.kind}`, 'data-testid': 'change-item', 'data-kind': change.kind, onClick: () => this.flyTo(index) },
        `${text(lang, change.kind)}: ${change.description ?? change.kind}`))) : [];
    const parts = [
      el('label', {}, `${text(lang, 'version')} `, picker),
      el('label', { class: 'changes-toggle' }, toggle, ` ${text(lang, 'changesSince', { first: first.id })}`),
      this.showChanges && !items.length ? el('p', { class: 'muted' }, text(lang, 'noChanges')) : null,
      items.length ? el('ul', { class: 'change-list', 'data-testid': 'change-list' }, items) : null,
      this.footer,
    ];
    this.container.replaceChildren(...parts.filter(Boolean)); // the DOM would write a null as "null"
  }

  async select(id) {
    this.selected = id;
    if (id === this.versions[0]?.id) this.showChanges = false;
    await this.showSelected();
  }

  async setShowChanges(on) {
    this.showChanges = on;
    await this.showSelected();
  }

  /** The selected version's tiles (its change-tiles with the overlay) in place of the first's, and its outlines. */
  async showSelected() {
    const version = this.versions.find((v) => v.id === this.selected);
    const first = this.selected === this.versions[0]?.id;
    this.dropStreamer();
    this.overlay.clear();
    this.changes = [];
    if (this.baseTiles) this.baseTiles.group.visible = first;
    if (!first && version) {
      const tileset = this.showChanges ? version.change_tiles : version.tiles;
      if (tileset) await this.stream(tileset);
      if (this.showChanges && version.changes) {
        try {
          this.changes = JSON.parse(new TextDecoder().decode(await this.fetchBytes(version.changes))).changes ?? [];
        } catch (error) {
          this.notify(`${version.changes} ${text(this.lang(), 'failed')}: ${error.message}`, 'error');
        }
        this.overlay.show(this.changes);
      }
    }
    this.render();
    this.viewer.invalidate();
  }

  async stream(tileset) {
    const streamer = new TileStreamer({ parent: this.root, fetchBytes: this.fetchBytes, parse: this.parse, pointBudget: this.pointBudget,
      onError: (error) => this.notify(error.message, 'error'), onChange: () => this.viewer.invalidate() });
    streamer.group.name = 'version-tiles';
    this.streamer = streamer;
    try {
      await streamer.open(tileset);
    } catch (error) {
      this.notify(`${tileset} ${text(this.lang(), 'failed')}: ${error.message}`, 'error');
      return;
    }
    if (this.streamer !== streamer) return; // another version was picked meanwhile
    this.stopUpdates = this.viewer.onFrame(() => streamer.update(this.viewer.camera, this.viewer.renderer.domElement.clientHeight || 600));
    this.viewer.invalidate();
  }

  dropStreamer() {
    this.stopUpdates?.();
    this.stopUpdates = null;
    if (!this.streamer) return;
    this.streamer.group.traverse((o) => o.geometry?.dispose());
    this.streamer.group.removeFromParent();
    this.streamer = null;
  }

  /** Flies the camera to change region `index`. */
  flyTo(index) {
    const target = this.overlay.focus(index);
    const view = viewpointFor(this.viewer, target, 3);
    return glideTo(this.viewer, view.position, view.target);
  }
}
