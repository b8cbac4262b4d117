/* micro_proto.c - micro-benchmarks of the proto hot paths: masking and UTF-8 validation in GB/s
 * (ASCII, Latin, CJK, emoji text), frame header parsing and whole-frame message parsing in
 * ns/frame. Times are process CPU time, so a busy machine slows the numbers less than wall time
 * would. `--callgrind` runs a fixed, small number of iterations so instruction counts under
 * valgrind --tool=callgrind are stable from run to run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wsk.h"

#define BUF_BYTES (1u << 20)
#define FRAMES 4096

static int callgrind;
static volatile uint64_t sink;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Run fn(arg) repeatedly (fixed count under --callgrind, else for at least 0.3 s); returns
 * seconds per call. */
static double time_per_call(void (*fn)(void *), void *arg) {
  if (callgrind) {
    for (int i = 0; i < 3; i++) fn(arg);
    return 0;
  }
  fn(arg); /* warm up */
  long n = 0;
  double start = now_s(), t;
  do {
    fn(arg);
    n++;
  } while ((t = now_s() - start) < 0.3);
  return t / (double)n;
}

struct bytes {
  uint8_t *p;
  size_t len;
};

static void run_mask(void *arg) {
  static const uint8_t key[4] = {0x37, 0xfa, 0x21, 0x3d};
  struct bytes *b = arg;
  sink += wsk_mask(b->p + 1, b->len - 1, key, 3); /* odd start: head and tail paths too */
}

static void run_utf8(void *arg) {
  struct bytes *b = arg;
  sink += wsk_utf8_feed(WSK_UTF8_ACCEPT, b->p, b->len);
}

static void fill_text(struct bytes *b, const char *sample) {
  size_t n = strlen(sample), i = 0;
  while (i + n <= BUF_BYTES) memcpy(b->p + i, sample, n), i += n;
  b->len = i;
  if (!wsk_utf8_valid(b->p, b->len)) abort();
}

static void report_gbs(const char *name, void (*fn)(void *), struct bytes *b) {
  double s = time_per_call(fn, b);
  if (!callgrind) printf("%-24s %8.2f GB/s\n", name, (double)b->len / s / 1e9);
}

struct frames {
  uint8_t *p;
  size_t len;
  enum wsk_role role;
};

static void run_headers(void *arg) {
  struct frames *f = arg;
  struct wsk_frame_header h;
  for (size_t off = 0; off < f->len;) {
    int n = wsk_frame_parse_header(f->p + off, f->len - off, &h);
    if (n < 0) abort();
    off += (size_t)n + h.payload_len;
  }
}

static void run_parser(void *arg) {
  struct frames *f = arg;
  struct wsk_parser p;
  struct wsk_event ev;
  wsk_parser_init(&p, f->role, 0, 0);
  for (size_t off = 0; off < f->len;) {
    int n = wsk_parser_feed(&p, f->p + off, f->len - off, &ev);
    if (n <= 0) abort();
    off += (size_t)n;
    sink += ev.len;
  }
}

/* FRAMES frames of `len` payload bytes; masked frames toggle between masked and clear on every
 * pass, so they are binary (text would fail UTF-8 on the second pass). */
static void make_frames(struct frames *f, enum wsk_role role, int opcode, size_t len) {
  static const uint8_t key[4] = {1, 2, 3, 4};
  f->role = role;
  f->len = 0;
  for (int i = 0; i < FRAMES; i++) {
    f->len += wsk_frame_write_header(f->p + f->len, 1, 0, opcode, len,
                                     role == WSK_ROLE_SERVER ? key : NULL);
    memset(f->p + f->len, 'a' + i % 26, len);
    f->len += len;
  }
}

static void report_frames(const char *name, void (*fn)(void *), struct frames *f) {
  double s = time_per_call(fn, f);
  if (!callgrind) printf("%-24s %8.2f ns/frame\n", name, s / FRAMES * 1e9);
}

int main(int argc, char **argv) {
  callgrind = argc > 1 && strcmp(argv[1], "--callgrind") == 0;
  if (argc > 1 && !callgrind) {
    fprintf(stderr, "usage: %s [--callgrind]\n", argv[0]);
    return 2;
  }
  struct bytes b = {malloc(BUF_BYTES), BUF_BYTES};
  struct frames f = {malloc(FRAMES * (WSK_MAX_FRAME_HEADER + 1024)), 0, WSK_ROLE_SERVER};
  if (!b.p || !f.p) return 1;
  memset(b.p, 0x55, BUF_BYTES);
  report_gbs("mask 1 MiB", run_mask, &b);
  fill_text(&b, "The quick brown fox jumps over the lazy dog. ");
  report_gbs("utf8 ascii", run_utf8, &b);
  fill_text(&b, "{\"user\":\"Jos\xc3\xa9 M\xc3\xbcller\",\"text\":\"see you at the caf\xc3\xa9 at 5, "
                "bring the r\xc3\xa9sum\xc3\xa9s and the \xe2\x82\xac" "20 you owe me\",\"id\":12345}");
  report_gbs("utf8 mixed (json)", run_utf8, &b);
  fill_text(&b, "Le c\xc5\x93ur d\xc3\xa9\xc3\xa7u \xc3\xa0 l'h\xc3\xb4tel, voil\xc3\xa0 tr\xc3\xa8s s\xc3\xbbr. ");
  report_gbs("utf8 latin (dense)", run_utf8, &b);
  fill_text(&b, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x81\xae\xe6\x96\x87\xe7\xab\xa0\xe3\x80\x82");
  report_gbs("utf8 cjk", run_utf8, &b);
  fill_text(&b, "\xf0\x9f\x98\x80\xf0\x9f\x9a\x80\xf0\x9f\x8c\x8d\xf0\x9f\x8e\x89");
  report_gbs("utf8 emoji", run_utf8, &b);
  make_frames(&f, WSK_ROLE_SERVER, WSK_OP_BINARY, 125);
  report_frames("header parse", run_headers, &f);
  report_frames("server binary 125 B", run_parser, &f);
  make_frames(&f, WSK_ROLE_CLIENT, WSK_OP_TEXT, 16);
  report_frames("client text 16 B", run_parser, &f);
  make_frames(&f, WSK_ROLE_CLIENT, WSK_OP_TEXT, 1000);
  report_frames("client text 1000 B", run_parser, &f);
  free(b.p);
  free(f.p);
  return 0;
}
