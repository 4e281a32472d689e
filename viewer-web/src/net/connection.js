// The twin protocol client (docs/protocol.md): hello, subscribe, edits against a revision
// with rebase on `stale_revision`, presence, steps and assets as binary frames.

import { applyPatch } from './json-patch.js';

export const PROTOCOL_VERSION = 1;
const ASSET_OPCODE = 0x01;

export class ProtocolError extends Error {
  constructor(message) {
    super(message.message || message.code);
    this.code = message.code;
    this.revision = message.revision;
    this.path = message.path;
  }
}

/**
 * One WebSocket to `twin serve`. Events (via `on(op, handler)`): every server op by name, plus
 * `document` (twin, document, revision, cause) whenever the local copy of a document changes,
 * `open` and `close`.
 */
export class Connection {
  constructor(url, { token = null, WebSocketImpl = globalThis.WebSocket } = {}) {
    this.url = url;
    this.token = token;
    this.WebSocketImpl = WebSocketImpl;
    this.nextId = 1;
    this.pending = new Map(); // id -> {resolve, reject, op}
    this.handlers = new Map();
    this.twins = new Map(); // name -> {document, revision, role}
    this.welcome = null;
    this.closedByUser = false;
  }

  on(op, handler) {
    if (!this.handlers.has(op)) this.handlers.set(op, new Set());
    this.handlers.get(op).add(handler);
    return () => this.handlers.get(op).delete(handler);
  }

  emit(op, message) {
    for (const handler of this.handlers.get(op) || []) handler(message);
  }

  async open() {
    this.socket = new this.WebSocketImpl(this.url);
    this.socket.binaryType = 'arraybuffer';
    await new Promise((resolve, reject) => {
      this.socket.onopen = resolve;
      this.socket.onerror = () => reject(new Error(`cannot connect to ${this.url}: is "twin serve" running?`));
    });
    this.socket.onmessage = (event) => this.receive(event.data);
    this.socket.onclose = (event) => this.closed(event);
    this.welcome = await this.request({ op: 'hello', protocol: PROTOCOL_VERSION, ...(this.token ? { token: this.token } : {}) });
    this.emit('open', this.welcome);
    return this.welcome;
  }

  close() {
    this.closedByUser = true;
    this.socket?.close();
  }

  closed(event) {
    for (const { reject } of this.pending.values()) reject(new Error(`the connection closed (${event.code} ${event.reason || ''}).`));
    this.pending.clear();
    this.emit('close', { code: event.code, reason: event.reason, byUser: this.closedByUser });
  }

  send(message) {
    this.socket.send(JSON.stringify(message));
  }

  request(message) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, op: message.op });
      this.send({ ...message, id });
    });
  }

  has(capability) {
    return Boolean(this.welcome?.capabilities?.includes(capability));
  }

  receive(data) {
    if (typeof data !== 'string') return this.receiveBinary(new Uint8Array(data));
    const message = JSON.parse(data);
    const waiting = message.id != null ? this.pending.get(message.id) : null;
    if (message.op === 'snapshot') this.setDocument(message.twin, message.document, message.revision, message.role, 'snapshot');
    if (message.op === 'delta') this.applyDelta(message);
    if (waiting) {
      this.pending.delete(message.id);
      if (message.op === 'error') waiting.reject(new ProtocolError(message));
      else waiting.resolve(message);
    }
    this.emit(message.op, message);
  }

  receiveBinary(bytes) {
    if (bytes.length < 5 || bytes[0] !== ASSET_OPCODE) return;
    const id = bytes[1] | (bytes[2] << 8) | (bytes[3] << 16) | (bytes[4] << 24);
    const waiting = this.pending.get(id >>> 0);
    if (!waiting) return;
    this.pending.delete(id >>> 0);
    waiting.resolve(bytes.slice(5).buffer);
  }

  setDocument(twin, document, revision, role, cause) {
    const state = this.twins.get(twin) || {};
    this.twins.set(twin, { ...state, document, revision, role: role ?? state.role });
    this.emit('document', { twin, document, revision, cause });
  }

  applyDelta(message) {
    const state = this.twins.get(message.twin);
    if (!state) return;
    if (message.revision !== state.revision + 1) {
      // A gap is the server's bug per the protocol; recover with a fresh snapshot.
      this.request({ op: 'subscribe', twin: message.twin }).catch(() => {});
      return;
    }
    this.setDocument(message.twin, applyPatch(state.document, message.patch), message.revision, null,
      message.client === this.welcome?.client ? 'own' : 'remote');
  }

  /** Subscribes to a twin: resolves with its snapshot; deltas follow as `document` events. */
  subscribe(twin) {
    return this.request({ op: 'subscribe', twin });
  }

  document(twin) {
    return this.twins.get(twin)?.document ?? null;
  }

  role(twin) {
    return this.twins.get(twin)?.role ?? null;
  }

  /**
   * Edits the document with `makePatch(document)`; on a stale base waits for the missing deltas
   * and redoes the change on the newer document (a few times) before giving up.
   */
  async edit(twin, makePatch, attempts = 5) {
    for (let attempt = 1; ; attempt++) {
      const state = this.twins.get(twin);
      if (!state) throw new Error(`not subscribed to the twin "${twin}".`);
      const patch = makePatch(state.document);
      applyPatch(state.document, patch); // refuse locally what the server would refuse
      try {
        return await this.request({ op: 'edit', twin, base_revision: state.revision, patch });
      } catch (error) {
        if (error.code !== 'stale_revision' || attempt >= attempts) throw error;
        await this.waitForRevision(twin, error.revision);
      }
    }
  }

  waitForRevision(twin, revision, timeoutMs = 5000) {
    if ((this.twins.get(twin)?.revision ?? -1) >= revision) return Promise.resolve();
    return new Promise((resolve) => {
      const stop = this.on('document', (event) => {
        if (event.twin === twin && event.revision >= revision) { stop(); clearTimeout(timer); resolve(); }
      });
      const timer = setTimeout(() => { stop(); resolve(); }, timeoutMs);
    });
  }

  presence(twin, pose, mode) {
    if (this.socket?.readyState === 1) this.send({ op: 'presence', twin, pose, mode });
  }

  step(twin, procedure, step, done) {
    return this.request({ op: 'step', twin, procedure, step, done });
  }

  getAsset(twin, path) {
    return this.request({ op: 'get_asset', twin, path });
  }
}
