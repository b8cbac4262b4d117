'use strict';
// Our client (build/tests/client_probe, over wsk_connect) against Node's `ws` server, a peer we did
// not write: handshake with subprotocols, custom headers, Origin and a response header; text,
// binary and 16 MiB messages both ways; fragmented messages from the server; pings both ways; close
// codes both ways; a refused upgrade (401 with a body); a server that dies mid-message; DNS names
// and an [IPv6] literal; and reconnection with backoff against a server that goes away and comes
// back on the same port, with messages queued meanwhile.

const assert = require('assert');
const http = require('http');
const h = require('./lib/harness');
const { probe, fnv, pattern } = require('./lib/client_probe');
const { startServer } = require('./lib/ws_server');

const t = h.suite('client_ws', { timeoutMs: 120000 });

let srv;
let base;
t.test('setup: ws server', async () => {
  srv = await startServer();
  base = `ws://127.0.0.1:${srv.port}`;
});

t.test('handshake: subprotocol chosen, custom header, Origin, response header in on_open', async () => {
  const p = probe(`${base}/private/info?x=1&y=%20`, ['--protocol', 'chat.v1', '--protocol', 'chat.v2',
    '-H', 'X-Token: secret', '--origin', 'http://example.test',
    '--response-header', 'X-Server', '--response-header', 'sec-websocket-protocol',
    '--response-header', 'X-Absent']);
  await p.next(/^open proto=chat\.v2 X-Server=ws-test sec-websocket-protocol=chat\.v2 X-Absent=-$/);
  const m = await p.next(/^message text \d+ \w+ (.*)$/);
  const full = srv.seen.requests[srv.seen.requests.length - 1];
  assert.strictEqual(full.headers.origin, 'http://example.test');
  assert.strictEqual(full.headers['x-token'], 'secret');
  assert.strictEqual(full.headers['sec-websocket-protocol'], 'chat.v1, chat.v2');
  assert.strictEqual(full.url, '/private/info?x=1&y=%20');
  assert.strictEqual(full.headers.host, `127.0.0.1:${srv.port}`);
  assert.ok(m[1].startsWith('{"origin":"http://example.test"'), m[1]);
  p.end();
  await p.next(/^close 1006 0/);
  assert.strictEqual(await p.wait(), 0);
});

t.test('no subprotocol when none offered; server ignores an unknown offer', async () => {
  const p = probe(`${base}/echo`, ['--protocol', 'other']);
  await p.next(/^open proto=$/);
  p.send('stop 1000');
  await p.next(/^close 1000 1/);
  await p.next(/^done$/);
  assert.strictEqual(await p.wait(), 0);
});

t.test('text and binary echo, empty messages, UTF-8', async () => {
  const p = probe(`${base}/echo`);
  await p.next(/^open/);
  p.send('text h\u00e9llo \u2713');
  p.send('binary 00ff10');
  p.send('binary ');
  p.send('text ');
  const text = Buffer.from('h\u00e9llo \u2713');
  await p.next(new RegExp(`^message text ${text.length} ${fnv(text)} h\u00e9llo \u2713$`));
  await p.next(/^message binary 3 \w+ 00ff10$/);
  await p.next(/^message binary 0 811c9dc5 $/);
  await p.next(/^message text 0 811c9dc5 $/);
  p.send('stop 1000');
  await p.next(/^close 1000 1/);
  assert.strictEqual(await p.wait(), 0);
});

t.test('16 MiB text and binary messages both ways', async () => {
  const p = probe(`${base}/echo`);
  await p.next(/^open/);
  const n = 16 * 1024 * 1024;
  p.send(`big binary ${n}`);
  await p.next(new RegExp(`^message binary ${n} ${fnv(pattern('binary', n))} `), 60000);
  p.send(`big text ${n}`);
  await p.next(new RegExp(`^message text ${n} ${fnv(pattern('text', n))} abcdef`), 60000);
  p.send('stop 1000');
  await p.next(/^close 1000 1/);
  assert.strictEqual(await p.wait(), 0);
});

t.test('over max_message from the server: close 1009', async () => {
  const p = probe(`${base}/echo`, ['--max-message', '1000']);
  await p.next(/^open/);
  p.send('big binary 1001');
  await p.next(/^error -5003 /);
  await p.next(/^close 1006 0/);
  assert.strictEqual(await p.wait(), 0);
  await h.sleep(100);
  assert.strictEqual(srv.seen.closes[srv.seen.closes.length - 1].code, 1009);
});

t.test('fragmented messages from the server are reassembled', async () => {
  const p = probe(`${base}/frag`);
  await p.next(/^open/);
  await p.next(/^message text 23 \w+ hello, fragmented world$/);
  await p.next(/^message binary 5 \w+ 0102030405$/);
  p.end();
  assert.strictEqual(await p.wait(), 0);
});

