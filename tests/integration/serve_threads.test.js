'use strict';
// wsk serve --threads N: N threads (one loop and one server each) share the port through
// SO_REUSEPORT. Clients spread over the threads and are echoed; text lines are printed whole;
// SIGTERM closes every client with 1001 from whichever thread holds it and the process exits 0;
// a second signal stops at once; bad values are usage errors. The servers of the threads share a
// hub: --broadcast and --rooms reach the clients of every thread, and the member counts that
// --rooms sends to a room count the members of every thread.
const assert = require('assert');
const fs = require('fs');
const { spawnSync } = require('child_process');
const path = require('path');
const L = require('./server_lib');

const t = L.suite('serve_threads');
const wsk = path.join(L.BUILD, 'wsk');

// (ThreadSanitizer's runtime adds a thread of its own: make tsan says so in WSK_EXTRA_THREADS.)
const threadsOf = (pid) =>
  fs.readdirSync(`/proc/${pid}/task`).length - Number(process.env.WSK_EXTRA_THREADS || 0);

t.test('--threads 3: three threads, 60 clients echoed, whole lines, 1001 to all on SIGTERM', async () => {
  const srv = await L.serve(['--echo', '--threads', '3']);
  assert.ok(srv.stderr.some((l) => /3 threads share the port/.test(l)), srv.stderr.join('\n'));
  assert.strictEqual(threadsOf(srv.child.pid), 3);
  const clients = [];
  for (let i = 0; i < 60; i++) clients.push(await L.client(`ws://127.0.0.1:${srv.port}/`));
  const line = (i) => `client ${i} says ${'x'.repeat(200 + i)}`;
  await Promise.all(clients.map(async (c, i) => {
    for (let k = 0; k < 5; k++) {
      c.ws.send(line(i));
      const m = await c.next();
      assert.strictEqual(m.data.toString(), line(i));
    }
    c.ws.send(Buffer.from([i, 0, 255]));
    const b = await c.next();
    assert.ok(b.isBinary && b.data.equals(Buffer.from([i, 0, 255])));
  }));
  await srv.waitStdout(line(59));
  const printed = srv.stdout.filter((l) => l.startsWith('client '));
  assert.strictEqual(printed.length, 300);
  for (const l of printed) assert.match(l, /^client (\d+) says x+$/); // never two lines mixed
  process.kill(srv.child.pid, 'SIGTERM');
  const closes = await Promise.all(clients.map((c) => c.closed));
  for (const r of closes) assert.strictEqual(r.code, 1001);
  assert.deepStrictEqual(await srv.exited, { code: 0, signal: null });
});

t.test('--threads 2: a second SIGTERM stops without waiting for a silent client', async () => {
  const srv = await L.serve(['--echo', '--quiet', '--threads', '2']);
  const net = require('net');
  const socks = [];
  for (let i = 0; i < 8; i++) { // some land on each thread; none answers the close
    const s = net.connect(srv.port, '127.0.0.1');
    await new Promise((r) => s.on('connect', r));
    s.write(L.upgradeRequest());
    s.got = Buffer.alloc(0);
    s.on('data', (d) => { s.got = Buffer.concat([s.got, d]); });
    socks.push(s);
  }
  await L.sleep(200);
  process.kill(srv.child.pid, 'SIGTERM');
  // The second SIGTERM goes only once the first was acted on (every client holds its close 1001):
  // two signals still pending together are one signal to the kernel.
  const hasClose1001 = (b) => b.some((x, i) => x === 0x88 && b[i + 2] === 0x03 && b[i + 3] === 0xe9);
  for (let waited = 0; !socks.every((s) => hasClose1001(s.got)); waited += 20) {
    assert.ok(waited < 5000, 'every client gets close 1001 after the first SIGTERM');
    await L.sleep(20);
  }
  const t0 = Date.now();
  process.kill(srv.child.pid, 'SIGTERM');
  const exit = await srv.exited;
  for (const s of socks) s.destroy();
  assert.strictEqual(exit.code, 0);
  assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms (the grace period is 3 s)`);
});

/* --rooms: the member notices a client got. */
const isNotice = (m) => m.data.toString().startsWith('{"type":"members"');
const notices = (c) => c.messages.filter(isNotice).map((m) => JSON.parse(m.data.toString()));

/* Wait until the last notice of each client (where `which(i)`) counts `want(i)` (fail after 10 s). */
async function waitCounts(clients, want, which = () => true) {
  const last = (c) => notices(c).map((n) => n.count).pop();
  const wrong = () => clients.map((c, i) => which(i) && last(c) !== want(i) && `${i}: ${last(c)} not ${want(i)}`)
    .filter(Boolean);
  for (let waited = 0; wrong().length; waited += 20) {
    assert.ok(waited < 10000, `member counts: ${wrong().join(', ')}`);
    await L.sleep(20);
  }
}

/* Wait until every client has `count(i)` messages (those that pass `keep`; or fail after 10 s). */
async function collect(clients, count, keep = () => true) {
  const kept = (c) => c.messages.filter(keep);
  for (let waited = 0; clients.some((c, i) => kept(c).length < count(i)); waited += 20) {
    assert.ok(waited < 10000, `messages: ${clients.map((c) => kept(c).length).join(' ')}`);
    await L.sleep(20);
  }
  await L.sleep(200); /* nothing more may come */
  return clients.map((c) => kept(c).map((m) => m.data.toString()).sort());
}

t.test('--broadcast --threads 3: 60 clients, every message reaches the 59 others, whichever thread holds them', async () => {
  const srv = await L.serve(['--broadcast', '--quiet', '--threads', '3']);
  const clients = [];
  for (let i = 0; i < 60; i++) clients.push(await L.client(`ws://127.0.0.1:${srv.port}/`));
  await L.sleep(200); /* every on_open (the subscription) has run on its thread */
  clients.forEach((c, i) => c.ws.send(`from ${i}`));
  const got = await collect(clients, () => 59);
  got.forEach((msgs, i) => {
    const want = [];
    for (let k = 0; k < 60; k++) if (k !== i) want.push(`from ${k}`);
    assert.deepStrictEqual(msgs, want.sort(), `client ${i}`);
  });
  for (const c of clients) c.ws.terminate();
  process.kill(srv.child.pid, 'SIGTERM');
  assert.strictEqual((await srv.exited).code, 0);
});

