'use strict';
// permessage-deflate with headless Chromium, which offers it by default
// ("permessage-deflate; client_max_window_bits"): against `wsk serve --echo --deflate` (and with
// no context takeover and 9-bit windows), the page checks that the extension was negotiated
// (WebSocket.extensions), gets the welcome, and has text and binary messages of several sizes up to
// 1 MiB echoed. The browser talks to the server through a counting TCP relay, so that the test sees
// that both directions were really compressed.

const assert = require('assert');
const net = require('net');
const h = require('./lib/harness');

const WELCOME = 'Welcome, compressed \u2713';
const t = h.suite('deflate_browser', { timeoutMs: 120000 });
let browser;

// A TCP relay to 127.0.0.1:port that counts the bytes each way.
function relay(port) {
  const counts = { up: 0, down: 0 };
  const sockets = new Set();
  const server = net.createServer((c) => {
    const s = net.connect(port, '127.0.0.1');
    for (const x of [c, s]) {
      sockets.add(x);
      x.on('error', () => {});
      x.on('close', () => { c.destroy(); s.destroy(); });
    }
    c.on('data', (d) => { counts.up += d.length; });
    s.on('data', (d) => { counts.down += d.length; });
    c.pipe(s);
    s.pipe(c);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    port: server.address().port,
    counts,
    close: () => new Promise((done) => {
      for (const x of sockets) x.destroy();
      server.close(() => done());
    }),
  })));
}

// In the page: open the socket, wait for the welcome, echo every message, report.
async function pageExchange(page, url, sizes) {
  return page.evaluate(async ({ url, sizes }) => {
    const make = (kind, n) => {
      if (kind === 'text') return 'abcdefghijklmnopqrstuvwxyz\u00e9\u2713'.repeat(Math.ceil(n / 28)).slice(0, n);
      const b = new Uint8Array(n);
      for (let i = 0; kind === 'random' && i < n; i += 65536) {
        crypto.getRandomValues(b.subarray(i, i + 65536));
      }
      return b.buffer;
    };
    const same = (a, b) => {
      if (typeof a === 'string') return a === b;
      const x = new Uint8Array(a);
      const y = new Uint8Array(b);
      return x.length === y.length && x.every((v, i) => v === y[i]);
    };
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    const queue = [];
    let wake = null;
    ws.onmessage = (ev) => {
      queue.push(ev.data);
      if (wake) wake();
    };
    const next = async () => {
      while (!queue.length) await new Promise((r) => { wake = r; });
      return queue.shift();
    };
    await new Promise((resolve, reject) => {
      ws.onopen = resolve;
      ws.onerror = () => reject(new Error('WebSocket error before open'));
    });
    const out = { extensions: ws.extensions, welcome: await next(), failures: [] };
    for (const n of sizes) {
      for (const kind of ['text', 'random', 'zeros']) {
        const data = make(kind, n);
        ws.send(data);
        const back = await next();
        if (!same(data, back)) out.failures.push(`${kind} ${n}`);
      }
    }
    ws.close(1000);
    out.close = await new Promise((resolve) => { ws.onclose = (ev) => resolve([ev.code, ev.wasClean]); });
    return out;
  }, { url, sizes });
}

t.test('launch headless Chromium', async () => {
  browser = await h.chromium();
});

const CONFIGS = [
  { args: ['--deflate'], answer: 'permessage-deflate' },
  { args: ['--deflate-no-context-takeover', '--deflate-window', '9'],
    answer: 'permessage-deflate; server_no_context_takeover; client_no_context_takeover; ' +
            'client_max_window_bits=9' },
];

for (const cfg of CONFIGS) {
  t.test(`Chromium <-> wsk serve --echo ${cfg.args.join(' ')}`, async () => {
    const srv = await h.startWsk(['--echo', '--quiet', '--welcome', WELCOME, ...cfg.args]);
    const r = await relay(srv.port);
    const page = await browser.newPage();
    try {
      const sizes = [0, 1, 1000, 100000, 1024 * 1024];
      const out = await pageExchange(page, `ws://127.0.0.1:${r.port}/`, sizes);
      assert.strictEqual(out.extensions, cfg.answer);
      assert.strictEqual(out.welcome, WELCOME);
      assert.deepStrictEqual(out.failures, []);
      assert.deepStrictEqual(out.close, [1000, true]);
      // Random bytes do not compress: about 1.1 MiB each way; the text and zeros must have
      // shrunk to a small fraction of their 2.2 MiB.
      const random = sizes.reduce((a, b) => a + b, 0);
      console.log(`# relayed ${r.counts.up} bytes up, ${r.counts.down} down for ${3 * random} ` +
                  'bytes of messages each way');
      for (const dir of ['up', 'down']) {
        assert.ok(r.counts[dir] < random + 200000,
                  `${dir}: ${r.counts[dir]} bytes crossed for ${3 * random} bytes of messages`);
      }
    } finally {
      await page.close();
      await r.close();
      assert.strictEqual((await srv.proc.stop('SIGTERM')).code, 0);
    }
  });
}

t.after(async () => {
  if (browser) await browser.close();
});

t.run();
