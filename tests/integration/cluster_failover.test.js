'use strict';
// Three `wsk serve --rooms --redis` nodes behind a real haproxy (scripts/cluster-haproxy.cfg, the
// configuration of `make run-cluster`) and a real redis-server, all on free loopback ports and
// stopped by PID.
// - A node killed (SIGKILL) under a stream of numbered messages: its clients reconnect through
//   haproxy to the other nodes and get every message published after they reconnected; the
//   clients that stayed connected get every message once, in order.
// - Redis killed (SIGKILL) under a publish stream and restarted on its port: no node crashes,
//   delivery across nodes resumes within a few seconds, and each node's VmRSS stays within a
//   stated ceiling over its baseline (what is not sent to Redis while it is down is dropped).
const assert = require('assert');
const L = require('./server_lib');
const C = require('./cluster_lib');

const t = L.suite('cluster_failover');
L.noQuarantine(); // (an ASan build: freed memory goes back at once, so VmRSS means what it says)
const ROOM = 'fo';
const welcome = /^node(\d)$/;

// Redis, three nodes named node1..3, haproxy in front.
async function cluster() {
  const redis = await C.redisServer(await C.freePort());
  const nodes = [];
  for (let i = 1; i <= 3; i++) nodes.push(await C.node(redis.port, `node${i}`));
  await C.until('three nodes connected to Redis', () => nodes.every(C.connected));
  const lb = await C.haproxy(await C.freePort(), nodes.map((n) => n.port));
  return { redis, nodes, lb };
}

// A client of the room through haproxy that reconnects (50 ms apart, 100 times at most) when
// its connection ends. Each connection is a session: { node, sentAtOpen, openedAt, seqs }, where
// sentAtOpen is how many messages the publisher had sent when the connection opened.
function roomClient(port, published) {
  const WebSocket = require('ws');
  const c = { sessions: [], attempts: 0, stopped: false };
  const connect = () => {
    c.attempts++;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/room/${ROOM}`);
    c.ws = ws;
    let s = null;
    ws.on('open', () => {
      s = { node: null, sentAtOpen: published(), openedAt: Date.now(), seqs: [] };
      c.sessions.push(s);
    });
    ws.on('message', (data) => {
      const text = data.toString();
      const w = welcome.exec(text);
      if (w) s.node = Number(w[1]);
      else if (/^m\d+$/.test(text)) s.seqs.push(Number(text.slice(1)));
    });
    ws.on('error', () => {});
    ws.on('close', () => {
      if (!c.stopped && c.attempts < 100) setTimeout(connect, 50);
    });
  };
  connect();
  c.current = () => c.sessions[c.sessions.length - 1];
  c.stop = () => { c.stopped = true; c.ws.close(); };
  return c;
}

// Every session: messages one after the other (no repeat, no gap, no reorder), starting at the
// latest with the first message published after the session opened, up to the last one, n - 1.
function checkSession(s, n, who) {
  assert.ok(s.seqs.length > 0, `${who}: no message`);
  s.seqs.forEach((q, i) => { if (i) assert.strictEqual(q, s.seqs[i - 1] + 1, `${who}: ${s.seqs[i - 1]} then ${q}`); });
  assert.ok(s.seqs[0] <= s.sentAtOpen, `${who}: first message m${s.seqs[0]}, but m${s.sentAtOpen} was published after it connected`);
  assert.strictEqual(s.seqs[s.seqs.length - 1], n - 1, `${who}: last message`);
}

t.test('a node killed: its 10 clients reconnect through haproxy; every client gets every message after it (re)connected, once, in order', async () => {
  const { redis, nodes, lb } = await cluster();
  let sent = 0;
  const clients = [];
  for (let i = 0; i < 30; i++) clients.push(roomClient(lb.port, () => sent));
  await C.until('30 clients with their node', () => clients.every((c) => c.sessions.length && c.current().node));
  const on = (k) => clients.filter((c) => c.sessions[0].node === k).length;
  assert.deepStrictEqual([on(1), on(2), on(3)], [10, 10, 10], 'round robin over the nodes');
  // The publisher: a client of node 1 itself (not through haproxy, so that it is not one of the
  // 30), a numbered message every 10 ms.
  const pub = await L.client(`ws://127.0.0.1:${nodes[0].port}/room/${ROOM}`);
  const timer = setInterval(() => pub.ws.send(`m${sent++}`), 10);
  await C.until('every client receiving', () => clients.every((c) => c.current().seqs.length > 5));
  const killedAt = sent;
  const killTime = Date.now();
  nodes[2].child.kill('SIGKILL');
  const victims = clients.filter((c) => c.sessions[0].node === 3);
  await C.until('the clients of node 3 back on nodes 1 and 2, receiving', () => victims.every(
    (c) => c.sessions.length >= 2 && c.current().node && c.current().node !== 3 && c.current().seqs.length > 5), 15000);
  const back = Math.max(...victims.map((c) => c.current().openedAt)) - killTime;
  await L.sleep(300);
  clearInterval(timer);
  const n = sent;
  await C.until('the last message everywhere', () => clients.every((c) => c.current().seqs.slice(-1)[0] === n - 1), 5000);
  await L.sleep(200); // (nothing more comes)
  for (const [i, c] of clients.entries()) {
    const who = `client ${i} (node ${c.sessions[0].node})`;
    if (c.sessions[0].node === 3) {
      assert.ok(c.sessions.slice(1).every((s) => s.node === 1 || s.node === 2), `${who}: ${JSON.stringify(c.sessions.map((s) => s.node))}`);
      checkSession(c.current(), n, `${who}, reconnected`);
    } else {
      assert.strictEqual(c.sessions.length, 1, `${who} stayed connected`);
      checkSession(c.sessions[0], n, who);
      assert.ok(c.sessions[0].seqs[0] < killedAt, `${who}: had messages before the kill`);
    }
  }
  await C.until('haproxy marking node 3 DOWN', () => /Server nodes\/node3 is DOWN/.test(lb.output), 5000);
  console.log(`# the ${victims.length} clients of the killed node reconnected within ${back} ms ` +
    `(${Math.max(...victims.map((c) => c.attempts))} connection attempts at most)`);
  for (const c of clients) c.stop();
  pub.ws.close();
  assert.deepStrictEqual(await nodes[2].exited, { code: null, signal: 'SIGKILL' });
  for (const x of [lb, nodes[0], nodes[1], redis]) await x.stop();
});

