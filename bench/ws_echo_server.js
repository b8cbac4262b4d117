// ws_echo_server.js - Node's `ws` as an echo server, the reference `make bench` compares wsk with.
// Usage: node bench/ws_echo_server.js [PORT [CERT KEY]]  (PORT 0 or none: the kernel picks).
// With CERT and KEY (PEM files) it speaks wss:// over https.createServer. Prints "listening PORT".
// Every message goes back with its own type (text or binary). ws uses its native add-ons
// bufferutil and utf-8-validate when they are installed, as they are in this repository.
'use strict';
const fs = require('fs');
const https = require('https');
const { WebSocketServer } = require('ws');

const [port, cert, key] = [Number(process.argv[2] || 0), process.argv[3], process.argv[4]];
const options = { perMessageDeflate: false, clientTracking: false };
const tls = cert && https.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) });
const wss = new WebSocketServer(tls ? { server: tls, ...options } : { host: '127.0.0.1', port, ...options });

wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {}); // a peer that goes away mid-frame is not the server's failure
});
const listening = (addr) => console.log(`listening ${addr.port}`);
if (tls) tls.listen(port, '127.0.0.1', () => listening(tls.address()));
else wss.on('listening', () => listening(wss.address()));
process.on('SIGTERM', () => process.exit(0));
