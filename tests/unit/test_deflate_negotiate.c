/* test_deflate_negotiate.c - permessage-deflate negotiation (RFC 7692 sections 5 and 7.1): the
 * server's choice among offers, declined and malformed offers, every parameter combination, the
 * client's offer, and the client's checks of the server's response. */
#include <stdlib.h>

#include "check.h"
#include "proto/deflate_internal.h"
#include "wsk.h"

#define EXT "Sec-WebSocket-Extensions"

/* Headers: one Sec-WebSocket-Extensions line per non-NULL value (up to 3), after an unrelated
 * header. */
static size_t headers(struct wsk_header h[4], const char *a, const char *b, const char *c) {
  const char *v[3] = {a, b, c};
  size_t n = 0;
  h[n++] = (struct wsk_header){"Host", 4, "x", 1};
  for (int i = 0; i < 3; i++)
    if (v[i]) h[n++] = (struct wsk_header){EXT, sizeof EXT - 1, v[i], strlen(v[i])};
  return n;
}

static struct wsk_pmd_options enabled(void) {
  struct wsk_pmd_options o;
  wsk_pmd_options_init(&o);
  o.enabled = 1;
  return o;
}

/* Negotiate one or two header lines; returns the result and the response in resp. */
static int server(const struct wsk_pmd_options *o, const char *a, const char *b,
                  struct wsk_pmd_params *p, char resp[WSK_PMD_EXTENSION_MAX]) {
  struct wsk_header h[4];
  size_t n = headers(h, a, b, NULL);
  strcpy(resp, "(none)");
  return wsk_pmd_server_negotiate(o, h, n, p, resp);
}

static void check_params(const struct wsk_pmd_params *p, int snct, int cnct, int sbits,
                         int cbits) {
  CHECK_EQ(p->server_no_context_takeover, snct);
  CHECK_EQ(p->client_no_context_takeover, cnct);
  CHECK_EQ(p->server_max_window_bits, sbits);
  CHECK_EQ(p->client_max_window_bits, cbits);
}

static void test_options(void) {
  struct wsk_pmd_options o;
  wsk_pmd_options_init(&o);
  CHECK_EQ(o.enabled, 0);
  CHECK_EQ(o.server_max_window_bits, 15);
  CHECK_EQ(o.client_max_window_bits, 15);
  CHECK_EQ(o.mem_level, 8);
  CHECK_EQ(o.level, 6);
  CHECK_EQ(o.threshold, 0);
  const char *why = NULL;
  CHECK_EQ(wsk_pmd_options_check(&o, &why), 0);
  static const struct {
    int sb, cb, mem, level;
  } bad[] = {{8, 15, 8, 6}, {16, 15, 8, 6}, {15, 8, 8, 6}, {15, 16, 8, 6}, {15, 15, 0, 6},
             {15, 15, 10, 6}, {15, 15, 8, -1}, {15, 15, 8, 10}, {0, 0, 0, 0}};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct wsk_pmd_options b = enabled();
    b.server_max_window_bits = bad[i].sb;
    b.client_max_window_bits = bad[i].cb;
    b.mem_level = bad[i].mem;
    b.level = bad[i].level;
    why = NULL;
    CHECK_EQ(wsk_pmd_options_check(&b, &why), WSK_EINVAL);
    CHECK(why != NULL);
    struct wsk_pmd_params p;
    char resp[WSK_PMD_EXTENSION_MAX], offer[WSK_PMD_EXTENSION_MAX];
    CHECK_EQ(server(&b, "permessage-deflate", NULL, &p, resp), WSK_EINVAL);
    CHECK_EQ(wsk_pmd_client_offer(&b, offer), WSK_EINVAL);
  }
}

