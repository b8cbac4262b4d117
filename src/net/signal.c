/* signal.c - SIGINT/SIGTERM delivered as loop events through a signalfd. */
#include <errno.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "net/loop_struct.h"

static void on_signal_io(wsk_loop *loop, struct wsk__io *io, unsigned events) {
  struct signalfd_siginfo si;
  while (read(io->fd, &si, sizeof si) == (ssize_t)sizeof si) {
    if (loop->sig_cb) loop->sig_cb(loop, (int)si.ssi_signo, loop->sig_arg);
    if (loop->sig_io.fd < 0) break; /* the callback freed the handler */
  }
}

/* The signals are blocked in the calling thread (call this before starting other threads, which
 * inherit the mask) so that they are only ever delivered through the descriptor. */
int wsk_loop_on_signal(wsk_loop *loop, void (*cb)(wsk_loop *loop, int signo, void *arg),
                       void *arg) {
  loop->sig_cb = cb;
  loop->sig_arg = arg;
  if (loop->sig_io.fd >= 0) return 0;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0) return WSK_ESYS;
  int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd < 0) return WSK_ESYS;
  loop->sig_io.fd = fd;
  loop->sig_io.kind = WSK_IO_SIGNAL;
  loop->handlers[WSK_IO_SIGNAL] = on_signal_io;
  if (wsk__io_start(loop, &loop->sig_io, WSK_IO_IN) != 0) {
    close(fd);
    loop->sig_io.fd = -1;
    return WSK_ESYS;
  }
  return 0;
}

void wsk__signal_destroy(wsk_loop *loop) { wsk__io_close(loop, &loop->sig_io); }
