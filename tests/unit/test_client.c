/* Client pieces without a peer of their own: URL parsing (hosts, literals, ports, targets,
 * refusals), the backoff delays, the send queue, option checks of wsk_connect, the fd watch of the
 * loop, and the dialer's race over several addresses on 127.0.0.1 (one of them a listener whose
 * accept queue is full, so that a connect to it hangs). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "client/client_internal.h"

static void url_ok(const char *text, const char *host, int port, const char *host_header,
                   const char *target, int literal, int secure) {
  struct wsk__url u;
  char err[256];
  int r = wsk__url_parse(text, &u, err, sizeof err);
  CHECK_EQ(r, 0);
  if (r) return;
  CHECK_STR(u.host, host);
  CHECK_EQ(u.port, port);
  CHECK_STR(u.host_header, host_header);
  CHECK_STR(u.target, target);
  CHECK_EQ(u.literal, literal);
  CHECK_EQ(u.secure, secure);
  wsk__url_free(&u);
}

static void url_bad(const char *text, const char *why) {
  struct wsk__url u;
  char err[256];
  CHECK_EQ(wsk__url_parse(text, &u, err, sizeof err), WSK_EINVAL);
  CHECK(strstr(err, why) != NULL);
}

static void test_urls(void) {
  url_ok("ws://example.com", "example.com", 80, "example.com", "/", 0, 0);
  url_ok("WS://Example.com:8080/a/b?c=d&e", "Example.com", 8080, "Example.com:8080", "/a/b?c=d&e",
         0, 0);
  url_ok("ws://h?q=1", "h", 80, "h", "/?q=1", 0, 0);
  url_ok("ws://h:80/", "h", 80, "h", "/", 0, 0);
  url_ok("ws://h:/x", "h", 80, "h", "/x", 0, 0);
  url_ok("wss://h/", "h", 443, "h", "/", 0, 1);
  url_ok("wss://h:80/", "h", 80, "h:80", "/", 0, 1);
  url_ok("ws://127.0.0.1:9000/p%20q", "127.0.0.1", 9000, "127.0.0.1:9000", "/p%20q", 1, 0);
  url_ok("ws://[::1]:9000/", "::1", 9000, "[::1]:9000", "/", 1, 0);
  url_ok("ws://[2001:db8::1]/", "2001:db8::1", 80, "[2001:db8::1]", "/", 1, 0);
  url_ok("ws://[fe80::1%25eth0]:1/", "fe80::1%eth0", 1, "[fe80::1]:1", "/", 1, 0);
  url_ok("ws://1.2.3/", "1.2.3", 80, "1.2.3", "/", 0, 0); /* not a dotted quad: a name */

  url_bad("http://h/", "ws:// or wss://");
  url_bad("ws:/h", "ws:// or wss://");
  url_bad("ws://", "no host");
  url_bad("ws:///path", "no host");
  url_bad("ws://:80/", "no host");
  url_bad("ws://user@h/", "user info");
  url_bad("ws://h/#frag", "fragment");
  url_bad("ws://h#frag", "fragment");
  url_bad("ws://h:0/", "bad port");
  url_bad("ws://h:65536/", "bad port");
  url_bad("ws://h:99999999999999/", "bad port");
  url_bad("ws://h:8a/", "bad port");
  url_bad("ws://[::1/", "unterminated");
  url_bad("ws://[nope]/", "IPv6");
  url_bad("ws://[::1]x/", "after the host");
  url_bad("ws://[fe80::1%eth0]/", "IPv6");
  url_bad("ws://h_o st/", "host name");
  url_bad("ws://h/a b", "percent-encode");
  url_bad("ws://h/\xc3\xa9", "percent-encode");
}

