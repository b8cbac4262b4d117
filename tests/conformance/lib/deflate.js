'use strict';
// permessage-deflate (RFC 7692) for the scripted peer: the agreed parameters read from a 101, and
// one codec per direction. Context takeover is kept without streams: each message is compressed
// (or inflated) with the direction's earlier messages as a preset dictionary (their last 32 KiB,
// what the other side's LZ77 window holds); a direction without takeover uses none, so an endpoint
// that announced no context takeover but still refers back to an earlier message is caught.

const zlib = require('zlib');

const TAIL = Buffer.from([0x00, 0x00, 0xff, 0xff]);
const WINDOW = 32768;

/* The parameters of a permessage-deflate answer ("permessage-deflate; server_no_context_takeover"),
 * or null for any other value. */
function parseAnswer(value) {
  const [name, ...params] = value.split(';').map((s) => s.trim());
  if (name !== 'permessage-deflate') return null;
  const out = {};
  for (const p of params) {
    const [key, v] = p.split('=').map((s) => s.trim());
    out[key] = v === undefined ? true : Number(v.replace(/"/g, ''));
  }
  return out;
}

class Direction {
  constructor(takeover) {
    this.takeover = takeover;
    this.window = Buffer.alloc(0);
  }

  options() {
    const o = { finishFlush: zlib.constants.Z_SYNC_FLUSH };
    if (this.takeover && this.window.length) o.dictionary = this.window;
    return o;
  }

  remember(data) {
    if (this.takeover) this.window = Buffer.concat([this.window, data]).subarray(-WINDOW);
  }

  /* A message's payload: raw DEFLATE ended by a sync flush, without its 00 00 ff ff tail. */
  compress(data) {
    const out = zlib.deflateRawSync(data, this.options());
    this.remember(data);
    return out.subarray(0, out.length - TAIL.length);
  }

  /* A message from its payload; throws when it does not inflate. */
  inflate(payload) {
    const out = zlib.inflateRawSync(Buffer.concat([payload, TAIL]), this.options());
    this.remember(out);
    return out;
  }
}

/* The codecs of one connection for `role` (the peer's own role) and the agreed parameters:
 * `out` compresses what the peer sends, `in` inflates what it receives. */
class Deflate {
  constructor(role, params) {
    const ours = role === 'client' ? 'client' : 'server';
    const theirs = role === 'client' ? 'server' : 'client';
    this.params = params;
    this.out = new Direction(!params[`${ours}_no_context_takeover`]);
    this.in = new Direction(!params[`${theirs}_no_context_takeover`]);
  }
}

module.exports = { Deflate, parseAnswer };
