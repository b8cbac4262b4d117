'use strict';
// wsk serve --rooms --redis: nodes that share their rooms through a real redis-server (started
// here on a free port, stopped by PID). A message sent through one node reaches the room's
// clients on every node exactly once and in order, never its sender; each node subscribes to a
// room's channel while the room has members there (PUBSUB NUMSUB / CHANNELS). Redis down when
// the nodes start: they serve locally, say so once, and share the rooms once Redis is up; Redis
// frozen: publishing does not wait for it and what waits for it is bounded; Redis restarted: the
// nodes subscribe again and delivery resumes. A node's bridge counters are on its log at the stop.
const assert = require('assert');
const net = require('net');
const { spawnSync } = require('child_process');
const L = require('./server_lib');
const { client, freePort, redisServer, numsub, channels, until, connected, node } = require('./redis_lib');

const t = L.suite('serve_redis');

t.test('--redis: a bad URL fails at start; a lone --redis-prefix is refused', async () => {
  const wsk = require('path').join(L.BUILD, 'wsk');
  let r = spawnSync(wsk, ['serve', '--port', '0', '--rooms', '--redis', 'http://x'], { encoding: 'utf8' });
  assert.strictEqual(r.status, 1);
  assert.match(r.stderr, /redis URL 'http:\/\/x': must start with redis:\/\//);
  r = spawnSync(wsk, ['serve', '--port', '0', '--rooms', '--redis-prefix', 'p:'], { encoding: 'utf8' });
  assert.strictEqual(r.status, 2);
  assert.match(r.stderr, /--redis-prefix goes with --redis/);
});

t.test('3 nodes, one room: 200 messages from node 1 reach nodes 1, 2, 3 once, in order, not the sender', async () => {
  const redis = await redisServer(await freePort());
  const nodes = [];
  for (let i = 0; i < 3; i++) nodes.push(await node(redis.port, 'tr1:'));
  await until('three connected nodes', () => nodes.every(connected));
  const url = (n, room) => `ws://127.0.0.1:${nodes[n].port}/room/${room}`;
  const sender = await client(url(0, 'lobby'));
  const peers = [await client(url(0, 'lobby')), await client(url(1, 'lobby')),
    await client(url(2, 'lobby'))];
  const other = await client(url(1, 'other'));
  await until('3 subscribers of tr1:lobby in Redis', () => numsub(redis.port, 'tr1:lobby') === 3);
  assert.strictEqual(numsub(redis.port, 'tr1:other'), 1);
  assert.deepStrictEqual(channels(redis.port, 'tr1:*').trim().split('\n').sort(), ['tr1:lobby', 'tr1:other']);
  for (let i = 0; i < 200; i++) sender.ws.send(`m${i} ${'x'.repeat(i)}`);
  for (const p of peers) {
    for (let i = 0; i < 200; i++) assert.strictEqual((await p.next()).data.toString(), `m${i} ${'x'.repeat(i)}`);
  }
  await L.sleep(300); // nothing more comes: no duplicates, no echo, no other room
  for (const c of [...peers, sender, other]) assert.strictEqual(c.messages.length, 0);
  // Binary messages keep their opcode across nodes.
  sender.ws.send(Buffer.from([0, 1, 255]));
  const b = await peers[2].next();
  assert.ok(b.isBinary && b.data.equals(Buffer.from([0, 1, 255])));
  // A room that empties and fills again at once on node 3: the last member's socket ends in the
  // same instant as the next one's upgrade arrives (UNSUBSCRIBE and SUBSCRIBE due together), also
  // when the room is the node's only channel. The node stays subscribed.
  other.ws.close();
  const rawJoin = async () => {
    const s = net.connect(nodes[2].port, '127.0.0.1');
    await new Promise((r) => s.on('connect', r));
    s.got = Buffer.alloc(0);
    s.on('data', (d) => { s.got = Buffer.concat([s.got, d]); });
    return s;
  };
  const upgrade = (s) => s.write(L.upgradeRequest({ path: '/room/churn' }));
  let member = await rawJoin();
  upgrade(member);
  await until('the first member in', () => member.got.includes('101'));
  for (let i = 0; i < 30; i++) {
    const next = await rawJoin();
    member.destroy(); // (the same tick: both reach the server together)
    upgrade(next);
    member = next;
    await until('the next member in', () => member.got.includes('101'));
    await L.sleep(i % 3); // (and sometimes not quite together)
  }
  const churnFrom = await client(url(0, 'churn'));
  await until('node 3 subscribed to tr1:churn', () => numsub(redis.port, 'tr1:churn') === 2);
  churnFrom.ws.send('after churn');
  await until('the message on node 3', () => member.got.includes('after churn'), 5000);
  member.destroy();
  churnFrom.ws.close();
  // The room's channel stays while a node has members, and goes when the last leaves.
  sender.ws.close();
  peers[0].ws.close();
  await until('node 1 unsubscribed', () => numsub(redis.port, 'tr1:lobby') === 2);
  peers[1].ws.close();
  peers[2].ws.close();
  await until('no subscriber of tr1:lobby', () => numsub(redis.port, 'tr1:lobby') === 0);
  await until('no channel left', () => channels(redis.port, 'tr1:*').trim() === '');
  const counts = [];
  for (const n of nodes) {
    assert.deepStrictEqual(await n.stop(), { code: 0, signal: null });
    assert.ok(!n.stderr.some((l) => /retrying/.test(l)), n.stderr.join('\n'));
    // At the stop, the bridge's counters on the log (its last lines may come after the exit).
    const counted = (l) => /redis: \d+ published/.test(l);
    await until('the counters on the log', () => n.stderr.some(counted), 2000).catch(() => {});
    const line = n.stderr.find(counted) || '';
    const m = /redis: (\d+) published, (\d+) received from other nodes, (\d+) dropped \(Redis down or slow\), (\d+) invalid/.exec(line);
    assert.ok(m, n.stderr.join('\n'));
    counts.push(m.slice(1).map(Number));
  }
  assert.deepStrictEqual(counts[0], [202, 0, 0, 0]); // 200 texts, a binary, "after churn"
  for (const c of counts.slice(1)) assert.ok(c[0] === 0 && c[1] >= 201 && c[2] === 0 && c[3] === 0, String(c));
  await redis.stop();
});

t.test('Redis down at start, frozen, restarted: local delivery goes on, sharing resumes', async () => {
  const port = await freePort();
  const nodes = [await node(port, 'tr2:'), await node(port, 'tr2:')];
  const a = await client(`ws://127.0.0.1:${nodes[0].port}/room/r`);
  const a2 = await client(`ws://127.0.0.1:${nodes[0].port}/room/r`);
  const b = await client(`ws://127.0.0.1:${nodes[1].port}/room/r`);
  a.ws.send('local');
  assert.strictEqual((await a2.next()).data.toString(), 'local');
  await L.sleep(1000); // a few retries
  for (const n of nodes) {
    assert.strictEqual(n.stderr.filter((l) => /retrying/.test(l)).length, 1, n.stderr.join('\n'));
  }
  const t0 = Date.now();
  const redis = await redisServer(port);
  await until('both nodes connected', () => nodes.every(connected));
  await until('both nodes subscribed', () => numsub(port, 'tr2:r') === 2);
  a.ws.send('shared');
  assert.strictEqual((await a2.next()).data.toString(), 'shared');
  assert.strictEqual((await b.next()).data.toString(), 'shared');
  const took = Date.now() - t0;
  assert.ok(took < 8000, `delivery across nodes began ${took} ms after Redis started`);
  console.log(`# delivery across nodes ${took} ms after Redis started`);
  for (const n of nodes) assert.strictEqual(n.stderr.filter((l) => /retrying/.test(l)).length, 1);

  // Redis frozen (SIGSTOP) for 3 s: publishing never blocks the node, whose local members get
  // every message at once; what Redis cannot take is bounded (8 MiB not yet answered) and the rest
  // is not sent: the other node gets a prefix of the stream, in order, once Redis runs again.
  const big = (i) => `${i} `.padEnd(100000, 'y');
  process.kill(redis.child.pid, 'SIGSTOP');
  const t1 = Date.now();
  for (let i = 0; i < 120; i++) a.ws.send(big(i));
  for (let i = 0; i < 120; i++) assert.strictEqual((await a2.next()).data.toString(), big(i));
  const local = Date.now() - t1;
  assert.ok(local < 2500, `local delivery took ${local} ms while Redis was frozen`);
  await L.sleep(3000 - local);
  process.kill(redis.child.pid, 'SIGCONT');
  await until('the other node got the messages sent', () => b.messages.length >= 40);
  await L.sleep(500);
  const remote = b.messages.splice(0).map((m) => m.data.toString());
  assert.ok(remote.length >= 40 && remote.length < 120, `the other node got ${remote.length} of 120`);
  remote.forEach((m, i) => assert.strictEqual(m, big(i)));
  console.log(`# Redis frozen 3 s: local delivery of 120 x 100 KB in ${local} ms, ${remote.length} sent to Redis`);

  // Redis restarted: each node says so once, reconnects, subscribes again, delivery resumes.
  await redis.stop();
  await until('both nodes saw Redis go', () => nodes.every((n) => n.stderr.filter((l) => /retrying/.test(l)).length === 2));
  a.ws.send('while down');
  assert.strictEqual((await a2.next()).data.toString(), 'while down');
  const t2 = Date.now();
  const again = await redisServer(port);
  await until('both nodes subscribed again', () => numsub(port, 'tr2:r') === 2);
  a.ws.send('after restart');
  assert.strictEqual((await b.next()).data.toString(), 'after restart');
  console.log(`# delivery across nodes ${Date.now() - t2} ms after Redis restarted`);
  for (const n of nodes) assert.strictEqual(n.stderr.filter((l) => /connected, topics shared/.test(l)).length, 2);
  assert.strictEqual(b.messages.length, 0); // ('while down' stayed on node 1)
  for (const c of [a, a2, b]) c.ws.close();
  for (const n of nodes) assert.deepStrictEqual(await n.stop(), { code: 0, signal: null });
  await again.stop();
});