t.test('--rooms --threads 2: a message reaches the others in its room (the URL path), on every thread; member counts', async () => {
  const srv = await L.serve(['--rooms', '--quiet', '--threads', '2', '--welcome', 'hi']);
  const rooms = ['/room/red', '/room/red', '/room/red', '/room/blue', '/room/blue', '/', '/room/red',
    '/room/blue', '/elsewhere', '/room/red'];
  const name = (r) => r.replace(/^\/room\//, '');
  const clients = [];
  for (const r of rooms) clients.push(await L.client(`ws://127.0.0.1:${srv.port}${r}`));
  await collect(clients, () => 1); /* the welcome, before any member count */
  for (const c of clients) assert.strictEqual(c.messages[0].data.toString(), 'hi');
  // Each member's last notice has its room's size, counted over both threads.
  const size = (i, present = () => true) => rooms.filter((r, k) => r === rooms[i] && present(k)).length;
  await waitCounts(clients, (i) => size(i));
  clients.forEach((c, i) => {
    for (const n of notices(c)) assert.deepStrictEqual(Object.keys(n), ['type', 'room', 'count']);
    assert.ok(notices(c).every((n) => n.room === name(rooms[i])), `client ${i}: ${JSON.stringify(notices(c))}`);
  });
  clients.forEach((c, i) => c.ws.send(`${rooms[i]} ${i}`));
  const mates = (i) => rooms.map((r, k) => k).filter((k) => k !== i && rooms[k] === rooms[i]);
  const got = await collect(clients, (i) => 1 + mates(i).length, (m) => !isNotice(m));
  got.forEach((msgs, i) => {
    assert.deepStrictEqual(msgs, [...mates(i).map((k) => `${rooms[k]} ${k}`), 'hi'].sort(), `client ${i}`);
  });
  // Two of red leave (one per thread, most likely): the members left hear it.
  const gone = new Set([0, 1]);
  for (const k of gone) clients[k].ws.terminate();
  await waitCounts(clients, (i) => size(i, (k) => !gone.has(k)), (i) => !gone.has(i) && rooms[i] === rooms[0]);
  // A room name goes into the notices, which are text: it must be UTF-8 (and not too long).
  for (const [room, status] of [['/room/%FF', 400], [`/room/${'x'.repeat(257)}`, 414]]) {
    const [r] = L.responses(await L.raw(srv.port, L.upgradeRequest({ path: room }),
      { until: (b) => L.responses(b).length === 1 }));
    assert.strictEqual(r.status, status, room);
  }
  for (const c of clients) c.ws.terminate();
  process.kill(srv.child.pid, 'SIGTERM');
  assert.strictEqual((await srv.exited).code, 0);
});

t.test('bad --threads values, --rooms with --echo or --broadcast: one line, exit 2', async () => {
  for (const bad of [['--threads', '0'], ['--threads', 'x'], ['--threads', '257'], ['--threads'],
    ['--rooms', '--echo'], ['--broadcast', '--rooms']]) {
    const r = spawnSync(wsk, ['serve', '--port', '0', ...bad], { encoding: 'utf8', timeout: 5000 });
    assert.strictEqual(r.status, 2, bad.join(' '));
    assert.match(r.stderr, /^wsk serve: [^\n]*; try 'wsk serve --help'\n$/); // one line
  }
});
