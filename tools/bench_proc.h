/* bench_proc.h - what `wsk bench` reads about processes: CPU time and resident memory of the
 * server under test (from /proc/PID), CPU time of the bench itself, and a monotonic clock. */
#ifndef WSK_TOOLS_BENCH_PROC_H
#define WSK_TOOLS_BENCH_PROC_H

#include <stdint.h>

/* Monotonic time in nanoseconds. */
uint64_t bench_now_ns(void);
/* User + system CPU seconds of process pid, all threads (utime + stime of /proc/PID/stat).
 * Returns < 0 if it cannot be read. */
double bench_proc_cpu_s(int pid);
/* Resident set size of process pid in bytes (/proc/PID/statm), < 0 if it cannot be read. */
long long bench_proc_rss(int pid);
/* User + system CPU seconds used by this process so far. */
double bench_self_cpu_s(void);

#endif
