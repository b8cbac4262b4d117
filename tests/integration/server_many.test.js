'use strict';
// 1000 concurrent WebSocket connections to one wsk serve --echo, every one exchanging messages at
// the same time, then a broadcast server fanning one message out to all of them. The open-files
// limit is raised first when it is too low for 1000 sockets on each side.
const assert = require('assert');
const { spawnSync } = require('child_process');
const L = require('./server_lib');

const N = 1000;
if (!process.env.WSK_NOFILE_RAISED) {
  const r = spawnSync('bash', ['-c', 'ulimit -n 4096 2>/dev/null || ulimit -n "$(ulimit -Hn)"; exec "$0" "$1"',
    process.execPath, __filename], { stdio: 'inherit', env: { ...process.env, WSK_NOFILE_RAISED: '1' } });
  process.exit(r.status === null ? 1 : r.status);
}

const t = L.suite('server_many', { timeoutMs: 180000 });

async function openMany(port, n) {
  const out = [];
  for (let i = 0; i < n; i += 100) {
    const batch = [];
    for (let k = i; k < Math.min(n, i + 100); k++) batch.push(L.client(`ws://127.0.0.1:${port}/`));
    out.push(...await Promise.all(batch));
  }
  return out;
}

t.test(`${N} connections each echo 10 messages concurrently`, async () => {
  const srv = await L.serve(['--echo', '--quiet']);
  try {
    const clients = await openMany(srv.port, N);
    await Promise.all(clients.map(async (c, i) => {
      for (let k = 0; k < 10; k++) c.ws.send(`m ${i} ${k}`);
      for (let k = 0; k < 10; k++) assert.strictEqual((await c.next(20000)).data.toString(), `m ${i} ${k}`);
    }));
    for (const c of clients) c.ws.close(1000);
    const closes = await Promise.all(clients.map((c) => c.closed));
    assert.ok(closes.every((r) => r.code === 1000));
  } finally {
    await srv.stop('SIGKILL');
  }
});

t.test(`one message broadcast to ${N - 1} others, then SIGTERM closes all with 1001`, async () => {
  const srv = await L.serve(['--broadcast', '--quiet']);
  try {
    const clients = await openMany(srv.port, N);
    clients[0].ws.send('to everyone');
    await Promise.all(clients.slice(1).map(async (c) => {
      assert.strictEqual((await c.next(20000)).data.toString(), 'to everyone');
    }));
    process.kill(srv.child.pid, 'SIGTERM');
    const closes = await Promise.all(clients.map((c) => c.closed));
    assert.ok(closes.every((r) => r.code === 1001), 'all got 1001');
    assert.strictEqual((await srv.exited).code, 0);
  } finally {
    await srv.stop('SIGKILL');
  }
});
