/* prepared.c - messages framed once and queued by reference on many connections. */
#include <stdlib.h>
#include <string.h>

#include "conn/conn_internal.h"
#include "proto/alloc_internal.h"

wsk_prepared *wsk_prepared_new(int opcode, const void *data, size_t len) {
  if ((opcode != WSK_OP_TEXT && opcode != WSK_OP_BINARY) || (!data && len)) return NULL;
  if (opcode == WSK_OP_TEXT && !wsk_utf8_valid(data, len)) return NULL;
  uint8_t hdr[WSK_MAX_FRAME_HEADER];
  size_t hl = wsk_frame_write_header(hdr, 1, 0, opcode, len, NULL);
  wsk_prepared *p = wsk_malloc(sizeof *p + hl + len);
  if (!p) return NULL;
  p->ref.refs = 1;
  p->frame_len = hl + len;
  p->header_len = (uint8_t)hl;
  p->opcode = (uint8_t)opcode;
  memcpy(p->frame, hdr, hl);
  if (len) memcpy(p->frame + hl, data, len);
  return p;
}

void wsk_prepared_release(wsk_prepared *p) {
  if (p) wsk_ref_put(&p->ref);
}

int wsk_send_prepared(wsk_conn *c, wsk_prepared *p) {
  if (!c || !p) return WSK_EINVAL;
  if (c->group->client) /* masked per frame: the shared server frame cannot be used as is */
    return wsk_conn_send_data(c, p->opcode, p->frame + p->header_len,
                              p->frame_len - p->header_len, NULL);
  return wsk_conn_send_framed(c, p->frame, p->frame_len, &p->ref);
}
