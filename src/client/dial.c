/* dial.c - from a URL's host to one connected TCP socket: resolve (or take the literal), then
 * connect to the addresses in the resolver's order, a lite form of happy eyeballs (RFC 8305): the
 * next address is tried as soon as one fails, or after WSK_DIAL_STAGGER_MS while the earlier ones
 * are still silent, and the first socket to connect wins; the others are closed. */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client/client_internal.h"
#include "net/socket.h"
#include "proto/alloc_internal.h"

struct dial_sock {
  struct wsk__dial *d;
  wsk_watch *watch; /* NULL when not in flight */
  int fd;
  char addr[WSK_ADDR_TEXT];
};

struct wsk__dial {
  wsk_loop *loop;
  const struct wsk__url *url;  /* the client's, which outlives the dial */
  struct wsk__resolve *resolve;
  wsk_timer *timer;           /* the start (for a list given up front), then the stagger */
  struct addrinfo *list, *next;
  struct dial_sock *socks;    /* one per address */
  size_t nsocks, inflight;
  int last_err;               /* errno of the last failure */
  char last_addr[WSK_ADDR_TEXT];
  wsk__dial_fn done;
  void *arg;
};

static void release(struct wsk__dial *d, int keep_fd) {
  if (d->resolve) wsk__resolve_cancel(d->resolve);
  if (d->timer) wsk_timer_stop(d->timer);
  for (size_t i = 0; i < d->nsocks; i++) {
    struct dial_sock *s = &d->socks[i];
    if (!s->watch) continue;
    wsk_watch_stop(s->watch);
    if (s->fd != keep_fd) close(s->fd);
  }
  if (d->list) freeaddrinfo(d->list);
  wsk__free(d->socks);
  wsk__free(d);
}

/* Free the dial, then report (the callee may start another dial at once). */
static void finish(struct wsk__dial *d, int fd, int err, const char *message) {
  wsk__dial_fn done = d->done;
  void *arg = d->arg;
  release(d, fd);
  done(arg, fd, err, message);
}

static void fail_all(struct wsk__dial *d) {
  char msg[384];
  const char *why = strerror(d->last_err ? d->last_err : ECONNREFUSED);
  if (d->nsocks > 1)
    snprintf(msg, sizeof msg, "connect to %s: all %zu addresses failed; the last one, %s: %s",
             d->url->where, d->nsocks, d->last_addr, why);
  else if (strcmp(d->last_addr, d->url->where) != 0 && d->last_addr[0])
    snprintf(msg, sizeof msg, "connect to %s (%s): %s", d->url->where, d->last_addr, why);
  else
    snprintf(msg, sizeof msg, "connect to %s: %s", d->url->where, why);
  finish(d, -1, WSK_ESYS, msg);
}

static void failed(struct wsk__dial *d, struct dial_sock *s, int err) {
  d->last_err = err;
  memcpy(d->last_addr, s->addr, sizeof s->addr);
}

static void start_next(struct wsk__dial *d);

static void on_sock(wsk_watch *w, int fd, unsigned events, void *arg) {
  struct dial_sock *s = arg;
  struct wsk__dial *d = s->d;
  int err = 0;
  socklen_t len = sizeof err;
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (!err && !(events & WSK_WATCH_OUT)) return; /* not decided yet */
  if (!err) {
    finish(d, fd, 0, NULL);
    return;
  }
  failed(d, s, err);
  wsk_watch_stop(s->watch);
  s->watch = NULL;
  close(fd);
  d->inflight--;
  start_next(d); /* a failure starts the next address at once */
}

static void on_stagger(void *arg) {
  struct wsk__dial *d = arg;
  wsk_timer_stop(d->timer);
  d->timer = NULL;
  start_next(d);
}

