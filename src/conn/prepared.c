/* prepared.c - messages framed once and queued by reference on many connections.
 *
 * On a connection with permessage-deflate a message of at least the threshold goes out
 * compressed: connections whose compressor resets after every message (server_no_context_takeover)
 * share one compressed frame, made on first use; with context takeover a compressed message
 * depends on that connection's earlier ones, so it is compressed by the connection itself. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "conn/conn_internal.h"
#include "proto/alloc_internal.h"

wsk_prepared *wsk_prepared_new(int opcode, const void *data, size_t len) {
  if ((opcode != WSK_OP_TEXT && opcode != WSK_OP_BINARY) || (!data && len)) return NULL;
  if (opcode == WSK_OP_TEXT && !wsk_utf8_valid(data, len)) return NULL;
  uint8_t hdr[WSK_MAX_FRAME_HEADER];
  size_t hl = wsk_frame_write_header(hdr, 1, 0, opcode, len, NULL);
  wsk_prepared *p = wsk__malloc(sizeof *p + hl + len);
  if (!p) return NULL;
  p->ref.refs = 1;
  p->frame_len = hl + len;
  p->header_len = (uint8_t)hl;
  p->opcode = (uint8_t)opcode;
  p->deflated_bits = 0;
  atomic_init(&p->deflated, NULL);
  memcpy(p->frame, hdr, hl);
  if (len) memcpy(p->frame + hl, data, len);
  return p;
}

void wsk_prepared_release(wsk_prepared *p) {
  if (!p) return;
  /* No send can follow the caller's release: queued sends hold their own references. */
  wsk_prepared *z = atomic_exchange_explicit(&p->deflated, NULL, memory_order_acquire);
  if (z) wsk__ref_put(&z->ref);
  wsk__ref_put(&p->ref);
}

/* The shared compressed frame for c, whose compressor resets after every message and has a
 * window of `bits`: made with the first such connection's window, usable by any with a window at
 * least as large. NULL when c cannot use it (or out of memory): c compresses by itself. */
static wsk_prepared *deflated_for(wsk_conn *c, wsk_prepared *p, int bits) {
  wsk_prepared *z = atomic_load_explicit(&p->deflated, memory_order_acquire);
  if (!z) {
    wsk_prepared *mine = wsk__prepared_deflate(p, c->group->deflate, bits);
    if (!mine) return NULL;
    /* Another loop's thread may have made one meanwhile: the first one stays. */
    if (atomic_compare_exchange_strong_explicit(&p->deflated, &z, mine, memory_order_acq_rel,
                                                memory_order_acquire))
      z = mine;
    else
      wsk__ref_put(&mine->ref);
  }
  return z->deflated_bits <= bits ? z : NULL;
}

int wsk_send_prepared(wsk_conn *c, wsk_prepared *p) {
  if (!c || !p) return WSK_EINVAL;
  const uint8_t *payload = p->frame + p->header_len;
  size_t len = p->frame_len - p->header_len;
  if (c->group->client) /* masked per frame: the shared server frame cannot be used as is */
    return wsk__conn_send_data(c, p->opcode, payload, len, NULL);
  if (wsk__conn_compresses(c, len) && wsk__conn_state(c) == WSK_CS_OPEN) {
    const struct wsk_pmd_params *a = &c->ext->pmd_params;
    wsk_prepared *z = a->server_no_context_takeover
                          ? deflated_for(c, p, a->server_max_window_bits) : NULL;
    if (z) return wsk__conn_send_framed(c, z->frame, z->frame_len, &z->ref);
    return wsk__conn_send_data(c, p->opcode, payload, len, NULL);
  }
  return wsk__conn_send_framed(c, p->frame, p->frame_len, &p->ref);
}
