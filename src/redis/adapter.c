/* adapter.c - hiredis's asynchronous API driven by the wsk loop: its event hooks (ev.addRead,
 * delRead, addWrite, delWrite, cleanup) become the events of one wsk_watch on its socket, as
 * hiredis's own adapters do for libuv or libevent. */
#include <hiredis/async.h>

#include "redis/redis_internal.h"

static void set_events(struct wsk__redis_link *l, unsigned events) {
  if (!l->w || events == l->events) return;
  l->events = events;
  (void)wsk_watch_set(l->w, events); /* (fails only without memory for epoll: nothing to undo) */
}

static void add_read(void *d) {
  set_events(d, ((struct wsk__redis_link *)d)->events | WSK_WATCH_IN);
}
static void del_read(void *d) {
  set_events(d, ((struct wsk__redis_link *)d)->events & ~WSK_WATCH_IN);
}
static void add_write(void *d) {
  set_events(d, ((struct wsk__redis_link *)d)->events | WSK_WATCH_OUT);
}
static void del_write(void *d) {
  set_events(d, ((struct wsk__redis_link *)d)->events & ~WSK_WATCH_OUT);
}

/* hiredis is freeing the context: stop watching its socket (which hiredis closes). */
static void cleanup(void *d) {
  struct wsk__redis_link *l = d;
  if (l->w) wsk_watch_stop(l->w);
  l->w = NULL;
  l->events = 0;
}

static void on_io(wsk_watch *w, int fd, unsigned events, void *arg) {
  struct wsk__redis_link *l = arg;
  redisAsyncContext *ac = l->ac;
  if (!ac) return;
  /* A hang-up is read too: the read sees the end or the error and disconnects. */
  if (events & (WSK_WATCH_IN | WSK_WATCH_HUP)) redisAsyncHandleRead(ac);
  /* The read may have freed ac (a disconnect): then l->ac changed. */
  if ((events & WSK_WATCH_OUT) && l->ac == ac) redisAsyncHandleWrite(ac);
}

int wsk__redis_adapter_attach(struct wsk__redis_link *l) {
  redisAsyncContext *ac = l->ac;
  l->events = 0;
  l->w = wsk_loop_watch_fd(l->r->loop, ac->c.fd, 0, on_io, l);
  if (!l->w) return -1;
  ac->ev.data = l;
  ac->ev.addRead = add_read;
  ac->ev.delRead = del_read;
  ac->ev.addWrite = add_write;
  ac->ev.delWrite = del_write;
  ac->ev.cleanup = cleanup;
  return 0;
}