static void test_server_basic(void) {
  struct wsk_pmd_options o;
  wsk_pmd_options_init(&o);
  struct wsk_pmd_params p;
  char r[WSK_PMD_EXTENSION_MAX];
  CHECK_EQ(server(&o, "permessage-deflate", NULL, &p, r), 0); /* disabled */
  o = enabled();
  CHECK_EQ(server(&o, NULL, NULL, &p, r), 0);
  CHECK_EQ(server(&o, "x-webkit-deflate-frame", NULL, &p, r), 0);
  CHECK_EQ(server(&o, "permessage-deflate", NULL, &p, r), 1);
  CHECK_STR(r, "permessage-deflate");
  check_params(&p, 0, 0, 15, 15);
  /* Chromium's and ws's default offer. */
  CHECK_EQ(server(&o, "permessage-deflate; client_max_window_bits", NULL, &p, r), 1);
  CHECK_STR(r, "permessage-deflate");
  check_params(&p, 0, 0, 15, 15);
  /* Names are case-insensitive; OWS around ';' and '='; quoted values unquote. */
  CHECK_EQ(server(&o, "PerMessage-Deflate ;Server_No_Context_Takeover ;  client_max_window_bits"
                      " = \"1\\2\"",
                  NULL, &p, r),
           1);
  CHECK_STR(r, "permessage-deflate; server_no_context_takeover; client_max_window_bits=12");
  check_params(&p, 1, 0, 15, 12);
}

static void test_server_params(void) {
  struct wsk_pmd_options o = enabled();
  struct wsk_pmd_params p;
  char r[WSK_PMD_EXTENSION_MAX];
  /* server_no_context_takeover: accepted by answering it; or imposed by the server. */
  CHECK_EQ(server(&o, "permessage-deflate; server_no_context_takeover", NULL, &p, r), 1);
  CHECK_STR(r, "permessage-deflate; server_no_context_takeover");
  check_params(&p, 1, 0, 15, 15);
  o.server_no_context_takeover = 1;
  CHECK_EQ(server(&o, "permessage-deflate", NULL, &p, r), 1);
  CHECK_STR(r, "permessage-deflate; server_no_context_takeover");
  check_params(&p, 1, 0, 15, 15);
  /* client_no_context_takeover: the client's hint is echoed; or requested by the server. */
  o = enabled();
  CHECK_EQ(server(&o, "permessage-deflate; client_no_context_takeover", NULL, &p, r), 1);
  CHECK_STR(r, "permessage-deflate; client_no_context_takeover");
  check_params(&p, 0, 1, 15, 15);
  o.client_no_context_takeover = 1;
  CHECK_EQ(server(&o, "permessage-deflate", NULL, &p, r), 1);
  CHECK_STR(r, "permessage-deflate; client_no_context_takeover");
  check_params(&p, 0, 1, 15, 15);
  /* server_max_window_bits: answered with min(offer, ours); 8 cannot be honoured. */
  o = enabled();
  CHECK_EQ(server(&o, "permessage-deflate; server_max_window_bits=10", NULL, &p, r), 1);
  CHECK_STR(r, "permessage-deflate; server_max_window_bits=10");
  check_params(&p, 0, 0, 10, 15);
  CHECK_EQ(server(&o, "permessage-deflate; server_max_window_bits=15", NULL, &p, r), 1);
  CHECK_STR(r, "permessage-deflate; server_max_window_bits=15");
  CHECK_EQ(server(&o, "permessage-deflate; server_max_window_bits=9", NULL, &p, r), 1);
  CHECK_STR(r, "permessage-deflate; server_max_window_bits=9");
  CHECK_EQ(server(&o, "permessage-deflate; server_max_window_bits=8", NULL, &p, r), 0);
  CHECK_STR(r, "(none)");
  o.server_max_window_bits = 11;
  CHECK_EQ(server(&o, "permessage-deflate; server_max_window_bits=13", NULL, &p, r), 1);
  CHECK_STR(r, "permessage-deflate; server_max_window_bits=11");
  check_params(&p, 0, 0, 11, 15);
  /* Not offered: not announced, but used. */
  CHECK_EQ(server(&o, "permessage-deflate", NULL, &p, r), 1);
  CHECK_STR(r, "permessage-deflate");
  check_params(&p, 0, 0, 11, 15);
  /* client_max_window_bits: only answered when offered, with min(offer, ours), if below 15. */
  o = enabled();
  o.client_max_window_bits = 10;
  CHECK_EQ(server(&o, "permessage-deflate", NULL, &p, r), 1);
  CHECK_STR(r, "permessage-deflate");
  check_params(&p, 0, 0, 15, 15);
  CHECK_EQ(server(&o, "permessage-deflate; client_max_window_bits", NULL, &p, r), 1);
  CHECK_STR(r, "permessage-deflate; client_max_window_bits=10");
  check_params(&p, 0, 0, 15, 10);
  CHECK_EQ(server(&o, "permessage-deflate; client_max_window_bits=12", NULL, &p, r), 1);
  CHECK_STR(r, "permessage-deflate; client_max_window_bits=10");
  CHECK_EQ(server(&o, "permessage-deflate; client_max_window_bits=9", NULL, &p, r), 1);
  CHECK_STR(r, "permessage-deflate; client_max_window_bits=9");
  check_params(&p, 0, 0, 15, 9);
  CHECK_EQ(server(&o, "permessage-deflate; client_max_window_bits=8", NULL, &p, r), 1);
  CHECK_STR(r, "permessage-deflate; client_max_window_bits=8");
  check_params(&p, 0, 0, 15, 8);
  o.client_max_window_bits = 15;
  CHECK_EQ(server(&o, "permessage-deflate; client_max_window_bits=15", NULL, &p, r), 1);
  CHECK_STR(r, "permessage-deflate");
  CHECK_EQ(server(&o, "permessage-deflate; client_max_window_bits=11", NULL, &p, r), 1);
  CHECK_STR(r, "permessage-deflate; client_max_window_bits=11");
  check_params(&p, 0, 0, 15, 11);
  /* Everything at once: the longest response. */
  o.server_no_context_takeover = o.client_no_context_takeover = 1;
  o.client_max_window_bits = 9;
  CHECK_EQ(server(&o, "permessage-deflate; server_max_window_bits=15; client_max_window_bits", NULL,
                  &p, r),
           1);
  CHECK_STR(r, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
               "server_max_window_bits=15; client_max_window_bits=9");
  check_params(&p, 1, 1, 15, 9);
}

