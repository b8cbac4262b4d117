'use strict';
// wsk serve --rooms --redis with --threads 3 on two nodes: the first thread of each node talks to
// Redis for all three (the hub's bridge). Clients spread over the threads (SO_REUSEPORT; the test
// reads which thread holds each connection from /proc). Messages sent by clients on every thread
// of node 1 reach every other member of the room on both nodes exactly once and in order, never
// their sender; a room's channel is subscribed in Redis while any thread of the node has a member
// and unsubscribed when the last member on the last thread leaves; the member count of --rooms
// stays the node's own. Also run by `make tsan`.
const assert = require('assert');
const fs = require('fs');
const L = require('./server_lib');
const { client, freePort, redisServer, numsub, channels, until, connected, node } = require('./redis_lib');

const t = L.suite('serve_redis_threads');
// The threads are told apart by their epoll descriptors (below): io_uring's fdinfo does not list
// the descriptors it polls, so the nodes use epoll even in the io_uring pass of the suite.
process.env.WSK_LOOP_BACKEND = 'epoll';

// Which thread of a wsk process holds each TCP connection: each thread's loop has its own epoll,
// whose /proc/PID/fdinfo lists the descriptors it watches; /proc/net/tcp gives each socket's peer
// port. Returns one Set of peer ports per loop.
function loopsOf(pid) {
  const peerOf = new Map(); // socket inode -> peer port
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length > 9) peerOf.set(f[9], parseInt(f[2].split(':')[1], 16));
  }
  const link = (fd) => { try { return fs.readlinkSync(`/proc/${pid}/fd/${fd}`); } catch (e) { return ''; } };
  const loops = [];
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    if (link(fd) !== 'anon_inode:[eventpoll]') continue;
    const peers = new Set();
    const info = fs.readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
    for (const m of info.matchAll(/tfd:\s*(\d+)/g)) {
      const inode = /^socket:\[(\d+)\]$/.exec(link(m[1]));
      if (inode && peerOf.has(inode[1])) peers.add(peerOf.get(inode[1]));
    }
    loops.push(peers);
  }
  return loops;
}

// The clients of a node grouped by the thread that holds them; the bridge's thread (the one with
// the connections to Redis) first.
function byThread(n, clients, redisPort) {
  const loops = loopsOf(n.child.pid);
  assert.strictEqual(loops.length, 3);
  loops.sort((a, b) => Number(b.has(redisPort)) - Number(a.has(redisPort)));
  assert.ok(loops[0].has(redisPort) && !loops[1].has(redisPort) && !loops[2].has(redisPort));
  return loops.map((peers) => clients.filter((c) => peers.has(c.ws._socket.localPort)));
}

const PER_NODE = 36; // 3 * (2/3)^36: about 1e-6 that a thread gets none of them
const SENT = 100;

t.test('--threads 3 on two nodes: every thread of node 1 sends, every other member gets each message once, in order', async () => {
  const redis = await redisServer(await freePort());
  const nodes = [await node(redis.port, 'th1:', '--threads', '3'), await node(redis.port, 'th1:', '--threads', '3')];
  await until('two connected nodes', () => nodes.every(connected));
  const members = [[], []];
  for (let n = 0; n < 2; n++) {
    for (let i = 0; i < PER_NODE; i++) members[n].push(await client(`ws://127.0.0.1:${nodes[n].port}/room/hall`));
  }
  const threads = byThread(nodes[0], members[0], redis.port);
  for (let n = 0; n < 2; n++) {
    const counts = byThread(nodes[n], members[n], redis.port).map((list) => list.length);
    assert.ok(counts.every((k) => k > 0), `node ${n + 1}: members per thread ${counts}`);
    console.log(`# node ${n + 1}: members per thread (bridge first) ${counts}`);
  }
  await until('both nodes subscribed to th1:hall', () => numsub(redis.port, 'th1:hall') === 2);
  const senders = threads.map((list) => list[0]); // one on each thread of node 1
  for (let i = 0; i < SENT; i++) senders.forEach((s, k) => s.ws.send(`s${k}:${i}`));
  const everyone = [...members[0], ...members[1]];
  await Promise.all(everyone.map(async (c) => {
    const own = senders.indexOf(c);
    const next = senders.map(() => 0);
    for (let m = 0; m < SENT * (own < 0 ? 3 : 2); m++) {
      const [, k, i] = /^s(\d):(\d+)$/.exec((await c.next(10000)).data.toString()).map(Number);
      assert.notStrictEqual(k, own, 'a sender got its own message');
      assert.strictEqual(i, next[k], `from sender ${k}: ${i} where ${next[k]} was due`);
      next[k]++;
    }
  }));
  await L.sleep(300); // nothing more comes: no duplicates
  for (const c of everyone) assert.strictEqual(c.messages.length, 0);
  for (const c of everyone) c.ws.close();
  await until('no subscriber of th1:hall', () => numsub(redis.port, 'th1:hall') === 0);
  for (const n of nodes) assert.deepStrictEqual(await n.stop(), { code: 0, signal: null });
  await redis.stop();
});

