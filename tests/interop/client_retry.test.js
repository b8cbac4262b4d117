'use strict';
// Our client's reconnection policy (build/tests/client_probe, over wsk_connect) against a Node
// http + `ws` server that answers each upgrade as the test scripts it: the category and HTTP
// status of a refusal (wsk_client_error); a 401 stops the retries by default, 503 and 429 do not;
// a policy callback overrides that both ways and sets the delay; on_reconnect gives the next
// attempt a new URL (the first server is gone) and a new header (a refreshed token); and
// wsk_client_state through connecting, open, closing, waiting and stopped.

const assert = require('assert');
const http = require('http');
const h = require('./lib/harness');
const { probe } = require('./lib/client_probe');

const { WebSocketServer } = h.peer('ws');

const t = h.suite('client_retry', { timeoutMs: 60000 });
const RETRY = ['--reconnect', '--initial-delay', '20', '--jitter', '0', '--why'];

// A server that answers the upgrades it gets with `answers` in turn, then with `rest`: an HTTP
// status with a short body, 101 (an echo), 'slow' (101 after 300 ms), or a function of the
// request giving one of those. seen: { url, headers } of every upgrade request.
async function scripted(answers = [], rest = 101) {
  const seen = [];
  const server = http.createServer((req, res) => res.writeHead(404).end());
  const wss = new WebSocketServer({ noServer: true });
  const open = (req, socket, head) => wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('message', (data, binary) => ws.send(data, { binary }));
  });
  server.on('upgrade', (req, socket, head) => {
    seen.push({ url: req.url, headers: req.headers });
    let a = answers.length ? answers.shift() : rest;
    if (typeof a === 'function') a = a(req);
    if (a === 'slow') {
      setTimeout(() => open(req, socket, head), 300);
    } else if (a === 101) {
      open(req, socket, head);
    } else {
      const body = `refused with ${a}`;
      socket.end(`HTTP/1.1 ${a} ${http.STATUS_CODES[a]}\r\nContent-Length: ${body.length}\r\n` +
                 `Connection: close\r\n\r\n${body}`);
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    port,
    url: (p = '/') => `ws://127.0.0.1:${port}${p}`,
    seen,
    close: () => new Promise((done) => {
      for (const c of wss.clients) c.terminate();
      server.closeAllConnections();
      server.close(() => done());
    }),
  };
}

const reconnects = (p) => p.lines.filter((l) => l.startsWith('reconnect'));

// fn(srv) with a scripted server, closed afterwards whatever happens.
async function serving(answers, fn, rest) {
  const srv = await scripted(answers, rest);
  try {
    await fn(srv);
  } finally {
    await srv.close();
  }
}

// The probe gave up after its first attempt: done, exit 0, no reconnection, one request seen.
async function stoppedAfterOne(p, srv) {
  await p.next(/^done$/);
  assert.strictEqual(await p.wait(), 0);
  assert.deepStrictEqual(reconnects(p), []);
  assert.strictEqual(srv.seen.length, 1);
}

t.test('401: status 401 and category refused; no retry by default', () => serving([401], async (srv) => {
  const p = probe(srv.url(), RETRY);
  await p.next(/^error -5007 server refused the upgrade: 401 Unauthorized: refused with 401$/);
  await p.next(/^why refused 401 closing$/);
  await p.next(/^close 1006 0 $/);
  await p.next(/^ended refused 1006 stopped$/);
  await stoppedAfterOne(p, srv);
}));

t.test('503 and 429 are retried by default, and the third attempt opens', () => serving([503, 429], async (srv) => {
  const p = probe(srv.url(), RETRY);
  await p.next(/^why refused 503 closing$/);
  await p.next(/^ended refused 1006 waiting$/);
  await p.next(/^reconnect 1 20$/);
  await p.next(/^state-now waiting$/);
  await p.next(/^why refused 429 closing$/);
  await p.next(/^reconnect 2 40$/);
  await p.next(/^open /);
  await p.next(/^state-now open$/);
  p.send('text after two refusals');
  await p.next(/^message text \d+ \w+ after two refusals$/);
  p.end();
  assert.strictEqual(await p.wait(), 0);
  assert.strictEqual(srv.seen.length, 3);
}));

t.test('the policy callback retries a 401 after its own delay', () => serving([401, 401], async (srv) => {
  const p = probe(srv.url(), [...RETRY, '--policy', 'delay=77']);
  await p.next(/^policy 1 refused 401 1 20$/); // the default would stop (1), the backoff says 20
  await p.next(/^reconnect 1 77$/);
  await p.next(/^policy 2 refused 401 1 40$/);
  await p.next(/^reconnect 2 77$/);
  await p.next(/^open /);
  p.end();
  assert.strictEqual(await p.wait(), 0);
}));

t.test('the policy callback stops on a 503', () => serving([503], async (srv) => {
  const p = probe(srv.url(), [...RETRY, '--policy', 'stop']);
  await p.next(/^policy 1 refused 503 0 20$/);
  await p.next(/^ended refused 1006 stopped$/);
  await stoppedAfterOne(p, srv);
}));

const tokenGate = (req) => (req.headers.authorization === 'Bearer fresh' ? 101 : 401);

t.test('on_reconnect: a new URL when the first server is gone, a new token after a 401', () => serving([], async (srv) => {
  const gone = await h.freePort();
  // Connection refused at the first URL; the second attempt goes to the new one, new token.
  const p = probe(`ws://127.0.0.1:${gone}/first`, [...RETRY, '-H', 'Authorization: Bearer stale',
    '--next-url', srv.url('/second?v=2'), '--next-header', 'Authorization: Bearer fresh']);
  await p.next(/^why network 0 closing$/);
  await p.next(/^reconnect 1 20$/);
  await p.next(/^open /);
  assert.strictEqual(srv.seen.length, 1);
  assert.strictEqual(srv.seen[0].url, '/second?v=2');
  assert.strictEqual(srv.seen[0].headers.host, `127.0.0.1:${srv.port}`);
  assert.strictEqual(srv.seen[0].headers.authorization, 'Bearer fresh');
  p.end();
  assert.strictEqual(await p.wait(), 0);

  // A stale token refused with 401: a policy that retries once the token is refreshed.
  const q = probe(srv.url('/again'), [...RETRY, '-H', 'Authorization: Bearer stale',
    '--policy', 'retry', '--next-header', 'Authorization: Bearer fresh']);
  await q.next(/^why refused 401 closing$/);
  await q.next(/^reconnect 1 20$/);
  await q.next(/^open /);
  assert.deepStrictEqual(srv.seen.slice(1).map((x) => x.headers.authorization),
                         ['Bearer stale', 'Bearer fresh']);
  q.end();
  assert.strictEqual(await q.wait(), 0);

  // A URL the client cannot use is refused; the client keeps the one it has.
  const r = probe(`ws://127.0.0.1:${gone}/`, [...RETRY, '--max-attempts', '1',
    '--next-url', 'http://127.0.0.1/']);
  await r.next(/^set-url-error not a WebSocket URL/);
  await r.next(/^why network 0 closing$/);
  await r.next(/^done$/);
  assert.strictEqual(await r.wait(), 0);
}, tokenGate));

t.test('wsk_client_state: connecting, closing, waiting, open, closing, stopped', () => serving([503, 'slow'], async (srv) => {
  const p = probe(srv.url(), RETRY);
  await p.next(/^why refused 503 closing$/); // inside on_error
  await p.next(/^ended refused 1006 waiting$/); // on_close, a retry to follow
  await p.next(/^reconnect 1 20$/);
  await p.next(/^state-now waiting$/);
  await h.sleep(100); // the attempt started; the server answers after 300 ms
  p.send('cstate');
  await p.next(/^cstate connecting$/);
  await p.next(/^open /);
  await p.next(/^state-now open$/);
  p.write('stop 1000\ncstate\n'); // one read: the state right after wsk_client_close
  await p.next(/^cstate closing$/);
  await p.next(/^close 1000 1 $/);
  await p.next(/^ended closed 1000 stopped$/);
  await p.next(/^done$/);
  assert.strictEqual(await p.wait(), 0);
}));

t.run();
