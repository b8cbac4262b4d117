'use strict';
// Shared helpers for the interop tests: a tiny sequential test runner with a global timeout,
// child processes that are always stopped by PID, port discovery and line waiting.
// Every failure exits non-zero with a message; nothing is ever skipped.

const { spawn } = require('child_process');
// "localhost" is ::1 first on Debian (/etc/hosts), and Node 18 (Debian 12's) tries only the
// first address, while the servers under test listen on IPv4: peers that dial localhost try
// 127.0.0.1 first, as Node 20's happy eyeballs would find it.
require('dns').setDefaultResultOrder('ipv4first');
const fs = require('fs');
const net = require('net');
const path = require('path');

const SRC = process.env.WSK_SRC || path.resolve(__dirname, '..', '..', '..');
const BUILD = process.env.WSK_BUILD || path.join(SRC, 'build');

const children = new Set();

function killAll() {
  for (const p of children) {
    try { process.kill(p.pid, 'SIGKILL'); } catch (_) { /* already gone */ }
  }
  children.clear();
}
process.on('exit', killAll);

function die(msg) {
  process.stderr.write(`FAIL: ${msg}\n`);
  killAll();
  process.exit(1);
}
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => die(`interrupted by ${sig}`));

// Load a peer module (ws, playwright-core) or fail with what to do about it.
function peer(name) {
  try {
    return require(name);
  } catch (e) {
    return die(`the test peer '${name}' is not installed (${e.code || e.message}); run 'make deps' ` +
               `(npm ci in ${SRC}) so that ${SRC}/node_modules holds it`);
  }
}

function executable(file, hint) {
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch (_) {
    die(`${file} is missing or not executable; ${hint || `build it first (cmake --build ${BUILD})`}`);
  }
  return file;
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

// Resolve `promise`, or reject with `what` after ms.
function within(ms, what, promise) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// A port that was free a moment ago (bind port 0 on 127.0.0.1, read it, close).
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

// Poll until a TCP connect to 127.0.0.1:port succeeds (bounded).
async function waitForPort(port, ms = 10000, proc = null) {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(true); });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (proc && proc.exitCode !== null) {
      throw new Error(`${proc.name} exited (${proc.exitCode}) before listening on ${port}\n` +
                      `stderr:\n${proc.stderr.join('\n')}`);
    }
    if (Date.now() > deadline) throw new Error(`nothing listens on 127.0.0.1:${port} after ${ms} ms`);
    await sleep(50);
  }
}

// A child process whose stdout and stderr are split into lines as they arrive.
class Proc {
  constructor(file, args, name) {
    this.name = name || path.basename(file);
    this.stdout = [];
    this.stderr = [];
    this.exitCode = null;
    this.signal = null;
    this.waiters = [];
    this.child = spawn(file, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.pid = this.child.pid;
    children.add(this);
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitCode = code === null ? -1 : code;
        this.signal = signal;
        children.delete(this);
        this.check();
        resolve({ code, signal });
      });
    });
    this.child.on('error', (e) => die(`cannot start ${file}: ${e.message}`));
    this.collect(this.child.stdout, this.stdout);
    this.collect(this.child.stderr, this.stderr);
  }

  collect(stream, lines) {
    let rest = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      const parts = (rest + chunk).split('\n');
      rest = parts.pop();
      for (const l of parts) lines.push(l);
      this.check();
    });
    stream.on('end', () => {
      if (rest) lines.push(rest);
      rest = '';
      this.check();
    });
  }

  check() {
    this.waiters = this.waiters.filter((w) => !w());
  }

  // Wait for a line on 'stdout' or 'stderr' matching a string (whole line) or RegExp.
  // Resolves with the line (or the RegExp match). Lines seen before the call count too.
  waitLine(stream, pattern, ms = 10000) {
    const lines = this[stream];
    const test = (l) => (typeof pattern === 'string' ? (l === pattern ? l : null) : l.match(pattern));
    return within(ms, `${this.name} to print ${pattern} on ${stream}`, new Promise((resolve, reject) => {
      const w = () => {
        for (const l of lines) {
          const m = test(l);
          if (m) { resolve(m); return true; }
        }
        if (this.exitCode !== null) {
          reject(new Error(`${this.name} exited (code ${this.exitCode}, signal ${this.signal}) without ` +
                           `printing ${pattern} on ${stream}\nstderr:\n${this.stderr.join('\n')}`));
          return true;
        }
        return false;
      };
      if (!w()) this.waiters.push(w);
    }));
  }

  // Send a signal and wait for the exit; SIGKILL if it takes longer than ms. Returns the exit info;
  // throws if it had to kill, or if a sanitizer reported on stderr.
  async stop(signal = 'SIGTERM', ms = 5000) {
    if (this.exitCode === null) {
      try { process.kill(this.pid, signal); } catch (_) { /* gone */ }
      try {
        await within(ms, `${this.name} (pid ${this.pid}) to exit on ${signal}`, this.exited);
      } catch (e) {
        try { process.kill(this.pid, 'SIGKILL'); } catch (_) { /* gone */ }
        await this.exited;
        throw e;
      }
    }
    const report = this.stderr.findIndex((l) => /ERROR: \w+Sanitizer|runtime error:/.test(l));
    if (report >= 0) throw new Error(`${this.name} sanitizer report:\n${this.stderr.slice(report).join('\n')}`);
    return { code: this.exitCode, signal: this.signal };
  }
}

