'use strict';
// Split delivery: a peer may split its bytes anywhere (RFC 6455 5.4, and TCP itself), so the side
// under test must give the same answers whatever its reads return. With a split seed (not 0),
// every byte stream the suite's side writes on a case's connections (HTTP requests and answers,
// frames, over TCP or TLS) is cut at split points drawn from a PRNG, and each piece is written on
// its own (Nagle off: one TCP segment, or one TLS record, each) after a pause, so that the other
// side reads the pieces one by one. The PRNG of a connection is seeded with the seed, the case id
// and the connection's number in the case: a failure is replayed with the same seed and the
// case's id as the filter (the FAIL line gives the command).
//
// Cuts fall anywhere in a write, more often in its first and last bytes (frame and HTTP heads).
// In byte mode (see bytewise()) the first BYTEWISE_BYTES bytes of every write go one byte per
// write (until BYTEWISE_BUDGET bytes of the connection went so), the rest at random cuts. The end
// of a connection (end, reset, destroy) waits for its pieces. Deadlines that a case sets after
// writing count from the last piece (whenWritten()).

const { AsyncLocalStorage } = require('async_hooks');
const { prng } = require('./data');

const PAUSE_MS = 1;          // between the pieces of a connection
const MAX_CUTS = 6;          // random cuts per write, at most
const NEAR = 24;             // "near the start or the end of a write": within this many bytes
// Byte mode: the leading bytes of each write are sent one per write, up to a budget per connection
// (a 1 ms pause per byte: a case that streams megabytes still ends in time).
const BYTEWISE_BYTES = 256;
const BYTEWISE_BUDGET = 512;
// Pieces per connection at most: past it, writes go whole (a case that streams a megabyte in
// hundreds of writes still ends in time, pauses taking more than 1 ms on a busy event loop).
const PIECE_BUDGET = 512;
// What the pauses may add to a case's run time (its time limit is raised by as much).
const EXTRA_MS = 10000;
// A run over many seeds runs each case under one seed in SHARE ((case index + seed) % SHARE is
// 0); a case runs byte per byte under one seed in BYTE_SHARE (with one seed: one case in 16; with
// many: half the runs). Over any 16 consecutive seeds every case runs split twice, once of them
// byte per byte.
const SHARE = 8;
const BYTE_SHARE = 16;

const scope = new AsyncLocalStorage();

/* 32-bit FNV-1a of the parts' text. */
function hash32(...parts) {
  let h = 0x811c9dc5;
  for (const ch of parts.join('/')) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

/* Whether case index i runs under seed s in a run over many seeds, and how. */
function chosen(i, s) {
  return (i + s) % SHARE === 0;
}

function bytewise(i, s) {
  return (i + s) % BYTE_SHARE === 0;
}

/* Run fn (job c of the runner: a case and its seed) with split delivery when c.seed is set. */
function inCase(c, fn) {
  if (!c.seed) return fn();
  return scope.run({ seed: c.seed, id: c.id, bytewise: bytewise(c.index, c.seed), conns: 0 }, fn);
}

/* The time limit of job c: its case's, and what the pauses of split delivery may add. */
function timeLimit(c) {
  return c.timeout + (c.seed ? EXTRA_MS : 0);
}

/* How job c ran, for its FAIL line ('' without split delivery). */
function describe(c, script) {
  if (!c.seed) return '';
  return ` [split seed ${c.seed}${bytewise(c.index, c.seed) ? ', byte per byte' : ''}; replay: ` +
         `WSK_SPLIT_SEED=${c.seed} node tests/conformance/${script} ${c.id}]`;
}

/* The offsets where a write of n bytes is cut, ascending; `bytes` of them (the leading bytes)
 * one byte apart. */
function cuts(n, rand, bytes) {
  const at = new Set();
  const lead = Math.min(n, bytes);
  for (let k = 1; k < lead; k++) at.add(k);
  if (n - lead >= 2) {
    const span = n - lead - 1; // cuts at lead + 1 .. n - 1
    const near = Math.min(NEAR, span);
    const count = 1 + Math.floor(rand() * MAX_CUTS);
    for (let k = 0; k < count; k++) {
      const r = rand();
      const off = r < 0.5 ? 1 + Math.floor(rand() * near)          // first bytes
        : r < 0.75 ? span - Math.floor(rand() * near)               // last bytes
          : 1 + Math.floor(rand() * span);                          // anywhere
      at.add(lead + off);
    }
  }
  if (lead && lead < n) at.add(lead);
  return [...at].sort((a, b) => a - b);
}

const written = Symbol('split written');

/* Make sock's writes split (when a case runs with a seed): write, end and resetAndDestroy go
 * through one queue per connection. Returns sock. */
function wrap(sock) {
  const ctx = scope.getStore();
  if (!ctx) return sock;
  const next = prng(hash32(ctx.seed, ctx.id, ++ctx.conns));
  const rand = () => next() / 4294967296; // uniform in [0, 1)
  let budget = ctx.bytewise ? BYTEWISE_BUDGET : 0;
  let pieces = PIECE_BUDGET;
  const write = sock.write.bind(sock);
  const end = sock.end.bind(sock);
  let chain = Promise.resolve();
  const later = (fn) => {
    chain = chain.then(fn).catch((e) => sock.destroy(e));
  };
  sock.write = (data, encoding) => {
    const buf = Buffer.isBuffer(data) ? data
      : Buffer.from(data, typeof encoding === 'string' ? encoding : 'utf8');
    later(async () => {
      const bytes = Math.min(BYTEWISE_BYTES, budget, buf.length);
      budget -= bytes;
      const at = pieces > 0 ? cuts(buf.length, rand, bytes) : [];
      pieces -= at.length;
      let from = 0;
      for (const to of [...at, buf.length]) {
        if (from) await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
        if (sock.destroyed) return;
        write(buf.subarray(from, to));
        from = to;
      }
    });
    return true;
  };
  sock.end = (...args) => {
    later(() => end(...args));
    return sock;
  };
  if (sock.resetAndDestroy) {
    const reset = sock.resetAndDestroy.bind(sock);
    sock.resetAndDestroy = () => {
      later(() => reset());
      return sock;
    };
  }
  sock[written] = () => chain;
  return sock;
}

/* Whether sock's writes are split (wrap made it so). */
function isSplit(sock) {
  return Boolean(sock && sock[written]);
}

/* Resolves once every byte written to sock so far is on its way (at once without split). */
function whenWritten(sock) {
  return sock && sock[written] ? sock[written]() : Promise.resolve();
}

/* destroy() once the pieces written so far are out. */
function destroyAfterWrites(sock) {
  whenWritten(sock).then(() => sock.destroy());
}

/* The seed of a --split-seed option or WSK_SPLIT_SEED (0: off), and the seeds of --split-seeds
 * A-B or WSK_SPLIT_SEEDS (a run over many seeds). */
function parseSeeds(text) {
  const m = /^(\d+)(?:-(\d+))?$/.exec(String(text).trim());
  if (!m) throw new Error(`split seeds must be N or A-B, got ${JSON.stringify(text)}`);
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, k) => from + k);
}

module.exports = { inCase, timeLimit, describe, chosen, wrap, isSplit, whenWritten,
                   destroyAfterWrites, parseSeeds };