static void test_backoff(void) {
  struct wsk_client_options o;
  wsk_client_options_init(&o);
  struct wsk_backoff b = o.backoff;
  CHECK_EQ(b.initial_delay_ms, 500u);
  b.jitter = 0;
  CHECK_EQ(wsk__backoff_delay(&b, 1, 0.9), 500u);
  CHECK_EQ(wsk__backoff_delay(&b, 2, 0.9), 1000u);
  CHECK_EQ(wsk__backoff_delay(&b, 3, 0.9), 2000u);
  CHECK_EQ(wsk__backoff_delay(&b, 7, 0.9), 30000u);   /* 32000 capped */
  CHECK_EQ(wsk__backoff_delay(&b, 4000000000u, 0.9), 30000u);
  b.jitter = 0.5;
  CHECK_EQ(wsk__backoff_delay(&b, 2, 0.0), 1000u);
  CHECK_EQ(wsk__backoff_delay(&b, 2, 0.5), 750u);
  CHECK_EQ(wsk__backoff_delay(&b, 2, 0.999999), 500u);
  b.jitter = 7; /* clamped to 1 */
  CHECK_EQ(wsk__backoff_delay(&b, 1, 0.5), 250u);
  b.jitter = 0;
  b.factor = 0.5; /* counts as 1: constant delays */
  CHECK_EQ(wsk__backoff_delay(&b, 9, 0), 500u);
  b.max_delay_ms = 0; /* no cap */
  b.factor = 10;
  CHECK_EQ(wsk__backoff_delay(&b, 4, 0), 500000u);
}

static void test_sendq(void) {
  struct wsk__sendq q = {0};
  CHECK_EQ(wsk__sendq_push(&q, 10, WSK_OP_TEXT, "hello", 5), 0);
  CHECK_EQ(wsk__sendq_push(&q, 10, WSK_OP_BINARY, "", 0), 0);
  CHECK_EQ(wsk__sendq_push(&q, 10, WSK_OP_TEXT, "world!", 6), WSK_EBACKPRESSURE);
  CHECK_EQ(wsk__sendq_push(&q, 10, WSK_OP_TEXT, "world", 5), 0);
  CHECK_EQ(q.bytes, 10u);
  CHECK_EQ(wsk__sendq_push(&q, 10, WSK_OP_TEXT, "x", 1), WSK_EBACKPRESSURE);
  CHECK_EQ(wsk__sendq_push(&q, 4, WSK_OP_TEXT, "hello", 5), WSK_EBACKPRESSURE);
  CHECK_EQ(q.head->opcode, WSK_OP_TEXT);
  CHECK_EQ(q.head->next->len, 0u);
  CHECK_MEM(q.tail->data, "world", 5);
  wsk__sendq_clear(&q);
  CHECK(q.head == NULL && q.tail == NULL && q.bytes == 0);
}

