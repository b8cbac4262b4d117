/* server.c - creating, walking, broadcasting to, shutting down and freeing a server. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proto/alloc_internal.h"
#include "server/server_internal.h"

void wsk_server_options_init(struct wsk_server_options *opt) {
  memset(opt, 0, sizeof *opt);
  opt->max_message = 16u * 1024 * 1024;
  opt->max_header_bytes = WSK_DEFAULT_MAX_HEADER_BYTES;
  opt->max_connections = 100000;
  opt->max_http_body = 1024 * 1024;
  opt->handshake_timeout_ms = 10000;
  opt->close_timeout_ms = 5000;
  opt->send_high_water = 1024 * 1024;
  opt->send_hard_limit = 64u * 1024 * 1024;
  wsk_pmd_options_init(&opt->deflate);
}

static void check_done(struct wsk__group *g);
static void grace_over(void *arg);
static void call_done(void *arg);

static void on_timeout(wsk_conn *c) { wsk__conn_destroy(c, 0, NULL); }

static void on_destroy(wsk_conn *c) {
  wsk__upgrade_detach(c);
  wsk__topics_leave_all(&wsk__server_of(c)->topics, c);
  wsk__conn_ids_forget(wsk__server_of(c), c);
}

static const struct wsk__hub_ops hub_ops = {.deliver = wsk__server_hub_deliver,
                                           .send = wsk__server_hub_send,
                                           .topic = wsk__server_hub_topic};

static const struct wsk__group_ops server_ops = {
    .http_input = wsk__server_http_input,
    .on_timeout = on_timeout,
    .on_destroy = on_destroy,
    .on_leave = check_done,
};

static void on_listener_error(struct wsk__listener *l, int err, const char *message) {
  wsk_server *s = l->owner;
  if (s->opt.on_server_error) s->opt.on_server_error(s, err, message);
}

static void on_accept(struct wsk__listener *l, int fd) {
  wsk_server *s = l->owner;
  wsk_conn *c = wsk__conn_new(&s->group, fd, WSK_CS_HTTP);
  if (!c) return;
  wsk__conn_set_timeout(c, s->opt.handshake_timeout_ms); /* TLS and HTTP until the 101 */
  if (s->tls && wsk__conn_start_tls(c, s->tls, NULL) != 0) wsk__conn_destroy(c, 0, NULL);
}

static char **copy_list(const char *const *list) {
  size_t n = 0;
  while (list[n]) n++;
  char **out = wsk__calloc(n + 1, sizeof *out);
  if (!out) return NULL;
  for (size_t i = 0; i < n; i++) {
    if (!(out[i] = wsk__strdup(list[i]))) {
      while (i--) wsk__free(out[i]);
      wsk__free(out);
      return NULL;
    }
  }
  return out;
}

static void free_list(char **list) {
  if (!list) return;
  for (char **p = list; *p; p++) wsk__free(*p);
  wsk__free(list);
}

static void release(wsk_server *s) {
  wsk__tls_ctx_free(s->tls);
  wsk__free(s->root);
  free_list(s->origins);
  wsk__routes_free(s);
  wsk__free(s);
}

