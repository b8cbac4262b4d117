'use strict';
// Stand-in for `wsk serve --echo` built on Node's ws package, used to validate the conformance
// suite itself (WSK_CONF_SERVER=ws). Same options (--port, --max-message, --deflate; --echo,
// --quiet and --host are accepted, it always listens on 127.0.0.1), same "wsk: listening on
// ws://127.0.0.1:PORT" line on stderr, echoes every message with its own opcode, answers plain
// HTTP with 404, and on SIGTERM closes every client with 1001 and exits 0.

const http = require('http');
const { WebSocketServer } = require('ws');

const args = process.argv.slice(2);
function option(name, fallback) {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

const server = http.createServer({ maxHeaderSize: 8192 }, (req, res) => {
  res.writeHead(404, { 'Content-Type': 'text/plain', Connection: 'close' });
  res.end('not found\n');
});
const wss = new WebSocketServer({
  server,
  maxPayload: option('--max-message', 16 * 1024 * 1024),
  perMessageDeflate: args.includes('--deflate') && { threshold: 0 },
});
wss.on('connection', (ws) => {
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }, () => {}));
});

server.listen(option('--port', 0), '127.0.0.1', () => {
  process.stderr.write(`wsk: listening on ws://127.0.0.1:${server.address().port}\n`);
});

process.on('SIGTERM', () => {
  server.close();
  const exitWhenIdle = () => {
    if (wss.clients.size === 0) process.exit(0);
  };
  for (const ws of wss.clients) {
    ws.on('close', () => setImmediate(exitWhenIdle));
    ws.close(1001);
  }
  exitWhenIdle();
  setTimeout(() => process.exit(0), 5000).unref();
});
