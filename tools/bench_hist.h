/* bench_hist.h - log-linear histogram of nanosecond values for `wsk bench` latencies.
 * Each power of two is split into 32 linear buckets, so a reported percentile is within ~3% of
 * the true value; recording is an index computation and an increment. */
#ifndef WSK_TOOLS_BENCH_HIST_H
#define WSK_TOOLS_BENCH_HIST_H

#include <stdint.h>

#define BENCH_HIST_SUB_BITS 5
#define BENCH_HIST_SUB (1u << BENCH_HIST_SUB_BITS)
#define BENCH_HIST_BUCKETS ((64 - BENCH_HIST_SUB_BITS + 1) * BENCH_HIST_SUB)

struct bench_hist {
  uint64_t count;
  uint64_t max;
  uint64_t buckets[BENCH_HIST_BUCKETS];
};

static inline unsigned bench_hist_index(uint64_t v) {
  if (v < BENCH_HIST_SUB) return (unsigned)v;
  unsigned e = 63u - (unsigned)__builtin_clzll(v); /* e >= SUB_BITS */
  return (e - BENCH_HIST_SUB_BITS + 1) * BENCH_HIST_SUB +
         (unsigned)((v >> (e - BENCH_HIST_SUB_BITS)) & (BENCH_HIST_SUB - 1));
}

static inline void bench_hist_record(struct bench_hist *h, uint64_t v) {
  h->buckets[bench_hist_index(v)]++;
  h->count++;
  if (v > h->max) h->max = v;
}

void bench_hist_reset(struct bench_hist *h);
/* The value below which a fraction q (0..1) of the recorded values fall: the midpoint of the
 * bucket holding that rank, never above the maximum seen. 0 when empty. */
uint64_t bench_hist_quantile(const struct bench_hist *h, double q);

#endif
