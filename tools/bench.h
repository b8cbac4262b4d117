/* bench.h - `wsk bench`: options and results shared by the modes (echo, connect, idle, fanout) and the
 * report printer. Internal to tools/. */
#ifndef WSK_TOOLS_BENCH_H
#define WSK_TOOLS_BENCH_H

#include <stddef.h>
#include <stdint.h>

#include "bench_hist.h"
#include "bench_net.h"

enum bench_mode { BENCH_ECHO, BENCH_CONNECT, BENCH_IDLE, BENCH_FANOUT };

#define BENCH_URLS_MAX 8 /* fanout: servers sharing rooms (e.g. wsk serve --redis nodes) */
#define BENCH_PIDS_MAX 8 /* server processes whose CPU is added up (nodes and redis-server) */

struct bench_opts {
  enum bench_mode mode;
  const char *urls[BENCH_URLS_MAX]; /* only fanout takes more than one: the publishers connect to
                                       the first, subscribers are dealt over all */
  unsigned nurls;
  unsigned connections; /* echo, idle: connections held; connect: concurrent dialers;
                           fanout: subscribers */
  size_t size;          /* echo, fanout: payload bytes per message */
  int binary;           /* echo: binary messages instead of text */
  unsigned depth;       /* echo: messages in flight per connection */
  unsigned topics;      /* fanout: rooms the subscribers are spread over */
  unsigned publishers;  /* fanout: publishers (see bench_fanout.c) */
  unsigned window;      /* fanout: how far a publisher may run ahead of its slowest subscriber */
  double warmup_s;      /* echo, connect: load before the measured window */
  double duration_s;    /* echo, connect: measured window; idle: hold time */
  int pids[BENCH_PIDS_MAX]; /* server processes to read CPU from (idle: RSS of the first) */
  unsigned npids;
  int json;
  struct bench_tls_opts tls; /* wss:// */
};

struct bench_result {
  double elapsed_s;        /* length of the measured window */
  uint64_t count;          /* echo: messages echoed; connect: handshakes; idle: connections held;
                              fanout: messages received by subscribers */
  uint64_t publishes;      /* fanout: messages published */
  uint64_t lost;           /* fanout: messages a subscriber never received */
  uint64_t bytes;          /* echo: payload bytes echoed (one direction) */
  uint64_t mismatches;     /* echo: messages whose echo differed from what was sent; fanout:
                              messages malformed, repeated or out of sequence */
  uint64_t errors;         /* connections that failed or were closed by the server */
  uint64_t per_conn_min;   /* echo: fewest / most messages one connection had echoed */
  uint64_t per_conn_max;
  struct bench_hist hist;  /* echo: round trip; connect: connect-to-101 time; fanout: publish to
                              delivery (ns) */
  struct bench_hist remote; /* fanout with several URLs: publish to delivery on the servers other
                               than the publishers' (ns) */
  double client_cpu_s;     /* this process, over the measured window */
  double server_cpu_s;     /* the --pid processes over the window (summed), < 0 if unknown */
  double server_cpu_each[BENCH_PIDS_MAX]; /* each of them */
  long long server_rss_delta; /* idle: anonymous resident bytes the --pid process grew by while
                                 the measured connections opened (after the warm-up ones) */
  unsigned measured_conns;  /* idle: connections opened after the warm-up ones */
  char tls_version[64];    /* wss://: protocol and cipher, "" for ws:// */
  uint64_t tls_handshakes, tls_resumed; /* wss://: whole run, and how many resumed a session */
  char first_error[160];   /* first failure seen, "" if none */
};

/* Run one mode. Returns 0 with *r filled, or -1 after writing a sentence into err. */
int bench_echo_run(const struct bench_opts *o, struct bench_result *r, char *err, size_t errlen);
int bench_connect_run(const struct bench_opts *o, struct bench_result *r, char *err, size_t errlen);
int bench_idle_run(const struct bench_opts *o, struct bench_result *r, char *err, size_t errlen);
int bench_fanout_run(const struct bench_opts *o, struct bench_result *r, char *err, size_t errlen);

/* Record the first failure reason (later ones are only counted). */
void bench_result_note_error(struct bench_result *r, const char *why);

#endif