t.test('Redis killed under a publish stream and restarted: no node crashes, delivery resumes, VmRSS bounded', async () => {
  const CEILING = 24 << 20; // VmRSS over the baseline, bytes: 8 MiB of max_pending and slack
  const { redis, nodes, lb } = await cluster();
  const url = (k) => `ws://127.0.0.1:${nodes[k].port}/room/${ROOM}`;
  const skip = (d, bin) => L.isMembersNotice(d, bin) || welcome.test(d.toString());
  const pub = await L.client(url(0), undefined, { skip });
  const subs = [await L.client(url(1), undefined, { skip }), await L.client(url(2), undefined, { skip })];
  // 16 KB messages every 5 ms, numbered: a subscriber's stream must stay in order.
  let sent = 0;
  const body = 'z'.repeat(16384);
  const timer = setInterval(() => pub.ws.send(`${sent++} ${body}`), 5);
  const seqOf = (m) => Number(m.data.toString().split(' ')[0]);
  await C.until('messages across nodes', () => subs.every((s) => s.messages.length > 100));
  const base = nodes.map((x) => L.memory(x.child.pid).rss);
  const peak = base.slice();
  const sample = () => nodes.forEach((x, i) => { peak[i] = Math.max(peak[i], L.memory(x.child.pid).rss); });
  redis.child.kill('SIGKILL');
  await redis.exited;
  for (let i = 0; i < 40; i++) { await L.sleep(100); sample(); } // 4 s of outage under load
  const again = await C.redisServer(redis.port);
  const restartedAt = sent;
  const t0 = Date.now();
  await C.until('delivery across nodes after the restart', () => subs.every(
    (s) => s.messages.some((m) => seqOf(m) >= restartedAt)), 10000);
  const resumed = Date.now() - t0;
  for (let i = 0; i < 10; i++) { await L.sleep(100); sample(); }
  clearInterval(timer);
  const n = sent;
  await C.until('the last message on both nodes', () => subs.every((s) => s.messages.length && seqOf(s.messages[s.messages.length - 1]) === n - 1), 5000);
  for (const s of subs) {
    const seqs = s.messages.map(seqOf);
    seqs.forEach((q, i) => { if (i) assert.ok(q > seqs[i - 1], `out of order: ${seqs[i - 1]} then ${q}`); });
    // after the restart, none missing
    const k = seqs.findIndex((q) => q >= restartedAt);
    seqs.slice(k).forEach((q, i) => { if (i) assert.strictEqual(q, seqs[k + i - 1] + 1); });
  }
  assert.ok(resumed < 8000, `delivery resumed ${resumed} ms after Redis restarted`);
  for (const [i, x] of nodes.entries()) {
    assert.ok(peak[i] - base[i] < CEILING, `node ${i + 1}: VmRSS ${L.mb(base[i])} MB then ${L.mb(peak[i])} MB`);
    assert.ok(x.stderr.some((l) => /retrying/.test(l)), `node ${i + 1} saw Redis go`);
  }
  console.log(`# Redis killed for 4 s under 16 KB every 5 ms: delivery resumed ${resumed} ms after the restart; ` +
    `VmRSS ${nodes.map((x, i) => `${L.mb(base[i])} -> ${L.mb(peak[i])} MB`).join(', ')}`);
  for (const c of [pub, ...subs]) c.ws.close();
  await lb.stop();
  for (const x of nodes) assert.deepStrictEqual(await x.stop(), { code: 0, signal: null });
  await again.stop();
});