static void test_connect_checks(void) {
  wsk_loop *loop = wsk_loop_new();
  wsk_client *cl = (wsk_client *)1;
  char err[256];
  struct wsk_client_options o;
  wsk_client_options_init(&o);
  CHECK_EQ(wsk_connect(loop, "ftp://h/", &o, &cl, err, sizeof err), WSK_EINVAL);
  const char *bad_proto[] = {"chat", "no spaces", NULL};
  o.protocols = bad_proto;
  CHECK_EQ(wsk_connect(loop, "ws://h/", &o, &cl, err, sizeof err), WSK_EINVAL);
  CHECK(strstr(err, "no spaces") != NULL);
  o.protocols = NULL;
  const char *bad_headers[][2] = {{"X-A: 1", "Host: other"}, {"NoColon", NULL},
                                  {"Sec-WebSocket-Key: x", NULL}, {"X-B: a\r\nX-C: b", NULL},
                                  {"Bad Name: x", NULL}};
  for (size_t i = 0; i < sizeof bad_headers / sizeof bad_headers[0]; i++) {
    const char *list[3] = {bad_headers[i][0], bad_headers[i][1], NULL};
    o.headers = list;
    CHECK_EQ(wsk_connect(loop, "ws://h/", &o, &cl, err, sizeof err), WSK_EINVAL);
    CHECK(strstr(err, "request header") != NULL);
  }
  o.headers = NULL;
  CHECK_EQ(wsk_connect(NULL, "ws://h/", &o, &cl, err, sizeof err), WSK_EINVAL);
  /* A good one: freed before anything happened (no callbacks are set). */
  CHECK_EQ(wsk_connect(loop, "ws://127.0.0.1:9/", NULL, &cl, err, sizeof err), 0);
  CHECK(wsk_client_conn(cl) == NULL);
  CHECK_EQ(wsk_client_state(cl), WSK_CLIENT_CONNECTING);
  CHECK(wsk_client_error(cl) == NULL); /* nothing ended yet */
  /* What the next attempt uses: refused as wsk_connect refuses it, the client keeps its own. */
  CHECK_EQ(wsk_client_set_url(cl, "ws://user@h/", err, sizeof err), WSK_EINVAL);
  CHECK(strstr(err, "user info") != NULL);
  const char *host[] = {"X-A: 1", "Host: other", NULL};
  CHECK_EQ(wsk_client_set_headers(cl, host, err, sizeof err), WSK_EINVAL);
  CHECK(strstr(err, "'Host: other' is set by wsk itself") != NULL);
  const char *token[] = {"Authorization: Bearer x", NULL};
  CHECK_EQ(wsk_client_set_headers(cl, token, err, sizeof err), 0);
  CHECK_EQ(wsk_client_set_headers(cl, NULL, err, sizeof err), 0); /* none, replacing the one set */
  CHECK_EQ(wsk_client_set_url(cl, "ws://127.0.0.1:10/next", err, sizeof err), 0);
  CHECK_EQ(wsk_client_set_url(cl, "ws://127.0.0.1:11/", err, sizeof err), 0); /* the last wins */
  CHECK_EQ(wsk_client_set_url(NULL, "ws://h/", err, sizeof err), WSK_EINVAL);
  /* A first wss:// URL makes the TLS context then, with the CA option given to wsk_connect. */
  wsk_client *ws;
  o.tls_ca_file = "/nonexistent/ca.pem";
  CHECK_EQ(wsk_connect(loop, "ws://127.0.0.1:9/", &o, &ws, err, sizeof err), 0);
  o.tls_ca_file = NULL;
#ifdef WSK_WITH_TLS
  CHECK_EQ(wsk_client_set_url(ws, "wss://127.0.0.1:9/", err, sizeof err), WSK_ETLS);
  CHECK(strstr(err, "/nonexistent/ca.pem") != NULL);
#else
  CHECK_EQ(wsk_client_set_url(ws, "wss://127.0.0.1:9/", err, sizeof err), WSK_EUNSUPPORTED);
#endif
  wsk_client_free(ws);
  CHECK_EQ(wsk_client_state(NULL), WSK_CLIENT_STOPPED);
  CHECK_EQ(wsk_client_send(cl, WSK_OP_TEXT, "x", 1), WSK_ECLOSED); /* no queue */
  CHECK_EQ(wsk_client_send(cl, 7, "x", 1), WSK_EINVAL);
  CHECK_EQ(wsk_client_close(cl, 999, NULL), WSK_EINVAL);
  CHECK_EQ(wsk_client_close(cl, 1000, "\xc3\x28"), WSK_EUTF8); /* refused, the client goes on */
  CHECK_EQ(wsk_client_close(cl, 1000, NULL), 0);
  CHECK_EQ(wsk_client_state(cl), WSK_CLIENT_STOPPED); /* the attempt abandoned at once */
  CHECK_EQ(wsk_client_close(cl, 1000, NULL), WSK_ECLOSED);
  wsk_client_free(cl);
  wsk_loop_free(loop);
}

static int watched;
static void on_pipe(wsk_watch *w, int fd, unsigned events, void *arg) {
  char c;
  CHECK(events & WSK_WATCH_IN);
  CHECK_EQ(read(fd, &c, 1), 1);
  CHECK_EQ(c, 'z');
  watched++;
  wsk_watch_stop(w);
}

static void test_watch(void) {
  wsk_loop *loop = wsk_loop_new();
  int p[2];
  CHECK_EQ(pipe(p), 0);
  wsk_watch *w = wsk_loop_watch_fd(loop, p[0], WSK_WATCH_IN, on_pipe, NULL);
  CHECK(w != NULL);
  CHECK_EQ(write(p[1], "z", 1), 1);
  CHECK_EQ(wsk_loop_run(loop), 0); /* returns once the watch stopped: nothing left */
  CHECK_EQ(watched, 1);
  close(p[0]);
  close(p[1]);
  CHECK(wsk_loop_watch_fd(loop, -1, WSK_WATCH_IN, on_pipe, NULL) == NULL);
  wsk_loop_free(loop);
}

