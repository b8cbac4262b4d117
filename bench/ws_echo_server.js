// ws_echo_server.js - Node's `ws` as an echo server, the reference `make bench` compares wsk with.
// Usage: node bench/ws_echo_server.js [PORT]  (0 or none: the kernel picks). Prints "listening PORT".
// Every message goes back with its own type (text or binary). ws uses its native add-ons
// bufferutil and utf-8-validate when they are installed, as they are in this repository.
'use strict';
const { WebSocketServer } = require('ws');

const port = Number(process.argv[2] || 0);
const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false, clientTracking: false });

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {}); // a peer that goes away mid-frame is not the server's failure
});
wss.on('listening', () => console.log(`listening ${wss.address().port}`));
process.on('SIGTERM', () => process.exit(0));
