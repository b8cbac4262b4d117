'use strict';
// Processes started by the suite (servers and clients under test, Node stand-ins): spawned with
// stderr collected, tracked, and killed by PID when this process exits.

const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');

const running = new Set();

function killAll() {
  for (const child of running) {
    try {
      process.kill(child.pid, 'SIGKILL');
    } catch (e) {
      // already gone
    }
  }
  running.clear();
}
process.on('exit', killAll);

/* The wsk CLI of the build directory (WSK_BUILD). */
function wskBinary() {
  const build = process.env.WSK_BUILD;
  if (!build) throw new Error('WSK_BUILD is not set (run through CTest, or set it to the build dir)');
  const bin = path.join(build, 'wsk');
  if (!fs.existsSync(bin)) throw new Error(`${bin} does not exist: build the wsk CLI first`);
  return bin;
}

/* Start cmd with stdin and stdout on /dev/null. Returns { child, exited, stderr(), onStderr(fn) }:
 * exited resolves { code, signal } once it exited and its stderr was read to the end; stderr()
 * is what it printed so far (the last 64 KiB). */
function spawnTracked(cmd, argv) {
  const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let err = '';
  const listeners = [];
  const exited = new Promise((resolve) => {
    child.on('exit', () => running.delete(child));
    child.on('close', (code, signal) => resolve({ code, signal })); // stderr read to its end
    child.on('error', (e) => { // could not start: no 'exit' follows
      running.delete(child);
      err += `cannot start ${cmd}: ${e.message}\n`;
      resolve({ code: null, signal: null });
    });
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (d) => {
    err += d;
    if (err.length > 65536) err = err.slice(-65536);
    for (const fn of listeners) fn(err);
  });
  return { child, exited, stderr: () => err, onStderr: (fn) => listeners.push(fn) };
}

/* SIGKILL by PID unless it has exited. */
function kill(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(child.pid, 'SIGKILL');
  } catch (e) {
    // already gone
  }
}

module.exports = { spawnTracked, wskBinary, kill, killAll };
