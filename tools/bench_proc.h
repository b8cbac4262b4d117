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
/* Anonymous resident memory of process pid in bytes: what it allocated (heap, stacks, anonymous
 * mappings), i.e. resident minus shared in /proc/PID/statm (RssAnon of /proc/PID/status).
 * File-backed pages (the program and shared libraries, first touched by the first handshake) are
 * left out: they are no per-connection cost. < 0 if it cannot be read. */
long long bench_proc_anon_rss(int pid);
/* User + system CPU seconds used by this process so far. */
double bench_self_cpu_s(void);

#endif
