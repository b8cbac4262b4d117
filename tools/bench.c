/* bench.c - `wsk bench [echo|connect|idle|fanout] URL [options]`: parse the options, run the mode, print
 * the report as text or as one JSON object. */
#include "bench.h"

#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_tls.h"
#include "cli.h"

static const char usage[] =
    "usage: wsk bench [echo|connect|idle|fanout] ws[s]://HOST:PORT[/PATH]... [options]\n"
    "  echo     connections keep messages in flight to an echo server; every echo is checked\n"
    "  connect  dialers repeat connect, upgrade and close handshake\n"
    "  idle     open connections and hold them\n"
    "  fanout   publish/subscribe through a server in rooms mode (wsk serve --rooms): the\n"
    "           subscribers join rooms PATH/room/t0 .. tT-1; publisher p publishes into rooms\n"
    "           p, p+P, ... (one connection each); every message is sequence-checked and timed.\n"
    "           Several URLs (up to 8: nodes sharing rooms, wsk serve --redis): the publishers\n"
    "           connect to the first, subscriber j to URL (j / T) % URLs; the latency on the\n"
    "           others is reported apart (remote). Other modes take one URL\n"
    "options:\n"
    "  -c, --connections N  connections (echo 100, idle 1000) or concurrent dialers (connect 50)\n"
    "  -s, --size BYTES     payload size, k/m suffixes allowed (echo 20, fanout 32, at least 20)\n"
    "  -b, --binary         echo binary messages (default: text)\n"
    "  -d, --depth N        echo messages in flight per connection (1)\n"
    "  -S, --subscribers N  fanout subscribers (10000)\n"
    "  -T, --topics N       fanout rooms the subscribers are dealt round-robin over (1)\n"
    "  -P, --publishers N   fanout publishers (1)\n"
    "  -W, --window N       fanout messages a publisher may be ahead of its slowest subscriber (16)\n"
    "  -w, --warmup S       seconds of load before measuring (1)\n"
    "  -t, --duration S     seconds measured, or held for idle (5)\n"
    "  -p, --pid PID        server process: report its CPU per message and idle RSS growth;\n"
    "                       repeatable (up to 8): their CPU is added up (idle: RSS of the first)\n"
    "  -j, --json           print one JSON object instead of text\n"
    "  --ca FILE            wss://: trust the CAs of this PEM file instead of the system's\n"
    "  -k, --insecure       wss://: do not verify the server's certificate\n"
    "  --resume             wss://: each connection resumes the TLS session its dialer's previous\n"
    "                       connection got (connect: handshakes with resumption)\n"
    WSK_CLI_EXIT_CODES;

void bench_result_note_error(struct bench_result *r, const char *why) {
  if (!r->first_error[0]) snprintf(r->first_error, sizeof r->first_error, "%s", why);
}

static const char *const mode_names[] = {"echo", "connect", "idle", "fanout"}; /* enum bench_mode */

/* Parse a non-negative number with an optional k/m (binary) suffix. */
static int parse_size(const char *s, size_t *out) {
  char *end;
  unsigned long long v = strtoull(s, &end, 10);
  if (end == s || s[0] == '-') return -1;
  if (*end == 'k' || *end == 'K') v <<= 10, end++;
  else if (*end == 'm' || *end == 'M') v <<= 20, end++;
  if (*end) return -1;
  *out = (size_t)v;
  return 0;
}

static int parse_seconds(const char *s, double *out) {
  char *end;
  *out = strtod(s, &end);
  return end == s || *end || *out < 0 || *out > 86400 ? -1 : 0;
}

