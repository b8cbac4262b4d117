'use strict';
// WebSocket frame codec for the conformance peer (RFC 6455 section 5.2). Role-neutral: the caller
// decides whether outgoing frames are masked and whether incoming frames must be.

const crypto = require('crypto');

const OP = { CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa };
const RSV1 = 0x4;
const RSV2 = 0x2;
const RSV3 = 0x1;

const OP_NAMES = { 0: 'continuation', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };

function opName(op) {
  return OP_NAMES[op] || `reserved opcode ${op}`;
}

function isControl(op) {
  return (op & 0x8) !== 0;
}

function isKnownOpcode(op) {
  return op in OP_NAMES;
}

function toBuffer(data) {
  if (data === undefined || data === null) return Buffer.alloc(0);
  return Buffer.isBuffer(data) ? data : Buffer.from(data);
}

function maskInPlace(buf, key) {
  for (let i = 0; i < buf.length; i++) buf[i] ^= key[i & 3];
  return buf;
}

/* One frame as bytes.
 *   op, payload (Buffer or string), fin (default true), rsv (RSV1|RSV2|RSV3 bits, default 0)
 *   mask: false/null = unmasked, true = random key, or a 4-byte Buffer key
 *   length: announced payload length (number or BigInt) when it must differ from payload.length
 *   lengthForm: 7, 16 or 64 to force a length encoding (default: the minimal one) */
function buildFrame(opts) {
  const payload = toBuffer(opts.payload);
  const fin = opts.fin === undefined ? true : opts.fin;
  const len = opts.length === undefined ? payload.length : opts.length;
  const big = BigInt(len);
  const form = opts.lengthForm || (big < 126n ? 7 : big < 65536n ? 16 : 64);
  let key = null;
  if (opts.mask === true) key = crypto.randomBytes(4);
  else if (Buffer.isBuffer(opts.mask)) key = opts.mask;

  const extLen = form === 7 ? 0 : form === 16 ? 2 : 8;
  const head = Buffer.alloc(2 + extLen + (key ? 4 : 0));
  head[0] = (fin ? 0x80 : 0) | ((opts.rsv || 0) << 4) | (opts.op & 0x0f);
  head[1] = (key ? 0x80 : 0) | (form === 7 ? Number(big) : form === 16 ? 126 : 127);
  if (form === 16) head.writeUInt16BE(Number(big), 2);
  if (form === 64) head.writeBigUInt64BE(big, 2);
  if (key) key.copy(head, 2 + extLen);
  const body = key ? maskInPlace(Buffer.from(payload), key) : payload;
  return Buffer.concat([head, body]);
}

/* Close frame payload: code (omitted when null) and reason (string or Buffer). */
function closePayload(code, reason) {
  if (code === null || code === undefined) return Buffer.alloc(0);
  const c = Buffer.alloc(2);
  c.writeUInt16BE(code, 0);
  return Buffer.concat([c, toBuffer(reason)]);
}

class FrameError extends Error {}

/* Incremental frame parser. push(chunk) returns the frames completed by that chunk:
 * { fin, rsv, op, key (the mask key or null), payload (unmasked) }. Violations of the wire
 * format a sender MUST obey (masking direction, minimal length encoding, 64-bit length top bit)
 * throw FrameError. */
class FrameReader {
  constructor({ expectMasked }) {
    this.expectMasked = expectMasked;
    this.chunks = [];
    this.total = 0;
    this.head = null;
  }

  push(chunk) {
    this.chunks.push(chunk);
    this.total += chunk.length;
    const frames = [];
    for (;;) {
      if (!this.head) {
        this.head = this.parseHeader();
        if (!this.head) break;
      }
      if (this.total < this.head.len) break;
      const payload = this.take(this.head.len);
      if (this.head.key) maskInPlace(payload, this.head.key);
      frames.push({ fin: this.head.fin, rsv: this.head.rsv, op: this.head.op,
                    key: this.head.key, payload });
      this.head = null;
    }
    return frames;
  }

  parseHeader() {
    const pre = this.peek(Math.min(this.total, 14));
    if (pre.length < 2) return null;
    const masked = (pre[1] & 0x80) !== 0;
    const len7 = pre[1] & 0x7f;
    const extLen = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    const headerLen = 2 + extLen + (masked ? 4 : 0);
    if (pre.length < headerLen) return null;
    let len = len7;
    if (len7 === 126) {
      len = pre.readUInt16BE(2);
      if (len < 126) throw new FrameError(`non-minimal 16-bit length encoding of ${len}`);
    } else if (len7 === 127) {
      const big = pre.readBigUInt64BE(2);
      if (big >> 63n) throw new FrameError('64-bit payload length with the most significant bit set');
      if (big < 65536n) throw new FrameError(`non-minimal 64-bit length encoding of ${big}`);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new FrameError(`absurd payload length ${big}`);
      len = Number(big);
    }
    if (masked !== this.expectMasked) {
      throw new FrameError(masked ? 'frame is masked (a server MUST NOT mask)'
                                  : 'frame is not masked (a client MUST mask)');
    }
    const key = masked ? Buffer.from(pre.subarray(2 + extLen, headerLen)) : null;
    this.take(headerLen);
    return { fin: (pre[0] & 0x80) !== 0, rsv: (pre[0] >> 4) & 0x7, op: pre[0] & 0x0f, key, len };
  }

  peek(n) {
    if (this.chunks.length && this.chunks[0].length >= n) return this.chunks[0].subarray(0, n);
    const parts = [];
    for (let i = 0, have = 0; i < this.chunks.length && have < n; i++) {
      parts.push(this.chunks[i]);
      have += this.chunks[i].length;
    }
    return Buffer.concat(parts).subarray(0, n);
  }

  take(n) {
    if (n === 0) return Buffer.alloc(0);
    let out;
    if (this.chunks[0].length >= n) {
      out = Buffer.from(this.chunks[0].subarray(0, n));
    } else {
      const all = Buffer.concat(this.chunks);
      out = all.subarray(0, n);
      this.chunks = [all];
    }
    const first = this.chunks[0].subarray(n);
    if (first.length) this.chunks[0] = first;
    else this.chunks.shift();
    this.total -= n;
    return out;
  }
}

module.exports = { OP, RSV1, RSV2, RSV3, opName, isControl, isKnownOpcode, toBuffer, buildFrame,
                   closePayload, FrameReader, FrameError };
