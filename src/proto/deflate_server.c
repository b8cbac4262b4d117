/* deflate_server.c - the server's side of permessage-deflate negotiation (RFC 7692 sections 5
 * and 7.1): pick the first offer we can honour and write the response for it.
 *
 * Per accepted offer:
 *   server_no_context_takeover  answered when offered (accepting requires it) or configured.
 *   client_no_context_takeover  answered when configured, or echoed when the client offered it
 *                               as a hint: the client resets anyway, and our decompressor can
 *                               then be freed between messages.
 *   server_max_window_bits=N    offered: answered with min(N, ours); N = 8 declines the offer
 *                               (zlib cannot compress with 8). Not offered: never answered (some
 *                               clients refuse unasked parameters); we still compress with ours,
 *                               which any 15-bit decompressor reads.
 *   client_max_window_bits[=N]  offered: answered with min(N or 15, ours) when that is below 15.
 *                               Not offered: never answered (RFC 7692 7.1.2.2). */
#include "proto/deflate_internal.h"
#include "proto/http_internal.h"

static uint8_t min_bits(int a, int b) {
  return (uint8_t)(a < b ? a : b);
}

/* The parameters for an offer, or 0 if we must decline it. */
static int accept_offer(const struct wsk_pmd_options *opt, const struct wsk__pmd_ext *x,
                        struct wsk_pmd_params *p) {
  p->server_no_context_takeover =
      (uint8_t)(opt->server_no_context_takeover || (x->has & WSK_PMD_HAS_SERVER_NCT));
  p->client_no_context_takeover =
      (uint8_t)(opt->client_no_context_takeover || (x->has & WSK_PMD_HAS_CLIENT_NCT));
  p->server_max_window_bits = (uint8_t)opt->server_max_window_bits;
  if (x->has & WSK_PMD_HAS_SERVER_BITS) {
    if (x->server_bits < 9) return 0;
    p->server_max_window_bits = min_bits(x->server_bits, opt->server_max_window_bits);
  }
  p->client_max_window_bits = 15;
  if (x->has & WSK_PMD_HAS_CLIENT_BITS)
    p->client_max_window_bits =
        min_bits(x->client_bits ? x->client_bits : 15, opt->client_max_window_bits);
  return 1;
}

static void write_response(const struct wsk__pmd_ext *x, const struct wsk_pmd_params *p,
                           char response[WSK_PMD_EXTENSION_MAX]) {
  struct wsk__http_out o;
  wsk__http_out_init(&o, response, WSK_PMD_EXTENSION_MAX - 1);
  wsk__http_out_str(&o, "permessage-deflate");
  if (p->server_no_context_takeover) wsk__http_out_str(&o, "; server_no_context_takeover");
  if (p->client_no_context_takeover) wsk__http_out_str(&o, "; client_no_context_takeover");
  if (x->has & WSK_PMD_HAS_SERVER_BITS) {
    wsk__http_out_str(&o, "; server_max_window_bits=");
    wsk__http_out_uint(&o, p->server_max_window_bits);
  }
  if ((x->has & WSK_PMD_HAS_CLIENT_BITS) && p->client_max_window_bits < 15) {
    wsk__http_out_str(&o, "; client_max_window_bits=");
    wsk__http_out_uint(&o, p->client_max_window_bits);
  }
  response[o.len] = '\0'; /* at most 129 bytes: always fits */
}

int wsk_pmd_server_negotiate(const struct wsk_pmd_options *opt, const struct wsk_header *headers,
                             size_t n, struct wsk_pmd_params *params,
                             char response[WSK_PMD_EXTENSION_MAX]) {
  if (wsk_pmd_options_check(opt, NULL) != 0) return WSK_EINVAL;
  if (!opt->enabled) return 0;
  size_t line = 0, pos = 0, len;
  const char *elem;
  while (wsk_handshake_next_extension(headers, n, &line, &pos, &elem, &len)) {
    struct wsk__pmd_ext x;
    if (wsk__pmd_parse(elem, len, 0, &x, NULL) == 1 && accept_offer(opt, &x, params)) {
      write_response(&x, params, response);
      return 1;
    }
  }
  return 0;
}
