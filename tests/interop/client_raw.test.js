'use strict';
// Our client against a raw TCP server (Node `net`) that answers with crafted bytes: each broken
// rule must fail the connection, with the right close code sent back on the wire (checked by
// parsing the client's frames, which must all be masked, each with its own key), or, for a broken
// handshake, with an error that names the rule and no frame at all. `wsk connect` is the client
// (exit status 1 and a one-line reason on stderr); client_probe where a timeout is needed.

const assert = require('assert');
const crypto = require('crypto');
const net = require('net');
const h = require('./lib/harness');
const { probe, wskConnect } = require('./lib/client_probe');

const t = h.suite('client_raw', { timeoutMs: 120000 });
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

function accept(key) {
  return crypto.createHash('sha1').update(key + GUID).digest('base64');
}

function frame(opcode, payload = Buffer.alloc(0), { fin = true, rsv = 0, mask = null } = {}) {
  payload = Buffer.from(payload);
  const len = payload.length;
  const head = [(fin ? 0x80 : 0) | (rsv << 4) | opcode];
  if (len < 126) head.push((mask ? 0x80 : 0) | len);
  else if (len < 65536) head.push((mask ? 0x80 : 0) | 126, len >> 8, len & 255);
  else throw new Error('test frames stay small');
  let body = payload;
  if (mask) {
    body = Buffer.from(payload);
    for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
    head.push(...mask);
  }
  return Buffer.concat([Buffer.from(head), body]);
}

function upgradeHead(key, extra = '') {
  return 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
         `Sec-WebSocket-Accept: ${accept(key)}\r\n${extra}\r\n`;
}

// Parse the client's frames; throws on anything a client must not send.
function parseClientFrames(buf, out) {
  let off = 0;
  while (buf.length - off >= 2) {
    const b0 = buf[off];
    const b1 = buf[off + 1];
    let len = b1 & 0x7f;
    let p = off + 2;
    if (len === 126) { if (buf.length < p + 2) break; len = buf.readUInt16BE(p); p += 2; }
    else if (len === 127) { if (buf.length < p + 8) break; len = Number(buf.readBigUInt64BE(p)); p += 8; }
    const masked = (b1 & 0x80) !== 0;
    if (!masked) throw new Error('the client sent an unmasked frame');
    if (buf.length < p + 4 + len) break;
    const key = buf.subarray(p, p + 4);
    const payload = Buffer.from(buf.subarray(p + 4, p + 4 + len));
    for (let i = 0; i < payload.length; i++) payload[i] ^= key[i & 3];
    out.push({ fin: (b0 & 0x80) !== 0, opcode: b0 & 0x0f, key: key.toString('hex'), payload });
    off = p + 4 + len;
  }
  return buf.subarray(off);
}

