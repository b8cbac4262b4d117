'use strict';
// Pieces of the tests of wsk nodes sharing rooms through Redis (serve_redis, cluster_*): a real
// redis-server and a real haproxy (scripts/cluster-haproxy.cfg) on free ports, and polling with a
// deadline. Every process started here is killed by PID when the test process exits.
const net = require('net');
const path = require('path');
const { spawn, spawnSync } = require('child_process');
const L = require('./server_lib');

const procs = new Set();
process.on('exit', () => {
  for (const c of procs) try { process.kill(c.pid, 'SIGKILL'); } catch (e) { /* gone */ }
});

// A port the kernel picked (redis-server cannot be given port 0 and tell us which it got).
function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

// Spawn a tracked child; `exited` resolves with { code, signal }.
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

async function until(what, cond, ms = 10000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await L.sleep(50);
  }
}

// haproxy on 127.0.0.1:port in front of three nodes (their ports), with the configuration of
// `make run-cluster`; resolves once it accepts connections. What it prints (a node going DOWN
// or UP) is kept in `output`.
async function haproxy(port, nodePorts) {
  const env = { ...process.env, WSK_LB_BIND: `127.0.0.1:${port}` };
  nodePorts.forEach((p, i) => { env[`WSK_NODE${i + 1}`] = `127.0.0.1:${p}`; });
  const p = track(spawn('haproxy', ['-db', '-f', path.join(L.SRC, 'scripts', 'cluster-haproxy.cfg')],
    { env, stdio: ['ignore', 'pipe', 'pipe'] }));
  p.output = '';
  for (const s of [p.child.stdout, p.child.stderr]) s.on('data', (d) => { p.output += d; });
  let gone = false;
  p.exited.then(() => { gone = true; });
  const accepts = () => new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
  const end = Date.now() + 10000;
  while (!(await accepts())) {
    if (gone || Date.now() > end) throw new Error(`haproxy did not start: ${p.output}`);
    await L.sleep(50);
  }
  p.port = port;
  return p;
}

// A wsk node of the cluster: rooms shared through the Redis on redisPort, the chat page (what
// haproxy's health check asks for), and a welcome that names it.
const node = (redisPort, name, extra = []) => L.serve(['--rooms', '--quiet', '--root',
  path.join(L.SRC, 'web'), '--redis', `redis://127.0.0.1:${redisPort}`, '--welcome', name, ...extra]);
const connected = (n) => n.stderr.some((l) => /redis .*: connected, topics shared/.test(l));

module.exports = { freePort, redisServer, redisCli, until, haproxy, node, connected };
