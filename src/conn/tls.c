/* tls.c - connections over TLS. The TLS handshake runs inside the event loop (state TLS, under the
 * deadline the owner set), then the connection engine drives the connection as on a plain socket:
 * conn.c and write.c call the session's read and write instead of recv and sendmsg when io.kind is
 * WSK_IO_TLS, so that plain connections pay nothing but that test. This file adds what TLS needs on
 * top: its own loop handler, which retries a read that waited for the socket to become writable and
 * a write that waited for input; the events to arm for that (never both a direction that the
 * session cannot use and one that fires at once, so no busy loop); reading what the session has
 * decrypted already, which epoll cannot report; close_notify before FIN; and a plain-text 400 for
 * a client that speaks plain HTTP to a TLS port. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "conn/conn_internal.h"
#include "net/tls.h"

static void on_tls_io(wsk_loop *loop, struct wsk_io *io, unsigned events);

static struct wsk_tls *session(const wsk_conn *c) { return c->ext->tls; }

unsigned wsk_conn_tls_events(const wsk_conn *c, unsigned ev) {
  unsigned want = session(c)->want;
  if (wsk_conn_state(c) == WSK_CS_TLS)
    return want & WSK_TLS_STEP_WANTS_OUT ? WSK_IO_OUT : WSK_IO_IN;
  if (want & WSK_TLS_READ_WANTS_OUT) /* the read goes on once writable; input alone cannot help */
    ev = (ev & ~WSK_IO_IN) | WSK_IO_OUT;
  if (want & WSK_TLS_WRITE_WANTS_IN) /* the queue goes on once readable */
    ev = (ev & ~WSK_IO_OUT) | WSK_IO_IN;
  if (want & WSK_TLS_STEP_WANTS_OUT) ev |= WSK_IO_OUT; /* close_notify */
  return ev;
}

size_t wsk_conn_tls_pending(const wsk_conn *c) { return wsk_tls_pending(session(c)); }

static void kicked(struct wsk_hook *h) {
  struct wsk_tls *t = (struct wsk_tls *)((char *)h - offsetof(struct wsk_tls, kick));
  wsk_conn *c = t->owner;
  if (!wsk_conn_has(c, WSK_CF_HOLD_IN)) wsk_conn_read(c);
}

void wsk_conn_tls_kick(wsk_conn *c) {
  struct wsk_tls *t = session(c);
  if (wsk_tls_pending(t) || (t->want & WSK_TLS_READ_FAILED))
    wsk_loop_queue_hook(c->group->loop, &t->kick);
}

void wsk_conn_tls_cancel(wsk_conn *c) {
  wsk_loop_cancel_hook(c->group->loop, &session(c)->kick);
}

void wsk_conn_tls_free(wsk_conn *c) {
  struct wsk_tls *t = session(c);
  wsk_loop_cancel_hook(c->group->loop, &t->kick);
  wsk_tls_free(t);
  c->ext->tls = NULL;
}

/* Plain HTTP on the TLS port: say so in plain text and end the connection as a plain one. */
static void answer_plain_http(wsk_conn *c) {
  static const char why[] = "This port speaks TLS: use https:// (or wss:// for WebSockets).\n";
  char out[512];
  int n = wsk_http_write_response(out, sizeof out, 400, "text/plain; charset=utf-8", NULL, why,
                                  sizeof why - 1, 1);
  wsk_conn_tls_free(c);
  c->io.kind = WSK_IO_CONN;
  wsk_conn_set_state(c, WSK_CS_HTTP);
  struct iovec v = {out, n > 0 ? (size_t)n : 0};
  if (wsk_conn_writev(c, &v, 1, NULL, -1) == 0)
    wsk_conn_linger(c); /* flush, FIN, drop the rest of the request until the client closes */
  else
    wsk_conn_destroy(c, 0, NULL);
}

static void handshake_step(wsk_conn *c) {
  struct wsk_tls *t = session(c);
  char why[256];
  int r = wsk_tls_handshake(t, why, sizeof why);
  if (r == WSK_EAGAIN) {
    wsk_conn_rearm(c);
    return;
  }
  if (r == WSK_EHTTP) {
    answer_plain_http(c);
    return;
  }
  if (r < 0 && !wsk_conn_has(c, WSK_CF_REPORT)) { /* a server's: nobody to tell */
    wsk_conn_destroy(c, 0, NULL);
    return;
  }
  if (r < 0) {
    char msg[400];
    const char *remote = wsk_conn_remote(c);
    if (t->name && strncmp(remote, t->name, strlen(t->name)) != 0) /* a name, not the address */
      snprintf(msg, sizeof msg, "TLS handshake with %s (%s) failed: %s", t->name, remote, why);
    else
      snprintf(msg, sizeof msg, "TLS handshake with %s failed: %s", remote, why);
    wsk_conn_destroy(c, WSK_ETLS, msg);
    return;
  }
  wsk_conn_set_state(c, WSK_CS_HTTP);
  wsk_conn_rearm(c);
  if (c->group->ops->on_secure) c->group->ops->on_secure(c);
  if (!wsk_conn_dead(c)) wsk_conn_tls_kick(c);
}

int wsk_conn_start_tls(wsk_conn *c, struct wsk_tls_ctx *ctx, const char *host) {
  struct wsk_conn_ext *x = wsk_conn_ext(c);
  struct wsk_tls *t = x ? wsk_tls_new(ctx, c->io.fd, host) : NULL;
  if (!t) {
    if (x) wsk_conn_release_later(c);
    return WSK_ENOMEM;
  }
  t->owner = c;
  t->name = host;
  t->kick.fn = kicked;
  x->tls = t;
  c->io.kind = WSK_IO_TLS;
  wsk_loop_set_handler(c->group->loop, WSK_IO_TLS, on_tls_io);
  wsk_conn_set_state(c, WSK_CS_TLS);
  handshake_step(c); /* a client's hello goes out now; a server's may be waiting already */
  return 0;
}

ssize_t wsk_conn_tls_read(wsk_conn *c, void *buf, size_t len) {
  struct wsk_tls *t = session(c);
  uint8_t before = t->want;
  char why[200];
  ssize_t r = wsk_tls_read(t, buf, len, why, sizeof why);
  if (r < 0 && r != WSK_EAGAIN) {
    wsk_conn_destroy(c, (int)r, why);
    return r;
  }
  if (t->want != before) wsk_conn_rearm(c);
  if (t->want & WSK_TLS_READ_FAILED) wsk_conn_tls_kick(c); /* the failure, after these bytes */
  return r;
}

int wsk_conn_tls_close_notify(wsk_conn *c) {
  int r = wsk_tls_shutdown(session(c));
  wsk_conn_rearm(c);
  return r;
}

static void on_tls_io(wsk_loop *loop, struct wsk_io *io, unsigned events) {
  wsk_conn *c = (wsk_conn *)io;
  if (wsk_conn_state(c) == WSK_CS_TLS) {
    handshake_step(c);
    return;
  }
  unsigned want = session(c)->want;
  if ((want & WSK_TLS_READ_WANTS_OUT) && (events & WSK_IO_OUT)) events |= WSK_IO_IN;
  if ((want & WSK_TLS_WRITE_WANTS_IN) && (events & WSK_IO_IN)) events |= WSK_IO_OUT;
  wsk_conn_io(loop, io, events);
  if (!wsk_conn_dead(c) && c->io.kind == WSK_IO_TLS) wsk_conn_rearm(c); /* what it wants now */
}
