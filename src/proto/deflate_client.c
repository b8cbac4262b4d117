/* deflate_client.c - the client's side of permessage-deflate negotiation (RFC 7692 sections 5
 * and 7.1): one offer built from the options, and the server's response checked against it.
 *
 * The offer always carries client_max_window_bits (bare when our window is 15) so that a server
 * may limit our compressor; if it answers 8, which zlib cannot produce, we keep the extension and
 * send uncompressed messages. */
#include "proto/deflate_internal.h"
#include "proto/http_internal.h"

int wsk_pmd_client_offer(const struct wsk_pmd_options *opt, char offer[WSK_PMD_EXTENSION_MAX]) {
  if (wsk_pmd_options_check(opt, NULL) != 0) return WSK_EINVAL;
  struct wsk__http_out o;
  wsk__http_out_init(&o, offer, WSK_PMD_EXTENSION_MAX - 1);
  wsk__http_out_str(&o, "permessage-deflate");
  if (opt->server_no_context_takeover) wsk__http_out_str(&o, "; server_no_context_takeover");
  if (opt->client_no_context_takeover) wsk__http_out_str(&o, "; client_no_context_takeover");
  if (opt->server_max_window_bits < 15) {
    wsk__http_out_str(&o, "; server_max_window_bits=");
    wsk__http_out_uint(&o, (size_t)opt->server_max_window_bits);
  }
  wsk__http_out_str(&o, "; client_max_window_bits");
  if (opt->client_max_window_bits < 15) {
    wsk__http_out_str(&o, "=");
    wsk__http_out_uint(&o, (size_t)opt->client_max_window_bits);
  }
  offer[o.len] = '\0'; /* at most 129 bytes: always fits */
  return (int)o.len;
}

static int fail(const char **why, const char *sentence) {
  if (why) *why = sentence;
  return WSK_EHANDSHAKE;
}

/* The response element against our offer (RFC 7692 7.1.1.1, 7.1.2.1, 7.1.2.2). */
static int check_answer(const struct wsk_pmd_options *opt, const struct wsk__pmd_ext *x,
                        const char **why) {
  if (opt->server_no_context_takeover && !(x->has & WSK_PMD_HAS_SERVER_NCT))
    return fail(why, "the server left out server_no_context_takeover, which the client offered");
  if (x->has & WSK_PMD_HAS_SERVER_BITS) {
    if (x->server_bits > opt->server_max_window_bits)
      return fail(why, "the server's server_max_window_bits is larger than the client offered");
  } else if (opt->server_max_window_bits < 15) {
    return fail(why, "the server left out server_max_window_bits, which the client offered");
  }
  if ((x->has & WSK_PMD_HAS_CLIENT_BITS) && x->client_bits > opt->client_max_window_bits)
    return fail(why, "the server's client_max_window_bits is larger than the client offered");
  return 0;
}

int wsk_pmd_client_accept(const struct wsk_pmd_options *opt, const struct wsk_header *headers,
                          size_t n, struct wsk_pmd_params *params, const char **why) {
  size_t line = 0, pos = 0, len;
  const char *elem;
  if (!wsk_handshake_next_extension(headers, n, &line, &pos, &elem, &len)) return 0;
  if (!opt->enabled || wsk_pmd_options_check(opt, NULL) != 0)
    return fail(why, "the server accepted an extension the client did not offer");
  struct wsk__pmd_ext x;
  const char *bad = NULL;
  int rc = wsk__pmd_parse(elem, len, 1, &x, &bad);
  if (rc == 0) return fail(why, "the server accepted an extension the client did not offer");
  if (rc < 0) return fail(why, bad);
  if (wsk_handshake_next_extension(headers, n, &line, &pos, &elem, &len))
    return fail(why, "the server accepted more than one extension; the client offered one");
  rc = check_answer(opt, &x, why);
  if (rc < 0) return rc;
  params->server_no_context_takeover = (x.has & WSK_PMD_HAS_SERVER_NCT) != 0;
  params->client_no_context_takeover =
      (uint8_t)(opt->client_no_context_takeover || (x.has & WSK_PMD_HAS_CLIENT_NCT));
  params->server_max_window_bits = (x.has & WSK_PMD_HAS_SERVER_BITS) ? x.server_bits : 15;
  params->client_max_window_bits = (x.has & WSK_PMD_HAS_CLIENT_BITS)
                                       ? x.client_bits
                                       : (uint8_t)opt->client_max_window_bits;
  return 1;
}
