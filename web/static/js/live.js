// Live updates over /ws: single-use ticket, subscribe, resume after the last seq, reconnect with
// exponential backoff, 'reset' → refetch over REST, and a visible connection indicator.
import { api } from './api.js';
import { t } from './i18n.js';

const STOP_CODES = new Set([4000, 4003]);  // bad message, origin refused: retrying the same cannot help

export class Live {
  /**
   * topics: initial topics; onEvent(message) for each event; onResync(reason) when the page must refetch
   * its state over REST (first subscription, reset, or a resume the server could not honour);
   * indicator: element showing the state.
   */
  constructor({ topics, onEvent, onResync, indicator }) {
    this.topics = new Set(topics);
    this.onEvent = onEvent;
    this.onResync = onResync;
    this.indicator = indicator;
    this.lastSeq = null;
    this.epoch = null;
    this.attempt = 0;
    this.ws = null;
    this.timer = null;
    this.stopped = false;
    this.everSubscribed = false;
    this.state = 'connecting';
    this.heartbeat = 15;
    this.silence = null;
    window.addEventListener('online', () => this.connectSoon(0));
    window.addEventListener('offline', () => { this.setState('offline'); this.ws?.close(); });
    window.addEventListener('iolaos:lang', () => this.render());
  }

  start() { this.stopped = false; this.connect(); return this; }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    this.ws?.close(1000);
    this.setState('stopped');
  }

  /** Follow more topics from now on (sent at once when connected, and on every reconnect). */
  add(topics) {
    const fresh = topics.filter((x) => !this.topics.has(x));
    fresh.forEach((x) => this.topics.add(x));
    if (fresh.length && this.ws?.readyState === WebSocket.OPEN && this.subscribed) {
      this.ws.send(JSON.stringify({ type: 'subscribe', topics: fresh }));
    }
  }

  setState(state) { this.state = state; this.render(); }

  render() {
    if (!this.indicator) return;
    this.indicator.className = `conn state-${this.state}`;
    this.indicator.textContent = t(`live.${this.state}`);
    this.indicator.title = this.lastSeq === null ? '' : `seq ${this.lastSeq}`;
    this.indicator.dataset.state = this.state;
  }

  connectSoon(delay) {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }

  retry(fast = false) {
    if (this.stopped) return;
    const base = fast ? 250 : Math.min(30_000, 500 * 2 ** this.attempt);
    this.attempt += 1;
    this.setState(navigator.onLine ? 'reconnecting' : 'offline');
    if (navigator.onLine) this.connectSoon(base * (0.5 + Math.random() / 2));
  }

  async connect() {
    if (this.stopped || (this.ws && this.ws.readyState <= WebSocket.OPEN)) return;
    if (!navigator.onLine) { this.setState('offline'); return; }
    this.setState(this.everSubscribed ? 'reconnecting' : 'connecting');
    let ticket;
    try {
      ticket = (await api('/api/v1/realtime/ticket', { method: 'POST' })).ticket;
    } catch (err) {
      if (err.status === 401) { this.stop(); return; }
      this.retry();
      return;
    }
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/ws`);
    this.ws = ws;
    this.subscribed = false;
    // frames: 'batch' lets the server put several messages in one frame under load, one per line (docs/realtime.md).
    ws.addEventListener('open', () => ws.send(JSON.stringify({ type: 'auth', ticket, frames: 'batch' })));
    ws.addEventListener('message', (ev) => {
      for (const line of String(ev.data).split('\n')) if (line) this.handle(ws, line);
    });
    ws.addEventListener('close', (ev) => this.closed(ws, ev));
  }

  /** Remember the largest seq seen (events, pings and 'live' all carry safe resume points). */
  see(seq) {
    if (typeof seq === 'number' && (this.lastSeq === null || seq > this.lastSeq)) this.lastSeq = seq;
  }

  /** Close a connection that has been silent for two heartbeats; the close handler resumes. */
  watch(ws) {
    clearTimeout(this.silence);
    this.silence = setTimeout(() => { if (ws === this.ws) ws.close(4999, 'silent'); }, 2 * this.heartbeat * 1000 + 2000);
  }

  handle(ws, text) {
    let msg;
    try { msg = JSON.parse(text); } catch { return; }
    this.watch(ws);
    switch (msg.type) {
      case 'welcome': {
        this.heartbeat = Number(msg.heartbeat) || 15;
        const resume = this.lastSeq !== null && this.epoch !== null;
        const first = { type: 'subscribe', topics: [...this.topics] };
        if (resume) Object.assign(first, { after: this.lastSeq, epoch: this.epoch });
        this.epoch = msg.epoch;
        if (this.lastSeq === null) this.lastSeq = msg.seq;
        ws.send(JSON.stringify(first));
        break;
      }
      case 'subscribed':
        if (!this.subscribed) {
          this.subscribed = true;
          this.attempt = 0;
          this.setState('live');
          if (msg.denied?.length) console.warn('live: topics refused', msg.denied);
        }
        break;
      case 'live':
        this.see(msg.seq);
        if (!this.everSubscribed) { this.everSubscribed = true; this.onResync?.('initial'); }
        break;
      case 'event':
        this.see(msg.seq);
        try { this.onEvent?.(msg); } catch (err) { console.warn('live: handler failed', err); }
        break;
      case 'reset':
        this.epoch = msg.epoch;
        this.lastSeq = msg.seq;
        this.onResync?.(msg.reason || 'reset');
        break;
      case 'ping':
        this.see(msg.seq);
        ws.send('{"type":"pong"}');
        break;
      case 'error':
        console.warn('live:', msg.error, msg.detail);
        break;
      default:
        break;
    }
  }

  closed(ws, ev) {
    if (ws !== this.ws) return;
    clearTimeout(this.silence);
    this.ws = null;
    this.subscribed = false;
    if (this.stopped) return;
    if (STOP_CODES.has(ev.code)) { this.setState('stopped'); return; }
    // too slow (4008), going away (1001), restart (1012), silent: come back quickly and resume; else back off.
    this.retry([4008, 1001, 1012, 4999].includes(ev.code));
  }
}
