'use strict';
// A scripted WebSocket endpoint over an already opened TCP socket. It sends exactly the bytes a
// case asks for (in chosen chunks, with chosen delays) and turns what comes back into a queue of
// events that the case checks one by one. Role 'client' masks what it sends and requires unmasked
// frames back; role 'server' does the opposite, requires a mask key that no earlier frame of the
// connection used, and closes TCP itself once a closing handshake is over (RFC 6455 7.1.1).

const { isUtf8 } = require('buffer');
const { OP, RSV1, opName, isControl, isKnownOpcode, toBuffer, buildFrame, closePayload,
        FrameReader, FrameError } = require('./frames');
const { whenWritten, destroyAfterWrites, isSplit } = require('./split');

class CaseFailure extends Error {}

function fail(msg) {
  throw new CaseFailure(msg);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function preview(buf) {
  const shown = buf.subarray(0, 24);
  const printable = shown.every((b) => b >= 0x20 && b < 0x7f);
  const text = printable ? JSON.stringify(shown.toString('latin1')) : shown.toString('hex');
  return `${buf.length} bytes: ${text}${buf.length > shown.length ? '...' : ''}`;
}

function describe(ev) {
  switch (ev.t) {
    case 'message': return `${opName(ev.op)} message (${preview(ev.data)})`;
    case 'ping': case 'pong': return `${ev.t} (${preview(ev.data)})`;
    case 'close': return ev.code === null ? 'close frame without code'
                                          : `close frame ${ev.code}` +
                                            (ev.reason.length ? ` "${ev.reason.toString()}"` : '');
    case 'end': return 'TCP closed by the other side (FIN)';
    case 'reset': return 'TCP reset by the other side';
    case 'error': return `socket error ${ev.err.code || ev.err.message}`;
    case 'violation': return `protocol violation by the other side: ${ev.msg}`;
    case 'timeout': return `nothing within ${ev.ms} ms`;
    default: return ev.t;
  }
}

/* As the server after a closing handshake: how long the client must leave TCP open, waiting for
 * our FIN, before we send it. */
const CLIENT_WAITS_MS = 100;

function describeClose(codes) {
  return codes.map((c) => (c === null ? 'close frame without code' : `close frame ${c}`))
    .join(' or ');
}

/* Valid close codes on the wire (RFC 6455 7.4). */
function closeCodeValid(code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

class Peer {
  /* deflate: the connection's permessage-deflate codecs (lib/deflate.js) when it was agreed: RSV1
   * is then allowed on the first frame of a message, which is inflated (and UTF-8 checked after);
   * its message event says compressed: true and wireLength (the payload bytes on the wire). */
  constructor(socket, { role = 'client', leftover = null, deflate = null } = {}) {
    this.socket = socket;
    this.role = role;
    this.deflate = deflate;
    this.events = [];
    this.waiter = null;
    this.reader = new FrameReader({ expectMasked: role === 'server' });
    this.message = null; // { op, parts } of an incoming fragmented message
    this.closeReceived = false;
    this.closeCode = undefined; // the code of the close frame received (null: none in it)
    this.failExpected = false;  // a case expected the other side to fail the connection
    this.keys = new Set();      // mask keys seen (role 'server')
    this.ended = false;   // the other side ended TCP (or reset it)
    this.broken = false;  // we stopped parsing after a violation
    this.log = [];
    socket.setNoDelay(true);
    socket.on('data', (d) => this.onData(d));
    socket.on('end', () => this.onEnd({ t: 'end' }));
    socket.on('error', (err) => {
      if (this.ended) return;
      // Split delivery may still be writing pieces of bytes that followed our close frame when
      // the other side, done with the closing handshake, closes TCP as it should; the write
      // after its close then fails with EPIPE. In one write those bytes would have been read and
      // ignored before it closed: for the case, the other side closed TCP.
      if (err.code === 'EPIPE' && isSplit(socket)) return this.onEnd({ t: 'end' });
      this.onEnd(err.code === 'ECONNRESET' ? { t: 'reset' } : { t: 'error', err });
    });
    if (leftover && leftover.length) this.onData(leftover);
  }

  // ---- incoming --------------------------------------------------------------------------------

  push(ev) {
    ev.at = Date.now();
    this.log.push(describe(ev));
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = null;
      w(ev);
    } else {
      this.events.push(ev);
    }
  }

  onEnd(ev) {
    if (this.ended) return;
    this.ended = true;
    if (ev.t === 'end') this.socket.end(); // the other side closed first; now we close too
    this.push(ev);
  }

  violation(msg) {
    this.broken = true;
    this.push({ t: 'violation', msg });
  }

  onData(chunk) {
    if (this.broken) return;
    let frames;
    try {
      frames = this.reader.push(chunk);
    } catch (e) {
      if (!(e instanceof FrameError)) throw e;
      this.violation(e.message);
      return;
    }
    for (const f of frames) {
      this.onFrame(f);
      if (this.broken) return;
    }
  }

  onFrame(f) {
    if (this.closeReceived) return this.violation(`${opName(f.op)} frame after its close frame`);
    if (f.key) {
      const key = f.key.toString('hex');
      if (this.keys.has(key)) return this.violation(`mask key ${key} used twice (keys must be fresh)`);
      this.keys.add(key);
    }
    const opensData = f.op === OP.TEXT || f.op === OP.BINARY;
    const compressedStart = Boolean(this.deflate) && f.rsv === RSV1 && opensData;
    if (f.rsv && !compressedStart) {
      return this.violation(`RSV bits 0x${f.rsv.toString(16)} on a ${opName(f.op)} frame` +
                            `${this.deflate ? '' : ' without an extension'}`);
    }
    if (!isKnownOpcode(f.op)) return this.violation(`reserved opcode ${f.op}`);
    if (isControl(f.op)) {
      if (!f.fin) return this.violation(`fragmented ${opName(f.op)} frame`);
      if (f.payload.length > 125) {
        return this.violation(`${opName(f.op)} frame with ${f.payload.length} bytes (> 125)`);
      }
      if (f.op === OP.PING || f.op === OP.PONG) return this.push({ t: opName(f.op), data: f.payload });
      return this.onClose(f.payload);
    }
    if (f.op === OP.CONT) {
      if (!this.message) return this.violation('continuation frame without a message to continue');
      this.message.parts.push(f.payload);
    } else {
      if (this.message) return this.violation(`new ${opName(f.op)} frame inside a fragmented message`);
      this.message = { op: f.op, parts: [f.payload], compressed: compressedStart };
    }
    if (!f.fin) return undefined;
    const { op, compressed } = this.message;
    const wire = Buffer.concat(this.message.parts);
    this.message = null;
    let data = wire;
    if (compressed) {
      try {
        data = this.deflate.in.inflate(wire);
      } catch (e) {
        return this.violation(`compressed ${opName(op)} message does not inflate (${e.message})`);
      }
    }
    if (op === OP.TEXT && !isUtf8(data)) return this.violation('text message is not valid UTF-8');
    return this.push({ t: 'message', op, data, compressed, wireLength: wire.length });
  }

  onClose(payload) {
    this.closeReceived = true;
    if (payload.length === 1) return this.violation('close frame with a 1-byte payload');
    const code = payload.length ? payload.readUInt16BE(0) : null;
    const reason = payload.subarray(2);
    if (code !== null && !closeCodeValid(code)) return this.violation(`close code ${code} on the wire`);
    if (!isUtf8(reason)) return this.violation('close reason is not valid UTF-8');
    this.closeCode = code;
    return this.push({ t: 'close', code, reason });
  }

  /* The next event, or { t: 'timeout' } after ms. Bytes that arrived in time but wait to be read
   * still count: after a busy stretch (big payloads made or checked in this process) Node runs the
   * expired timers of an iteration before it polls, so the timeout is only declared after one
   * more poll (setImmediate). Under split delivery the ms count from our last piece written. */
  next(ms = 2000) {
    if (this.events.length) return Promise.resolve(this.events.shift());
    return new Promise((resolve) => {
      let timer = null;
      const waiter = (ev) => {
        clearTimeout(timer);
        resolve(ev);
      };
      this.waiter = waiter;
      whenWritten(this.socket).then(() => {
        if (this.waiter !== waiter) return;
        timer = setTimeout(() => setImmediate(() => {
          if (this.waiter !== waiter) return;
          this.waiter = null;
          resolve({ t: 'timeout', ms });
        }), ms);
      });
    });
  }

  // ---- outgoing --------------------------------------------------------------------------------

  /* Whether our role masks its frames (a case that breaks the rule uses mask: !p.masking). */
  get masking() {
    return this.role === 'client';
  }

  /* A frame masked as our role requires unless opts.mask says otherwise. */
  frame(opts) {
    return buildFrame({ mask: this.masking, ...opts });
  }

  text(payload, opts = {}) { return this.frame({ op: OP.TEXT, payload, ...opts }); }
  binary(payload, opts = {}) { return this.frame({ op: OP.BINARY, payload, ...opts }); }
  cont(payload, opts = {}) { return this.frame({ op: OP.CONT, payload, ...opts }); }
  ping(payload, opts = {}) { return this.frame({ op: OP.PING, payload, ...opts }); }
  pong(payload, opts = {}) { return this.frame({ op: OP.PONG, payload, ...opts }); }
  close(code, reason, opts = {}) {
    return this.frame({ op: OP.CLOSE, payload: closePayload(code, reason), ...opts });
  }

  /* Frames of one message: data split into the given fragment sizes (the last takes the rest). */
  fragments(op, data, sizes, opts = {}) {
    const buf = toBuffer(data);
    const frames = [];
    let off = 0;
    sizes.forEach((n, i) => {
      const last = i === sizes.length - 1;
      const end = last ? buf.length : off + n;
      frames.push(this.frame({ op: i === 0 ? op : OP.CONT, payload: buf.subarray(off, end),
                               fin: last, ...opts }));
      off = end;
    });
    return frames;
  }

  /* One message compressed with the connection's codec (context taken over as agreed), in one
   * frame with RSV1. */
  compressed(op, data, opts = {}) {
    const payload = this.deflate.out.compress(toBuffer(data));
    return this.frame({ op, payload, rsv: RSV1, ...opts });
  }

  /* One compressed message in `count` frames of about equal size, RSV1 on the first only. */
  compressedFragments(op, data, count, opts = {}) {
    const z = this.deflate.out.compress(toBuffer(data));
    const size = Math.ceil(z.length / count);
    const frames = this.fragments(op, z, new Array(count).fill(size), opts);
    frames[0][0] |= RSV1 << 4;
    return frames;
  }

  write(...bufs) {
    if (!this.socket.destroyed) this.socket.write(Buffer.concat(bufs.flat()));
  }

  /* Write each buffer on its own, pausing `delay` ms between them (0: back to back, still one
   * write call, and with Nagle off one TCP segment, per buffer). */
  async writeParts(parts, delay = 5) {
    for (let i = 0; i < parts.length; i++) {
      if (i && delay) await sleep(delay);
      if (!this.socket.destroyed) this.socket.write(parts[i]);
    }
  }

  /* Resolves once every byte written so far is on its way (under split delivery its pieces take
   * a while; at once otherwise). */
  written() {
    return whenWritten(this.socket);
  }

  /* Write the bytes in chunks of `chunk` bytes, pausing `delay` ms between chunks. */
  async writeChunked(bytes, chunk = 1, delay = 1) {
    const buf = Buffer.concat([bytes].flat());
    const parts = [];
    for (let off = 0; off < buf.length; off += chunk) parts.push(buf.subarray(off, off + chunk));
    await this.writeParts(parts, delay);
  }

  // ---- expectations ----------------------------------------------------------------------------

  async expectMessage(op, data, ms = 5000) {
    const want = toBuffer(data);
    const ev = await this.next(ms);
    if (ev.t === 'message' && ev.op === op && ev.data.equals(want)) return ev;
    if (ev.t === 'message' && ev.op === op && ev.data.length === want.length) {
      let i = 0;
      while (ev.data[i] === want[i]) i++;
      fail(`expected ${opName(op)} message echoed, got the same length with different byte at ` +
           `offset ${i} (0x${ev.data[i].toString(16)} instead of 0x${want[i].toString(16)})`);
    }
    return fail(`expected ${opName(op)} message (${preview(want)}), got ${describe(ev)}`);
  }

  /* Send one single-frame message and expect it echoed. */
  async echo(op, data, ms) {
    this.write(this.frame({ op, payload: data }));
    return this.expectMessage(op, data, ms);
  }

  async expectText(data, ms) { return this.expectMessage(OP.TEXT, data, ms); }
  async expectBinary(data, ms) { return this.expectMessage(OP.BINARY, data, ms); }

  async expectPong(data, ms = 2000) {
    const want = toBuffer(data);
    const ev = await this.next(ms);
    if (ev.t === 'pong' && ev.data.equals(want)) return ev;
    return fail(`expected pong (${preview(want)}), got ${describe(ev)}`);
  }

  /* Next event is a close frame whose code is one of codes (null: no code). */
  async expectClose(codes, ms = 2000) {
    const ev = await this.next(ms);
    if (ev.t === 'close' && codes.includes(ev.code)) return ev;
    return fail(`expected ${describeClose(codes)}, got ${describe(ev)}`);
  }

  /* The other side closes TCP (FIN; a reset only when allowReset) within ms. */
  async expectTcpClose({ ms = 2000, allowReset = false } = {}) {
    const ev = await this.next(ms);
    if (ev.t === 'end' || (allowReset && ev.t === 'reset')) return ev;
    const who = this.role === 'client' ? 'server' : 'client';
    return fail(`expected the ${who} to close TCP within ${ms} ms, got ${describe(ev)}`);
  }

  /* As the server, once the closing handshake is over: the client leaves the TCP close to us
   * (nothing from it for CLIENT_WAITS_MS), and answers our FIN with its own, not a reset. */
  async closeTcpFirst() {
    const ev = await this.next(CLIENT_WAITS_MS);
    if (ev.t !== 'timeout') {
      fail(`expected the client to wait for the server to close TCP, got ${describe(ev)}`);
    }
    this.socket.end();
    return this.expectTcpClose();
  }

  /* The other side fails the connection: a close frame with `code` (nothing before it). As the
   * client we do not answer it, and the server must close TCP anyway (RFC 6455 7.1.7; a reset is
   * accepted). As the server we answer it and close TCP first, as after any closing handshake. */
  async expectFail(code, ms = 2000) {
    const started = Date.now();
    this.failExpected = true;
    await this.expectClose([code], ms);
    if (this.role === 'server') {
      this.write(this.close(code));
      return this.closeTcpFirst();
    }
    return this.expectTcpClose({ ms: Math.max(2000, ms - (Date.now() - started)),
                                 allowReset: true });
  }

  /* The close frame we sent comes back with one of codes, then the connection ends as RFC 6455
   * 7.1.1 wants: the server closes TCP first (we, as the server, after checking that the client
   * waits for it). */
  async expectCloseEnd(codes, ms) {
    const ev = await this.expectClose(codes, ms);
    if (this.role === 'client') await this.expectTcpClose();
    else await this.closeTcpFirst();
    return ev;
  }

  /* A clean closing handshake started by us: send close, the same code comes back (for a close
   * without code: no code or 1000), then TCP is closed by the server (expectCloseEnd). */
  async closeHandshake(code = 1000, reason = '') {
    this.write(this.close(code, reason));
    return this.expectCloseEnd(code === null ? [null, 1000] : [code]);
  }

  destroy() {
    destroyAfterWrites(this.socket);
  }
}

module.exports = { Peer, CaseFailure, fail, sleep };
