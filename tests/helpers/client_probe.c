/* client_probe.c - a scriptable wsk client for the client tests (tests/interop/client_*.test.js).
 *
 *   client_probe [options] URL        event mode: commands on stdin, events on stdout
 *   client_probe --sync URL           runs a fixed script over the blocking wsk_sync layer
 *
 * Options: --protocol P, -H 'N: V', --origin O (repeatable where it makes sense),
 * --response-header NAME (printed at open), --max-message N, --reconnect, --initial-delay MS,
 * --max-delay MS, --max-attempts N, --jitter F, --queue BYTES, --connect-timeout MS,
 * --handshake-timeout MS, --ca FILE and --insecure (wss://), --deflate SPEC (permessage-deflate:
 * "on", or a comma list of snct, cnct, sbits=N, cbits=N, mem=N, threshold=N).
 *
 * Retry options: --policy retry|stop|delay=MS|default (an on_retry that prints `policy ATTEMPT
 * CATEGORY STATUS STOP DELAY` and answers so; default: as err->stop says), --next-url URL and
 * --next-header 'N: V' (repeatable; given to wsk_client_set_url / wsk_client_set_headers from
 * on_reconnect), --why (after `error`: `why CATEGORY STATUS STATE`; after `close`: `ended CATEGORY
 * CLOSE_CODE STATE`; after `open` and `reconnect`: `state-now STATE`). CATEGORY and STATE are
 * lower-case names (network, tls, tls-verify, protocol, refused, closed; connecting, open,
 * closing, waiting, stopped).
 *
 * Events, one line each: `open proto=P [NAME=value|NAME=-]...`, `message text|binary LEN FNV
 * PREVIEW` (FNV-1a 32 of the payload in hex; preview: up to 40 bytes of text, or the hex of up to
 * 20 bytes), `ping DATA`, `pong DATA`, `error CODE MESSAGE`, `close CODE CLEAN REASON`,
 * `reconnect ATTEMPT DELAY`, `send-error CODE`, `state open=0|1 reconnecting=0|1`, `cstate STATE`,
 * and `done` when the client has nothing left to do (then the probe exits 0).
 * Commands: `text STRING`, `binary HEX`, `big text|binary N` (N bytes of a pattern),
 * `ping STRING`, `close CODE [REASON]` (wsk_close on the connection), `stop CODE`
 * (wsk_client_close), `terminate`, `state`, `cstate` (wsk_client_state). End of stdin frees the
 * client and exits. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wsk.h"

#define MAX_LIST 16

struct probe {
  wsk_loop *loop;
  wsk_client *cl;
  wsk_watch *in;
  const char *resp[MAX_LIST];
  size_t nresp;
  const char *policy;  /* --policy, or NULL */
  const char *next_url;
  const char *next_headers[MAX_LIST + 1];
  size_t nnext;
  int why;
  char buf[1 << 16];
  size_t len;
};

static uint32_t fnv(const uint8_t *p, size_t n) {
  uint32_t h = 2166136261u;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
  return h;
}

static void print_payload(const char *kind, int text, const void *data, size_t len) {
  const uint8_t *p = data;
  printf("%s %s %zu %08x ", kind, text ? "text" : "binary", len, fnv(p, len));
  if (text) {
    fwrite(p, 1, len < 40 ? len : 40, stdout);
  } else {
    for (size_t i = 0; i < len && i < 20; i++) printf("%02x", p[i]);
  }
  putchar('\n');
  fflush(stdout);
}

static const char *category_name(int category) {
  static const char *const names[] = {"none", "network", "tls", "tls-verify", "protocol",
                                      "refused", "closed"};
  return category >= 0 && category <= WSK_CLIENT_ERR_CLOSED ? names[category] : "?";
}

static const char *state_name(const wsk_client *cl) {
  static const char *const names[] = {"?", "connecting", "open", "closing", "waiting", "stopped"};
  int st = wsk_client_state(cl);
  return st >= WSK_CLIENT_CONNECTING && st <= WSK_CLIENT_STOPPED ? names[st] : "?";
}

static void state_now(const struct probe *pr) {
  if (pr->why) printf("state-now %s\n", state_name(pr->cl));
}

static void on_open(wsk_conn *c) {
  struct probe *pr = wsk_client_user_data(wsk_conn_client(c));
  printf("open proto=%s", wsk_conn_protocol(c));
  for (size_t i = 0; i < pr->nresp; i++) {
    const char *v = wsk_conn_response_header(c, pr->resp[i]);
    printf(" %s=%s", pr->resp[i], v ? v : "-");
  }
  putchar('\n');
  state_now(pr);
  fflush(stdout);
}

