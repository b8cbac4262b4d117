/* deflate_recv.c - compressed messages in (RFC 7692 section 6.2): each chunk of payload is inflated
 * as its frame arrives into the connection's message buffer, text is UTF-8 checked as it comes out
 * of the decompressor (the parser cannot check compressed bytes), and the message is delivered
 * with its last chunk.
 *
 * The buffer grows step by step (doubling from a few times the compressed size), never beyond
 * max_message: the decompressor writes at most that many bytes and reports WSK_ETOOBIG when the
 * message would go on, so a deflate bomb costs at most max_message before it closes with 1009. */
#include "conn/conn_internal.h"
#include "proto/alloc_internal.h"

/* First room for a message: this many times the compressed bytes of its first chunk... */
#define FIRST_RATIO 4
/* ...but at least this much. */
#define FIRST_MIN 1024

static const char *error_text(int err) {
  switch (err) {
  case WSK_ETOOBIG: return "the peer sent a compressed message that inflates past max_message";
  case WSK_EUTF8: return "the peer sent compressed text that is not valid UTF-8";
  case WSK_ENOMEM: return "out of memory while inflating a message";
  default: return "the peer sent compressed data that does not inflate (permessage-deflate)";
  }
}

/* More room in x->msg after the decompressor filled it; WSK_ETOOBIG at the limit. */
static int grow(struct wsk__conn_ext *x, uint64_t limit, size_t hint) {
  size_t cap = x->msg_cap ? x->msg_cap * 2 : hint * FIRST_RATIO;
  if (cap < FIRST_MIN) cap = FIRST_MIN;
  if (limit && cap > limit) cap = (size_t)limit;
  if (cap <= x->msg_cap) return WSK_ETOOBIG; /* cannot happen: the codec stops at the limit */
  uint8_t *p = wsk__realloc(x->msg, cap);
  if (!p) return WSK_ENOMEM;
  x->msg = p;
  x->msg_cap = cap;
  return 0;
}

/* Inflate the chunk ev into x->msg, checking text on the way. */
static int inflate_chunk(wsk_conn *c, struct wsk__conn_ext *x, const struct wsk_event *ev) {
  const uint8_t *in = ev->data;
  size_t len = ev->len;
  int fin = ev->fin;
  for (;;) {
    size_t used, made, at = x->msg_len;
    uint8_t *out = x->msg ? x->msg + at : NULL;
    int r = wsk_pmd_decompress(x->pmd, in, len, fin, out, x->msg_cap - at, &used, &made);
    in += used;
    len -= used;
    x->msg_len += made;
    if (made && ev->opcode == WSK_OP_TEXT) {
      x->msg_utf8 = wsk_utf8_feed(x->msg_utf8, x->msg + at, made);
      if (x->msg_utf8 == WSK_UTF8_REJECT) return WSK_EUTF8;
    }
    if (r != WSK_PMD_MORE) return r;
    if ((r = grow(x, c->group->max_message, len)) < 0) return r;
  }
}

void wsk__conn_inflate(wsk_conn *c, const struct wsk_event *ev) {
  struct wsk__conn_ext *x = c->ext; /* a compressed connection keeps its ext (and codec) for life */
  if (ev->first) x->msg_utf8 = WSK_UTF8_ACCEPT;
  int r = inflate_chunk(c, x, ev);
  if (r == 0 && ev->fin && ev->opcode == WSK_OP_TEXT && x->msg_utf8 != WSK_UTF8_ACCEPT)
    r = WSK_EUTF8; /* ends inside a character */
  if (r < 0) {
    wsk__conn_fail(c, r, error_text(r));
    return;
  }
  if (!ev->fin) return;
  uint8_t *msg = x->msg;
  size_t len = x->msg_len;
  x->msg = NULL;
  x->msg_len = x->msg_cap = 0;
  wsk__conn_deliver(c, ev->opcode, msg ? msg : (const uint8_t *)"", len);
  wsk__free(msg);
}