t.test('--threads 3: a room is subscribed in Redis while any thread has a member, until the last one leaves', async () => {
  const redis = await redisServer(await freePort());
  const n1 = await node(redis.port, 'th2:', '--threads', '3');
  await until('the node connected', () => connected(n1));
  const members = [];
  for (let i = 0; i < PER_NODE; i++) members.push(await client(`ws://127.0.0.1:${n1.port}/room/spread`));
  const other = await client(`ws://127.0.0.1:${n1.port}/room/other`);
  await until('th2:spread and th2:other subscribed', () => numsub(redis.port, 'th2:spread') === 1 &&
    numsub(redis.port, 'th2:other') === 1);
  assert.deepStrictEqual(channels(redis.port, 'th2:*').trim().split('\n').sort(), ['th2:other', 'th2:spread']);
  const threads = byThread(n1, members, redis.port);
  // The members leave thread by thread, the bridge's first: the channel stays until the last
  // member of the last thread is gone.
  for (let k = 0; k < 3; k++) {
    await Promise.all(threads[k].map((c) => { c.ws.close(); return c.closed; }));
    if (k < 2) {
      await L.sleep(300);
      assert.strictEqual(numsub(redis.port, 'th2:spread'), 1, `after the members of thread ${k} left`);
    }
  }
  await until('th2:spread unsubscribed', () => numsub(redis.port, 'th2:spread') === 0);
  assert.strictEqual(channels(redis.port, 'th2:*').trim(), 'th2:other');
  // A member again, on whichever thread: subscribed again, and it gets what another node sends.
  const back = await client(`ws://127.0.0.1:${n1.port}/room/spread`);
  await until('th2:spread subscribed again', () => numsub(redis.port, 'th2:spread') === 1);
  const n2 = await node(redis.port, 'th2:', '--threads', '3');
  await until('node 2 connected', () => connected(n2));
  const far = await client(`ws://127.0.0.1:${n2.port}/room/spread`);
  await until('both nodes subscribed to th2:spread', () => numsub(redis.port, 'th2:spread') === 2);
  far.ws.send('from node 2');
  assert.strictEqual((await back.next()).data.toString(), 'from node 2');
  // The member count is the node's own, across its threads: 2 here (back and the counter), not
  // far's node too.
  const counter = await L.client(`ws://127.0.0.1:${n1.port}/room/spread`);
  const counts = () => counter.messages.filter((m) => L.isMembersNotice(m.data, m.isBinary))
    .map((m) => JSON.parse(m.data.toString()).count);
  await until('a count of 2', () => counts().includes(2));
  await L.sleep(300);
  assert.deepStrictEqual(counts(), [2]);
  for (const c of [back, far, other, counter]) c.ws.close();
  await until('no channel left', () => channels(redis.port, 'th2:*').trim() === '');
  for (const n of [n1, n2]) assert.deepStrictEqual(await n.stop(), { code: 0, signal: null });
  await redis.stop();
});