// A raw server: script(sock, key, head) answers the upgrade; the client's frames are collected and
// a close frame from the client ends the TCP connection from our side.
async function rawServer(script) {
  const state = { frames: [], requests: [], ended: null, error: null };
  const server = net.createServer((sock) => {
    let buf = Buffer.alloc(0);
    let upgraded = false;
    state.ended = new Promise((resolve) => sock.on('close', resolve));
    sock.on('error', () => {});
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.subarray(0, end).toString('latin1');
        buf = buf.subarray(end + 4);
        upgraded = true;
        state.requests.push(head);
        const key = /\r\nsec-websocket-key: *([^\r]*)/i.exec(head)[1];
        script(sock, key, head);
      }
      try {
        buf = parseClientFrames(buf, state.frames);
      } catch (e) {
        state.error = e;
        sock.destroy();
        return;
      }
      if (state.frames.some((f) => f.opcode === 8)) sock.end();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = server.address().port;
  state.url = `ws://127.0.0.1:${state.port}/raw`;
  state.close = () => new Promise((resolve) => server.close(resolve));
  return state;
}

function closeCode(f) {
  return f.payload.length >= 2 ? f.payload.readUInt16BE(0) : null;
}

// Run `wsk connect URL` (stdin kept open) against a raw server; expect exit 1 and, when `code` is
// given, a close frame with that code as the client's last frame.
async function expectFailure(script, { code = null, stderr, frames = null }) {
  const s = await rawServer(script);
  try {
    const c = wskConnect([s.url]);
    const status = await c.wait(8000);
    assert.strictEqual(status, 1, `exit status; stderr: ${c.stderr.join(' | ')}`);
    const reason = c.stderr.find((l) => l.startsWith('wsk connect: '));
    assert.ok(reason && stderr.test(reason), `stderr ${JSON.stringify(c.stderr)} !~ ${stderr}`);
    assert.strictEqual(s.error, null);
    if (code !== null) {
      const last = s.frames[s.frames.length - 1];
      assert.ok(last && last.opcode === 8, `no close frame from the client: ${JSON.stringify(s.frames)}`);
      assert.strictEqual(closeCode(last), code);
    }
    if (frames !== null) assert.strictEqual(s.frames.length, frames, JSON.stringify(s.frames));
    c.end();
  } finally {
    await s.close();
  }
}

t.test('masked frame from the server: close 1002', () => expectFailure((sock, key) => {
  sock.write(upgradeHead(key));
  sock.write(frame(1, 'hi', { mask: [1, 2, 3, 4] }));
}, { code: 1002, stderr: /^wsk connect: the server sent a masked frame \(servers must not mask\)$/ }));

t.test('oversize control frame (ping of 126 bytes): close 1002', () => expectFailure((sock, key) => {
  sock.write(upgradeHead(key));
  sock.write(frame(9, Buffer.alloc(126, 1)));
}, { code: 1002, stderr: /control frame over 125 bytes/ }));

t.test('fragmented ping: close 1002', () => expectFailure((sock, key) => {
  sock.write(upgradeHead(key));
  sock.write(frame(9, 'x', { fin: false }));
}, { code: 1002, stderr: /fragmented control frame/ }));

t.test('continuation frame without a message: close 1002', () => expectFailure((sock, key) => {
  sock.write(upgradeHead(key));
  sock.write(frame(0, 'x'));
}, { code: 1002, stderr: /continuation frame outside a fragmented message/ }));

t.test('new message inside a fragmented one: close 1002', () => expectFailure((sock, key) => {
  sock.write(upgradeHead(key));
  sock.write(Buffer.concat([frame(1, 'a', { fin: false }), frame(1, 'b')]));
}, { code: 1002, stderr: /new message inside a fragmented one/ }));

t.test('invalid UTF-8 in a text message: close 1007', () => expectFailure((sock, key) => {
  sock.write(upgradeHead(key));
  sock.write(frame(1, Buffer.from([0x68, 0xc3, 0x28])));
}, { code: 1007, stderr: /UTF-8/ }));

t.test('reserved opcode 0x3: close 1002', () => expectFailure((sock, key) => {
  sock.write(upgradeHead(key));
  sock.write(frame(3, 'x'));
}, { code: 1002, stderr: /reserved data opcode/ }));

t.test('RSV1 without a negotiated extension: close 1002', () => expectFailure((sock, key) => {
  sock.write(upgradeHead(key));
  sock.write(frame(1, 'x', { rsv: 4 }));
}, { code: 1002, stderr: /RSV bits/ }));

t.test('close frame with a code not allowed on the wire (1005): close 1002', () => expectFailure((sock, key) => {
  sock.write(upgradeHead(key));
  sock.write(frame(8, Buffer.from([0x03, 0xed])));
}, { code: 1002, stderr: /close frame with a 1-byte payload or a code not allowed/ }));

t.test('bad Sec-WebSocket-Accept: handshake error, no frame sent', () => expectFailure((sock, key) => {
  sock.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
             `Sec-WebSocket-Accept: ${accept(`${key}x`)}\r\n\r\n`);
}, { stderr: /bad handshake answer: .*Sec-WebSocket-Accept does not match/, frames: 0 }));

t.test('unsolicited subprotocol: handshake error', () => expectFailure((sock, key) => {
  sock.write(upgradeHead(key, 'Sec-WebSocket-Protocol: chat\r\n'));
}, { stderr: /subprotocol although the client offered none/, frames: 0 }));

t.test('unsolicited extension: handshake error', () => expectFailure((sock, key) => {
  sock.write(upgradeHead(key, 'Sec-WebSocket-Extensions: permessage-deflate\r\n'));
}, { stderr: /extension the client did not offer/, frames: 0 }));

t.test('not a 101 (403 with an empty body)', () => expectFailure((sock) => {
  sock.write('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n');
}, { stderr: /^wsk connect: server refused the upgrade: 403 Forbidden$/, frames: 0 }));

t.test('not a 101, body until the server closes (no Content-Length)', () => expectFailure((sock) => {
  sock.write('HTTP/1.1 404 Not Here\r\nContent-Type: text/plain\r\n\r\nno such\r\n');
  setTimeout(() => sock.write('endpoint\n', () => sock.end()), 50);
}, { stderr: /^wsk connect: server refused the upgrade: 404 Not Here: no such  endpoint$/ }));

