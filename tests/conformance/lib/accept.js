'use strict';
// The server side of the opening handshake, for a client under test: its upgrade request parsed
// and held to RFC 6455 4.1, and the 101 answer.

const { acceptFor, HOST } = require('./handshake');
const { fail } = require('./peer');

/* A request head as text -> { method, target, version, headers: { lowercase name: [values] } },
 * or { bad } naming the first line that is not well-formed. */
function parseRequest(text) {
  const lines = text.split('\r\n');
  const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\S+) HTTP\/(\d\.\d)$/.exec(lines[0]);
  if (!m) return { bad: `request line ${JSON.stringify(lines[0])}` };
  const headers = {};
  for (const line of lines.slice(1)) {
    const h = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/.exec(line);
    if (!h) return { bad: `header line ${JSON.stringify(line)}` };
    const name = h[1].toLowerCase();
    (headers[name] = headers[name] || []).push(h[2]);
  }
  return { method: m[1], target: m[2], version: m[3], headers };
}

/* The comma-separated elements of every value of a header. */
function elements(values = []) {
  return values.flatMap((v) => v.split(',')).map((e) => e.trim()).filter(Boolean);
}

function single(req, name) {
  const values = req.headers[name.toLowerCase()] || [];
  if (values.length !== 1) {
    fail(`the upgrade request must have exactly one ${name} header, got ${JSON.stringify(values)}`);
  }
  return values[0];
}

/* Check the client's upgrade request against RFC 6455 4.1 for a connection to port and the
 * request target and subprotocol offer it was given. Returns its Sec-WebSocket-Key. */
function checkRequest(req, { port, target, protocols = [] }) {
  if (!req) fail('the client sent no well-formed HTTP head');
  if (req.bad) fail(`the upgrade request has a malformed ${req.bad}`);
  if (req.method !== 'GET') fail(`the upgrade request must be a GET, got ${req.method}`);
  if (req.version !== '1.1') fail(`the upgrade request must be HTTP/1.1, got HTTP/${req.version}`);
  if (req.target !== target) fail(`the request target must be ${target}, got ${req.target}`);
  const host = single(req, 'Host');
  if (host !== `${HOST}:${port}`) fail(`Host must be ${HOST}:${port}, got ${host}`);
  const upgrade = elements(req.headers.upgrade).map((e) => e.toLowerCase());
  if (!upgrade.includes('websocket')) fail(`Upgrade must include websocket, got ${upgrade}`);
  const connection = elements(req.headers.connection).map((e) => e.toLowerCase());
  if (!connection.includes('upgrade')) fail(`Connection must include Upgrade, got ${connection}`);
  const key = single(req, 'Sec-WebSocket-Key');
  const nonce = Buffer.from(key, 'base64');
  if (nonce.length !== 16 || nonce.toString('base64') !== key) {
    fail(`Sec-WebSocket-Key must be the base64 of 16 bytes, got ${JSON.stringify(key)}`);
  }
  const version = single(req, 'Sec-WebSocket-Version');
  if (version !== '13') fail(`Sec-WebSocket-Version must be 13, got ${version}`);
  const offer = elements(req.headers['sec-websocket-protocol']);
  if (offer.join() !== protocols.join()) {
    fail(`the subprotocol offer must be ${JSON.stringify(protocols)}, got ${JSON.stringify(offer)}`);
  }
  if (req.headers['sec-websocket-extensions']) {
    fail(`the request offers extensions not asked for: ${req.headers['sec-websocket-extensions']}`);
  }
  return key;
}

/* A 101 answer to key, with extra header lines. */
function switchingProtocols(key, extra = []) {
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade',
                 `Sec-WebSocket-Accept: ${acceptFor(key)}`, ...extra];
  return `${lines.map((l) => `${l}\r\n`).join('')}\r\n`;
}

module.exports = { parseRequest, checkRequest, switchingProtocols };