static void on_message(wsk_conn *c, int opcode, const void *data, size_t len) {
  print_payload("message", opcode == WSK_OP_TEXT, data, len);
}

static void on_ping(wsk_conn *c, const void *data, size_t len) {
  printf("ping %.*s\n", (int)len, (const char *)data);
  fflush(stdout);
}

static void on_pong(wsk_conn *c, const void *data, size_t len) {
  printf("pong %.*s\n", (int)len, (const char *)data);
  fflush(stdout);
}

static void on_error(wsk_conn *c, int err, const char *message) {
  wsk_client *cl = wsk_conn_client(c);
  struct probe *pr = wsk_client_user_data(cl);
  printf("error %d %s\n", err, message);
  const struct wsk_client_error *e = wsk_client_error(cl);
  if (pr->why && e)
    printf("why %s %d %s\n", category_name(e->category), e->http_status, state_name(cl));
  fflush(stdout);
}

static void on_close(wsk_conn *c, unsigned code, const char *reason, size_t reason_len, int clean) {
  wsk_client *cl = wsk_conn_client(c);
  struct probe *pr = wsk_client_user_data(cl);
  printf("close %u %d %.*s\n", code, clean, (int)reason_len, reason);
  const struct wsk_client_error *e = wsk_client_error(cl);
  if (pr->why && e)
    printf("ended %s %u %s\n", category_name(e->category), e->close_code, state_name(cl));
  if (!wsk_client_reconnecting(cl)) {
    printf("done\n");
    wsk_loop_stop(pr->loop);
  }
  fflush(stdout);
}

static void on_reconnect(wsk_client *cl, unsigned attempt, unsigned delay_ms) {
  struct probe *pr = wsk_client_user_data(cl);
  char err[256];
  printf("reconnect %u %u\n", attempt, delay_ms);
  if (pr->next_url && wsk_client_set_url(cl, pr->next_url, err, sizeof err) < 0)
    printf("set-url-error %s\n", err);
  if (pr->nnext && wsk_client_set_headers(cl, pr->next_headers, err, sizeof err) < 0)
    printf("set-headers-error %s\n", err);
  state_now(pr);
  fflush(stdout);
}

static int on_retry(wsk_client *cl, const struct wsk_client_error *e, unsigned attempt,
                    unsigned *delay_ms) {
  struct probe *pr = wsk_client_user_data(cl);
  printf("policy %u %s %d %d %u\n", attempt, category_name(e->category), e->http_status, e->stop,
         *delay_ms);
  fflush(stdout);
  if (strncmp(pr->policy, "delay=", 6) == 0) {
    *delay_ms = (unsigned)atoi(pr->policy + 6);
    return WSK_RETRY;
  }
  if (strcmp(pr->policy, "default") == 0) return e->stop ? WSK_RETRY_STOP : WSK_RETRY;
  return strcmp(pr->policy, "retry") == 0 ? WSK_RETRY : WSK_RETRY_STOP;
}

static int unhex(const char *s, uint8_t *out, size_t cap) {
  size_t n = strlen(s) / 2;
  if (n > cap) return -1;
  for (size_t i = 0; i < n; i++) {
    unsigned v;
    if (sscanf(s + 2 * i, "%2x", &v) != 1) return -1;
    out[i] = (uint8_t)v;
  }
  return (int)n;
}

/* --deflate SPEC into o; -1 for an unknown item. */
static int deflate_spec(char *spec, struct wsk_pmd_options *o) {
  o->enabled = 1;
  for (char *item = strtok(spec, ","); item; item = strtok(NULL, ",")) {
    char *eq = strchr(item, '=');
    int v = eq ? atoi(eq + 1) : 0;
    if (eq) *eq = '\0';
    if (strcmp(item, "on") == 0) continue;
    if (strcmp(item, "snct") == 0) o->server_no_context_takeover = 1;
    else if (strcmp(item, "cnct") == 0) o->client_no_context_takeover = 1;
    else if (strcmp(item, "sbits") == 0) o->server_max_window_bits = v;
    else if (strcmp(item, "cbits") == 0) o->client_max_window_bits = v;
    else if (strcmp(item, "mem") == 0) o->mem_level = v;
    else if (strcmp(item, "threshold") == 0) o->threshold = (size_t)v;
    else return -1;
  }
  return 0;
}

static void report(int r) {
  if (r < 0) printf("send-error %d\n", r);
  fflush(stdout);
}

