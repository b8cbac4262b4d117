/* batch.c - output to many connections written once per loop iteration (see conn_internal.h).
 *
 * A publish to 1 000 subscribers, each getting a few messages per iteration, costs one write per
 * subscriber per iteration instead of one per message: the messages wait in each subscriber's
 * queue (copied into one growing chunk, or shared frames by reference) until the batch's hook
 * runs at the end of the iteration, after every handler and timer. */
#include <stddef.h>

#include "conn/conn_internal.h"
#include "proto/alloc_internal.h"

static void write_batch(struct wsk__hook *h) {
  struct wsk__group *g = (struct wsk__group *)((char *)h - offsetof(struct wsk__group, batch_hook));
  /* A flush may run callbacks (on_drain, on_close) that add connections to the batch, or even
   * destroy the group (the batch is then empty): the count is read again at every step. */
  for (uint32_t i = 0; i < g->n_batch; i++) {
    wsk_conn *c = g->batch[i];
    c->io.owner_a &= (uint8_t)~WSK_CA_BATCHED;
    if (wsk__conn_dead(c) || (c->io.events & WSK_IO_OUT)) continue; /* EPOLLOUT writes it */
    if (wsk__conn_send_later(c) == 0) continue; /* io_uring: with the others, below */
    wsk__conn_flush(c);
    if (!wsk__conn_dead(c)) wsk__conn_rearm(c); /* EPOLLOUT for what the socket did not take */
  }
  g->n_batch = 0;
  /* The results may run callbacks that batch more output: the hook is then queued again. */
  wsk__loop_sends_finish(g->loop, wsk__conn_sent);
}

int wsk__conn_batch(wsk_conn *c) {
  if (wsk__conn_batched(c)) return 0;
  struct wsk__group *g = c->group;
  unsigned st = wsk__conn_state(c);
  /* Only WebSocket output waits: an HTTP answer or the 101 goes out at once (the result of
   * writing the 101 decides whether on_open is called). */
  if (st != WSK_CS_OPEN && st != WSK_CS_CLOSING) return -1;
  if (!wsk__loop_is_current(g->loop)) return -1; /* no end of iteration is coming */
  if (g->n_batch == g->cap_batch) {
    uint32_t cap = g->cap_batch ? g->cap_batch * 2 : 64;
    wsk_conn **b = wsk__realloc(g->batch, cap * sizeof *b);
    if (!b) return -1;
    g->batch = b;
    g->cap_batch = cap;
  }
  /* (while the hook runs, n_batch > 0: what joins is written by the same walk) */
  if (g->n_batch == 0) wsk__loop_queue_hook(g->loop, &g->batch_hook);
  g->batch[g->n_batch++] = c;
  c->io.owner_a |= WSK_CA_BATCHED;
  return 0;
}

void wsk__batch_init(struct wsk__group *g) { g->batch_hook.fn = write_batch; }

void wsk__batch_free(struct wsk__group *g) {
  wsk__loop_cancel_hook(g->loop, &g->batch_hook);
  wsk__free(g->batch);
  g->batch = NULL;
  g->n_batch = g->cap_batch = 0;
}