static const char *const malformed[] = {
    "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
    "permessage-deflate; client_no_context_takeover; CLIENT_NO_CONTEXT_TAKEOVER",
    "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
    "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
    "permessage-deflate; client_max_window_bits=10; client_max_window_bits",
    "permessage-deflate; server_max_window_bits=16",
    "permessage-deflate; server_max_window_bits=07",
    "permessage-deflate; server_max_window_bits=010",
    "permessage-deflate; server_max_window_bits=7",
    "permessage-deflate; server_max_window_bits=0",
    "permessage-deflate; server_max_window_bits=1",
    "permessage-deflate; server_max_window_bits=150",
    "permessage-deflate; server_max_window_bits=100000000000000000009",
    "permessage-deflate; server_max_window_bits=+9",
    "permessage-deflate; server_max_window_bits=-9",
    "permessage-deflate; server_max_window_bits=9.0",
    "permessage-deflate; server_max_window_bits=1a",
    "permessage-deflate; server_max_window_bits=nine",
    "permessage-deflate; server_max_window_bits",
    "permessage-deflate; server_max_window_bits=",
    "permessage-deflate; server_max_window_bits=\"\"",
    "permessage-deflate; server_max_window_bits=\"10",
    "permessage-deflate; server_max_window_bits=\"1 0\"",
    "permessage-deflate; client_max_window_bits=16",
    "permessage-deflate; client_max_window_bits=07",
    "permessage-deflate; client_max_window_bits=7",
    "permessage-deflate; client_max_window_bits=abc",
    "permessage-deflate; client_max_window_bits=",
    "permessage-deflate; client_max_window_bits=\"\"",
    "permessage-deflate; server_no_context_takeover=1",
    "permessage-deflate; server_no_context_takeover=\"\"",
    "permessage-deflate; client_no_context_takeover=true",
    "permessage-deflate; foo",
    "permessage-deflate; foo=1",
    "permessage-deflate; server_max_window",
    "permessage-deflate; max_window_bits=10",
    "permessage-deflate;",
    "permessage-deflate; ;",
    "permessage-deflate; ; server_no_context_takeover",
    "permessage-deflate x",
    "permessage-deflate; server_no_context_takeover x",
    "permessage-deflate; server_no_context_takeover; =1",
    "permessage-deflate; \"server_no_context_takeover\"",
    "permessage-deflate/1",
};

