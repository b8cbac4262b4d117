/* bench_run.c - the loop driver, connection opening and CPU window shared by the modes. */
#include "bench_run.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "bench_proc.h"

int bench_run_until(struct bench_net *n, uint64_t deadline_ns, int (*stop)(void *arg), void *arg,
                    char *err, size_t errlen) {
  while (!stop(arg) && n->now_ns < deadline_ns) {
    uint64_t left_ms = (deadline_ns - n->now_ns + 999999u) / 1000000u;
    if (bench_net_poll(n, left_ms > 100 ? 100 : (int)left_ms) < 0) {
      snprintf(err, errlen, "epoll_wait: %s", strerror(errno));
      return -1;
    }
  }
  return 0;
}

struct fleet_wait {
  const struct bench_fleet *f;
  const struct bench_result *r;
};

/* Stop waiting when all are open, one failed, or there is room to dial another. */
static int fleet_step(void *arg) {
  const struct fleet_wait *w = arg;
  const struct bench_fleet *f = w->f;
  return f->opened == f->total || w->r->errors ||
         (f->dialed < f->total && f->dialed - f->opened < BENCH_DIAL_WINDOW);
}

int bench_fleet_open(struct bench_net *n, struct bench_fleet *f, const struct bench_result *r,
                     char *err, size_t errlen) {
  uint64_t deadline = n->now_ns + BENCH_DIAL_TIMEOUT_NS;
  struct fleet_wait w = {f, r};
  while (f->opened < f->total && !r->errors && n->now_ns < deadline) {
    while (f->dialed < f->total && f->dialed - f->opened < BENCH_DIAL_WINDOW) {
      int rc = bench_conn_dial(n, bench_fleet_at(f, f->dialed));
      if (rc < 0) {
        snprintf(err, errlen, "connection %u of %u: connect: %s", f->dialed + 1, f->total,
                 strerror(-rc));
        return -1;
      }
      f->dialed++;
    }
    if (bench_run_until(n, deadline, fleet_step, &w, err, errlen) < 0) return -1;
  }
  if (f->opened == f->total) return 0;
  snprintf(err, errlen, "only %u of %u connections opened%s%s", f->opened, f->total,
           r->first_error[0] ? ": " : " in time", r->first_error);
  return -1;
}

int bench_fd_budget(unsigned long fds, char *err, size_t errlen) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) < 0) return 0; /* unknown: let the dials tell */
  if (rl.rlim_cur >= fds) return 0;
  if (rl.rlim_max >= fds) {
    rl.rlim_cur = fds;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0) return 0;
  }
  snprintf(err, errlen,
           "%lu file descriptors needed but the open-file limit is %llu (hard %llu): raise it "
           "(ulimit -n) or use fewer connections",
           fds, (unsigned long long)rl.rlim_cur, (unsigned long long)rl.rlim_max);
  return -1;
}

void bench_window_begin(struct bench_window *w, const struct bench_opts *o) {
  w->o = o;
  for (unsigned i = 0; i < o->npids; i++) w->server_cpu0[i] = bench_proc_cpu_s(o->pids[i]);
  w->client_cpu0 = bench_self_cpu_s();
  w->start_ns = bench_now_ns();
}

void bench_window_end(const struct bench_window *w, struct bench_result *r) {
  r->elapsed_s = (double)(bench_now_ns() - w->start_ns) / 1e9;
  r->client_cpu_s = bench_self_cpu_s() - w->client_cpu0;
  r->server_cpu_s = w->o->npids ? 0 : -1;
  for (unsigned i = 0; i < w->o->npids; i++) {
    double now = bench_proc_cpu_s(w->o->pids[i]);
    r->server_cpu_each[i] = now >= 0 && w->server_cpu0[i] >= 0 ? now - w->server_cpu0[i] : -1;
    if (r->server_cpu_each[i] < 0 || r->server_cpu_s < 0) r->server_cpu_s = -1;
    else r->server_cpu_s += r->server_cpu_each[i];
  }
}

void bench_tls_result(const struct bench_net *n, struct bench_result *r) {
  memcpy(r->tls_version, n->tls_version, sizeof r->tls_version);
  r->tls_handshakes = n->tls_handshakes;
  r->tls_resumed = n->tls_resumed;
}
