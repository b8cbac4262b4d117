/* deflate.c - permessage-deflate on a connection: the codec of a connection that negotiated the
 * extension (kept in its ext, which such a connection then keeps for life; plain connections never
 * pay for it), and prepared messages compressed once for many receivers.
 *
 * The codec allocates zlib's state on first use in each direction, and releases it after every
 * message on the side that has no context takeover (proto/deflate_*.c), so an idle compressed
 * connection holds zlib memory only while context takeover is in force. */
#include <stdatomic.h>
#include <string.h>

#include "conn/conn_internal.h"
#include "proto/alloc_internal.h"

int wsk__conn_deflate_setup(wsk_conn *c, const struct wsk_pmd_params *params) {
  const struct wsk__group *g = c->group;
  if (!g->deflate) return WSK_EINVAL;
  struct wsk__conn_ext *x = wsk__conn_ext(c);
  if (!x) return WSK_ENOMEM;
  wsk_pmd *z = wsk__malloc(wsk_pmd_size());
  if (!z) return WSK_ENOMEM;
  int r = wsk_pmd_init(z, g->client ? WSK_ROLE_CLIENT : WSK_ROLE_SERVER, params, g->deflate,
                       g->max_message);
  if (r < 0) {
    wsk__free(z);
    return r;
  }
  x->pmd = z;
  x->pmd_params = *params;
  return 0;
}

int wsk__conn_compresses(const wsk_conn *c, size_t len) {
  return c->ext && c->ext->pmd && wsk_pmd_should_compress(c->ext->pmd, len);
}

int wsk_conn_deflate(const wsk_conn *c, struct wsk_pmd_params *params) {
  if (!c || !c->ext || !c->ext->pmd) return 0;
  if (params) *params = c->ext->pmd_params;
  return 1;
}

struct wsk_prepared *wsk__prepared_deflate(const struct wsk_prepared *p,
                                          const struct wsk_pmd_options *opt, int bits) {
  /* A server-role codec that resets after every message: its output depends on nothing sent
   * before, so any receiver whose window is at least `bits` inflates it. */
  const struct wsk_pmd_params params = {.server_no_context_takeover = 1,
                                        .client_no_context_takeover = 1,
                                        .server_max_window_bits = (uint8_t)bits,
                                        .client_max_window_bits = 15};
  wsk_pmd *z = wsk__malloc(wsk_pmd_size());
  if (!z) return NULL;
  struct wsk_prepared *v = NULL;
  if (wsk_pmd_init(z, WSK_ROLE_SERVER, &params, opt, 0) != 0) goto out;
  size_t len = p->frame_len - p->header_len, bound = wsk_pmd_compress_bound(len);
  v = wsk__malloc(sizeof *v + WSK_MAX_FRAME_HEADER + bound);
  if (!v) goto out;
  uint8_t *payload = v->frame + WSK_MAX_FRAME_HEADER;
  size_t used, made;
  if (wsk_pmd_compress(z, p->frame + p->header_len, len, 1, payload, bound, &used, &made) != 0) {
    wsk__free(v);
    v = NULL;
    goto out;
  }
  uint8_t hdr[WSK_MAX_FRAME_HEADER];
  size_t hl = wsk_frame_write_header(hdr, 1, WSK_CONN_RSV1, p->opcode, made, NULL);
  memmove(v->frame + hl, payload, made);
  memcpy(v->frame, hdr, hl);
  struct wsk_prepared *small = wsk__realloc(v, sizeof *v + hl + made); /* give back the bound */
  if (small) v = small;
  v->ref.refs = 1;
  v->frame_len = hl + made;
  v->header_len = (uint8_t)hl;
  v->opcode = p->opcode;
  v->deflated_bits = (uint8_t)bits;
  atomic_init(&v->deflated, NULL);
out:
  wsk_pmd_end(z);
  wsk__free(z);
  return v;
}