static void start_next(struct wsk__dial *d) {
  while (d->next) {
    struct addrinfo *ai = d->next;
    d->next = ai->ai_next;
    struct dial_sock *s = &d->socks[d->nsocks++];
    s->d = d;
    wsk__sock_addr_text(ai->ai_addr, s->addr);
    s->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (s->fd < 0) {
      failed(d, s, errno);
      continue;
    }
    int one = 1;
    setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int r = connect(s->fd, ai->ai_addr, ai->ai_addrlen);
    if (r == 0) {
      s->watch = NULL;
      finish(d, s->fd, 0, NULL); /* the others are closed by release() */
      return;
    }
    if (errno == EINPROGRESS && (s->watch = wsk_loop_watch_fd(d->loop, s->fd, WSK_WATCH_OUT,
                                                               on_sock, s))) {
      d->inflight++;
      if (d->next && !d->timer)
        d->timer = wsk_timer_start(d->loop, WSK_DIAL_STAGGER_MS, 0, on_stagger, d);
      return;
    }
    failed(d, s, errno);
    close(s->fd);
  }
  if (d->inflight == 0) fail_all(d);
}

/* The dial owns list from here on, whatever happens. */
static int take_list(struct wsk__dial *d, struct addrinfo *list) {
  size_t n = 0;
  for (struct addrinfo *ai = list; ai; ai = ai->ai_next) n++;
  d->list = d->next = list;
  d->socks = wsk__calloc(n ? n : 1, sizeof *d->socks);
  return d->socks ? 0 : WSK_ENOMEM;
}

static void on_resolved(void *arg, struct addrinfo *res, int gai_err) {
  struct wsk__dial *d = arg;
  d->resolve = NULL;
  char msg[384];
  if (!res) {
    snprintf(msg, sizeof msg, "cannot resolve %s: %s", d->url->host, gai_strerror(gai_err));
    finish(d, -1, WSK_EDNS, msg);
    return;
  }
  if (take_list(d, res) != 0) {
    finish(d, -1, WSK_ENOMEM, "out of memory");
    return;
  }
  start_next(d);
}

/* The first step of an address list given up front, from the loop (done is never called from
 * the start functions). */
static void on_start(void *arg) {
  struct wsk__dial *d = arg;
  wsk_timer_stop(d->timer);
  d->timer = NULL;
  start_next(d);
}

static struct wsk__dial *dial_new(wsk_loop *loop, const struct wsk__url *url, wsk__dial_fn done,
                                 void *arg) {
  struct wsk__dial *d = wsk__calloc(1, sizeof *d);
  if (!d) return NULL;
  d->loop = loop;
  d->url = url;
  d->done = done;
  d->arg = arg;
  return d;
}

struct wsk__dial *wsk__dial_addrs(wsk_loop *loop, const struct wsk__url *url, struct addrinfo *list,
                                wsk__dial_fn done, void *arg) {
  struct wsk__dial *d = dial_new(loop, url, done, arg);
  if (!d) {
    freeaddrinfo(list);
    return NULL;
  }
  if (take_list(d, list) != 0 || !(d->timer = wsk_timer_start(loop, 0, 0, on_start, d))) {
    release(d, -1);
    return NULL;
  }
  return d;
}

struct wsk__dial *wsk__dial_start(wsk_loop *loop, const struct wsk__url *url, wsk__dial_fn done,
                                void *arg) {
  if (url->literal) {
    char service[8];
    snprintf(service, sizeof service, "%d", url->port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(url->host, service, &hints, &res); /* numeric: no lookup */
    if (gai != 0) {
      errno = gai == EAI_MEMORY ? ENOMEM : EINVAL; /* an unknown IPv6 zone, say */
      return NULL;
    }
    return wsk__dial_addrs(loop, url, res, done, arg);
  }
  struct wsk__dial *d = dial_new(loop, url, done, arg);
  if (d && !(d->resolve = wsk__resolve_start(loop, url->host, url->port, on_resolved, d))) {
    int saved = errno;
    release(d, -1);
    errno = saved;
    return NULL;
  }
  return d;
}

void wsk__dial_cancel(struct wsk__dial *d) { release(d, -1); }
