'use strict';
// `make run-cluster` as a user meets it: it builds the wsk server alone, starts redis-server,
// three nodes and haproxy on CLUSTER_PORT (here a free port), and says where to open the chat and
// which node is which. Two clients that haproxy sends to different nodes (each node's welcome
// names it, after the welcome of `make run`) chat in one room. SIGTERM to the script's PID (as
// its banner says) stops every process it started.
const assert = require('assert');
const { spawn, spawnSync } = require('child_process');
const L = require('./server_lib');
const C = require('./cluster_lib');

const t = L.suite('cluster_make_run');
const WELCOME = 'Welcome to the websocket server!!!';
const make = (...args) => ['-s', '-C', L.SRC, ...args, `BUILD=${L.BUILD}`];

t.test('make run-cluster builds wsk alone', async () => {
  const r = spawnSync('make', make('-n', 'run-cluster'), { encoding: 'utf8' });
  assert.strictEqual(r.status, 0, r.stderr);
  const builds = r.stdout.split('\n').filter((l) => /cmake --build/.test(l));
  assert.strictEqual(builds.length, 1, r.stdout);
  assert.match(builds[0], /--target wsk$/);
});

t.test('make run-cluster: two clients on different nodes chat in one room; SIGTERM to the script stops everything', async () => {
  const port = await C.freePort();
  // (its own process group: if the test fails half-way, the exit handler stops the group)
  const child = spawn('make', make('run-cluster', `CLUSTER_PORT=${port}`),
    { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  for (const s of [child.stdout, child.stderr]) s.on('data', (d) => { out += d; });
  const exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
  process.on('exit', () => { try { process.kill(-child.pid, 'SIGTERM'); } catch (e) { /* gone */ } });
  await C.until('the banner', () => /Ctrl-C \(or kill \d+\) stops everything/.test(out), 60000);
  assert.match(out, new RegExp(`open http://localhost:${port}/#lobby`));
  const pid = (re) => Number(re.exec(out)[1]);
  const pids = {
    script: pid(/or kill (\d+)\)/), haproxy: pid(/haproxy \(pid (\d+)\)/), redis: pid(/redis-server: \S+ \(pid (\d+)\)/),
    node1: pid(/node 1: \S+ \(pid (\d+)/), node2: pid(/node 2: \S+ \(pid (\d+)/), node3: pid(/node 3: \S+ \(pid (\d+)/),
  };
  // The page through haproxy.
  const page = (await L.raw(port, 'GET / HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')).toString();
  assert.match(page, /^HTTP\/1\.1 200/);
  // Clients through haproxy until two are on different nodes (round robin: the first two).
  const url = `ws://127.0.0.1:${port}/room/lobby`;
  const skip = L.isMembersNotice;
  const clients = [];
  const nodeOf = async (c) => {
    const m = new RegExp(`^${WELCOME.replace(/[!]/g, '\\$&')} \\(node (\\d) of 3\\)$`).exec((await c.next()).data.toString());
    assert.ok(m, 'the welcome of make run, then the node');
    return Number(m[1]);
  };
  for (let i = 0; i < 4 && new Set(clients.map((c) => c.node)).size < 2; i++) {
    const c = await L.client(url, undefined, { skip });
    c.node = await nodeOf(c);
    clients.push(c);
  }
  const a = clients[0];
  const b = clients.find((c) => c.node !== a.node);
  assert.ok(b, 'two clients on different nodes');
  // Pub/sub delivers only to subscribers that Redis knows of: wait until every node with a
  // member has subscribed to the room's channel (a node subscribes when its first member joins;
  // under a sanitizer that took longer than the first message).
  const redisPort = Number(/redis-server: 127\.0\.0\.1:(\d+)/.exec(out)[1]);
  const nodes = new Set(clients.map((c) => c.node)).size;
  const numsub = () => Number(C.redisCli(redisPort, 'PUBSUB', 'NUMSUB', 'wsk:lobby').split('\n')[1]);
  await C.until('every node of a member subscribed to wsk:lobby', () => numsub() === nodes);
  a.ws.send(`hello from node ${a.node}`);
  assert.strictEqual((await b.next()).data.toString(), `hello from node ${a.node}`);
  b.ws.send(`hello from node ${b.node}`);
  assert.strictEqual((await a.next()).data.toString(), `hello from node ${b.node}`);
  console.log(`# clients on nodes ${a.node} and ${b.node} chatted through haproxy on port ${port}`);
  for (const c of clients) c.ws.close();

  process.kill(pids.script, 'SIGTERM');
  await exited;
  assert.match(out, /run-cluster: stopped/);
  const alive = (p) => { try { process.kill(p, 0); return true; } catch (e) { return false; } };
  await C.until('every process of the cluster gone', () => !Object.values(pids).some(alive), 5000);
});
