'use strict';
// Graceful shutdown of wsk serve: on SIGTERM (and SIGINT) every WebSocket client gets a close
// frame with 1001, answers it, and the server exits 0 without waiting for the grace period.
// Also: a port already in use gives a one-line error and exit 1; bad flags give usage and exit 2.
const assert = require('assert');
const { spawnSync } = require('child_process');
const path = require('path');
const L = require('./server_lib');

const t = L.suite('server_shutdown');

for (const signal of ['SIGTERM', 'SIGINT']) {
  t.test(`${signal}: every client gets 1001, the server exits 0 promptly`, async () => {
    const srv = await L.serve(['--echo', '--quiet']);
    const clients = [];
    for (let i = 0; i < 20; i++) clients.push(await L.client(`ws://127.0.0.1:${srv.port}/`));
    clients[0].ws.send('busy');
    await clients[0].next();
    const t0 = Date.now();
    process.kill(srv.child.pid, signal);
    const closes = await Promise.all(clients.map((c) => c.closed));
    for (const r of closes) assert.strictEqual(r.code, 1001);
    const exit = await srv.exited;
    assert.deepStrictEqual(exit, { code: 0, signal: null });
    assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
  });
}

t.test('a client that never answers the close is dropped at the end of the grace period', async () => {
  const srv = await L.serve(['--echo', '--quiet']);
  const net = require('net');
  const s = net.connect(srv.port, '127.0.0.1');
  await new Promise((r) => s.on('connect', r));
  s.write(L.upgradeRequest());
  await L.sleep(100);
  s.pause(); // reads nothing more, answers nothing
  const t0 = Date.now();
  process.kill(srv.child.pid, 'SIGTERM');
  const exit = await srv.exited;
  s.destroy();
  assert.strictEqual(exit.code, 0);
  assert.ok(Date.now() - t0 >= 2500 && Date.now() - t0 < 6000, `took ${Date.now() - t0} ms`);
});

t.test('port in use: one line on stderr, exit 1; bad flags: one line, exit 2', async () => {
  const srv = await L.serve(['--quiet']);
  try {
    const wsk = path.join(L.BUILD, 'wsk');
    const r = spawnSync(wsk, ['serve', '--host', '127.0.0.1', '--port', String(srv.port)], { encoding: 'utf8', timeout: 5000 });
    assert.strictEqual(r.status, 1);
    assert.strictEqual(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /in use/i);
    for (const bad of [['--bogus'], ['--port'], ['--port', 'x'], ['--echo', '--broadcast'], ['extra']]) {
      const b = spawnSync(wsk, ['serve', ...bad], { encoding: 'utf8', timeout: 5000 });
      assert.strictEqual(b.status, 2, bad.join(' '));
      assert.match(b.stderr, /^wsk serve: [^\n]*; try 'wsk serve --help'\n$/); // one line
    }
    const help = spawnSync(wsk, ['serve', '--help'], { encoding: 'utf8' });
    assert.strictEqual(help.status, 0);
    assert.match(help.stdout, /--broadcast/);
    assert.match(spawnSync(wsk, ['--version'], { encoding: 'utf8' }).stdout, /^wsk \d+\.\d+\.\d+/);
    assert.strictEqual(spawnSync(wsk, ['--help'], { encoding: 'utf8' }).status, 0);
    assert.strictEqual(spawnSync(wsk, [], { encoding: 'utf8' }).status, 2);
  } finally {
    await srv.stop('SIGKILL');
  }
});