int wsk_server_new(wsk_loop *loop, const struct wsk_server_options *opt, wsk_server **out,
                   char *errbuf, size_t errlen) {
  if (errbuf && errlen) errbuf[0] = '\0';
  if (!loop || !opt || !out) {
    if (errbuf) snprintf(errbuf, errlen, "wsk_server_new: loop, options and out are required");
    return WSK_EINVAL;
  }
  *out = NULL;
  static const char *const timeouts[] = {"handshake_timeout_ms", "idle_timeout_ms",
                                         "close_timeout_ms"};
  const unsigned ms[] = {opt->handshake_timeout_ms, opt->idle_timeout_ms, opt->close_timeout_ms};
  int rc = wsk__timeouts_check(timeouts, ms, 3, errbuf, errlen);
  if (rc < 0) return rc;
  if (opt->send_high_water && opt->drain_low_water > opt->send_high_water) {
    if (errbuf) snprintf(errbuf, errlen, "drain_low_water is over send_high_water");
    return WSK_EINVAL;
  }
  wsk_server *s = wsk__calloc(1, sizeof *s);
  if (!s) goto nomem;
  s->opt = *opt;
  s->opt.host = s->opt.root = NULL;
  s->opt.origins = NULL;
  wsk__server_topics_init(s);
  s->opt.routes = NULL; /* copied into s->routes */
  rc = wsk__routes_copy(s, opt->routes, opt->num_routes, errbuf, errlen);
  if (rc == WSK_ENOMEM) goto nomem;
  if (rc < 0) {
    release(s);
    return rc;
  }
  if (opt->origins && !(s->origins = copy_list(opt->origins))) goto nomem;
  if (opt->root) {
    char resolved[PATH_MAX];
    struct stat st;
    int ok = realpath(opt->root, resolved) && stat(resolved, &st) == 0;
    if (!ok || !S_ISDIR(st.st_mode)) {
      if (ok) errno = ENOTDIR; /* a file: it would answer every path with 404 */
      if (errbuf) snprintf(errbuf, errlen, "root directory %s: %s", opt->root, strerror(errno));
      release(s);
      return WSK_EINVAL;
    }
    if (!(s->root = wsk__strdup(resolved))) goto nomem;
    s->root_len = strlen(resolved);
    if (s->root_len == 1) s->root_len = 0; /* "/": every absolute path is inside */
  }
  s->opt.tls_cert = s->opt.tls_key = NULL; /* loaded into s->tls */
  s->opt.tls_sni = NULL;
  if (!opt->tls_cert && (opt->tls_key || opt->tls_sni)) {
    if (errbuf)
      snprintf(errbuf, errlen, "tls_key and tls_sni need tls_cert (the default certificate)");
    release(s);
    return WSK_EINVAL;
  }
  if (opt->tls_cert) {
    int r = wsk__tls_server_ctx(opt->tls_cert, opt->tls_key, opt->tls_sni, &s->tls, errbuf, errlen);
    if (r < 0) {
      release(s);
      return r;
    }
  }
  const char *why;
  if (opt->deflate.enabled && wsk_pmd_options_check(&opt->deflate, &why) != 0) {
    if (errbuf) snprintf(errbuf, errlen, "permessage-deflate options: %s", why);
    release(s);
    return WSK_EINVAL;
  }
  struct wsk__group *g = &s->group;
  wsk__group_init(g, loop, &server_ops, s);
  if (opt->deflate.enabled) g->deflate = &s->opt.deflate;
  g->server = s;
  g->routes = s->routes;
  g->cb = opt->cb;
  g->max_message = opt->max_message;
  g->high_water = opt->send_high_water;
  g->low_water = opt->drain_low_water;
  g->hard_limit = opt->send_hard_limit;
  g->drop_on_limit = opt->drop_on_limit ? 1 : 0;
  g->handshake_timeout_ms = opt->handshake_timeout_ms;
  g->idle_timeout_ms = opt->idle_timeout_ms;
  g->close_timeout_ms = opt->close_timeout_ms;
  g->ping_interval_ms = opt->ping_interval_ms;
  s->listener.owner = s;
  s->listener.on_accept = on_accept;
  s->listener.on_error = on_listener_error;
  int r = wsk__listener_open(&s->listener, loop, opt->host, opt->port, opt->reuse_port,
                            errbuf, errlen);
  if (r < 0) {
    release(s);
    return r;
  }
  /* The shutdown timers are made now and parked: a shutdown must not fail for want of memory. */
  s->shutdown_timer = wsk_timer_start(loop, 0, 0, grace_over, s);
  s->done_timer = wsk_timer_start(loop, 0, 0, call_done, s);
  if (opt->hub) s->hub = wsk__hub_join(opt->hub, s, loop, &hub_ops);
  if (wsk__group_start(g) != 0 || !s->shutdown_timer || !s->done_timer || (opt->hub && !s->hub)) {
    wsk__hub_leave(s->hub);
    wsk_timer_stop(s->shutdown_timer);
    wsk_timer_stop(s->done_timer);
    wsk__group_destroy(g);
    wsk__listener_close(&s->listener);
    goto nomem;
  }
  wsk__timer_park(s->shutdown_timer);
  wsk__timer_park(s->done_timer);
  *out = s;
  return 0;
nomem:
  if (s) release(s);
  if (errbuf) snprintf(errbuf, errlen, "out of memory");
  return WSK_ENOMEM;
}

int wsk_server_port(const wsk_server *s) { return s->listener.port; }
void *wsk_server_user_data(const wsk_server *s) { return s->opt.user_data; }
wsk_loop *wsk_server_loop(const wsk_server *s) { return s->group.loop; }
size_t wsk_server_count(const wsk_server *s) { return s->group.n_open; }

