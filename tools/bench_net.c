/* bench_net.c - the epoll loop and client connection state machine of `wsk bench`
 * (see bench_net.h). */
#include "bench_net.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/random.h>
#include <unistd.h>

#include "bench_proc.h"
#include "bench_tls.h"

#define RBUF_SIZE (256u * 1024u)
#define HEAD_MAX 8192u          /* largest handshake response accepted */
#define HEAD_MAX_HEADERS 64u
#define REQUEST_MAX (sizeof(((struct bench_target *)0)->path) + 1024u)
#define EVENTS_PER_WAIT 256

int bench_net_init(struct bench_net *n, const struct bench_target *t, const struct bench_ops *ops,
                   void *mode, const struct bench_tls_opts *tls, char *err, size_t errlen) {
  memset(n, 0, sizeof *n);
  n->target = t;
  n->ops = ops;
  n->mode = mode;
  n->epfd = epoll_create1(EPOLL_CLOEXEC);
  n->rcap = RBUF_SIZE;
  n->rbuf = malloc(n->rcap);
  if (n->epfd < 0 || !n->rbuf) {
    snprintf(err, errlen, "cannot set up the event loop: %s", strerror(errno));
    bench_net_free(n);
    return -1;
  }
  if (getrandom(&n->rng.s, sizeof n->rng.s, 0) != (ssize_t)sizeof n->rng.s)
    n->rng.s = bench_now_ns(); /* only a benchmark's mask keys depend on it */
  n->now_ns = bench_now_ns();
  if (t->tls && bench_tls_init(n, tls, err, errlen) < 0) {
    bench_net_free(n);
    return -1;
  }
  return 0;
}

void bench_net_free(struct bench_net *n) {
  if (n->epfd >= 0) close(n->epfd);
  free(n->rbuf);
  bench_tls_free(n);
  n->epfd = -1;
  n->rbuf = NULL;
}

static void drop(struct bench_conn *c) {
  if (c->ssl) bench_tls_end(c);
  if (c->state != BENCH_NO_SOCKET) close(c->fd);
  c->fd = -1;
  c->state = BENCH_NO_SOCKET;
  free(c->head);
  c->head = NULL;
  c->head_len = 0;
}

/* Close the socket and tell the mode why. Always returns -1, for `return fail(...)`. */
__attribute__((format(printf, 3, 4))) static int fail(struct bench_net *n, struct bench_conn *c,
                                                      const char *fmt, ...) {
  char why[160];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  drop(c);
  n->ops->on_fail(n, c, why);
  return -1;
}

/* Register the epoll interest the state calls for, if it changed. */
static int update_events(struct bench_net *n, struct bench_conn *c) {
  uint32_t want = c->state == BENCH_CONNECTING                 ? EPOLLOUT
                  : c->state == BENCH_TLS && c->tls_want_out   ? EPOLLOUT
                  : c->state == BENCH_TLS                      ? EPOLLIN
                  : c->out_len > c->out_off || c->tls_want_out ? EPOLLIN | EPOLLOUT
                                                               : EPOLLIN;
  if (want == c->events) return 0;
  struct epoll_event ev = {.events = want, .data.ptr = c};
  if (epoll_ctl(n->epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0)
    return fail(n, c, "epoll_ctl: %s", strerror(errno));
  c->events = want;
  return 0;
}

int bench_conn_dial(struct bench_net *n, struct bench_conn *c) {
  drop(c);
  const struct bench_target *t = c->target ? c->target : n->target;
  int fd = socket(t->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return -errno;
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (const struct sockaddr *)&t->addr, t->addr_len) < 0 && errno != EINPROGRESS) {
    int e = errno;
    close(fd);
    return -e;
  }
  struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
  if (epoll_ctl(n->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
    int e = errno;
    close(fd);
    return -e;
  }
  c->fd = fd;
  c->state = BENCH_CONNECTING;
  c->events = EPOLLOUT;
  c->close_sent = 0;
  c->close_code = 0;
  c->carry_len = 0;
  c->out_off = c->out_len = 0;
  c->dial_ns = n->now_ns;
  return 0;
}

int bench_conn_reserve(struct bench_conn *c, size_t bytes) {
  if (c->out_cap - c->out_len >= bytes) return 0;
  if (c->out_off) { /* slide the unsent bytes to the front first */
    memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
    c->out_len -= c->out_off;
    c->out_off = 0;
    if (c->out_cap - c->out_len >= bytes) return 0;
  }
  size_t cap = c->out_cap ? c->out_cap * 2 : 512;
  while (cap - c->out_len < bytes) cap *= 2;
  uint8_t *p = realloc(c->out, cap);
  if (!p) return WSK_ENOMEM;
  c->out = p;
  c->out_cap = cap;
  return 0;
}

int bench_conn_send(struct bench_net *n, struct bench_conn *c, int opcode, const void *a,
                    size_t alen, const void *b, size_t blen) {
  size_t len = alen + blen;
  if (bench_conn_reserve(c, WSK_MAX_FRAME_HEADER + len) < 0) return WSK_ENOMEM;
  uint64_t r = bench_rng_next(&n->rng);
  uint8_t key[4];
  memcpy(key, &r, sizeof key);
  uint8_t *p = c->out + c->out_len;
  size_t hl = wsk_frame_write_header(p, 1, 0, opcode, len, key);
  if (alen) memcpy(p + hl, a, alen);
  if (blen) memcpy(p + hl + alen, b, blen);
  wsk_mask(p + hl, len, key, 0);
  c->out_len += hl + len;
  return 0;
}

int bench_conn_send_close(struct bench_net *n, struct bench_conn *c, unsigned code) {
  uint8_t payload[WSK_MAX_CONTROL_PAYLOAD];
  size_t len = wsk_close_build(payload, code, NULL, 0);
  c->close_sent = 1;
  return bench_conn_send(n, c, WSK_OP_CLOSE, payload, len, NULL, 0);
}

int bench_conn_flush(struct bench_net *n, struct bench_conn *c) {
  while (c->out_off < c->out_len) {
    ssize_t w = bench_io_send(c, c->out + c->out_off, c->out_len - c->out_off);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) break;
      return fail(n, c, "send: %s", strerror(errno));
    }
    c->out_off += (size_t)w;
  }
  if (c->out_off == c->out_len) c->out_off = c->out_len = 0;
  return update_events(n, c);
}

