// The mode panel folds to a one-line handle, so that a phone's screen goes to the 3D view, and
// unfolds again; each mode remembers its own choice (in localStorage, across visits). Folded,
// the handle still shows the lines the mode marks with `data-summary` (the step and its text,
// the tour's stop, the planner's hint), so the instruction at hand is never hidden entirely.

const STORAGE_KEY = 'twin-viewer.folded-panels';
// A finger that slides the handle this far down folds the panel, this far up unfolds it.
const SLIDE_PX = 24;

function browserStorage() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // a sandboxed page may not even look at its storage
  }
}

function readFolded(storage) {
  try {
    const saved = JSON.parse(storage?.getItem(STORAGE_KEY) || '{}');
    return saved && typeof saved === 'object' ? saved : {};
  } catch {
    return {}; // storage refused (private browsing) or spoilt: start unfolded
  }
}

export class PanelFold {
  /** `panel` holds `handle` (a button) and `body` (where the modes draw). */
  constructor({ panel, handle, title, summary, body, storage = browserStorage() }) {
    Object.assign(this, { panel, handle, title, summary, body, storage });
    this.folded = readFolded(storage);
    this.mode = null;
    // A click that ends a slide was the slide (the browser may still report it as a click).
    handle.addEventListener('click', () => { if (!this.slid) this.toggle(); this.slid = false; });
    handle.addEventListener('pointerdown', (e) => { this.slideFrom = e.clientY; this.slid = false; });
    handle.addEventListener('pointerup', (e) => this.slide(e.clientY - (this.slideFrom ?? e.clientY)));
    new MutationObserver(() => this.updateSummary()).observe(body, { childList: true, subtree: true, characterData: true });
  }

  /** Shows the handle for `mode` (titled `label`), folded or not as that mode was last left. */
  show(mode, label) {
    this.mode = mode;
    this.title.textContent = label;
    this.handle.hidden = false;
    this.apply();
  }

  get isFolded() {
    return this.folded[this.mode] === true;
  }

  toggle() {
    this.folded[this.mode] = !this.isFolded;
    try {
      this.storage?.setItem(STORAGE_KEY, JSON.stringify(this.folded));
    } catch { /* storage refused: the choice lasts for this visit */ }
    this.apply();
  }

  /** A slide of `dy` pixels on the handle: down folds, up unfolds (a tap is left to the click). */
  slide(dy) {
    this.slideFrom = null;
    this.slid = Math.abs(dy) >= SLIDE_PX;
    if (this.slid && dy > 0 !== this.isFolded) this.toggle();
  }

  apply() {
    const folded = this.isFolded;
    this.panel.classList.toggle('folded', folded);
    this.handle.setAttribute('aria-expanded', String(!folded));
    this.body.hidden = folded;
    this.updateSummary();
  }

  updateSummary() {
    const lines = [...this.body.querySelectorAll('[data-summary]')].map((e) => e.textContent.trim()).filter(Boolean);
    this.summary.textContent = lines.join(' · ');
  }
}
