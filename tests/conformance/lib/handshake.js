'use strict';
// The opening handshake done by hand (RFC 6455 section 4): building upgrade requests with any
// deviation a case needs, reading raw HTTP responses, and opening a checked WebSocket connection
// that is handed over to a Peer together with any bytes that followed the 101 head.

const crypto = require('crypto');
const { Peer, fail } = require('./peer');
const { Deflate, parseAnswer } = require('./deflate');
const transport = require('./transport');
const { whenWritten } = require('./split');

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const HOST = '127.0.0.1';

function acceptFor(key) {
  return crypto.createHash('sha1').update(key + GUID).digest('base64');
}

function newKey() {
  return crypto.randomBytes(16).toString('base64');
}

/* An upgrade request as text. opts: method, target, version ('1.1'), key, headers: { Name: value }
 * merged over the standard ones (value null drops the header; names are matched
 * case-insensitively and the case's spelling is used), extra: raw header lines appended. */
function upgradeRequest(port, opts = {}) {
  const std = [['Host', `${HOST}:${port}`], ['Upgrade', 'websocket'], ['Connection', 'Upgrade'],
               ['Sec-WebSocket-Key', opts.key || newKey()], ['Sec-WebSocket-Version', '13']];
  const overrides = opts.headers || {};
  const lower = Object.keys(overrides).map((k) => k.toLowerCase());
  const lines = [];
  for (const [name, value] of std) {
    const i = lower.indexOf(name.toLowerCase());
    if (i < 0) lines.push(`${name}: ${value}`);
  }
  for (const [name, value] of Object.entries(overrides)) {
    if (value !== null) lines.push(`${name}: ${value}`);
  }
  lines.push(...(opts.extra || []));
  const start = `${opts.method || 'GET'} ${opts.target || '/'} HTTP/${opts.version || '1.1'}`;
  return `${start}\r\n${lines.map((l) => `${l}\r\n`).join('')}\r\n`;
}

function parseHead(text) {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.(\d) (\d{3})(?: (.*))?$/.exec(lines[0]);
  if (!m) return null;
  const headers = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    (headers[name] = headers[name] || []).push(line.slice(i + 1).trim());
  }
  return { minor: Number(m[1]), status: Number(m[2]), reason: m[3] || '', headers };
}

function connect(port) {
  return transport.connect(HOST, port);
}

/* Start reading one HTTP head from sock (a response unless another parser is given). `done`
 * resolves { head, raw, rest, closed } where head is what parse made of the head's text (null if
 * it could not parse it), or null if the connection ended (or stop() was called) first. */
function readHead(sock, parse = parseHead) {
  let stop;
  const done = new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const finish = (closed) => {
      sock.removeListener('data', onData);
      sock.removeListener('end', onEnd);
      sock.removeListener('error', onEnd);
      const end = buf.indexOf('\r\n\r\n');
      const head = end < 0 ? null : parse(buf.subarray(0, end).toString('latin1'));
      resolve({ head, raw: buf, rest: end < 0 ? buf : buf.subarray(end + 4), closed });
    };
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      if (buf.indexOf('\r\n\r\n') >= 0) finish(false);
    };
    const onEnd = () => finish(true);
    stop = () => finish(false);
    sock.on('data', onData);
    sock.once('end', onEnd);
    sock.once('error', onEnd);
  });
  return { done, stop };
}

/* The response head, or a null head when none completed within ms of the call (of the last
 * piece written to sock, under split delivery). As in Peer.next, bytes that arrived in time but
 * wait to be read still count (one more poll before giving up). */
async function awaitHead(reading, ms, sock = null) {
  let timer = null;
  let done = false;
  whenWritten(sock).then(() => {
    if (!done) timer = setTimeout(() => setImmediate(reading.stop), ms);
  });
  const r = await reading.done;
  done = true;
  clearTimeout(timer);
  return r;
}

/* Send raw request bytes and read the response head. Resolves { status, headers, reason } or
 * fails the case if no HTTP response head arrives. */
async function httpExchange(port, request, ms = 3000) {
  const sock = await connect(port);
  try {
    const reading = readHead(sock);
    sock.write(request);
    const r = await awaitHead(reading, ms, sock);
    if (!r.head) {
      fail(`expected an HTTP response, got ${r.closed ? 'the connection closed' : 'nothing'}` +
           (r.raw.length ? ` after ${JSON.stringify(r.raw.toString('latin1').slice(0, 60))}` : ''));
    }
    return r.head;
  } finally {
    sock.destroy();
  }
}

