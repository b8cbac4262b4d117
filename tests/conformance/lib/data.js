'use strict';
// Payloads for the cases: deterministic text and binary of any length, UTF-8 of code points.

const ALPHABET = 'The quick brown fox jumps over 13 lazy dogs; ';

/* n bytes of ASCII text. */
function asciiText(n) {
  const unit = Buffer.from(ALPHABET);
  const out = Buffer.alloc(n);
  for (let off = 0; off < n; off += unit.length) unit.copy(out, off, 0, Math.min(unit.length, n - off));
  return out;
}

/* n bytes cycling through every byte value in a scrambled order. */
function binaryData(n, seed = 7) {
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) out[i] = (i * 167 + seed + (i >> 8)) & 0xff;
  return out;
}

/* UTF-8 of one code point (no surrogates). */
function utf8Of(cp) {
  return Buffer.from(String.fromCodePoint(cp), 'utf8');
}

/* A deterministic pseudo-random generator (mulberry32): returns () => integer in [0, 2^32). */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

function hex(buf) {
  return [...buf].map((b) => b.toString(16).toUpperCase().padStart(2, '0')).join(' ');
}

function human(n) {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n >> 20} MiB`;
  return `${n} bytes`;
}

module.exports = { asciiText, binaryData, utf8Of, prng, hex, human };
