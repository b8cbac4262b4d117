'use strict';
// A Node `ws` server for the client tests, its behaviour chosen by the request path:
//   /private/...  needs X-Token: secret (else 401 with a body); /private/info sends the request's
//                 Origin, X-Token, offered subprotocols and path as JSON
//   /frag         a text and a binary message, each in several fragments
//   /ping         pings the client; every pong is answered with "got pong DATA"
//   /close4000    closes with 4000 "server says bye"; /close1001 with 1001
//   /die          sends part of a frame and destroys the socket
//   /push         sends a text, a binary and an empty message, then waits for them to come back
//                 and closes with 1000 (seen.echoed holds what came back)
//   anything else echoes every message with its opcode
// The subprotocol chat.v2 is chosen when offered, and every 101 carries X-Server: ws-test.

const http = require('http');
const https = require('https');
const h = require('./harness');

const { WebSocketServer } = h.peer('ws');

// A ws server on host:port with behaviour chosen by the request path; over TLS (wss://) when
// `tls` holds https.createServer options (cert, key, ...). Returns { port, close, seen }.
function startServer({ host = '127.0.0.1', port = 0, tls = null } = {}) {
  const seen = { closes: [], pongs: [], requests: [], echoed: [], tls: [] };
  const server = tls ? https.createServer(tls) : http.createServer();
  const wss = new WebSocketServer({
    server,
    maxPayload: 64 * 1024 * 1024,
    handleProtocols: (offered) => (offered.has('chat.v2') ? 'chat.v2' : false),
    verifyClient: (info, cb) => {
      if (info.req.url.startsWith('/private') && info.req.headers['x-token'] !== 'secret') {
        cb(false, 401, 'token missing or wrong');
        return;
      }
      cb(true);
    },
  });
  wss.on('headers', (headers) => headers.push('X-Server: ws-test'));
  wss.on('connection', (ws, req) => {
    seen.requests.push(req);
    if (tls) { // what the TLS handshake negotiated, read while the socket is open
      const s = req.socket;
      seen.tls.push({ servername: s.servername, alpn: s.alpnProtocol, reused: s.isSessionReused() });
    }
    ws.on('close', (code, reason) => seen.closes.push({ code, reason: reason.toString() }));
    ws.on('pong', (data) => {
      seen.pongs.push(data.toString());
      ws.send(`got pong ${data}`);
    });
    const url = req.url;
    if (url.startsWith('/private/info')) {
      ws.send(JSON.stringify({ origin: req.headers.origin, token: req.headers['x-token'],
                               offered: req.headers['sec-websocket-protocol'], path: url }));
    } else if (url === '/frag') {
      ws.send('hello, ', { fin: false });
      ws.send('fragmented ', { fin: false });
      ws.send('world', { fin: true });
      ws.send(Buffer.from([1, 2, 3]), { binary: true, fin: false });
      ws.send(Buffer.from([4, 5]), { binary: true, fin: true });
    } else if (url === '/ping') {
      ws.ping('are you there');
    } else if (url === '/close4000') {
      ws.close(4000, 'server says bye');
    } else if (url === '/close1001') {
      ws.close(1001, 'going away');
    } else if (url === '/push') {
      const out = [['push text \u00e9', false], [Buffer.from([0, 1, 254, 255]), true], ['', false]];
      for (const [data, binary] of out) ws.send(data, { binary });
      ws.on('message', (data, isBinary) => {
        seen.echoed.push({ data: Buffer.from(data), isBinary });
        if (seen.echoed.length === out.length) ws.close(1000, 'all back');
      });
    } else if (url === '/die') {
      // The head of a 1000-byte binary frame and 100 bytes of it, then the server is gone.
      const head = Buffer.from([0x82, 126, 0x03, 0xe8]);
      ws._socket.write(Buffer.concat([head, Buffer.alloc(100, 7)]), () => ws._socket.destroy());
    } else {
      ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve({
      port: server.address().port,
      seen,
      close: () => new Promise((done) => {
        for (const c of wss.clients) c.terminate();
        wss.close();
        server.close(() => done());
      }),
    }));
  });
}

module.exports = { startServer };