static void test_server_malformed(void) {
  struct wsk_pmd_options o = enabled();
  struct wsk_pmd_params p;
  char r[WSK_PMD_EXTENSION_MAX];
  for (size_t i = 0; i < sizeof malformed / sizeof malformed[0]; i++) {
    struct wsk__pmd_ext x;
    const char *why = NULL;
    int rc = wsk__pmd_parse(malformed[i], strlen(malformed[i]), 0, &x, &why);
    if (rc != WSK_EINVAL || !why) fprintf(stderr, "not malformed: %s\n", malformed[i]);
    CHECK(rc == WSK_EINVAL && why != NULL);
    /* Alone: declined, no extension. Followed by an acceptable offer: that one is taken. */
    CHECK_EQ(server(&o, malformed[i], NULL, &p, r), 0);
    CHECK_STR(r, "(none)");
    if (!strstr(malformed[i], "\"10")) { /* an open quote would swallow the next offer */
      char two[256];
      snprintf(two, sizeof two, "%s, permessage-deflate; client_no_context_takeover", malformed[i]);
      CHECK_EQ(server(&o, two, NULL, &p, r), 1);
      CHECK_STR(r, "permessage-deflate; client_no_context_takeover");
    }
    CHECK_EQ(server(&o, malformed[i], "permessage-deflate", &p, r), 1);
    CHECK_STR(r, "permessage-deflate");
  }
}

static void test_server_several_offers(void) {
  struct wsk_pmd_options o = enabled();
  struct wsk_pmd_params p;
  char r[WSK_PMD_EXTENSION_MAX];
  /* Other extensions skipped, an offer we cannot honour declined, the next one taken. */
  CHECK_EQ(server(&o,
                  "x-webkit-deflate-frame, permessage-deflate; server_max_window_bits=8; "
                  "client_max_window_bits, permessage-deflate; server_max_window_bits=9, "
                  "permessage-deflate",
                  NULL, &p, r),
           1);
  CHECK_STR(r, "permessage-deflate; server_max_window_bits=9");
  check_params(&p, 0, 0, 9, 15);
  /* The first acceptable offer wins even if a later one is "better". */
  CHECK_EQ(server(&o, "permessage-deflate; client_max_window_bits=10",
                  "permessage-deflate; client_max_window_bits", &p, r),
           1);
  CHECK_STR(r, "permessage-deflate; client_max_window_bits=10");
  /* Offers across lines, in order; quoted commas do not split. */
  CHECK_EQ(server(&o, "foo; bar=\"a,b\", permessage-deflate; server_max_window_bits=8",
                  "permessage-deflate; server_no_context_takeover", &p, r),
           1);
  CHECK_STR(r, "permessage-deflate; server_no_context_takeover");
  CHECK_EQ(server(&o, "permessage-deflate; server_max_window_bits=8",
                  "permessage-deflate; foo", &p, r),
           0);
}

/* ---- client -------------------------------------------------------------------------------- */

static int client(const struct wsk_pmd_options *o, const char *a, const char *b,
                  struct wsk_pmd_params *p, const char **why) {
  struct wsk_header h[4];
  size_t n = headers(h, a, b, NULL);
  *why = NULL;
  return wsk_pmd_client_accept(o, h, n, p, why);
}

static void test_client_offer(void) {
  struct wsk_pmd_options o = enabled();
  char s[WSK_PMD_EXTENSION_MAX];
  CHECK_EQ(wsk_pmd_client_offer(&o, s), (int)strlen("permessage-deflate; client_max_window_bits"));
  CHECK_STR(s, "permessage-deflate; client_max_window_bits");
  o.client_max_window_bits = 9;
  wsk_pmd_client_offer(&o, s);
  CHECK_STR(s, "permessage-deflate; client_max_window_bits=9");
  o.server_no_context_takeover = o.client_no_context_takeover = 1;
  o.server_max_window_bits = 10;
  o.client_max_window_bits = 12;
  int n = wsk_pmd_client_offer(&o, s);
  CHECK_STR(s, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
               "server_max_window_bits=10; client_max_window_bits=12");
  CHECK_EQ(n, (int)strlen(s));
  /* Our own offer parses as a valid offer. */
  struct wsk__pmd_ext x;
  CHECK_EQ(wsk__pmd_parse(s, strlen(s), 0, &x, NULL), 1);
  CHECK_EQ(x.has, 0xF);
  CHECK_EQ(x.server_bits, 10);
  CHECK_EQ(x.client_bits, 12);
}

