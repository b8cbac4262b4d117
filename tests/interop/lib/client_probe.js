'use strict';
// Drivers for the client tests: build/tests/client_probe (a scriptable wsk client: commands on
// stdin, one event per line on stdout) and `wsk connect` with a stdin pipe. Every process started
// here is killed by PID when the test process exits; sanitizer reports on stderr fail the test.

const { spawn } = require('child_process');
const path = require('path');
const h = require('./harness');

const children = new Set();
process.on('exit', () => {
  for (const c of children) {
    try { process.kill(c.pid, 'SIGKILL'); } catch (_) { /* gone */ }
  }
});

// FNV-1a 32 in hex, as the probe prints it.
function fnv(buf) {
  let x = 0x811c9dc5;
  for (let i = 0; i < buf.length; i++) x = Math.imul(x ^ buf[i], 16777619) >>> 0;
  return x.toString(16).padStart(8, '0');
}

// The probe's payload patterns for `big text|binary N`.
function pattern(kind, n) {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = kind === 'text' ? 97 + (i % 26) : (i * 7 + 3) & 0xff;
  return b;
}

// A child with a stdin pipe whose stdout/stderr lines are collected; `next(re)` takes the first
// stdout line (after the ones already taken) matching re, waiting for it if needed.
class Child {
  constructor(file, args, name) {
    this.name = name;
    this.lines = [];
    this.taken = 0;
    this.stderr = [];
    this.stdoutText = '';
    this.waiters = [];
    this.exitCode = null;
    this.child = spawn(file, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.pid = this.child.pid;
    children.add(this);
    this.child.stdin.on('error', () => {}); // the child may exit before reading everything
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => {
      this.exitCode = code === null ? -1 : code;
      this.signal = signal;
      children.delete(this);
      resolve({ code, signal });
      this.poke();
    }));
    let out = '';
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (d) => {
      this.stdoutText += d;
      out += d;
      const parts = out.split('\n');
      out = parts.pop();
      this.lines.push(...parts);
      this.poke();
    });
    let err = '';
    this.child.stderr.setEncoding('utf8');
    this.child.stderr.on('data', (d) => {
      err += d;
      const parts = err.split('\n');
      err = parts.pop();
      this.stderr.push(...parts);
      this.poke();
    });
  }

  poke() { this.waiters = this.waiters.filter((w) => !w()); }

  send(line) { this.child.stdin.write(`${line}\n`); }
  write(text) { this.child.stdin.write(text); }
  end() { this.child.stdin.end(); }

  next(re, ms = 10000) {
    return h.within(ms, `${this.name} to print ${re}; printed so far: ` +
                    `${JSON.stringify(this.lines.slice(-8))}; stderr: ${this.stderr.slice(-5).join(' | ')}`,
    new Promise((resolve, reject) => {
      const w = () => {
        for (let i = this.taken; i < this.lines.length; i++) {
          const m = this.lines[i].match(re);
          if (m) {
            this.taken = i + 1;
            resolve(m);
            return true;
          }
        }
        if (this.exitCode !== null) {
          reject(new Error(`${this.name} exited (${this.exitCode}) before printing ${re}; ` +
                           `stdout: ${JSON.stringify(this.lines.slice(-8))}; stderr: ${this.stderr.join(' | ')}`));
          return true;
        }
        return false;
      };
      if (!w()) this.waiters.push(w);
    }));
  }

  // Lines printed after the ones taken so far (does not take them).
  rest() { return this.lines.slice(this.taken); }

  stderrMatch(re, ms = 10000) {
    return h.within(ms, `${this.name} to print ${re} on stderr; got ${this.stderr.join(' | ')}`,
      new Promise((resolve) => {
        const w = () => {
          const l = this.stderr.find((x) => re.test(x));
          if (l) { resolve(l); return true; }
          return false;
        };
        if (!w()) this.waiters.push(w);
      }));
  }

  // Wait for the exit (killing after ms); throws on a sanitizer report.
  async wait(ms = 10000) {
    try {
      await h.within(ms, `${this.name} (pid ${this.pid}) to exit`, this.exited);
    } catch (e) {
      try { process.kill(this.pid, 'SIGKILL'); } catch (_) { /* gone */ }
      await this.exited;
      throw e;
    }
    const i = this.stderr.findIndex((l) => /ERROR: \w+Sanitizer|runtime error:|LeakSanitizer/.test(l));
    if (i >= 0) throw new Error(`${this.name} sanitizer report:\n${this.stderr.slice(i).join('\n')}`);
    return this.exitCode;
  }

  kill() {
    try { process.kill(this.pid, 'SIGKILL'); } catch (_) { /* gone */ }
  }
}

function probe(url, args = []) {
  const file = h.executable(path.join(h.BUILD, 'tests', 'client_probe'));
  return new Child(file, [...args, url], 'client_probe');
}

function wskConnect(args) {
  const file = h.executable(path.join(h.BUILD, 'wsk'));
  return new Child(file, ['connect', ...args], 'wsk connect');
}

module.exports = { probe, wskConnect, fnv, pattern, Child };
