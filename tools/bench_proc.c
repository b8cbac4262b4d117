/* bench_proc.c - process CPU time and memory from /proc, and the clock. */
#include "bench_proc.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

uint64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Read /proc/PID/<name> into buf as a string; returns the length or -1. */
static int read_proc(int pid, const char *name, char *buf, size_t cap) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/%s", pid, name);
  FILE *f = fopen(path, "r");
  if (!f) return -1;
  size_t n = fread(buf, 1, cap - 1, f);
  fclose(f);
  buf[n] = '\0';
  return (int)n;
}

double bench_proc_cpu_s(int pid) {
  char buf[1024];
  if (read_proc(pid, "stat", buf, sizeof buf) < 0) return -1;
  /* The command name (field 2) is in parentheses and may hold spaces: count from the last ')'.
   * Field 3 (state) follows it; utime and stime are fields 14 and 15. */
  const char *p = strrchr(buf, ')');
  unsigned long long utime, stime;
  if (!p || sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime,
                   &stime) != 2)
    return -1;
  return (double)(utime + stime) / (double)sysconf(_SC_CLK_TCK);
}

long long bench_proc_anon_rss(int pid) {
  char buf[256];
  long long size, resident, shared;
  if (read_proc(pid, "statm", buf, sizeof buf) < 0 ||
      sscanf(buf, "%lld %lld %lld", &size, &resident, &shared) != 3)
    return -1;
  return (resident - shared) * (long long)sysconf(_SC_PAGESIZE);
}

double bench_self_cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}