t.test('not HTTP at all', () => expectFailure((sock) => {
  sock.end('SSH-2.0-OpenSSH\r\n\r\n');
}, { stderr: /not valid HTTP/ }));

t.test('server closes before answering the upgrade', () => expectFailure((sock) => {
  sock.end();
}, { stderr: /closed the connection before answering the upgrade/ }));

t.test('handshake timeout', async () => {
  const s = await rawServer(() => {});
  try {
    const p = probe(s.url, ['--handshake-timeout', '300']);
    await p.next(/^error -110 127\.0\.0\.1:\d+ did not answer the upgrade within 300 ms/);
    await p.next(/^close 1006 0/);
    await p.next(/^done$/);
    assert.strictEqual(await p.wait(), 0);
  } finally {
    await s.close();
  }
});

t.test('the 101 and frames in 1-byte writes; frames right behind the 101; client frames masked with fresh keys', async () => {
  const s = await rawServer(async (sock, key) => {
    const bytes = Buffer.concat([Buffer.from(upgradeHead(key)), frame(1, 'chopped'), frame(2, [1, 2])]);
    for (const b of bytes) {
      sock.write(Buffer.from([b]));
      await h.sleep(1);
    }
    sock.write(Buffer.concat([frame(1, 'tail'), frame(8, Buffer.from([0x03, 0xe8, 0x6f, 0x6b]))]));
  });
  try {
    const c = wskConnect([s.url, '-x', 'one', '-x', 'two', '-x', 'three', '--wait', '5']);
    assert.strictEqual(await c.wait(8000), 0, c.stderr.join(' | '));
    assert.deepStrictEqual(c.lines, ['chopped', '< [binary 2 bytes] 0102', 'tail']);
    const texts = s.frames.filter((f) => f.opcode === 1).map((f) => f.payload.toString());
    assert.deepStrictEqual(texts, ['one', 'two', 'three']);
    const keys = s.frames.map((f) => f.key);
    assert.strictEqual(new Set(keys).size, keys.length, `mask keys repeat: ${keys}`);
    const last = s.frames[s.frames.length - 1];
    assert.strictEqual(last.opcode, 8);
    assert.strictEqual(closeCode(last), 1000); // the answer echoes the server's code
    assert.match(s.requests[0], /^GET \/raw HTTP\/1\.1\r\n/);
  } finally {
    await s.close();
  }
});

// The blocking layer closes like wsk connect: after the closing handshake the client waits for the
// server to close TCP (RFC 6455 7.1.1) instead of closing first. The raw server echoes every data
// frame, answers the close at once and sends its FIN 300 ms later.
t.test('wsk_sync_close: the server closes TCP first', async () => {
  let clientFinFirst = null;
  const server = net.createServer({ allowHalfOpen: true }, (sock) => {
    let buf = Buffer.alloc(0);
    let upgraded = false;
    let fin = false;
    sock.on('error', () => {});
    sock.on('end', () => { fin = true; });
    sock.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const key = /\r\nsec-websocket-key: *([^\r]*)/i.exec(buf.subarray(0, end).toString('latin1'))[1];
        sock.write(upgradeHead(key));
        buf = buf.subarray(end + 4);
        upgraded = true;
      }
      const frames = [];
      buf = parseClientFrames(buf, frames);
      for (const f of frames) {
        if (f.opcode !== 8) {
          const n = f.payload.length;
          const head = n < 126 ? Buffer.from([0x80 | f.opcode, n])
            : n < 65536 ? Buffer.from([0x80 | f.opcode, 126, n >> 8, n & 255])
              : Buffer.concat([Buffer.from([0x80 | f.opcode, 127]), Buffer.alloc(8)]);
          if (n >= 65536) head.writeBigUInt64BE(BigInt(n), 2);
          sock.write(Buffer.concat([head, f.payload]));
          continue;
        }
        sock.write(frame(8, f.payload));
        setTimeout(() => {
          clientFinFirst = fin;
          sock.end();
        }, 300);
      }
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const p = probe(`ws://127.0.0.1:${server.address().port}/`, ['--sync']);
    await p.next(/^sync-close 0$/);
    assert.strictEqual(await p.wait(), 0);
    assert.strictEqual(clientFinFirst, false, 'the client closed TCP before the server did');
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});

t.run();
