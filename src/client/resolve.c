/* resolve.c - host names resolved without blocking the loop: glibc's getaddrinfo_a runs the lookup
 * on its own thread and notifies completion on a thread of its own (SIGEV_THREAD: no signals),
 * which only writes to an eventfd that the loop watches. No pointer to the loop ever crosses
 * threads.
 *
 * The request block is shared by the loop side and the notification, each holding a reference:
 * a request abandoned by the loop (wsk__resolve_cancel) is freed by whichever side lets go last,
 * together with the eventfd and any result. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "client/client_internal.h"
#include "proto/alloc_internal.h"

struct wsk__resolve {
  pthread_mutex_t mu;
  int refs;
  int efd;
  wsk_watch *watch;
  struct gaicb req;
  struct addrinfo hints;
  wsk__resolve_fn done;
  void *arg;
  char service[8];
  char host[];
};

static void unref(struct wsk__resolve *r) {
  pthread_mutex_lock(&r->mu);
  int left = --r->refs;
  pthread_mutex_unlock(&r->mu);
  if (left) return;
  if (r->req.ar_result) freeaddrinfo(r->req.ar_result);
  close(r->efd);
  pthread_mutex_destroy(&r->mu);
  wsk__free(r);
}

/* On a thread of the resolver, after the lookup finished. */
static void notify(union sigval sv) {
  struct wsk__resolve *r = sv.sival_ptr;
  uint64_t one = 1;
  if (write(r->efd, &one, sizeof one) < 0) { /* cannot fail: the counter is far from full */ }
  unref(r);
}

/* On the loop, when the eventfd was written. */
static void on_ready(wsk_watch *w, int fd, unsigned events, void *arg) {
  struct wsk__resolve *r = arg;
  int err = gai_error(&r->req);
  if (err == EAI_INPROGRESS) return;
  struct addrinfo *res = r->req.ar_result;
  r->req.ar_result = NULL;
  wsk__resolve_fn done = r->done;
  void *done_arg = r->arg;
  wsk_watch_stop(r->watch);
  unref(r);
  done(done_arg, err ? NULL : res, err);
}

struct wsk__resolve *wsk__resolve_start(wsk_loop *loop, const char *host, int port,
                                      wsk__resolve_fn done, void *arg) {
  size_t len = strlen(host);
  struct wsk__resolve *r = wsk__calloc(1, sizeof *r + len + 1);
  if (!r) return NULL;
  memcpy(r->host, host, len + 1);
  snprintf(r->service, sizeof r->service, "%d", port);
  r->done = done;
  r->arg = arg;
  r->refs = 2; /* the loop side and the notification */
  r->hints.ai_family = AF_UNSPEC;
  r->hints.ai_socktype = SOCK_STREAM;
  r->hints.ai_flags = AI_NUMERICSERV;
  r->req.ar_name = r->host;
  r->req.ar_service = r->service;
  r->req.ar_request = &r->hints;
  r->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (r->efd < 0) {
    wsk__free(r);
    return NULL;
  }
  pthread_mutex_init(&r->mu, NULL);
  r->watch = wsk_loop_watch_fd(loop, r->efd, WSK_WATCH_IN, on_ready, r);
  struct sigevent sev;
  memset(&sev, 0, sizeof sev);
  sev.sigev_notify = SIGEV_THREAD;
  sev.sigev_notify_function = notify;
  sev.sigev_value.sival_ptr = r;
  struct gaicb *list[1] = {&r->req};
  if (!r->watch || getaddrinfo_a(GAI_NOWAIT, list, 1, &sev) != 0) {
    int saved = r->watch ? EAGAIN : errno;
    wsk_watch_stop(r->watch);
    close(r->efd);
    pthread_mutex_destroy(&r->mu);
    wsk__free(r);
    errno = saved;
    return NULL;
  }
  return r;
}

void wsk__resolve_cancel(struct wsk__resolve *r) {
  wsk_watch_stop(r->watch);
  if (gai_cancel(&r->req) == EAI_CANCELED) unref(r); /* it never ran: no notification will come */
  unref(r); /* NOLINT(clang-analyzer-unix.Malloc): two references if the first unref ran */
}