function headerHasToken(headers, name, token) {
  return (headers[name] || []).some((v) => v.split(',').some((t) => t.trim().toLowerCase() === token));
}

/* Check a 101 answer against RFC 6455 4.2.2 for the request we sent (and, when it offered
 * extensions, RFC 7692: one permessage-deflate element at most). */
function check101(head, key, offeredProtocols, offeredExtensions) {
  if (head.status !== 101) fail(`expected status 101, got ${head.status} ${head.reason}`);
  if (head.minor !== 1) fail(`101 must be an HTTP/1.1 response, got HTTP/1.${head.minor}`);
  const up = head.headers.upgrade || [];
  if (up.length !== 1 || up[0].toLowerCase() !== 'websocket') {
    fail(`101 must carry "Upgrade: websocket", got ${JSON.stringify(up)}`);
  }
  if (!headerHasToken(head.headers, 'connection', 'upgrade')) {
    fail(`101 must carry "Connection: Upgrade", got ${JSON.stringify(head.headers.connection)}`);
  }
  const accept = head.headers['sec-websocket-accept'] || [];
  if (accept.length !== 1 || accept[0] !== acceptFor(key)) {
    fail(`Sec-WebSocket-Accept must be ${acceptFor(key)}, got ${JSON.stringify(accept)}`);
  }
  const ext = head.headers['sec-websocket-extensions'];
  if (ext && !offeredExtensions) fail(`101 names extensions we did not offer: ${ext}`);
  if (ext && (ext.length !== 1 || !parseAnswer(ext[0]))) {
    fail(`101 must accept one permessage-deflate offer at most, got ${JSON.stringify(ext)}`);
  }
  const proto = head.headers['sec-websocket-protocol'];
  if (proto && !(proto.length === 1 && (offeredProtocols || []).includes(proto[0]))) {
    fail(`101 selects a subprotocol we did not offer: ${JSON.stringify(proto)}`);
  }
}

/* Open a WebSocket connection as a client: request (with opts as for upgradeRequest), optional
 * `pipelined` bytes written in the same TCP write as the request head (or everything in writes
 * of `chunk` bytes, 1 ms apart), checked 101 within 3 s of the last write. opts.extensions: a
 * Sec-WebSocket-Extensions offer (a string, or an array for several header lines); the peer then
 * speaks permessage-deflate if the 101 accepts it. */
async function openClient(port, opts = {}) {
  const key = opts.key || newKey();
  const sock = await connect(port);
  const offers = opts.extensions === undefined ? [] : [].concat(opts.extensions);
  const extra = [...(opts.extra || []), ...offers.map((e) => `Sec-WebSocket-Extensions: ${e}`)];
  const request = Buffer.from(upgradeRequest(port, { ...opts, key, extra }), 'latin1');
  const bytes = opts.pipelined ? Buffer.concat([request, opts.pipelined]) : request;
  const reading = readHead(sock);
  sock.on('error', () => {}); // writes after the server answered and closed: the answer decides
  if (opts.chunk) {
    for (let off = 0; off < bytes.length; off += opts.chunk) {
      if (off) await new Promise((resolve) => setTimeout(resolve, 1));
      sock.write(bytes.subarray(off, off + opts.chunk));
    }
  } else {
    sock.write(bytes);
  }
  const r = await awaitHead(reading, 3000, sock);
  if (!r.head) {
    sock.destroy();
    fail(`opening handshake: no response head (${r.closed ? 'connection closed' : 'timeout'})`);
  }
  try {
    check101(r.head, key, opts.protocols, offers.length > 0);
  } catch (e) {
    sock.destroy();
    throw e;
  }
  const answer = r.head.headers['sec-websocket-extensions'];
  const deflate = answer ? new Deflate('client', parseAnswer(answer[0])) : null;
  return { peer: new Peer(sock, { role: 'client', leftover: r.rest, deflate }), head: r.head };
}

module.exports = { acceptFor, newKey, upgradeRequest, httpExchange, openClient, readHead,
                   awaitHead, HOST };