static void test_client_accept(void) {
  struct wsk_pmd_options o = enabled();
  struct wsk_pmd_params p;
  const char *why;
  CHECK_EQ(client(&o, NULL, NULL, &p, &why), 0);
  CHECK_EQ(client(&o, "permessage-deflate", NULL, &p, &why), 1);
  check_params(&p, 0, 0, 15, 15);
  CHECK_EQ(client(&o, "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
                  NULL, &p, &why),
           1);
  check_params(&p, 1, 1, 15, 15);
  /* server_max_window_bits may come unasked (8 included: we inflate with 9). */
  CHECK_EQ(client(&o, "permessage-deflate; server_max_window_bits=8", NULL, &p, &why), 1);
  check_params(&p, 0, 0, 8, 15);
  CHECK_EQ(client(&o, "permessage-deflate; client_max_window_bits=11", NULL, &p, &why), 1);
  check_params(&p, 0, 0, 15, 11);
  /* 8 for our compressor: accepted, and we then send uncompressed. */
  CHECK_EQ(client(&o, "permessage-deflate; client_max_window_bits=8", NULL, &p, &why), 1);
  check_params(&p, 0, 0, 15, 8);
  /* Our own choices stand when the server says nothing. */
  o.client_no_context_takeover = 1;
  o.client_max_window_bits = 12;
  CHECK_EQ(client(&o, "permessage-deflate", NULL, &p, &why), 1);
  check_params(&p, 0, 1, 15, 12);
  CHECK_EQ(client(&o, "permessage-deflate; client_max_window_bits=12", NULL, &p, &why), 1);
  check_params(&p, 0, 1, 15, 12);
  /* What we asked of the server must be in the answer. */
  o = enabled();
  o.server_no_context_takeover = 1;
  o.server_max_window_bits = 10;
  CHECK_EQ(client(&o, "permessage-deflate; server_no_context_takeover; server_max_window_bits=10",
                  NULL, &p, &why),
           1);
  check_params(&p, 1, 0, 10, 15);
  CHECK_EQ(client(&o, "permessage-deflate; server_no_context_takeover; server_max_window_bits=9",
                  NULL, &p, &why),
           1);
  check_params(&p, 1, 0, 9, 15);
}

static void test_client_reject(void) {
  static const struct {
    int snct, sbits, cbits; /* options */
    const char *a, *b;      /* response lines */
  } bad[] = {
      {0, 15, 15, "x-webkit-deflate-frame", NULL},
      {0, 15, 15, "permessage-deflate, permessage-deflate", NULL},
      {0, 15, 15, "permessage-deflate", "permessage-deflate"},
      {0, 15, 15, "permessage-deflate, x-foo", NULL},
      {0, 15, 15, "x-foo, permessage-deflate", NULL},
      {0, 15, 15, "permessage-deflate; client_max_window_bits", NULL},
      {0, 15, 15, "permessage-deflate; client_max_window_bits=16", NULL},
      {0, 15, 15, "permessage-deflate; client_max_window_bits=09", NULL},
      {0, 15, 15, "permessage-deflate; server_max_window_bits", NULL},
      {0, 15, 15, "permessage-deflate; server_max_window_bits=7", NULL},
      {0, 15, 15, "permessage-deflate; server_no_context_takeover=1", NULL},
      {0, 15, 15, "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
       NULL},
      {0, 15, 15, "permessage-deflate; client_max_window_bits=10; client_max_window_bits=10",
       NULL},
      {0, 15, 15, "permessage-deflate; foo", NULL},
      {0, 15, 15, "permessage-deflate;", NULL},
      {1, 15, 15, "permessage-deflate", NULL},
      {0, 10, 15, "permessage-deflate", NULL},
      {0, 10, 15, "permessage-deflate; server_max_window_bits=11", NULL},
      {0, 10, 15, "permessage-deflate; server_max_window_bits=15", NULL},
      {0, 15, 10, "permessage-deflate; client_max_window_bits=11", NULL},
      {0, 15, 10, "permessage-deflate; client_max_window_bits=15", NULL},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct wsk_pmd_options o = enabled();
    o.server_no_context_takeover = bad[i].snct;
    o.server_max_window_bits = bad[i].sbits;
    o.client_max_window_bits = bad[i].cbits;
    struct wsk_pmd_params p;
    const char *why;
    int rc = client(&o, bad[i].a, bad[i].b, &p, &why);
    if (rc != WSK_EHANDSHAKE) fprintf(stderr, "accepted: %s\n", bad[i].a);
    CHECK_EQ(rc, WSK_EHANDSHAKE);
    CHECK(why != NULL && strlen(why) > 10);
  }
  /* Any extension when we offered none. */
  struct wsk_pmd_options off;
  wsk_pmd_options_init(&off);
  struct wsk_pmd_params p;
  const char *why;
  CHECK_EQ(client(&off, "permessage-deflate", NULL, &p, &why), WSK_EHANDSHAKE);
  CHECK_EQ(client(&off, NULL, NULL, &p, &why), 0);
}

