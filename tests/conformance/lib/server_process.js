'use strict';
// Start the server under test: `wsk serve --echo` on 127.0.0.1 from the build directory, or the
// Node `ws` stand-in (lib/ws_echo_server.js) with the same command line and the same
// "listening on" line. Every process started here is killed by PID when this process exits.

const path = require('path');
const transport = require('./transport');
const { spawnTracked, wskBinary, kill } = require('./process');

/* The command for a server kind: 'wsk' (needs WSK_BUILD) or 'ws'. */
function serverCommand(kind, args) {
  if (kind === 'ws') return [process.execPath, [path.join(__dirname, 'ws_echo_server.js'), ...args]];
  return [wskBinary(), args];
}

/* Start a server (with `args` added to its command line); resolves { port, child, stderr(),
 * exited } once it printed its port. */
function startServer(kind, { maxMessage, args: more = [] } = {}) {
  const args = ['serve', '--echo', '--host', '127.0.0.1', '--port', '0', '--quiet',
                ...transport.serverArgs(), ...more];
  if (maxMessage !== undefined) args.push('--max-message', String(maxMessage));
  const [cmd, argv] = serverCommand(kind, kind === 'ws' ? args.slice(1) : args);
  const { child, exited, stderr, onStderr } = spawnTracked(cmd, argv);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      kill(child);
      reject(new Error(`${cmd} printed no "listening on" line within 10 s; stderr: ${stderr()}`));
    }, 10000);
    onStderr((err) => {
      const m = /listening on wss?:\/\/[^:/]+:(\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), child, exited, stderr });
      }
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${cmd} exited (${signal || code}) before listening; stderr: ${stderr()}`));
    });
  });
}

module.exports = { startServer };