static void command(struct probe *pr, char *line) {
  char *arg = strchr(line, ' ');
  if (arg) *arg++ = '\0';
  else arg = line + strlen(line);
  wsk_conn *c = wsk_client_conn(pr->cl);
  if (strcmp(line, "text") == 0) {
    report(wsk_client_send(pr->cl, WSK_OP_TEXT, arg, strlen(arg)));
  } else if (strcmp(line, "binary") == 0) {
    uint8_t data[4096];
    int n = unhex(arg, data, sizeof data);
    report(n < 0 ? WSK_EINVAL : wsk_client_send(pr->cl, WSK_OP_BINARY, data, (size_t)n));
  } else if (strcmp(line, "big") == 0) {
    int text = strncmp(arg, "text ", 5) == 0;
    size_t n = strtoul(strchr(arg, ' ') ? strchr(arg, ' ') + 1 : "0", NULL, 10);
    uint8_t *data = malloc(n ? n : 1);
    if (!data) {
      report(WSK_ENOMEM);
      return;
    }
    for (size_t i = 0; i < n; i++) data[i] = text ? (uint8_t)('a' + i % 26) : (uint8_t)(i * 7 + 3);
    report(wsk_client_send(pr->cl, text ? WSK_OP_TEXT : WSK_OP_BINARY, data, n));
    free(data);
  } else if (strcmp(line, "ping") == 0) {
    report(c ? wsk_ping(c, arg, strlen(arg)) : WSK_ECLOSED);
  } else if (strcmp(line, "close") == 0) {
    char *reason = strchr(arg, ' ');
    report(c ? wsk_close(c, (unsigned)atoi(arg), reason ? reason + 1 : NULL) : WSK_ECLOSED);
  } else if (strcmp(line, "stop") == 0) {
    report(wsk_client_close(pr->cl, (unsigned)atoi(arg), NULL));
  } else if (strcmp(line, "terminate") == 0) {
    if (c) wsk_terminate(c);
  } else if (strcmp(line, "state") == 0) {
    printf("state open=%d reconnecting=%d\n", c != NULL, wsk_client_reconnecting(pr->cl));
    fflush(stdout);
  } else if (strcmp(line, "cstate") == 0) {
    printf("cstate %s\n", state_name(pr->cl));
    fflush(stdout);
  } else {
    printf("unknown-command %s\n", line);
    fflush(stdout);
  }
}

static void on_stdin(wsk_watch *w, int fd, unsigned events, void *arg) {
  struct probe *pr = arg;
  ssize_t n = read(fd, pr->buf + pr->len, sizeof pr->buf - pr->len - 1);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n <= 0) {
    wsk_watch_stop(pr->in);
    pr->in = NULL;
    wsk_loop_stop(pr->loop);
    return;
  }
  pr->len += (size_t)n;
  char *start = pr->buf, *nl;
  while ((nl = memchr(start, '\n', pr->len - (size_t)(start - pr->buf)))) {
    *nl = '\0';
    command(pr, start);
    start = nl + 1;
  }
  pr->len -= (size_t)(start - pr->buf);
  memmove(pr->buf, start, pr->len);
}

/* --sync: connect, text, binary, a 1 MiB message, a poll that finds nothing, close. */
static int run_sync(const char *url, const struct wsk_client_options *opt) {
  char err[512];
  wsk_sync *s;
  int r = wsk_sync_connect(url, opt, 5000, &s, err, sizeof err);
  if (r < 0) {
    printf("sync-connect-error %d %s\n", r, err);
    return 0;
  }
  printf("sync-open proto=%s\n", wsk_conn_protocol(wsk_sync_conn(s)));
  int op;
  const void *data;
  size_t len;
  static const uint8_t bin[] = {0, 1, 2, 0xfe, 0xff};
  size_t big = 1 << 20;
  uint8_t *b = malloc(big);
  if (!b) return 1;
  for (size_t i = 0; i < big; i++) b[i] = (uint8_t)(i * 7 + 3);
  struct { int op; const void *p; size_t n; } out[] = {
      {WSK_OP_TEXT, "hello sync", 10}, {WSK_OP_BINARY, bin, sizeof bin}, {WSK_OP_BINARY, b, big}};
  for (size_t i = 0; i < 3; i++) {
    r = wsk_sync_send(s, out[i].op, out[i].p, out[i].n);
    if (r < 0) printf("sync-send-error %d\n", r);
    r = wsk_sync_recv(s, &op, &data, &len, 5000);
    if (r < 0)
      printf("sync-recv-error %d\n", r);
    else
      print_payload("sync-message", op == WSK_OP_TEXT, data, len);
  }
  free(b);
  r = wsk_sync_recv(s, &op, &data, &len, 0);
  printf("sync-poll %d\n", r);
  r = wsk_sync_recv(s, &op, &data, &len, 100);
  printf("sync-wait %d\n", r);
  printf("sync-close %d\n", wsk_sync_close(s, 1000, "bye"));
  return 0;
}

