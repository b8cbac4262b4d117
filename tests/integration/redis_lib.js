'use strict';
// What the tests of wsk serve --redis share: a real redis-server on a port the kernel picked
// (stopped by PID, and killed at exit if a test failed first), redis-cli queries, nodes; the
// cluster tests add haproxy (cluster_lib.js).
const net = require('net');
const { spawn, spawnSync } = require('child_process');
const L = require('./server_lib');

// Clients in rooms, without the member-count notices (each node counts its own members).
const client = (url) => L.client(url, undefined, { skip: L.isMembersNotice });

// A port the kernel picked (redis-server cannot be given port 0 and tell us which it got).
function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const procs = new Set();
process.on('exit', () => {
  for (const c of procs) try { process.kill(c.pid, 'SIGKILL'); } catch (e) { /* gone */ }
});

// Spawn a tracked child (killed at exit); `exited` resolves with { code, signal }.
function track(child) {
  procs.add(child);
  const exited = new Promise((r) => child.on('exit', (code, signal) => { procs.delete(child); r({ code, signal }); }));
  return { child, exited, stop: (signal = 'SIGTERM') => { process.kill(child.pid, signal); return exited; } };
}

function redisServer(port) {
  const p = track(spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1',
    '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'pipe'] }));
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server not ready: ${out}`)), 10000);
    p.child.stdout.on('data', (d) => {
      out += d;
      if (/Ready to accept connections/.test(out)) {
        clearTimeout(timer);
        p.port = port;
        resolve(p);
      }
    });
    p.exited.then(() => { clearTimeout(timer); reject(new Error(`redis-server exited: ${out}`)); });
  });
}

function redisCli(port, ...args) {
  const r = spawnSync('redis-cli', ['-h', '127.0.0.1', '-p', String(port), '--raw', ...args],
    { encoding: 'utf8', timeout: 5000 });
  if (r.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
const numsub = (port, ch) => Number(redisCli(port, 'PUBSUB', 'NUMSUB', ch).split('\n')[1]);
const channels = (port, pattern) => redisCli(port, 'PUBSUB', 'CHANNELS', pattern);

async function until(what, cond, ms = 10000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await L.sleep(50);
  }
}

const connected = (node) => node.stderr.some((l) => /redis .*: connected, topics shared/.test(l));
// A node: wsk serve --rooms on Redis at `port` with the channel prefix, and any extra arguments.
const node = (port, prefix, ...args) => L.serve(['--rooms', '--quiet', '--redis',
  `redis://127.0.0.1:${port}`, '--redis-prefix', prefix, ...args]);

module.exports = { client, freePort, track, redisServer, redisCli, numsub, channels, until, connected, node };