/* Every client configuration against every server configuration: the server accepts our offer,
 * its answer passes our checks, and both ends agree on what applies to each compressor. */
static void test_all_combinations(void) {
  static const int bits[] = {9, 10, 12, 14, 15};
  size_t nb = sizeof bits / sizeof bits[0];
  int count = 0;
  for (unsigned flags = 0; flags < 16; flags++)
    for (size_t a = 0; a < nb; a++)
      for (size_t b = 0; b < nb; b++)
        for (size_t c = 0; c < nb; c++)
          for (size_t d = 0; d < nb; d++) {
            struct wsk_pmd_options co = enabled(), so = enabled();
            co.server_no_context_takeover = flags & 1;
            co.client_no_context_takeover = (flags >> 1) & 1;
            so.server_no_context_takeover = (flags >> 2) & 1;
            so.client_no_context_takeover = (flags >> 3) & 1;
            co.server_max_window_bits = bits[a];
            co.client_max_window_bits = bits[b];
            so.server_max_window_bits = bits[c];
            so.client_max_window_bits = bits[d];
            char offer[WSK_PMD_EXTENSION_MAX], resp[WSK_PMD_EXTENSION_MAX];
            CHECK(wsk_pmd_client_offer(&co, offer) > 0);
            struct wsk_pmd_params sp, cp;
            CHECK_EQ(server(&so, offer, NULL, &sp, resp), 1);
            const char *why = NULL;
            int rc = client(&co, resp, NULL, &cp, &why);
            if (rc != 1) fprintf(stderr, "offer %s, response %s: %s\n", offer, resp, why);
            CHECK_EQ(rc, 1);
            /* Context takeover: each side's choice or the other's request. */
            CHECK_EQ(sp.server_no_context_takeover, co.server_no_context_takeover |
                                                        so.server_no_context_takeover);
            CHECK_EQ(cp.server_no_context_takeover, sp.server_no_context_takeover);
            CHECK_EQ(sp.client_no_context_takeover, co.client_no_context_takeover |
                                                        so.client_no_context_takeover);
            CHECK_EQ(cp.client_no_context_takeover, sp.client_no_context_takeover);
            /* The server compresses with the smaller of both wishes; the client inflates with
             * what it was told, which is never smaller. */
            int s = bits[a] < bits[c] ? bits[a] : bits[c];
            CHECK_EQ(sp.server_max_window_bits, s);
            CHECK(cp.server_max_window_bits >= sp.server_max_window_bits);
            CHECK(cp.server_max_window_bits <= co.server_max_window_bits);
            /* The client compresses with what both agreed; the server inflates with that. */
            int cl = bits[b] < bits[d] ? bits[b] : bits[d];
            CHECK_EQ(cp.client_max_window_bits, cl);
            CHECK_EQ(sp.client_max_window_bits, cl);
            count++;
          }
  CHECK_EQ(count, 16 * 625);
}

int main(void) {
  test_options();
  test_server_basic();
  test_server_params();
  test_server_malformed();
  test_server_several_offers();
  test_client_offer();
  test_client_accept();
  test_client_reject();
  test_all_combinations();
  return check_report();
}
