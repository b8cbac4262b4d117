/* listener.h - a listening socket on the loop: accepts in a loop until the kernel has no more
 * pending connections, and survives descriptor or memory exhaustion (EMFILE, ENFILE, ENOBUFS,
 * ENOMEM) without spinning: it stops watching the socket for a pause, reports it once through
 * on_error (the library prints nothing), and resumes. The pause timer is allocated with the
 * listener and parked, so pausing needs no memory. */
#ifndef WSK_NET_LISTENER_H
#define WSK_NET_LISTENER_H

#include "net/loop_internal.h"

#define WSK_ACCEPT_PAUSE_MS 100

struct wsk__listener {
  struct wsk__io io;  /* must stay first: the loop hands this pointer back */
  wsk_loop *loop;
  wsk_timer *pause;  /* parked while accepting */
  int port;
  uint8_t warned;
  uint8_t paused;
  void *owner;
  /* A new non-blocking, close-on-exec connection with TCP_NODELAY set; the callee owns fd. */
  void (*on_accept)(struct wsk__listener *l, int fd);
  /* accept failed for want of resources (err: -EMFILE, ...); NULL = not reported. */
  void (*on_error)(struct wsk__listener *l, int err, const char *message);
};

/* Open and start watching (SO_REUSEPORT when reuse_port). Returns 0 or a negative code with a
 * sentence in errbuf. */
int wsk__listener_open(struct wsk__listener *l, wsk_loop *loop, const char *host, int port,
                      int reuse_port, char *errbuf, size_t errlen);
/* Stop accepting and close the socket (idempotent). */
void wsk__listener_close(struct wsk__listener *l);

#endif
