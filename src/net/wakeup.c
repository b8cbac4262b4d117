/* wakeup.c - wsk_loop_wakeup: the one thread-safe entry point. Other threads append a callback to
 * a mutex-protected FIFO and poke an eventfd; the loop drains the FIFO on its own thread. */
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "net/loop_struct.h"
#include "proto/alloc_internal.h"

struct wsk_wakeup_item {
  struct wsk_wakeup_item *next;
  void (*cb)(void *arg);
  void *arg;
};

static void on_wakeup_io(wsk_loop *loop, struct wsk_io *io, unsigned events) {
  uint64_t count;
  if (read(io->fd, &count, sizeof count) < 0) { /* EAGAIN: already drained */ }
  pthread_mutex_lock(&loop->wake_mu);
  struct wsk_wakeup_item *it = loop->wake_head;
  loop->wake_head = loop->wake_tail = NULL;
  pthread_mutex_unlock(&loop->wake_mu);
  while (it) {
    struct wsk_wakeup_item *next = it->next;
    it->cb(it->arg);
    wsk_free(it);
    it = next;
  }
}

int wsk_wakeup_init(wsk_loop *loop) {
  int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) return WSK_ESYS;
  if (pthread_mutex_init(&loop->wake_mu, NULL) != 0) {
    close(fd);
    return WSK_ESYS;
  }
  loop->wake_io.fd = fd;
  loop->wake_io.kind = WSK_IO_WAKEUP;
  loop->handlers[WSK_IO_WAKEUP] = on_wakeup_io;
  if (wsk_io_start(loop, &loop->wake_io, WSK_IO_IN) != 0) {
    close(fd);
    pthread_mutex_destroy(&loop->wake_mu);
    return WSK_ESYS;
  }
  return 0;
}

int wsk_loop_wakeup(wsk_loop *loop, void (*cb)(void *arg), void *arg) {
  struct wsk_wakeup_item *it = wsk_malloc(sizeof *it);
  if (!it) return WSK_ENOMEM;
  it->next = NULL;
  it->cb = cb;
  it->arg = arg;
  pthread_mutex_lock(&loop->wake_mu);
  if (loop->wake_tail)
    loop->wake_tail->next = it;
  else
    loop->wake_head = it;
  loop->wake_tail = it;
  pthread_mutex_unlock(&loop->wake_mu);
  uint64_t one = 1;
  if (write(loop->wake_io.fd, &one, sizeof one) < 0) { /* EAGAIN: counter saturated, still awake */ }
  return 0;
}

void wsk_wakeup_destroy(wsk_loop *loop) {
  wsk_io_close(loop, &loop->wake_io);
  for (struct wsk_wakeup_item *it = loop->wake_head, *next; it; it = next) {
    next = it->next;
    wsk_free(it);
  }
  pthread_mutex_destroy(&loop->wake_mu);
}
