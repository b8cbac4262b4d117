/* listener.c - accepting connections (see listener.h). */
#include "net/listener.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/socket.h"

/* Accepts per wakeup: bounded so a flood of connections cannot starve established ones; the
 * level-triggered listener fires again on the next iteration if more are pending. */
#define ACCEPT_BUDGET 128

static void resume(void *arg) {
  struct wsk__listener *l = arg;
  wsk__timer_park(l->pause);
  l->paused = 0;
  wsk__io_set(l->loop, &l->io, WSK_IO_IN);
}

static void on_listener_io(wsk_loop *loop, struct wsk__io *io, unsigned events) {
  struct wsk__listener *l = (struct wsk__listener *)io;
  for (int i = 0; i < ACCEPT_BUDGET && l->io.fd >= 0 && !l->paused; i++) {
    int fd = wsk__loop_accept(loop, &l->io);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        if (!l->warned && l->on_error) {
          char msg[192];
          int err = errno;
          snprintf(msg, sizeof msg, "accept on port %d: %s; pausing new connections for %d ms "
                   "(raise the limit with ulimit -n)", l->port, strerror(err), WSK_ACCEPT_PAUSE_MS);
          l->on_error(l, -err, msg);
        }
        l->warned = 1;
        l->paused = 1;
        wsk__timer_unpark(l->pause, WSK_ACCEPT_PAUSE_MS);
        wsk__io_set(loop, &l->io, 0);
      }
      return; /* EAGAIN: nothing pending */
    }
    l->on_accept(l, fd);
  }
}

int wsk__listener_open(struct wsk__listener *l, wsk_loop *loop, const char *host, int port,
                      int reuse_port, char *errbuf, size_t errlen) {
  int fd = wsk__sock_listen(host, port, reuse_port, errbuf, errlen);
  if (fd < 0) return fd;
  /* Accepted sockets inherit TCP_NODELAY from the listener: one setsockopt instead of one per
   * connection (replies are written once per read anyway, see conn/write.c). */
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  l->io.fd = fd;
  l->io.kind = WSK_IO_LISTENER;
  l->loop = loop;
  l->warned = l->paused = 0;
  l->port = wsk__sock_local_port(fd);
  l->pause = wsk_timer_start(loop, WSK_ACCEPT_PAUSE_MS, WSK_ACCEPT_PAUSE_MS, resume, l);
  int rc = l->pause ? 0 : WSK_ENOMEM;
  if (rc == 0) {
    wsk__timer_park(l->pause);
    wsk__loop_set_handler(loop, WSK_IO_LISTENER, on_listener_io);
    rc = wsk__io_start(loop, &l->io, WSK_IO_IN);
  }
  if (rc != 0) {
    if (errbuf && rc == WSK_ENOMEM)
      snprintf(errbuf, errlen, "out of memory");
    else if (errbuf)
      snprintf(errbuf, errlen, "epoll_ctl: %s", strerror(errno));
    wsk_timer_stop(l->pause);
    l->pause = NULL;
    close(fd);
    l->io.fd = -1;
  }
  return rc;
}

void wsk__listener_close(struct wsk__listener *l) {
  if (l->pause) {
    wsk_timer_stop(l->pause);
    l->pause = NULL;
  }
  wsk__io_close(l->loop, &l->io);
}