function start(file, args, name) {
  return new Proc(file, args, name);
}

// Start `wsk serve --host 127.0.0.1 --port PORT ...args` (PORT 0 unless given) and read the
// port from its "listening on ws://HOST:PORT" (wss:// with --tls-cert) line on stderr.
// Returns { proc, port, url }.
async function startWsk(args, { port: wanted = 0 } = {}) {
  const wsk = executable(path.join(BUILD, 'wsk'));
  const proc = start(wsk, ['serve', '--host', '127.0.0.1', '--port', String(wanted), ...args], 'wsk serve');
  const m = await proc.waitLine('stderr', /listening on (wss?):\/\/[^\s]*:(\d+)/);
  const port = Number(m[2]);
  if (!(port > 0)) throw new Error(`bad port in wsk's startup line: ${m[0]}`);
  return { proc, port, url: `${m[1]}://127.0.0.1:${port}/` };
}

// Launch headless Chromium through playwright-core; fails (never skips) when it is missing.
async function chromium() {
  const exe = process.env.CHROMIUM || '/usr/bin/chromium';
  executable(exe, 'install Chromium (apt-get install chromium, or make deps) or set CHROMIUM');
  const pw = peer('playwright-core');
  const browser = await pw.chromium.launch({
    executablePath: exe,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-background-networking',
           '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
    timeout: 20000,
  });
  return browser;
}

// Run tests in order. Prints TAP-like lines; exits 1 if any test failed or the whole
// run exceeds timeoutMs; `cleanup` always runs before the exit.
function suite(title, { timeoutMs = 60000 } = {}) {
  const tests = [];
  const cleanups = [];
  let current = '(setup)';
  return {
    test(name, fn) { tests.push({ name, fn }); },
    after(fn) { cleanups.push(fn); },
    async run() {
      const timer = setTimeout(() => die(`${title}: global timeout of ${timeoutMs} ms hit in '${current}'`),
                               timeoutMs);
      let failed = 0;
      let n = 0;
      for (const t of tests) {
        n += 1;
        current = t.name;
        const t0 = Date.now();
        try {
          await t.fn();
          console.log(`ok ${n} - ${t.name} (${Date.now() - t0} ms)`);
        } catch (e) {
          failed += 1;
          console.log(`not ok ${n} - ${t.name}`);
          console.log(`  ${String(e && e.stack ? e.stack : e).split('\n').join('\n  ')}`);
        }
      }
      current = '(cleanup)';
      for (const fn of cleanups.reverse()) {
        try { await fn(); } catch (e) { failed += 1; console.log(`cleanup failed: ${e.message}`); }
      }
      clearTimeout(timer);
      console.log(`${title}: ${n - failed}/${n} passed`);
      killAll();
      process.exit(failed ? 1 : 0);
    },
  };
}

module.exports = {
  SRC, BUILD, peer, executable, sleep, within, freePort, waitForPort, start, startWsk, chromium, suite, die,
};