/* A listening socket on 127.0.0.1 with a full accept queue (backlog 0 and one connection in it):
 * further SYNs are dropped, so a connect to it neither succeeds nor fails for a while. */
static int hanging_listener(int *port, int *filler) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  CHECK_EQ(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  CHECK_EQ(listen(fd, 0), 0);
  CHECK_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  *port = ntohs(a.sin_port);
  *filler = socket(AF_INET, SOCK_STREAM, 0);
  CHECK_EQ(connect(*filler, (struct sockaddr *)&a, sizeof a), 0);
  return fd;
}

static int plain_listener(int *port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof a;
  CHECK_EQ(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  CHECK_EQ(listen(fd, 16), 0);
  CHECK_EQ(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  *port = ntohs(a.sin_port);
  return fd;
}

/* 127.0.0.1 at each port, in order, as one getaddrinfo list. */
static struct addrinfo *addrs(const int *ports, size_t n) {
  struct addrinfo *head = NULL, **tail = &head;
  for (size_t i = 0; i < n; i++) {
    char service[8];
    snprintf(service, sizeof service, "%d", ports[i]);
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    CHECK_EQ(getaddrinfo("127.0.0.1", service, &hints, tail), 0);
    while (*tail) tail = &(*tail)->ai_next;
  }
  return head;
}

struct dialed {
  wsk_loop *loop;
  int fd, err;
  char message[384];
};

static void on_dialed(void *arg, int fd, int err, const char *message) {
  struct dialed *r = arg;
  r->fd = fd;
  r->err = err;
  snprintf(r->message, sizeof r->message, "%s", message ? message : "");
  wsk_loop_stop(r->loop);
}

static void stop_loop(void *loop) { wsk_loop_stop(loop); }

static int peer_port(int fd) {
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  return getpeername(fd, (struct sockaddr *)&a, &len) == 0 ? ntohs(a.sin_port) : -1;
}

/* Dial ports[0..n) and return the result; *ms is how long it took in loop time. */
static struct dialed dial(wsk_loop *loop, const struct wsk__url *u, const int *ports, size_t n,
                          uint64_t *ms) {
  struct dialed r = {.loop = loop, .fd = -2};
  wsk_loop_update_time(loop);
  uint64_t t0 = wsk_loop_now(loop);
  CHECK(wsk__dial_addrs(loop, u, addrs(ports, n), on_dialed, &r) != NULL);
  CHECK_EQ(r.fd, -2); /* never from inside the start */
  wsk_loop_run(loop);
  *ms = wsk_loop_now(loop) - t0;
  return r;
}

static void test_dial(void) {
  wsk_loop *loop = wsk_loop_new();
  struct wsk__url u;
  CHECK_EQ(wsk__url_parse("ws://test:1/", &u, NULL, 0), 0);
  int hang_port, filler, good_port, closed_port;
  int hang = hanging_listener(&hang_port, &filler);
  int good = plain_listener(&good_port);
  int closed = plain_listener(&closed_port);
  close(closed); /* nothing listens there any more: refused at once */
  uint64_t ms;

  /* The first address hangs: the second starts after the stagger and wins. */
  int race[] = {hang_port, good_port};
  struct dialed r = dial(loop, &u, race, 2, &ms);
  CHECK(r.fd >= 0);
  CHECK_EQ(peer_port(r.fd), good_port);
  CHECK(ms >= WSK_DIAL_STAGGER_MS && ms < 3000);
  close(r.fd);

  /* A refused address does not wait for the stagger. */
  int refused_first[] = {closed_port, good_port};
  r = dial(loop, &u, refused_first, 2, &ms);
  CHECK(r.fd >= 0);
  CHECK_EQ(peer_port(r.fd), good_port);
  CHECK(ms < WSK_DIAL_STAGGER_MS);
  close(r.fd);

  /* Every address refused: one error that says so. */
  int all_refused[] = {closed_port, closed_port};
  r = dial(loop, &u, all_refused, 2, &ms);
  CHECK_EQ(r.fd, -1);
  CHECK_EQ(r.err, WSK_ESYS);
  CHECK(strstr(r.message, "connect to test:1: all 2 addresses failed") != NULL);
  CHECK(strstr(r.message, "Connection refused") != NULL);

  /* Cancelled while one connect hangs: no callback, nothing left open on the loop. */
  r.fd = -2;
  struct wsk__dial *d = wsk__dial_addrs(loop, &u, addrs(&hang_port, 1), on_dialed, &r);
  wsk_timer *t = wsk_timer_start(loop, 50, 0, stop_loop, loop);
  wsk_loop_run(loop);
  wsk__dial_cancel(d);
  CHECK_EQ(r.fd, -2);
  wsk_timer_stop(t);

  close(hang);
  close(filler);
  close(good);
  wsk__url_free(&u);
  wsk_loop_free(loop);
}

/* A connection attempt that times out: on_error names the timeout, on_close (1006) follows, and
 * freeing the client from on_close (inside the deadline sweep) is safe. */
struct timeout_run {
  wsk_loop *loop;
  wsk_client *cl;
  int errors, closes;
  char message[256];
};

static void to_error(wsk_conn *c, int err, const char *message) {
  struct timeout_run *r = wsk_client_user_data(wsk_conn_client(c));
  r->errors++;
  CHECK_EQ(err, WSK_ETIMEDOUT);
  snprintf(r->message, sizeof r->message, "%s", message);
}

static void to_close(wsk_conn *c, unsigned code, const char *reason, size_t len, int clean) {
  struct timeout_run *r = wsk_client_user_data(wsk_conn_client(c));
  r->closes++;
  CHECK_EQ(code, WSK_CLOSE_ABNORMAL);
  CHECK_EQ(clean, 0);
  CHECK_EQ(wsk_client_reconnecting(r->cl), 0);
  wsk_client_free(r->cl);
}

static void test_connect_timeout(void) {
  int port, filler;
  int hang = hanging_listener(&port, &filler);
  struct timeout_run r = {.loop = wsk_loop_new()};
  struct wsk_client_options o;
  wsk_client_options_init(&o);
  o.connect_timeout_ms = 300;
  o.cb.on_error = to_error;
  o.cb.on_close = to_close;
  o.user_data = &r;
  char url[64], err[256];
  snprintf(url, sizeof url, "ws://127.0.0.1:%d/", port);
  CHECK_EQ(wsk_connect(r.loop, url, &o, &r.cl, err, sizeof err), 0);
  uint64_t t0 = wsk_loop_now(r.loop);
  CHECK_EQ(wsk_loop_run(r.loop), 0); /* ends when the freed client left nothing behind */
  uint64_t ms = wsk_loop_now(r.loop) - t0;
  CHECK(ms >= 300 && ms < 2000);
  CHECK_EQ(r.errors, 1);
  CHECK_EQ(r.closes, 1);
  char want[96];
  snprintf(want, sizeof want, "connecting to 127.0.0.1:%d timed out after 300 ms", port);
  CHECK(strstr(r.message, want) != NULL);
  wsk_loop_free(r.loop);
  close(hang);
  close(filler);
}

/* Freed while the name is being resolved: the lookup is abandoned, nothing is reported. */
static void test_free_during_dns(void) {
  for (int i = 0; i < 20; i++) {
    wsk_loop *loop = wsk_loop_new();
    wsk_client *cl;
    CHECK_EQ(wsk_connect(loop, "ws://localhost:9/", NULL, &cl, NULL, 0), 0);
    if (i & 1) { /* let the lookup start, or even finish, first */
      wsk_timer *t = wsk_timer_start(loop, (unsigned)i, 0, stop_loop, loop);
      wsk_loop_run(loop);
      wsk_timer_stop(t);
    }
    wsk_client_free(cl);
    wsk_loop_free(loop);
  }
}

int main(void) {
  test_urls();
  test_backoff();
  test_sendq();
  test_connect_checks();
  test_watch();
  test_dial();
  test_connect_timeout();
  test_free_during_dns();
  return check_report();
}