static int parse_opts(int argc, char **argv, struct bench_opts *o) {
  static const struct option longopts[] = {
      {"connections", required_argument, NULL, 'c'}, {"size", required_argument, NULL, 's'},
      {"binary", no_argument, NULL, 'b'},             {"depth", required_argument, NULL, 'd'},
      {"warmup", required_argument, NULL, 'w'},       {"duration", required_argument, NULL, 't'},
      {"pid", required_argument, NULL, 'p'},          {"json", no_argument, NULL, 'j'},
      {"subscribers", required_argument, NULL, 'S'},  {"topics", required_argument, NULL, 'T'},
      {"publishers", required_argument, NULL, 'P'},   {"window", required_argument, NULL, 'W'},
      {"ca", required_argument, NULL, 'A'},           {"insecure", no_argument, NULL, 'k'},
      {"resume", no_argument, NULL, 'R'},             {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0}};
  *o = (struct bench_opts){.mode = BENCH_ECHO, .size = SIZE_MAX, .depth = 1, .topics = 1,
                           .publishers = 1, .window = 16, .warmup_s = 1, .duration_s = 5};
  size_t v;
  int opt;
  optind = 0; /* the dispatcher may have used getopt already */
  opterr = 0; /* the one-line error below says it */
  while ((opt = getopt_long(argc, argv, "c:s:bd:w:t:p:jS:T:P:W:kh", longopts, NULL)) != -1) {
    switch (opt) {
    case 'c':
    case 'S':
      if (parse_size(optarg, &v) < 0 || v == 0 || v > 1000000) goto bad;
      o->connections = (unsigned)v;
      break;
    case 'T':
    case 'P':
      if (parse_size(optarg, &v) < 0 || v == 0 || v > 1000000) goto bad;
      *(opt == 'T' ? &o->topics : &o->publishers) = (unsigned)v;
      break;
    case 'W':
      if (parse_size(optarg, &v) < 0 || v == 0 || v > 65536) goto bad;
      o->window = (unsigned)v;
      break;
    case 's':
      if (parse_size(optarg, &v) < 0 || v > ((size_t)1 << 30)) goto bad;
      o->size = v;
      break;
    case 'b': o->binary = 1; break;
    case 'd':
      if (parse_size(optarg, &v) < 0 || v == 0 || v > 65536) goto bad;
      o->depth = (unsigned)v;
      break;
    case 'w':
      if (parse_seconds(optarg, &o->warmup_s) < 0) goto bad;
      break;
    case 't':
      if (parse_seconds(optarg, &o->duration_s) < 0) goto bad;
      break;
    case 'p':
      if (parse_size(optarg, &v) < 0 || v == 0 || v > 0x7fffffff) goto bad;
      if (o->npids == BENCH_PIDS_MAX) {
        wsk_cli_usage_error("bench", "at most %d -p", BENCH_PIDS_MAX);
        return -1;
      }
      o->pids[o->npids++] = (int)v;
      break;
    case 'j': o->json = 1; break;
    case 'A': o->tls.ca = optarg; break;
    case 'k': o->tls.insecure = 1; break;
    case 'R': o->tls.resume = 1; break;
    case 'h': fputs(usage, stdout); return 1;
    default:
      wsk_cli_usage_error("bench", "unknown option or missing value '%s'", argv[optind - 1]);
      return -1;
    }
  }
  /* A first word that is no URL, followed by more, names the mode. */
  if (argc - optind >= 2 && !strstr(argv[optind], "://")) {
    const unsigned modes = sizeof mode_names / sizeof *mode_names;
    unsigned m = 0;
    while (m < modes && strcmp(argv[optind], mode_names[m]) != 0) m++;
    if (m == modes) {
      wsk_cli_usage_error("bench", "unknown mode '%s' (echo, connect, idle or fanout)",
                          argv[optind]);
      return -1;
    }
    o->mode = (enum bench_mode)m;
    optind++;
  }
  int rest = argc - optind;
  if (rest < 1 || rest > (o->mode == BENCH_FANOUT ? BENCH_URLS_MAX : 1)) {
    const char *why = rest < 1 ? "a URL is required"
                      : o->mode == BENCH_FANOUT ? "at most 8 URLs"
                                                : "too many arguments (several URLs: fanout only)";
    wsk_cli_usage_error("bench", "%s", why);
    return -1;
  }
  for (; optind < argc; optind++) o->urls[o->nurls++] = argv[optind];
  static const unsigned default_connections[] = {100, 50, 1000, 10000};
  if (!o->connections) o->connections = default_connections[o->mode];
  if (o->size == SIZE_MAX) o->size = o->mode == BENCH_FANOUT ? 32 : 20;
  return 0;
bad:
  wsk_cli_usage_error("bench", "bad value '%s' for -%c", optarg, opt);
  return -1;
}

static const char *const unit_names[] = {"message", "handshake", "connection", "delivery"};

static double rate(double n, double s) { return s > 0 ? n / s : 0; }

static void print_latency_json(const char *name, const struct bench_hist *h) {
  printf(",\"%s\":{\"p50\":%.1f,\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f}", name,
         bench_hist_quantile(h, 0.5) / 1e3, bench_hist_quantile(h, 0.99) / 1e3,
         bench_hist_quantile(h, 0.999) / 1e3, h->max / 1e3);
}

