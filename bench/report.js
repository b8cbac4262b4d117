// report.js - the table `make bench` prints: medians per scenario and server of the JSON lines
// bench/run.sh collected, the ratio wsk/ws and the project's targets (issue "Performance").
// Usage: node bench/report.js RESULTS.jsonl
'use strict';
const fs = require('fs');

const runs = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

// Work per server CPU-second, and server CPU microseconds per unit of work.
const perCpu = (n, r) => (r.server_cpu_s > 0 ? n / r.server_cpu_s : NaN);
const usPer = (n, r) => (r.server_cpu_s >= 0 && n > 0 ? (1e6 * r.server_cpu_s) / n : NaN);
// Each row: scenario, label (or a function of one run giving it), value of one run, target
// (better: 'low' or 'high'), display digits.
const fanoutLabel = (what) => (r) => `fanout ${r.subscribers} subscribers ${what}, 32 B, window ${r.window}: deliveries/s`;
const rows = [
  ['echo100', 'echo 100 conns x 16, 20 B text: msgs/s', (r) => r.rate_per_s, null, 'high', 0],
  ['echo100', '  server CPU per message (us)', (r) => usPer(r.count, r), 0.44, 'low', 3],
  ['echo100', '  latency p99 (ms)', (r) => r.latency_us.p99 / 1e3, null, 'low', 1],
  ['echo100', '  load generator CPU (% of window)', (r) => (100 * r.client_cpu_s) / r.duration_s, null, null, 0],
  ['echo1000', 'echo 1000 conns x 16, 20 B text: msgs/s', (r) => r.rate_per_s, null, 'high', 0],
  ['echo1000', '  server CPU per message (us)', (r) => usPer(r.count, r), 0.6, 'low', 3],
  ['echo1000', '  latency p99 (ms)', (r) => r.latency_us.p99 / 1e3, null, 'low', 1],
  ['echo1000', '  load generator CPU (% of window)', (r) => (100 * r.client_cpu_s) / r.duration_s, null, null, 0],
  ['echo16k', 'echo 100 conns x 4, 16 KiB binary: MB/s', (r) => r.mb_per_s, null, 'high', 0],
  ['echo16k', '  GB/s of payload per server CPU-second', (r) => perCpu(r.bytes, r) / 1e9, 1.5, 'high', 2],
  ['echo16k', '  load generator CPU (% of window)', (r) => (100 * r.client_cpu_s) / r.duration_s, null, null, 0],
  ['connect', 'connect+upgrade+close, 50 dialers: per s', (r) => r.rate_per_s, null, 'high', 0],
  ['connect', '  handshakes per server CPU-second', (r) => perCpu(r.count, r), 25000, 'high', 0],
  ['idle', 'idle connections held', (r) => r.count, null, null, 0],
  ['idle', '  server memory per idle connection (bytes)', (r) => r.server_rss_per_conn, 128, 'low', 0],
  ['echo100t2', 'echo100 on wsk --threads 2 (server on both CPUs): msgs/s', (r) => r.rate_per_s, null, 'high', 0],
  ['echo100t2', '  server CPU per message (us)', (r) => usPer(r.count, r), null, 'low', 3],
  ['echo100t2', '  server CPU (% of one CPU over the window)', (r) => (100 * r.server_cpu_s) / r.duration_s, null, null, 0],
  ['echo100t2', '  load generator CPU (% of window)', (r) => (100 * r.client_cpu_s) / r.duration_s, null, null, 0],
  ['echo1k', 'echo 100 conns x 16, 1 KiB text, ws://: msgs/s', (r) => r.rate_per_s, null, 'high', 0],
  ['echo1k', '  server CPU per message (us)', (r) => usPer(r.count, r), null, 'low', 3],
  ['echo1k', '  load generator CPU (% of window)', (r) => (100 * r.client_cpu_s) / r.duration_s, null, null, 0],
  ['wss1k', 'the same over wss://: msgs/s', (r) => r.rate_per_s, null, 'high', 0],
  ['wss1k', '  server CPU per message (us)', (r) => usPer(r.count, r), null, 'low', 3],
  ['wss1k', '  load generator CPU (% of window)', (r) => (100 * r.client_cpu_s) / r.duration_s, null, null, 0],
  ['wssconnect', 'wss:// connect+upgrade+close, 50 dialers: per s', (r) => r.rate_per_s, null, 'high', 0],
  ['wssconnect', '  TLS handshakes per server CPU-second', (r) => perCpu(r.count, r), null, 'high', 0],
  ['wssresume', 'the same, resuming TLS sessions: per s', (r) => r.rate_per_s, null, 'high', 0],
  ['wssresume', '  TLS handshakes per server CPU-second', (r) => perCpu(r.count, r), null, 'high', 0],
  ['wssresume', '  handshakes that resumed a session (%)', (r) => (100 * r.tls.resumed) / r.tls.handshakes, null, 'high', 0],
];
for (const [scenario, what] of [['fanout1', 'in 1 room'], ['fanout100', 'over 100 rooms'],
  ['fanout1to1', 'in 1-subscriber rooms'], ['fanout1t2', 'in 1 room on wsk --threads 2']]) {
  rows.push(
    [scenario, fanoutLabel(what), (r) => r.rate_per_s, null, 'high', 0],
    [scenario, '  deliveries per server CPU-second', (r) => perCpu(r.count, r), null, 'high', 0],
    [scenario, '  publishes/s', (r) => r.publishes_per_s, null, 'high', 0],
    [scenario, '  latency publish to delivery p50 / p99 (ms)', (r) => r.latency_us.p50 / 1e3, null, 'low', 1, (r) => r.latency_us.p99 / 1e3],
    [scenario, '  load generator CPU (% of window)', (r) => (100 * r.client_cpu_s) / r.duration_s, null, null, 0],
  );
}

