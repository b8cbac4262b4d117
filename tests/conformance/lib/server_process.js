'use strict';
// Start and stop the server under test: `wsk serve --echo` on 127.0.0.1 from the build
// directory, or the Node `ws` stand-in (lib/ws_echo_server.js) with the same command line and the
// same "listening on" line. Every process started here is killed by PID when this process exits.

const { spawn } = require('child_process');
const fs = require('fs');
const path = require('path');
const transport = require('./transport');

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

/* The command for a server kind: 'wsk' (needs WSK_BUILD) or 'ws'. */
function serverCommand(kind, args) {
  if (kind === 'ws') return [process.execPath, [path.join(__dirname, 'ws_echo_server.js'), ...args]];
  const build = process.env.WSK_BUILD;
  if (!build) throw new Error('WSK_BUILD is not set (run through CTest, or set it to the build dir)');
  const bin = path.join(build, 'wsk');
  if (!fs.existsSync(bin)) throw new Error(`${bin} does not exist: build the wsk CLI first`);
  return [bin, args];
}

/* Start a server; resolves { port, child, stderr(), exited } once it printed its port. */
function startServer(kind, { maxMessage } = {}) {
  const args = ['serve', '--echo', '--host', '127.0.0.1', '--port', '0', '--quiet',
                ...transport.serverArgs()];
  if (maxMessage !== undefined) args.push('--max-message', String(maxMessage));
  const [cmd, argv] = serverCommand(kind, kind === 'ws' ? args.slice(1) : args);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  running.add(child);
  let err = '';
  const exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    });
  });
  child.stderr.setEncoding('utf8');
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} printed no "listening on" line within 10 s; stderr: ${err}`));
    }, 10000);
    child.stderr.on('data', (d) => {
      err += d;
      if (err.length > 65536) err = err.slice(-65536);
      const m = /listening on wss?:\/\/[^:/]+:(\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), child, exited, stderr: () => err });
      }
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited (${signal || code}) before listening; stderr: ${err}`));
    });
  });
}

module.exports = { startServer, killAll };