static void print_json(const struct bench_opts *o, const struct bench_result *r, const char *err) {
  printf("{\"mode\":\"%s\",\"url\":", mode_names[o->mode]);
  wsk_cli_json_str(stdout, o->urls[0], strlen(o->urls[0]));
  if (o->nurls > 1) {
    for (unsigned i = 0; i < o->nurls; i++) {
      printf(i ? "," : ",\"urls\":[");
      wsk_cli_json_str(stdout, o->urls[i], strlen(o->urls[i]));
    }
    printf("]");
  }
  printf(",\"ok\":%s", err ? "false" : "true");
  if (err) {
    printf(",\"error\":");
    wsk_cli_json_str(stdout, err, strlen(err));
  }
  printf(",\"connections\":%u,\"duration_s\":%.3f,\"count\":%llu,\"rate_per_s\":%.1f", o->connections,
         r->elapsed_s, (unsigned long long)r->count, rate((double)r->count, r->elapsed_s));
  if (o->mode == BENCH_ECHO)
    printf(",\"size\":%zu,\"binary\":%s,\"depth\":%u,\"bytes\":%llu,\"mb_per_s\":%.3f,"
           "\"mismatches\":%llu,\"per_conn_min\":%llu,\"per_conn_max\":%llu",
           o->size, o->binary ? "true" : "false", o->depth, (unsigned long long)r->bytes,
           rate((double)r->bytes, r->elapsed_s) / 1e6, (unsigned long long)r->mismatches,
           (unsigned long long)r->per_conn_min, (unsigned long long)r->per_conn_max);
  if (o->mode == BENCH_FANOUT)
    printf(",\"subscribers\":%u,\"topics\":%u,\"publishers\":%u,\"size\":%zu,\"window\":%u,"
           "\"publishes\":%llu,\"publishes_per_s\":%.1f,\"lost\":%llu,\"mismatches\":%llu",
           o->connections, o->topics, o->publishers, o->size, o->window,
           (unsigned long long)r->publishes, rate((double)r->publishes, r->elapsed_s),
           (unsigned long long)r->lost, (unsigned long long)r->mismatches);
  if (o->mode != BENCH_IDLE) print_latency_json("latency_us", &r->hist);
  if (o->nurls > 1) print_latency_json("remote_latency_us", &r->remote);
  printf(",\"errors\":%llu,\"client_cpu_s\":%.3f", (unsigned long long)r->errors, r->client_cpu_s);
  if (o->npids) {
    printf(",\"server_pid\":%d,\"server_cpu_s\":%.3f", o->pids[0], r->server_cpu_s);
    if (o->npids > 1) {
      for (unsigned i = 0; i < o->npids; i++)
        printf("%s%d", i ? "," : ",\"server_pids\":[", o->pids[i]);
      for (unsigned i = 0; i < o->npids; i++)
        printf("%s%.3f", i ? "," : "],\"server_cpus_s\":[", r->server_cpu_each[i]);
      printf("]");
    }
    if (o->mode == BENCH_FANOUT)
      printf(",\"deliveries_per_server_cpu_s\":%.1f", rate((double)r->count, r->server_cpu_s));
    if (o->mode == BENCH_IDLE)
      printf(",\"measured_connections\":%u,\"server_rss_delta\":%lld,"
             "\"server_rss_per_conn\":%.1f",
             r->measured_conns, r->server_rss_delta,
             r->measured_conns ? (double)r->server_rss_delta / (double)r->measured_conns : 0);
  }
  if (r->tls_version[0])
    printf(",\"tls\":{\"version\":\"%s\",\"handshakes\":%llu,\"resumed\":%llu,"
           "\"ktls\":\"%s\"}",
           r->tls_version, (unsigned long long)r->tls_handshakes,
           (unsigned long long)r->tls_resumed, bench_tls_kernel());
  if (r->first_error[0]) {
    printf(",\"first_error\":");
    wsk_cli_json_str(stdout, r->first_error, strlen(r->first_error));
  }
  printf("}\n");
}

static void print_latency(const char *what, const struct bench_hist *h) {
  printf("  %-10s p50 %.1f us  p99 %.1f us  p99.9 %.1f us  max %.1f us\n", what,
         bench_hist_quantile(h, 0.5) / 1e3, bench_hist_quantile(h, 0.99) / 1e3,
         bench_hist_quantile(h, 0.999) / 1e3, h->max / 1e3);
}

