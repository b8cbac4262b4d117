/* watch.c - wsk_loop_watch_fd: any other descriptor (stdin, a pipe, an eventfd, a socket being
 * connected) watched by the loop, with a callback. The descriptor stays the caller's. */
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "net/loop_struct.h"
#include "proto/alloc_internal.h"

_Static_assert(WSK_WATCH_IN == WSK_IO_IN && WSK_WATCH_OUT == WSK_IO_OUT &&
                   WSK_WATCH_HUP == WSK_IO_HUP,
               "the watch flags are the loop's own");

struct wsk_watch {
  struct wsk__io io; /* first: the loop hands this pointer back */
  wsk_loop *loop;
  void (*cb)(wsk_watch *w, int fd, unsigned events, void *arg);
  void *arg;
};

static void on_watch_io(wsk_loop *loop, struct wsk__io *io, unsigned events) {
  wsk_watch *w = (wsk_watch *)io;
  w->cb(w, io->fd, events, w->arg);
}

wsk_watch *wsk_loop_watch_fd(wsk_loop *loop, int fd, unsigned events,
                             void (*cb)(wsk_watch *w, int fd, unsigned events, void *arg),
                             void *arg) {
  if (!loop || fd < 0 || !cb) return NULL;
  /* A regular file or a directory is always "ready": epoll refuses them, and so does io_uring's
   * backend here, rather than report them ready in every iteration. */
  struct stat st;
  if (fstat(fd, &st) == 0 && (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
    errno = EPERM;
    return NULL;
  }
  wsk_watch *w = wsk__calloc(1, sizeof *w);
  if (!w) return NULL;
  w->io.fd = fd;
  w->io.kind = WSK_IO_WATCH;
  w->loop = loop;
  w->cb = cb;
  w->arg = arg;
  loop->handlers[WSK_IO_WATCH] = on_watch_io;
  if (wsk__io_start(loop, &w->io, events & (WSK_WATCH_IN | WSK_WATCH_OUT)) != 0) {
    wsk__free(w);
    return NULL; /* errno from epoll_ctl: EPERM for regular files */
  }
  return w;
}

int wsk_watch_set(wsk_watch *w, unsigned events) {
  return wsk__io_set(w->loop, &w->io, events & (WSK_WATCH_IN | WSK_WATCH_OUT));
}

void wsk_watch_stop(wsk_watch *w) {
  if (!w) return;
  wsk_loop *loop = w->loop;
  wsk__io_forget(loop, &w->io);
  wsk__loop_free_later(loop, w); /* the callback that stops its own watch is still running */
}