/* Send the upgrade request. */
static int start_handshake(struct bench_net *n, struct bench_conn *c) {
  uint8_t nonce[16];
  uint64_t r[2] = {bench_rng_next(&n->rng), bench_rng_next(&n->rng)};
  memcpy(nonce, r, sizeof nonce);
  wsk_handshake_make_key(nonce, c->key);
  if (bench_conn_reserve(c, REQUEST_MAX) < 0) return fail(n, c, "out of memory");
  int k = wsk_handshake_write_request((char *)c->out + c->out_len, c->out_cap - c->out_len,
                                      (c->target ? c->target : n->target)->host_port,
                                      c->path ? c->path : n->target->path,
                                      c->key, NULL, NULL, NULL, NULL);
  if (k < 0) return fail(n, c, "cannot write the upgrade request: %s", wsk_strerror(k));
  c->out_len += (size_t)k;
  c->state = BENCH_HANDSHAKE;
  return bench_conn_flush(n, c);
}

/* wss://: advance the TLS handshake; the upgrade request follows it. */
static int tls_step(struct bench_net *n, struct bench_conn *c) {
  char why[200];
  int r = bench_tls_handshake(n, c, why, sizeof why);
  if (r < 0) return fail(n, c, "%s", why);
  return r ? start_handshake(n, c) : update_events(n, c);
}

/* The connect finished. Writable without an error flag means it succeeded, so SO_ERROR is only
 * read when epoll reported a problem. */