static void print_text(const struct bench_opts *o, const struct bench_result *r) {
  double per_s = rate((double)r->count, r->elapsed_s);
  switch (o->mode) {
  case BENCH_ECHO:
    printf("echo %s: %u connections x %u in flight, %zu-byte %s messages, %.1f s measured after "
           "%.1f s warm-up\n",
           o->urls[0], o->connections, o->depth, o->size, o->binary ? "binary" : "text",
           r->elapsed_s, o->warmup_s);
    printf("  %-10s %llu echoed, %.0f msgs/s, %.2f MB/s of payload\n", "messages",
           (unsigned long long)r->count, per_s, rate((double)r->bytes, r->elapsed_s) / 1e6);
    print_latency("round trip", &r->hist);
    printf("  %-10s per connection min %llu max %llu messages\n", "fairness",
           (unsigned long long)r->per_conn_min, (unsigned long long)r->per_conn_max);
    printf("  %-10s %llu payload mismatches, %llu connection errors\n", "checks",
           (unsigned long long)r->mismatches, (unsigned long long)r->errors);
    break;
  case BENCH_CONNECT:
    printf("connect %s: %u dialers, %.1f s measured after %.1f s warm-up\n", o->urls[0],
           o->connections, r->elapsed_s, o->warmup_s);
    printf("  %-10s %llu connect+upgrade+close cycles, %.0f per second\n", "handshakes",
           (unsigned long long)r->count, per_s);
    print_latency("to 101", &r->hist);
    printf("  %-10s %llu failed\n", "checks", (unsigned long long)r->errors);
    break;
  case BENCH_IDLE:
    printf("idle %s: %llu of %u connections held for %.1f s, %llu lost\n", o->urls[0],
           (unsigned long long)r->count, o->connections, r->elapsed_s,
           (unsigned long long)r->errors);
    if (o->npids && r->measured_conns)
      printf("  %-10s server's anonymous memory grew by %lld bytes over the %u connections "
             "after the warm-up = %.0f bytes per connection\n",
             "memory", r->server_rss_delta, r->measured_conns,
             (double)r->server_rss_delta / (double)r->measured_conns);
    break;
  case BENCH_FANOUT:
    printf("fanout %s", o->urls[0]);
    for (unsigned i = 1; i < o->nurls; i++) printf(" %s", o->urls[i]);
    printf(": %u subscribers over %u rooms, %u publishers, %zu-byte messages, window "
           "%u, %.1f s measured after %.1f s warm-up\n",
           o->connections, o->topics, o->publishers, o->size, o->window, r->elapsed_s,
           o->warmup_s);
    printf("  %-10s %llu received by subscribers, %.0f per second; %llu published, %.0f per "
           "second\n",
           "messages", (unsigned long long)r->count, per_s, (unsigned long long)r->publishes,
           rate((double)r->publishes, r->elapsed_s));
    print_latency("delivery", &r->hist);
    if (o->nurls > 1) print_latency("remote", &r->remote);
    printf("  %-10s %llu lost, %llu out of sequence, %llu connection errors\n", "checks",
           (unsigned long long)r->lost, (unsigned long long)r->mismatches,
           (unsigned long long)r->errors);
    break;
  }
  if (r->tls_version[0])
    printf("  %-10s %s, %llu handshakes of which %llu resumed; kTLS: %s\n", "tls",
           r->tls_version, (unsigned long long)r->tls_handshakes,
           (unsigned long long)r->tls_resumed, bench_tls_kernel());
  printf("  %-10s bench %.2f s", "cpu", r->client_cpu_s);
  if (o->npids && r->server_cpu_s >= 0) {
    printf(", server %.2f s", r->server_cpu_s);
    for (unsigned i = 0; o->npids > 1 && i < o->npids; i++)
      printf("%s%.2f", i ? " + " : " (", r->server_cpu_each[i]);
    if (o->npids > 1) printf(")");
    if (o->mode != BENCH_IDLE && r->count)
      printf(" = %.3f us per %s", r->server_cpu_s * 1e6 / (double)r->count, unit_names[o->mode]);
  }
  printf("\n");
  if (r->first_error[0]) printf("  first error: %s\n", r->first_error);
}

int wsk_cli_bench(int argc, char **argv) {
  struct bench_opts o;
  int p = parse_opts(argc, argv, &o);
  if (p) return p > 0 ? 0 : 2;
  struct bench_result *r = calloc(1, sizeof *r);
  if (!r) {
    fprintf(stderr, "wsk bench: out of memory\n");
    return 1;
  }
  r->server_cpu_s = -1;
  char err[256] = "";
  static int (*const runs[])(const struct bench_opts *, struct bench_result *, char *, size_t) = {
      bench_echo_run, bench_connect_run, bench_idle_run, bench_fanout_run};
  int rc = runs[o.mode](&o, r, err, sizeof err);
  if (o.json) print_json(&o, r, rc < 0 ? err : NULL);
  else if (rc == 0) print_text(&o, r);
  if (rc < 0) fprintf(stderr, "wsk bench: %s\n", err);
  int status = rc < 0 || r->mismatches || r->count == 0;
  free(r);
  return status;
}
