'use strict';
// A Node `ws` client with a message queue: await next() instead of juggling events.

const { peer, within } = require('./harness');

const WebSocket = peer('ws');

class Peer {
  constructor(url, options) {
    this.ws = new WebSocket(url, options);
    this.queue = [];
    this.waiting = null;
    this.pongs = [];
    this.ws.on('message', (data, isBinary) => this.push({ data, isBinary }));
    this.ws.on('pong', (data) => this.pongs.push(data));
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
      this.ws.once('unexpected-response', (req, res) => {
        reject(new Error(`unexpected HTTP ${res.statusCode} to the upgrade`));
        res.resume();
      });
    });
    this.opened.catch(() => {});
    this.closed = new Promise((resolve) => {
      this.ws.addEventListener('close', (ev) => resolve({ code: ev.code, reason: ev.reason, wasClean: ev.wasClean }));
    });
    this.ws.on('error', () => {}); // surfaced through opened/closed
  }

  push(msg) {
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w(msg);
    } else {
      this.queue.push(msg);
    }
  }

  // The next message ({ data: Buffer, isBinary }), within ms.
  next(ms = 5000) {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    return within(ms, 'a WebSocket message', new Promise((resolve) => { this.waiting = resolve; }))
      .finally(() => { this.waiting = null; });
  }

  async nextText(ms) {
    const m = await this.next(ms);
    if (m.isBinary) throw new Error(`expected a text message, got binary (${m.data.length} bytes)`);
    return m.data.toString('utf8');
  }

  send(data, opts = {}) {
    return new Promise((resolve, reject) => this.ws.send(data, opts, (e) => (e ? reject(e) : resolve())));
  }

  close(code, reason) {
    this.ws.close(code, reason);
    return within(5000, 'the close handshake', this.closed);
  }

  terminate() {
    this.ws.terminate();
  }
}

async function connect(url, options) {
  const p = new Peer(url, options);
  await within(5000, `connecting to ${url}`, p.opened);
  return p;
}

module.exports = { WebSocket, Peer, connect };