// A cluster: redis-server (the first pid) and 3 `wsk serve --rooms --redis` nodes; CPU is theirs.
for (const [scenario, what] of [['cluster1', 'in 1 room'], ['cluster100', 'over 100 rooms']]) {
  rows.push(
    [scenario, (r) => `cluster of 3 nodes + Redis, ${r.subscribers} subscribers ${what}: deliveries/s`, (r) => r.rate_per_s, null, 'high', 0],
    [scenario, '  deliveries per CPU-second of the cluster (nodes + redis-server)', (r) => perCpu(r.count, r), null, 'high', 0],
    [scenario, "  Redis's share of the cluster CPU (%)", (r) => (100 * r.server_cpus_s[0]) / r.server_cpu_s, null, null, 0],
    [scenario, '  publishes/s', (r) => r.publishes_per_s, null, 'high', 0],
    [scenario, '  latency publish to delivery, remote node p50 / p99 (ms)', (r) => r.remote_latency_us.p50 / 1e3, null, 'low', 1, (r) => r.remote_latency_us.p99 / 1e3],
    [scenario, '  latency publish to delivery, all subscribers p50 / p99 (ms)', (r) => r.latency_us.p50 / 1e3, null, 'low', 1, (r) => r.latency_us.p99 / 1e3],
    [scenario, '  load generator CPU (% of window)', (r) => (100 * r.client_cpu_s) / r.duration_s, null, null, 0],
  );
}

function median(xs) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

const fmt = (x, digits) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');
const good = (runsOf) => runsOf.filter((r) => r.ok && !r.mismatches && !r.lost);

