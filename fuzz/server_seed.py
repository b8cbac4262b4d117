#!/usr/bin/env python3
"""Inputs for fuzz_server (the format is described at the top of fuzz/fuzz_server.c).

  server_seed.py DIR              write the hand-made seeds below into DIR
  server_seed.py --convert F...   rewrite inputs of the format before read boundaries were
                                  encoded (mode, size seed, stream) in place, same split points
"""
import sys
from pathlib import Path

UPGRADE, DEFLATE, SLOW = 1, 2, 4
MASK = bytes([0x12, 0x34, 0x56, 0x78])


def encode(mode, chunks):
    """mode byte, then each chunk as its length (little-endian base 128) and its bytes."""
    out = bytearray([mode])
    for c in chunks:
        n = len(c)
        assert n < 1 << 21, "a chunk is at most 3 length bytes"
        while True:
            out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
            n >>= 7
            if not n:
                break
        out += c
    return bytes(out)


def frame(fin, opcode, payload):
    """A masked client frame (payload under 126 bytes)."""
    assert len(payload) < 126
    masked = bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))
    return bytes([(0x80 if fin else 0) | opcode, 0x80 | len(payload)]) + MASK + masked


def http(head, body=b""):
    return head.replace("\n", "\r\n").encode() + body


SEEDS = {
    # State kept between reads: a message whose fragments (and a ping among them) come in reads
    # of their own, and an HTTP body over 4 KiB (read into the connection's own buffer) in pieces.
    "ws_fragments_per_read": (
        UPGRADE, [b"", frame(0, 1, b"a"), frame(1, 9, b"p"), frame(0, 0, b"b"), frame(1, 0, b"c"),
                  frame(1, 8, b"\x03\xe8")]),
    "http_body_in_pieces": (
        0, [http("POST /e HTTP/1.1\nHost: x\nContent-Length: 6000\n\n", b"a" * 4200),
            b"b" * 1000, b"c" * 800, http("GET /big.txt HTTP/1.1\nHost: x\nConnection: close\n\n")]),
    # Issue 12's two crashes, each in the reads that trigger it.
    # An empty first fragment in one read, its continuation in the next (the upgrade is read alone).
    "split_empty_first_fragment": (UPGRADE, [b"", frame(0, 1, b""), frame(1, 0, b"hi")]),
    # A static file queued for a slow keep-alive peer, then a Connection: close request whose body
    # (over 4 KiB, so read into the connection's own buffer) completes once the queue can drain.
    "http_close_body_after_queued_file": (
        SLOW,
        [http("GET /big.txt HTTP/1.1\nHost: x\n\n"),
         http("POST /e HTTP/1.1\nHost: x\nConnection: close\nContent-Length: 5000\n\n", b"a" * 4500)]
        # (the peer reads 13 times: with Linux 6.18's socket accounting, 12 to 15 reach the bug)
        + [b""] * 13 + [b"a" * 500]),
}


def convert(data):
    """Old format: mode, a seed for the sizes of the pieces, then the stream."""
    if len(data) < 2:
        return None
    mode, seed, rest = data[0], data[1], data[2:]
    rng = (seed * 2654435761 + 1) & 0xFFFFFFFF
    chunks = []
    while rest:
        rng = (rng * 1103515245 + 12345) & 0xFFFFFFFF
        piece = 1 + (rng >> 8) % (16 if seed & 1 else 4096)
        chunks.append(rest[:piece])
        rest = rest[piece:]
    return encode(mode & (UPGRADE | DEFLATE), chunks)


def main(args):
    if len(args) >= 2 and args[0] == "--convert":
        for name in args[1:]:
            p = Path(name)
            new = convert(p.read_bytes())
            if new is not None:
                p.write_bytes(new)
    elif len(args) == 1:
        for name, (mode, chunks) in SEEDS.items():
            (Path(args[0]) / name).write_bytes(encode(mode, chunks))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