void wsk_server_foreach(wsk_server *s, void (*fn)(wsk_conn *c, void *arg), void *arg) {
  wsk__group_foreach(&s->group, fn, arg);
}

struct broadcast {
  wsk_prepared *p;
  wsk_conn *except;
  int count;
};

static void broadcast_one(wsk_conn *c, void *arg) {
  struct broadcast *b = arg;
  if (c != b->except && wsk_send_prepared(c, b->p) >= 0) b->count++;
}

int wsk_server_broadcast(wsk_server *s, int opcode, const void *data, size_t len,
                         wsk_conn *except) {
  if (!s || (opcode != WSK_OP_TEXT && opcode != WSK_OP_BINARY) || (!data && len))
    return WSK_EINVAL;
  if (opcode == WSK_OP_TEXT && !wsk_utf8_valid(data, len)) return WSK_EUTF8;
  struct broadcast b = {.p = wsk_prepared_new(opcode, data, len), .except = except};
  if (!b.p) return WSK_ENOMEM;
  wsk__group_foreach(&s->group, broadcast_one, &b);
  wsk_prepared_release(b.p);
  return b.count;
}

/* ---- graceful shutdown ---------------------------------------------------------------------- */

static void call_done(void *arg) {
  wsk_server *s = arg;
  wsk_timer_stop(s->done_timer);
  s->done_timer = NULL;
  if (s->shutdown_timer) {
    wsk_timer_stop(s->shutdown_timer);
    s->shutdown_timer = NULL;
  }
  if (s->done) s->done(s, s->done_arg); /* may free s */
}

static void check_done(struct wsk__group *g) {
  wsk_server *s = g->owner;
  if (!s->shutting_down || s->freeing || s->done_called || g->n > 0) return;
  s->done_called = 1;
  wsk__timer_unpark(s->done_timer, 0);
}

static void drop_one(wsk_conn *c, void *arg) { wsk__conn_destroy(c, 0, NULL); }

static void grace_over(void *arg) {
  wsk_server *s = arg;
  wsk_timer_stop(s->shutdown_timer);
  s->shutdown_timer = NULL;
  wsk__group_each(&s->group, drop_one, NULL);
  check_done(&s->group);
}

static void close_one(wsk_conn *c, void *arg) {
  switch (wsk__conn_state(c)) {
  case WSK_CS_OPEN:
    wsk_close(c, WSK_CLOSE_GOING_AWAY, "server shutting down");
    break;
  case WSK_CS_TLS: /* no request yet */
    wsk__conn_destroy(c, 0, NULL);
    break;
  case WSK_CS_HTTP:
    if (wsk__conn_pending(c) || (c->ext && c->ext->in_len))
      wsk__conn_linger(c); /* finish writing the answer, drop a partial request */
    else
      wsk__conn_destroy(c, 0, NULL); /* idle keep-alive connection */
    break;
  default: /* CLOSING, LINGER, UPGRADING: they end by themselves or at the grace period */
    break;
  }
}

void wsk_server_shutdown(wsk_server *s, unsigned timeout_ms,
                         void (*done)(wsk_server *s, void *arg), void *arg) {
  if (s->shutting_down) return;
  s->shutting_down = 1;
  s->done = done;
  s->done_arg = arg;
  wsk__listener_close(&s->listener);
  wsk__timer_unpark(s->shutdown_timer, timeout_ms);
  wsk__group_each(&s->group, close_one, NULL);
  check_done(&s->group);
}

void wsk_server_free(wsk_server *s) {
  if (!s) return;
  s->freeing = 1;
  wsk__listener_close(&s->listener);
  wsk__group_destroy(&s->group);
  wsk__hub_leave(s->hub);
  wsk__topics_free(&s->topics);
  wsk__conn_ids_free(s);
  if (s->shutdown_timer) wsk_timer_stop(s->shutdown_timer);
  if (s->done_timer) wsk_timer_stop(s->done_timer);
  wsk_loop *loop = s->group.loop;
  wsk__tls_ctx_free(s->tls);
  wsk__free(s->root);
  free_list(s->origins);
  wsk__routes_free(s);
  wsk__loop_free_later(loop, s); /* events already fetched may still point at the listener */
}