int main(int argc, char **argv) {
  struct probe pr = {0};
  const char *headers[MAX_LIST + 1] = {0}, *protocols[MAX_LIST + 1] = {0};
  size_t nh = 0, np = 0;
  int sync = 0;
  struct wsk_client_options opt;
  wsk_client_options_init(&opt);
  int i = 1;
  for (; i < argc - 1; i++) {
    const char *a = argv[i], *v = argv[i + 1];
    if (strcmp(a, "--sync") == 0) { sync = 1; continue; }
    if (strcmp(a, "--reconnect") == 0) { opt.reconnect = 1; continue; }
    if (strcmp(a, "--insecure") == 0) { opt.tls_insecure = 1; continue; }
    if (strcmp(a, "--why") == 0) { pr.why = 1; continue; }
    if (strcmp(a, "--protocol") == 0 && np < MAX_LIST) protocols[np++] = v;
    else if (strcmp(a, "-H") == 0 && nh < MAX_LIST) headers[nh++] = v;
    else if (strcmp(a, "--origin") == 0) opt.origin = v;
    else if (strcmp(a, "--response-header") == 0 && pr.nresp < MAX_LIST) pr.resp[pr.nresp++] = v;
    else if (strcmp(a, "--max-message") == 0) opt.max_message = strtoul(v, NULL, 10);
    else if (strcmp(a, "--initial-delay") == 0) opt.backoff.initial_delay_ms = (unsigned)atoi(v);
    else if (strcmp(a, "--max-delay") == 0) opt.backoff.max_delay_ms = (unsigned)atoi(v);
    else if (strcmp(a, "--max-attempts") == 0) opt.backoff.max_attempts = (unsigned)atoi(v);
    else if (strcmp(a, "--jitter") == 0) opt.backoff.jitter = atof(v);
    else if (strcmp(a, "--queue") == 0) opt.queue_limit = strtoul(v, NULL, 10);
    else if (strcmp(a, "--connect-timeout") == 0) opt.connect_timeout_ms = (unsigned)atoi(v);
    else if (strcmp(a, "--handshake-timeout") == 0) opt.handshake_timeout_ms = (unsigned)atoi(v);
    else if (strcmp(a, "--ca") == 0) opt.tls_ca_file = v;
    else if (strcmp(a, "--policy") == 0) pr.policy = v;
    else if (strcmp(a, "--next-url") == 0) pr.next_url = v;
    else if (strcmp(a, "--next-header") == 0 && pr.nnext < MAX_LIST)
      pr.next_headers[pr.nnext++] = v;
    else if (strcmp(a, "--deflate") != 0 || deflate_spec(argv[i + 1], &opt.deflate) < 0) {
      fprintf(stderr, "client_probe: bad option %s\n", a);
      return 2;
    }
    i++;
  }
  if (i != argc - 1) {
    fprintf(stderr, "usage: client_probe [options] URL\n");
    return 2;
  }
  if (nh) opt.headers = headers;
  if (np) opt.protocols = protocols;
  if (sync) return run_sync(argv[i], &opt);

  opt.cb.on_open = on_open;
  opt.cb.on_message = on_message;
  opt.cb.on_ping = on_ping;
  opt.cb.on_pong = on_pong;
  opt.cb.on_error = on_error;
  opt.cb.on_close = on_close;
  opt.on_reconnect = on_reconnect;
  if (pr.policy) opt.on_retry = on_retry;
  opt.user_data = &pr;
  pr.loop = wsk_loop_new();
  char err[512];
  int r = wsk_connect(pr.loop, argv[i], &opt, &pr.cl, err, sizeof err);
  if (r < 0) {
    printf("connect-error %d %s\n", r, err);
    wsk_loop_free(pr.loop);
    return 0;
  }
  pr.in = wsk_loop_watch_fd(pr.loop, STDIN_FILENO, WSK_WATCH_IN, on_stdin, &pr);
  wsk_loop_run(pr.loop);
  if (pr.in) wsk_watch_stop(pr.in);
  wsk_client_free(pr.cl);
  wsk_loop_free(pr.loop);
  return 0;
}
