/* micro_deflate.c - permessage-deflate figures: the bytes a compressed connection holds between
 * messages (the connection's slab slot, its ext, the codec and zlib's state, counted exactly
 * through zlib's allocator hooks) and at its peak, for the default and the low-memory settings
 * with and without context takeover; and compression speed and ratio of a chat-like text message.
 * A plain idle connection holds only its slab slot (sizeof struct wsk_conn). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conn/conn_internal.h"

#define MSG 16384

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* JSON-ish chat lines: what a WebSocket server typically sends. */
static void fill(uint8_t *b, size_t n, unsigned seed) {
  static const char *const words[] = {"hello", "world", "message", "user", "room", "typing",
                                      "online", "42", "true", "false", "text", "2024"};
  size_t i = 0;
  unsigned x = seed;
  while (i < n) {
    char line[96];
    x = x * 1103515245u + 12345u;
    int len = snprintf(line, sizeof line,
                       "{\"type\":\"%s\",\"from\":\"%s%u\",\"body\":\"%s %s\"}\n",
                       words[(x >> 8) % 12], words[(x >> 12) % 12], (x >> 16) % 1000,
                       words[(x >> 20) % 12], words[(x >> 24) % 12]);
    for (int k = 0; k < len && i < n; k++) b[i++] = (uint8_t)line[k];
  }
}

struct side {
  wsk_pmd *z;
  uint8_t *buf;
};

static wsk_pmd *codec(enum wsk_role role, const struct wsk_pmd_params *p,
                      const struct wsk_pmd_options *o) {
  wsk_pmd *z = malloc(wsk_pmd_size());
  if (!z || wsk_pmd_init(z, role, p, o, 0) != 0) {
    fprintf(stderr, "micro_deflate: codec set-up failed\n");
    exit(1);
  }
  return z;
}

/* One message from `from` to `to`; returns the compressed size. */
static size_t send_one(wsk_pmd *from, wsk_pmd *to, const uint8_t *msg, uint8_t *zbuf,
                       uint8_t *out) {
  size_t used, zn, got;
  if (wsk_pmd_compress(from, msg, MSG, 1, zbuf, wsk_pmd_compress_bound(MSG), &used, &zn) != 0 ||
      wsk_pmd_decompress(to, zbuf, zn, 1, out, MSG + 64, &used, &got) != 0 || got != MSG ||
      memcmp(out, msg, MSG) != 0) {
    fprintf(stderr, "micro_deflate: round trip failed\n");
    exit(1);
  }
  return zn;
}

static void row(const char *label, int nct, int bits, int mem_level) {
  struct wsk_pmd_options o;
  wsk_pmd_options_init(&o);
  o.mem_level = mem_level;
  struct wsk_pmd_params p = {(uint8_t)nct, (uint8_t)nct, (uint8_t)bits, (uint8_t)bits};
  wsk_pmd *srv = codec(WSK_ROLE_SERVER, &p, &o), *cli = codec(WSK_ROLE_CLIENT, &p, &o);
  uint8_t *msg = malloc(MSG), *zbuf = malloc(wsk_pmd_compress_bound(MSG)), *out = malloc(MSG + 64);
  size_t zn = 0;
  int n = 0;
  double start = now_s(), t = 0;
  do { /* server -> client, client -> server: both directions of each codec in use */
    double t0 = now_s();
    fill(msg, MSG, (unsigned)n + 1); /* a new message each time, not a repeat of the last */
    start += now_s() - t0;
    zn += send_one(srv, cli, msg, zbuf, out);
    send_one(cli, srv, msg, zbuf, out);
    n++;
  } while ((t = now_s() - start) < 0.3);
  size_t peak, held = wsk_pmd_memory(srv, &peak);
  size_t fixed = sizeof(struct wsk_conn) + sizeof(struct wsk__conn_ext);
  printf("| %-44s | %9zu | %9zu | %6.1f%% | %7.0f |\n", label, fixed + held, fixed + peak,
         100.0 * (double)zn / ((double)n * MSG), 2.0 * n * MSG / t / 1e6);
  wsk_pmd_end(srv);
  wsk_pmd_end(cli);
  free(srv);
  free(cli);
  free(msg);
  free(zbuf);
  free(out);
}

int main(void) {
  printf("permessage-deflate, server side of one connection: bytes held between messages and at "
         "the peak\n(slab slot %zu + ext %zu + codec and zlib state); %d-byte chat-like text "
         "messages both ways;\nsize: compressed/original; MB/s: message bytes through compress and "
         "inflate per CPU second\n\n", sizeof(struct wsk_conn), sizeof(struct wsk__conn_ext), MSG);
  printf("| %-44s | %9s | %9s | %7s | %7s |\n", "setting", "held", "peak", "size", "MB/s");
  printf("|----------------------------------------------|-----------|-----------|---------|"
         "---------|\n");
  row("window 15, memLevel 8, takeover (default)", 0, 15, 8);
  row("window 9, memLevel 1, takeover (low memory)", 0, 9, 1);
  row("window 15, memLevel 8, no takeover", 1, 15, 8);
  row("window 9, memLevel 1, no takeover", 1, 9, 1);
  printf("\nA plain connection: %zu bytes (its slab slot) while idle.\n", sizeof(struct wsk_conn));
  return 0;
}
