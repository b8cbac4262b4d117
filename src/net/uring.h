/* uring.h - the io_uring backend of the loop (uring.c), used in place of epoll when the loop was
 * asked for it and the kernel offers what it needs; loop.c falls back to epoll otherwise.
 *
 * Readiness keeps epoll's level-triggered meaning: each watched descriptor has one single-shot
 * poll request for the events it wants, posted again after it fired, and a poll request checks
 * the descriptor when it is posted, so bytes a handler left in the kernel are reported again. A
 * plain connection's input comes instead through a single-shot receive into a buffer the kernel
 * takes from a ring of provided buffers when bytes arrive (no buffer is held while it waits), and
 * its handler takes the bytes with wsk__loop_recv, which falls back to recv() for more. All the
 * posts of an iteration go to the kernel with the wait for the next events in one io_uring_enter;
 * the sends of the iteration's batch (wsk__uring_send) in one more. */
#ifndef WSK_NET_URING_H
#define WSK_NET_URING_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "net/loop_internal.h"

struct wsk__uring;

/* A ring for loop, or NULL with why[] saying what the kernel refused (no io_uring in this build,
 * disabled by kernel.io_uring_disabled, a missing feature). */
struct wsk__uring *wsk__uring_new(char *why, size_t whylen);
void wsk__uring_free(struct wsk__uring *u);

/* The backend's half of wsk__io_start / wsk__io_set (io->events set already) and wsk__io_close
 * (loop.c keeps the counts). */
int wsk__uring_watch(struct wsk__uring *u, struct wsk__io *io);
void wsk__uring_forget(struct wsk__uring *u, struct wsk__io *io);
/* wsk__loop_recv's half: 1 when the backend answered for io (*out the bytes copied to buf, 0 at
 * the end of the stream, or -1 with errno: EAGAIN when the next bytes will come through the
 * ring), 0 when the caller must recv() from the socket itself. */
int wsk__uring_take(struct wsk__uring *u, struct wsk__io *io, void *buf, size_t len,
                    ssize_t *out);
/* wsk__loop_accept's half, the same way (*out the accepted descriptor). */
int wsk__uring_accept(struct wsk__uring *u, struct wsk__io *io, int *out);

/* Queue a send of iov[0..n) (n <= WSK_URING_SEND_IOV) on io, made by the next
 * wsk__uring_sends_finish; the bytes must stay until then. Returns 0, WSK_EINVAL or WSK_ENOMEM. */
#define WSK_URING_SEND_IOV 8
int wsk__uring_send(struct wsk__uring *u, struct wsk__io *io, const struct iovec *iov, int n);
/* Make every queued send (one system call), wait until all are over, then call done(io, res) for
 * each whose descriptor is still watched: res is the bytes written or -errno (-EAGAIN: none). */
void wsk__uring_sends_finish(struct wsk__uring *u, void (*done)(struct wsk__io *io, ssize_t res));

/* Post what is pending, wait up to timeout_ms (-1: no limit) for completions, and call the
 * loop's handlers for the events among them. Returns 0 or WSK_ESYS. */
int wsk__uring_poll(wsk_loop *loop, struct wsk__uring *u, int timeout_ms);

#endif