static int connected(struct bench_net *n, struct bench_conn *c, uint32_t events) {
  int err = 0;
  socklen_t len = sizeof err;
  if ((events & (EPOLLERR | EPOLLHUP)) &&
      getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
    err = errno;
  if (events & (EPOLLERR | EPOLLHUP))
    return fail(n, c, "connect: %s", strerror(err ? err : ECONNREFUSED));
  const struct bench_target *t = c->target ? c->target : n->target;
  if (!t->tls) return start_handshake(n, c);
  if (bench_tls_start(n, c, t->host) < 0) return fail(n, c, "out of memory for a TLS session");
  c->state = BENCH_TLS;
  return tls_step(n, c);
}

/* The server's close frame arrived. */
static int closed_by_frame(struct bench_net *n, struct bench_conn *c, unsigned code) {
  c->close_code = (uint16_t)code;
  if (c->close_sent) { /* our close was answered: the server closes TCP next */
    c->state = BENCH_CLOSING;
    return 0;
  }
  /* The server started the close: answer it, then hang up. */
  if (bench_conn_send_close(n, c, code == WSK_CLOSE_NO_STATUS ? 0 : code) == 0)
    (void)bench_io_send(c, c->out + c->out_off, c->out_len - c->out_off);
  drop(c);
  n->ops->on_close(n, c, code);
  return -1;
}

/* Feed buf[0..len) to the parser and hand the events to the mode. Returns 0 or -1 if the
 * connection ended (callback done). */
static int process(struct bench_net *n, struct bench_conn *c, uint8_t *buf, size_t len) {
  size_t off = 0;
  while (off < len) {
    struct wsk_event ev;
    int k = wsk_parser_feed(&c->parser, buf + off, len - off, &ev);
    if (k < 0) return fail(n, c, "protocol error from the server: %s", wsk_strerror(k));
    off += (size_t)k;
    switch (ev.type) {
    case WSK_EV_DATA:
      n->ops->on_data(n, c, &ev);
      break;
    case WSK_EV_PING:
      if (bench_conn_send(n, c, WSK_OP_PONG, ev.data, ev.len, NULL, 0) < 0)
        return fail(n, c, "out of memory");
      break;
    case WSK_EV_CLOSE:
      if (closed_by_frame(n, c, ev.close_code) < 0) return -1;
      break;
    case WSK_EV_PONG:
      break;
    case WSK_EV_NONE:
      if (k == 0) goto keep;
      break;
    }
  }
keep:
  if (len - off > sizeof c->carry) return fail(n, c, "parser kept more bytes than documented");
  memcpy(c->carry, buf + off, len - off);
  c->carry_len = (uint16_t)(len - off);
  return 0;
}

/* Read the handshake response; once it is complete and valid, the connection is open. */
static int read_handshake(struct bench_net *n, struct bench_conn *c) {
  if (!c->head && !(c->head = malloc(HEAD_MAX))) return fail(n, c, "out of memory");
  ssize_t r = bench_io_recv(c, c->head + c->head_len, HEAD_MAX - c->head_len);
  if (r < 0) {
    if (errno == EAGAIN || errno == EINTR) return 0;
    return fail(n, c, "recv during the handshake: %s", strerror(errno));
  }
  if (r == 0) return fail(n, c, "the server closed the connection during the handshake");
  c->head_len += (size_t)r;
  struct wsk_header headers[HEAD_MAX_HEADERS];
  struct wsk_http_response res;
  int h = wsk_http_parse_response(c->head, c->head_len, &res, headers, HEAD_MAX_HEADERS,
                                  HEAD_MAX);
  if (h == WSK_EAGAIN) return 0;
  if (h < 0) return fail(n, c, "bad HTTP response to the upgrade: %s", wsk_strerror(h));
  const char *why = "";
  if (wsk_handshake_check_response(&res, c->key, NULL, 0, &why) < 0)
    return fail(n, c, "upgrade refused (HTTP %d): %s", res.status, why);
  c->state = BENCH_OPEN;
  wsk_parser_init(&c->parser, WSK_ROLE_CLIENT, 0, 0);
  n->ops->on_open(n, c);
  /* Frames may have followed the 101 in the same read. */
  size_t rest = c->head_len - (size_t)h;
  memcpy(n->rbuf, c->head + h, rest);
  free(c->head);
  c->head = NULL;
  c->head_len = 0;
  return rest ? process(n, c, n->rbuf, rest) : 0;
}

/* Read what the socket has (carrying over a partial frame) and process it. */
static int read_frames(struct bench_net *n, struct bench_conn *c) {
  for (;;) {
    size_t carry = c->carry_len;
    memcpy(n->rbuf, c->carry, carry);
    ssize_t r = bench_io_recv(c, n->rbuf + carry, n->rcap - carry);
    if (r < 0) {
      if (errno == EAGAIN) return 0;
      if (errno == EINTR) continue;
      return fail(n, c, "recv: %s", strerror(errno));
    }
    if (r == 0) {
      if (c->state != BENCH_CLOSING)
        return fail(n, c, "the server closed the TCP connection without a close frame");
      unsigned code = c->close_code;
      drop(c);
      n->ops->on_close(n, c, code);
      return -1;
    }
    c->carry_len = 0;
    if (process(n, c, n->rbuf, carry + (size_t)r) < 0) return -1;
    /* Drained: no need to ask again, unless the close handshake just completed: the server's
     * TCP close usually follows its close frame at once, so look for it now. */
    if ((size_t)r < n->rcap - carry && c->state != BENCH_CLOSING) return 0;
  }
}

static void handle(struct bench_net *n, struct bench_conn *c, uint32_t events) {
  n->now_ns = bench_now_ns();
  if (c->state == BENCH_CONNECTING) {
    (void)connected(n, c, events);
    return;
  }
  if (c->state == BENCH_TLS) {
    (void)tls_step(n, c);
    return;
  }
  if (c->tls_want_out && (events & EPOLLOUT)) events |= EPOLLIN; /* the read waited for this */
  if (events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
    int r = c->state == BENCH_HANDSHAKE ? read_handshake(n, c) : read_frames(n, c);
    if (r < 0) return;
  }
  if (c->out_len > c->out_off || c->ssl) (void)bench_conn_flush(n, c); /* (TLS: the events) */
}

int bench_net_poll(struct bench_net *n, int timeout_ms) {
  struct epoll_event evs[EVENTS_PER_WAIT];
  int k = epoll_wait(n->epfd, evs, EVENTS_PER_WAIT, timeout_ms);
  if (k < 0) return errno == EINTR ? 0 : -1;
  for (int i = 0; i < k; i++) handle(n, evs[i].data.ptr, evs[i].events);
  n->now_ns = bench_now_ns();
  if (n->ops->after_poll) n->ops->after_poll(n);
  return 0;
}

void bench_conn_shutdown(struct bench_net *n, struct bench_conn *c) {
  if (c->state == BENCH_OPEN && !c->close_sent && bench_conn_send_close(n, c, 1000) == 0)
    (void)bench_io_send(c, c->out + c->out_off, c->out_len - c->out_off);
  drop(c);
}

void bench_conn_release(struct bench_conn *c) {
  bench_tls_release(c);
  free(c->out);
  free(c->head);
  c->out = NULL;
  c->head = NULL;
  c->out_cap = c->out_off = c->out_len = 0;
}
