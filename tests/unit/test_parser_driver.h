/* test_parser_driver.h - feeds a byte stream to a wsk_parser the way a connection does (append
 * what arrives to a receive buffer, call wsk_parser_feed until it wants more, keep the unconsumed
 * bytes), reassembles messages and logs the events in a form that does not depend on how the
 * stream was split: a message is logged when its last chunk arrives, so control frames sent
 * between its fragments come before it, and a message cut short by an error is not logged.
 * Shared by tests/unit/test_parser.c and fuzz/fuzz_parser.c. */
#ifndef WSK_TEST_PARSER_DRIVER_H
#define WSK_TEST_PARSER_DRIVER_H

#include <stdlib.h>
#include <string.h>

#include "wsk.h"

/* Returned by pd_run when the parser broke one of its own promises (a bug, never valid input). */
#define PD_EBROKEN (-1000)

/* The event log: whole messages as 'M' opcode compressed <payload> 'E', control frames as
 * 'P'/'Q' len <payload> (ping/pong) or 'C' code_hi code_lo len <reason>, and finally 'R' result. */
struct pd_log {
  uint8_t *buf;
  size_t len, cap;
};

static void pd_put(struct pd_log *l, const void *p, size_t n) {
  if (l->len + n > l->cap) {
    size_t cap = l->cap ? l->cap : 256;
    while (cap < l->len + n) cap *= 2;
    uint8_t *b = realloc(l->buf, cap);
    if (!b) abort(); /* test code: running out of memory is not a result */
    l->buf = b;
    l->cap = cap;
  }
  if (n) memcpy(l->buf + l->len, p, n);
  l->len += n;
}

static void pd_byte(struct pd_log *l, unsigned b) {
  uint8_t c = (uint8_t)b;
  pd_put(l, &c, 1);
}

static void pd_free(struct pd_log *l) {
  free(l->buf);
  memset(l, 0, sizeof *l);
}

/* A message being reassembled: its opcode (0 when none is open) and the payload so far. */
struct pd_msg {
  int opcode;
  int compressed;
  struct pd_log data;
};

/* Log one event; returns 0, or PD_EBROKEN if it contradicts the ones before. */
static int pd_log_event(struct pd_log *l, const struct wsk_event *ev, struct pd_msg *m) {
  switch (ev->type) {
  case WSK_EV_DATA:
    if (ev->first != !m->opcode || (m->opcode && m->opcode != ev->opcode)) return PD_EBROKEN;
    if (ev->opcode != WSK_OP_TEXT && ev->opcode != WSK_OP_BINARY) return PD_EBROKEN;
    if (ev->first) {
      m->opcode = ev->opcode;
      m->compressed = ev->compressed;
      m->data.len = 0;
    }
    if (ev->compressed != m->compressed) return PD_EBROKEN;
    pd_put(&m->data, ev->data, ev->len);
    if (ev->fin) {
      pd_byte(l, 'M');
      pd_byte(l, ev->opcode);
      pd_byte(l, ev->compressed);
      pd_put(l, m->data.buf, m->data.len);
      pd_byte(l, 'E');
      m->opcode = 0;
    }
    return 0;
  case WSK_EV_PING:
  case WSK_EV_PONG:
    if (ev->len > WSK_MAX_CONTROL_PAYLOAD) return PD_EBROKEN;
    pd_byte(l, ev->type == WSK_EV_PING ? 'P' : 'Q');
    pd_byte(l, (unsigned)ev->len);
    pd_put(l, ev->data, ev->len);
    return 0;
  case WSK_EV_CLOSE:
    if (ev->close_reason_len > WSK_MAX_CONTROL_PAYLOAD - 2) return PD_EBROKEN;
    pd_byte(l, 'C');
    pd_byte(l, ev->close_code >> 8);
    pd_byte(l, ev->close_code & 0xFF);
    pd_byte(l, (unsigned)ev->close_reason_len);
    pd_put(l, ev->close_reason, ev->close_reason_len);
    return 0;
  case WSK_EV_NONE: return 0;
  }
  return PD_EBROKEN;
}

/* Feed in[0..n) to p in pieces ending at cuts[0..ncuts) (ascending) and at n. Logs the events
 * and the result: 0 if the stream was used up without error, else the parser's error or
 * PD_EBROKEN. */
static int pd_run(struct wsk_parser *p, const uint8_t *in, size_t n, const size_t *cuts,
                  size_t ncuts, struct pd_log *log) {
  uint8_t *rb = malloc(n ? n : 1);
  if (!rb) abort();
  size_t have = 0, pos = 0;
  int result = 0;
  struct pd_msg msg = {0};
  for (size_t c = 0; c <= ncuts && result == 0; c++) {
    size_t end = c < ncuts ? cuts[c] : n;
    if (end < pos || end > n) {
      result = PD_EBROKEN;
      break;
    }
    memcpy(rb + have, in + pos, end - pos);
    have += end - pos;
    pos = end;
    size_t off = 0;
    for (;;) {
      struct wsk_event ev;
      int r = wsk_parser_feed(p, rb + off, have - off, &ev);
      if (r < 0) {
        result = r;
        break;
      }
      if ((size_t)r > have - off || (r == 0 && ev.type != WSK_EV_NONE) ||
          (ev.type != WSK_EV_NONE && ev.len &&
           (ev.data < rb + off || ev.data + ev.len > rb + off + (size_t)r))) {
        result = PD_EBROKEN;
        break;
      }
      off += (size_t)r;
      result = pd_log_event(log, &ev, &msg);
      if (result || (r == 0 && ev.type == WSK_EV_NONE)) break;
    }
    /* What the parser leaves unconsumed is at most an incomplete control frame. */
    if (result == 0 && have - off > WSK_MAX_FRAME_HEADER + WSK_MAX_CONTROL_PAYLOAD)
      result = PD_EBROKEN;
    memmove(rb, rb + off, have - off);
    have -= off;
  }
  free(rb);
  pd_free(&msg.data);
  pd_byte(log, 'R');
  pd_byte(log, (unsigned)(result & 0xFF));
  return result;
}

#endif
