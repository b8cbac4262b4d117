'use strict';
// The robustness options of wsk serve: --handshake-timeout, --idle-timeout, --close-timeout,
// --ping-interval (dead-peer detection) and --max-connections, each against a raw peer that
// misbehaves, next to a well-behaved ws client that must not be disturbed.
const assert = require('assert');
const net = require('net');
const L = require('./server_lib');

const t = L.suite('serve_options', { timeoutMs: 60000 });

async function withServe(args, fn) {
  const srv = await L.serve(['--echo', '--quiet', ...args]);
  try {
    await fn(srv);
  } finally {
    await srv.stop('SIGKILL');
  }
}

// A raw connection that sends `data`; resolves { buf(), ended: ms from connect to close }.
async function rawPeer(port, data) {
  const s = net.connect(port, '127.0.0.1');
  const chunks = [];
  s.on('data', (d) => chunks.push(d));
  s.on('error', () => {});
  await new Promise((r) => s.on('connect', r));
  const t0 = Date.now();
  const ended = new Promise((r) => s.on('close', () => r(Date.now() - t0)));
  s.write(data);
  return { s, buf: () => Buffer.concat(chunks), ended };
}

const between = (dt, lo, hi, what) => assert.ok(dt >= lo && dt < hi, `${what} after ${dt} ms`);

t.test('--handshake-timeout: an unfinished request head is dropped, nothing answered', () =>
  withServe(['--handshake-timeout', '300'], async (srv) => {
    const p = await rawPeer(srv.port, 'GET / HTTP/1.1\r\nHost: x\r\n');
    between(await p.ended, 250, 5000, 'dropped');
    assert.strictEqual(p.buf().length, 0);
  }));

t.test('--idle-timeout and --close-timeout: a silent WebSocket gets 1001, then is dropped', () =>
  withServe(['--idle-timeout', '300', '--close-timeout', '300'], async (srv) => {
    const live = await L.client(`ws://127.0.0.1:${srv.port}/`);
    live.closed.then((r) => { live.closedWith = r; });
    const keep = setInterval(() => live.ws.send('keep'), 100); // activity keeps this one open
    const p = await rawPeer(srv.port, L.upgradeRequest());
    const t0 = Date.now();
    for (let i = 0; i < 500 && !(L.framesAfter101(p.buf()) || []).length; i++) await L.sleep(10);
    const [close] = L.framesAfter101(p.buf());
    assert.strictEqual(close.opcode, 8);
    assert.strictEqual(close.payload.readUInt16BE(0), 1001);
    between(Date.now() - t0, 200, 5000, 'the idle close');
    between(await p.ended, 500, 6000, 'the unanswered close dropped');
    clearInterval(keep);
    assert.strictEqual(live.ws.readyState, 1, `the active client stays (${JSON.stringify(live.closedWith)})`);
    live.ws.close(1000);
    await live.closed;
  }));

t.test('--ping-interval: a peer that never answers pings is dropped; a ws client stays', () =>
  withServe(['--ping-interval', '200'], async (srv) => {
    const live = await L.client(`ws://127.0.0.1:${srv.port}/`);
    const p = await rawPeer(srv.port, L.upgradeRequest());
    between(await p.ended, 150, 5000, 'dropped');
    const frames = L.framesAfter101(p.buf());
    assert.ok(frames.length >= 1 && frames.every((f) => f.opcode === 9), 'pings, no close frame');
    await L.sleep(500);
    live.ws.send('alive');
    assert.strictEqual((await live.next()).data.toString(), 'alive');
    live.ws.close(1000);
    await live.closed;
  }));

t.test('--max-connections: over it, 503 to an upgrade and to plain HTTP', () =>
  withServe(['--max-connections', '1'], async (srv) => {
    const one = await L.client(`ws://127.0.0.1:${srv.port}/`);
    const [up] = L.responses(await L.raw(srv.port, L.upgradeRequest()));
    assert.strictEqual(up.status, 503);
    const [get] = L.responses(await L.raw(srv.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    assert.strictEqual(get.status, 503);
    one.ws.close(1000);
    await one.closed;
  }));

t.test('bad option values are refused with the usage', async () => {
  for (const args of [['--idle-timeout', '-1'], ['--ping-interval', 'soon'], ['--send-limit', '0'],
    ['--max-connections', 'many'], ['--handshake-timeout', '99999999999']]) {
    const r = require('child_process').spawnSync(`${L.BUILD}/wsk`, ['serve', ...args], { encoding: 'utf8', timeout: 5000 });
    assert.strictEqual(r.status, 2, args.join(' '));
    assert.match(r.stderr, new RegExp(`bad ${args[0]} '`));
  }
});
