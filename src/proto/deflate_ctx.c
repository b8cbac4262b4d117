/* deflate_ctx.c - the per-connection permessage-deflate state: set-up from the agreed parameters,
 * release, and exact accounting of zlib's memory through its allocator hooks.
 *
 * Which agreed parameter applies to which stream depends on the role: our compressor follows the
 * parameters of our side (server_* for a server), our decompressor those of the peer's side. */
#include <string.h>

#include "proto/alloc_internal.h"
#include "proto/deflate_internal.h"

/* Each block carries its size in front, so zfree can count it back. 16 bytes keep the pointer
 * handed to zlib aligned like malloc's. */
#define ZHDR 16

voidpf wsk__pmd_zalloc(voidpf opaque, uInt items, uInt size) {
  struct wsk_pmd *z = opaque;
  size_t n = (size_t)items * size;
  unsigned char *p = wsk__malloc(ZHDR + n);
  if (!p) return Z_NULL;
  memcpy(p, &n, sizeof n);
  z->mem += ZHDR + n;
  if (z->mem > z->mem_peak) z->mem_peak = z->mem;
  return p + ZHDR;
}

void wsk__pmd_zfree(voidpf opaque, voidpf ptr) {
  struct wsk_pmd *z = opaque;
  unsigned char *p = (unsigned char *)ptr - ZHDR;
  size_t n;
  memcpy(&n, p, sizeof n);
  z->mem -= ZHDR + n;
  wsk__free(p);
}

size_t wsk_pmd_size(void) {
  return sizeof(struct wsk_pmd);
}

static int valid_bits(unsigned bits) {
  return bits >= 8 && bits <= 15;
}

int wsk_pmd_init(wsk_pmd *z, enum wsk_role role, const struct wsk_pmd_params *params,
                 const struct wsk_pmd_options *opt, uint64_t max_message) {
  if (role != WSK_ROLE_SERVER && role != WSK_ROLE_CLIENT) return WSK_EINVAL;
  if (!valid_bits(params->server_max_window_bits) || !valid_bits(params->client_max_window_bits))
    return WSK_EINVAL;
  if (wsk_pmd_options_check(opt, NULL) != 0) return WSK_EINVAL;
  int server = role == WSK_ROLE_SERVER;
  memset(z, 0, sizeof *z);
  z->max_message = max_message;
  z->threshold = opt->threshold;
  z->level = opt->level;
  z->mem_level = (uint8_t)opt->mem_level;
  z->tx_bits = server ? params->server_max_window_bits : params->client_max_window_bits;
  z->rx_bits = server ? params->client_max_window_bits : params->server_max_window_bits;
  if (z->rx_bits < 9) z->rx_bits = 9;
  z->tx_reset = server ? params->server_no_context_takeover : params->client_no_context_takeover;
  z->rx_reset = server ? params->client_no_context_takeover : params->server_no_context_takeover;
  return 0;
}

void wsk_pmd_end(wsk_pmd *z) {
  if (z->tx_live) deflateEnd(&z->tx);
  if (z->rx_live) inflateEnd(&z->rx);
  z->tx_live = z->rx_live = 0;
}

int wsk_pmd_should_compress(const wsk_pmd *z, size_t len) {
  return z->tx_bits >= 9 && len >= z->threshold;
}

size_t wsk_pmd_compress_bound(size_t len) {
  /* zlib's conservative bound for one Z_FINISH call (it counts a 6-byte zlib wrapper that raw
   * DEFLATE does not write), plus the empty stored block that ends a Z_SYNC_FLUSH. */
  return (size_t)deflateBound(Z_NULL, (uLong)len) + 6;
}

size_t wsk_pmd_memory(const wsk_pmd *z, size_t *peak) {
  if (peak) *peak = sizeof *z + z->mem_peak;
  return sizeof *z + z->mem;
}
