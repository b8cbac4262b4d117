/* bench_hist.c - quantiles of the log-linear histogram (bench_hist.h). */
#include "bench_hist.h"

#include <string.h>

void bench_hist_reset(struct bench_hist *h) { memset(h, 0, sizeof *h); }

/* Midpoint of bucket i: buckets below SUB are exact; above, group g covers values with
 * 2^(g + SUB_BITS - 1) <= v < 2^(g + SUB_BITS), in SUB steps of 2^(g - 1). */
static uint64_t bucket_mid(unsigned i) {
  if (i < BENCH_HIST_SUB) return i;
  unsigned g = i / BENCH_HIST_SUB, sub = i % BENCH_HIST_SUB;
  uint64_t width = (uint64_t)1 << (g - 1);
  return ((uint64_t)(BENCH_HIST_SUB + sub) << (g - 1)) + width / 2;
}

uint64_t bench_hist_quantile(const struct bench_hist *h, double q) {
  if (h->count == 0) return 0;
  double want = q * (double)h->count;
  uint64_t rank = (uint64_t)want;
  if ((double)rank < want || rank == 0) rank++;
  uint64_t seen = 0;
  for (unsigned i = 0; i < BENCH_HIST_BUCKETS; i++) {
    seen += h->buckets[i];
    if (seen >= rank) {
      uint64_t v = bucket_mid(i);
      return v < h->max ? v : h->max;
    }
  }
  return h->max;
}
