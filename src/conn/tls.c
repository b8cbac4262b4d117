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

static void on_tls_io(wsk_loop *loop, struct wsk__io *io, unsigned events);

static struct wsk__tls *session(const wsk_conn *c) { return c->ext->tls; }

unsigned wsk__conn_tls_events(const wsk_conn *c, unsigned ev) {
  unsigned want = session(c)->want;
  if (wsk__conn_state(c) == WSK_CS_TLS)
    return want & WSK_TLS_STEP_WANTS_OUT ? WSK_IO_OUT : WSK_IO_IN;
  if (want & WSK_TLS_READ_WANTS_OUT) /* the read goes on once writable; input alone cannot help */
    ev = (ev & ~WSK_IO_IN) | WSK_IO_OUT;
  if (want & WSK_TLS_WRITE_WANTS_IN) /* the queue goes on once readable */
    ev = (ev & ~WSK_IO_OUT) | WSK_IO_IN;
  if (want & WSK_TLS_STEP_WANTS_OUT) ev |= WSK_IO_OUT; /* close_notify */
  return ev;
}

size_t wsk__conn_tls_pending(const wsk_conn *c) { return wsk__tls_pending(session(c)); }

static void kicked(struct wsk__hook *h) {
  struct wsk__tls *t = (struct wsk__tls *)((char *)h - offsetof(struct wsk__tls, kick));
  wsk_conn *c = t->owner;
  if (!wsk__conn_has(c, WSK_CF_HOLD_IN)) wsk__conn_read(c);
}

void wsk__conn_tls_kick(wsk_conn *c) {
  struct wsk__tls *t = session(c);
  if (wsk__tls_pending(t) || (t->want & WSK_TLS_READ_FAILED))
    wsk__loop_queue_hook(c->group->loop, &t->kick);
}

void wsk__conn_tls_cancel(wsk_conn *c) {
  wsk__loop_cancel_hook(c->group->loop, &session(c)->kick);
}

void wsk__conn_tls_free(wsk_conn *c) {
  struct wsk__tls *t = session(c);
  wsk__loop_cancel_hook(c->group->loop, &t->kick);
  wsk__tls_free(t);
  c->ext->tls = NULL;
}

/* Plain HTTP on the TLS port: say so in plain text and end the connection as a plain one. */
static void answer_plain_http(wsk_conn *c) {
  static const char why[] = "This port speaks TLS: use https:// (or wss:// for WebSockets).\n";
  char out[512];
  int n = wsk_http_write_response(out, sizeof out, 400, "text/plain; charset=utf-8", NULL, why,
                                  sizeof why - 1, 1);
  wsk__conn_tls_free(c);
  c->io.kind = WSK_IO_CONN;
  wsk__conn_set_state(c, WSK_CS_HTTP);
  struct iovec v = {out, n > 0 ? (size_t)n : 0};
  if (wsk__conn_writev(c, &v, 1, NULL, -1) == 0)
    wsk__conn_linger(c); /* flush, FIN, drop the rest of the request until the client closes */
  else
    wsk__conn_destroy(c, 0, NULL);
}

static void handshake_step(wsk_conn *c) {
  struct wsk__tls *t = session(c);
  char why[256];
  int r = wsk__tls_handshake(t, why, sizeof why);
  if (r == WSK_EAGAIN) {
    wsk__conn_rearm(c);
    return;
  }
  if (r == WSK_EHTTP) {
    answer_plain_http(c);
    return;
  }
  if (r < 0 && !wsk__conn_has(c, WSK_CF_REPORT)) { /* a server's: nobody to tell */
    wsk__conn_destroy(c, 0, NULL);
    return;
  }
  if (r < 0) {
    char msg[400];
    const char *remote = wsk_conn_remote(c);
    if (t->name && strncmp(remote, t->name, strlen(t->name)) != 0) /* a name, not the address */
      snprintf(msg, sizeof msg, "TLS handshake with %s (%s) failed: %s", t->name, remote, why);
    else
      snprintf(msg, sizeof msg, "TLS handshake with %s failed: %s", remote, why);
    wsk__conn_destroy(c, WSK_ETLS, msg);
    return;
  }
  wsk__conn_set_state(c, WSK_CS_HTTP);
  wsk__conn_rearm(c);
  if (c->group->ops->on_secure) c->group->ops->on_secure(c);
  if (!wsk__conn_dead(c)) wsk__conn_tls_kick(c);
}

int wsk__conn_start_tls(wsk_conn *c, struct wsk__tls_ctx *ctx, const char *host) {
  struct wsk__conn_ext *x = wsk__conn_ext(c);
  struct wsk__tls *t = x ? wsk__tls_new(ctx, c->io.fd, host) : NULL;
  if (!t) {
    if (x) wsk__conn_release_later(c);
    return WSK_ENOMEM;
  }
  t->owner = c;
  t->name = host;
  t->kick.fn = kicked;
  x->tls = t;
  c->io.kind = WSK_IO_TLS;
  wsk__loop_set_handler(c->group->loop, WSK_IO_TLS, on_tls_io);
  wsk__conn_set_state(c, WSK_CS_TLS);
  handshake_step(c); /* a client's hello goes out now; a server's may be waiting already */
  return 0;
}

ssize_t wsk__conn_tls_read(wsk_conn *c, void *buf, size_t len) {
  struct wsk__tls *t = session(c);
  uint8_t before = t->want;
  char why[200];
  ssize_t r = wsk__tls_read(t, buf, len, why, sizeof why);
  if (r < 0 && r != WSK_EAGAIN) {
    wsk__conn_destroy(c, (int)r, why);
    return r;
  }
  if (t->want != before) wsk__conn_rearm(c);
  if (t->want & WSK_TLS_READ_FAILED) wsk__conn_tls_kick(c); /* the failure, after these bytes */
  return r;
}

int wsk__conn_tls_close_notify(wsk_conn *c) {
  int r = wsk__tls_shutdown(session(c));
  wsk__conn_rearm(c);
  return r;
}

static void on_tls_io(wsk_loop *loop, struct wsk__io *io, unsigned events) {
  wsk_conn *c = (wsk_conn *)io;
  if (wsk__conn_state(c) == WSK_CS_TLS) {
    handshake_step(c);
    return;
  }
  unsigned want = session(c)->want;
  if ((want & WSK_TLS_READ_WANTS_OUT) && (events & WSK_IO_OUT)) events |= WSK_IO_IN;
  if ((want & WSK_TLS_WRITE_WANTS_IN) && (events & WSK_IO_IN)) events |= WSK_IO_OUT;
  wsk__conn_io(loop, io, events);
  if (!wsk__conn_dead(c) && c->io.kind == WSK_IO_TLS) wsk__conn_rearm(c); /* what it wants now */
}