t.test('ping from the server is answered; ping from the client gets its pong', async () => {
  const p = probe(`${base}/ping`);
  await p.next(/^open/);
  await p.next(/^ping are you there$/);
  await p.next(/^message text 22 \w+ got pong are you there$/);
  p.send('ping abc');
  await p.next(/^pong abc$/);
  p.end();
  assert.strictEqual(await p.wait(), 0);
});

t.test('close codes: the client closes with 4001, the server with 4000', async () => {
  let p = probe(`${base}/echo`);
  await p.next(/^open/);
  p.send('close 4001 client says bye');
  await p.next(/^close 4001 1 client says bye$/);
  await p.next(/^done$/);
  assert.strictEqual(await p.wait(), 0);
  await h.sleep(100);
  assert.deepStrictEqual(srv.seen.closes[srv.seen.closes.length - 1],
                         { code: 4001, reason: 'client says bye' });
  p = probe(`${base}/close4000`);
  await p.next(/^open/);
  await p.next(/^close 4000 1 server says bye$/);
  await p.next(/^done$/);
  assert.strictEqual(await p.wait(), 0);
});

t.test('refused upgrade: 401 with its body in the error', async () => {
  const p = probe(`${base}/private/info`, ['-H', 'X-Token: wrong']);
  const m = await p.next(/^error (-\d+) (.*)$/);
  assert.strictEqual(Number(m[1]), -5007);
  assert.strictEqual(m[2], 'server refused the upgrade: 401 Unauthorized: token missing or wrong');
  await p.next(/^close 1006 0/);
  await p.next(/^done$/);
  assert.strictEqual(await p.wait(), 0);
});

t.test('server dying mid-message: 1006, no message', async () => {
  const p = probe(`${base}/die`);
  await p.next(/^open/);
  await p.next(/^close 1006 0 $/);
  await p.next(/^done$/);
  assert.ok(!p.lines.some((l) => l.startsWith('message')), p.lines.join('\n'));
  assert.strictEqual(await p.wait(), 0);
});

t.test('host name (DNS through getaddrinfo_a) and an [IPv6] literal', async () => {
  let p = probe(`ws://localhost:${srv.port}/echo`);
  await p.next(/^open/);
  p.send('text via dns');
  await p.next(/^message text 7 \w+ via dns$/);
  p.end();
  assert.strictEqual(await p.wait(), 0);
  const v6 = await startServer({ host: '::1' });
  try {
    p = probe(`ws://[::1]:${v6.port}/echo`);
    await p.next(/^open/);
    p.send('text via v6');
    await p.next(/^message text 6 \w+ via v6$/);
    p.end();
    assert.strictEqual(await p.wait(), 0);
    assert.strictEqual(v6.seen.requests[0].headers.host, `[::1]:${v6.port}`);
  } finally {
    await v6.close();
  }
});

t.test('reconnection with backoff against a server that restarts; queued messages', async () => {
  const port = await h.freePort();
  let s = await startServer({ port });
  const p = probe(`ws://127.0.0.1:${port}/echo`, ['--reconnect', '--initial-delay', '100',
    '--max-delay', '400', '--jitter', '0', '--queue', '100000']);
  await p.next(/^open/);
  p.send('text before');
  await p.next(/^message text 6 \w+ before$/);
  await s.close();
  await p.next(/^close 1006 0/);
  await p.next(/^reconnect 1 100$/);
  p.send('text queued one');
  p.send('text queued two');
  await p.next(/^error -5008 connect to 127\.0\.0\.1:\d+: Connection refused$/);
  await p.next(/^reconnect 2 200$/);
  await p.next(/^reconnect 3 400$/);
  await p.next(/^reconnect 4 400$/); // capped
  s = await startServer({ port });
  await p.next(/^open/, 5000);
  await p.next(/^message text 10 \w+ queued one$/);
  await p.next(/^message text 10 \w+ queued two$/);
  p.send('state');
  await p.next(/^state open=1 reconnecting=0$/);
  p.send('stop 1000');
  await p.next(/^close 1000 1/);
  await p.next(/^done$/);
  assert.strictEqual(await p.wait(), 0);
  await s.close();
});

t.test('reconnection gives up after max_attempts', async () => {
  const port = await h.freePort();
  const p = probe(`ws://127.0.0.1:${port}/`, ['--reconnect', '--initial-delay', '20',
    '--max-attempts', '2', '--jitter', '0']);
  await p.next(/^error -5008 connect to .*refused/);
  await p.next(/^close 1006 0/);
  await p.next(/^reconnect 1 20$/);
  await p.next(/^reconnect 2 40$/);
  await p.next(/^done$/);
  assert.strictEqual(p.lines.filter((l) => l.startsWith('error')).length, 3);
  assert.strictEqual(await p.wait(), 0);
});

t.after(async () => { if (srv) await srv.close(); });
t.run();
