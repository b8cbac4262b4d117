'use strict';
// Pieces of the cluster tests (cluster_*): redis_lib's redis-server and polling, and a real
// haproxy (scripts/cluster-haproxy.cfg) on a free port. Every process started here is killed by
// PID when the test process exits.
const net = require('net');
const path = require('path');
const { spawn } = require('child_process');
const L = require('./server_lib');

const { freePort, track, redisServer, redisCli, until, connected } = require('./redis_lib');

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

module.exports = { freePort, redisServer, redisCli, until, haproxy, node, connected };