const scenarios = new Set(runs.map((r) => r.scenario));
console.log('| scenario / metric (median) | wsk epoll | wsk io_uring | ws | epoll/ws | io_uring/ws | io_uring/epoll | target | meets (epoll, io_uring) |');
console.log('|---|--:|--:|--:|--:|--:|--:|--:|:-:|');
// A row with a second value shows "first / second" (medians of each), the ratio of the first.
for (const [scenario, label, value, target, better, digits, second] of rows) {
  if (!scenarios.has(scenario)) continue;
  const runsOf = (server) => good(runs.filter((r) => r.scenario === scenario && r.server === server));
  const of = (server, v) => median(runsOf(server).map(v));
  const show = (server) => fmt(of(server, value), digits) + (second ? ` / ${fmt(of(server, second), digits)}` : '');
  const [wsk, wsku, ws] = ['wsk', 'wsku', 'ws'].map((s) => of(s, value));
  const meets = (x) => (target === null || !Number.isFinite(x) ? '' : (better === 'low' ? x <= target : x >= target) ? 'yes' : 'no');
  const tgt = target === null ? '' : `${better === 'low' ? '<=' : '>='} ${target}`;
  const sample = runs.find((r) => r.scenario === scenario && r.ok) || {};
  const text = typeof label === 'function' ? label(sample) : label;
  const met = [meets(wsk), meets(wsku)].filter(Boolean).join(', ');
  console.log(`| ${text} | ${show('wsk')} | ${show('wsku')} | ${show('ws')} | ${fmt(wsk / ws, 2)} | ` +
    `${fmt(wsku / ws, 2)} | ${fmt(wsku / wsk, 2)} | ${tgt} | ${met} |`);
}
// Which loop the io_uring rows ran on (epoll, with the reason, when the kernel refused it).
const loops = new Set(runs.filter((r) => r.server === 'wsku').map((r) => r.loop || 'not said'));
if (loops.size) console.log(`\nwsk io_uring rows: event loop ${[...loops].join('; ')}`);

// Two loops against one: messages per second of echo100t2 over echo100 (wsk).
const rateOf = (scenario, server) => median(good(runs.filter((r) => r.scenario === scenario && r.server === server)).map((r) => r.rate_per_s));
if (scenarios.has('echo100t2') && scenarios.has('echo100')) {
  const x = (server) => fmt(rateOf('echo100t2', server) / rateOf('echo100', server), 2);
  console.log(`\n--threads 2 vs 1 (echo100, msgs/s): epoll x${x('wsk')}, io_uring x${x('wsku')}` +
    ' (two cores shared by the two server threads and the load generator)');
}

// What TLS costs: server CPU per message over wss:// against ws://, the target <= 1.5 (wsk).
const usOf = (scenario, server) => median(good(runs.filter((r) => r.scenario === scenario && r.server === server)).map((r) => usPer(r.count, r)));
if (scenarios.has('wss1k') && scenarios.has('echo1k')) {
  const [wsk, ws] = ['wsk', 'ws'].map((s) => usOf('wss1k', s) / usOf('echo1k', s));
  console.log(`\nwss1k/echo1k, server CPU per message: wsk x${fmt(wsk, 2)} (target <= 1.5: ` +
    `${Number.isFinite(wsk) ? (wsk <= 1.5 ? 'met' : 'not met') : 'n/a'}), ws x${fmt(ws, 2)}; ` +
    `wss1k wsk/ws ${fmt(usOf('wss1k', 'wsk') / usOf('wss1k', 'ws'), 2)} of ws's CPU per message`);
}
const tlsRun = runs.find((r) => r.ok && r.tls);
if (tlsRun) console.log(`TLS: ${tlsRun.tls.version}, user-space (OpenSSL) on both ends; kTLS: ${tlsRun.tls.ktls}`);

// Anything that makes a figure suspect: failed runs, corrupted echoes, lost connections.
for (const r of runs) {
  const problems = [];
  if (!r.ok) problems.push(`failed: ${r.error}`);
  if (r.mismatches) problems.push(`${r.mismatches} payload mismatches`);
  if (r.lost) problems.push(`${r.lost} messages lost`);
  if (r.errors) problems.push(`${r.errors} connection errors (${r.first_error})`);
  if (problems.length) console.log(`\nwarning: ${r.scenario} ${r.server} run ${r.run}: ${problems.join('; ')}`);
}
