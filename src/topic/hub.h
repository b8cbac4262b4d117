/* hub.h - what a server uses of the hub that joins the servers of several loops (threads) into
 * one topic space (the public part is wsk_hub_new/wsk_hub_free in wsk.h). */
#ifndef WSK_TOPIC_HUB_H
#define WSK_TOPIC_HUB_H

#include <stddef.h>
#include <stdint.h>

#include "wsk.h"

struct wsk_hub_member;

/* What a member does with what reaches it, on its loop. */
struct wsk_hub_ops {
  /* A message published on another server of the hub, or from another thread. */
  void (*deliver)(wsk_server *s, const void *topic, size_t topic_len, int opcode,
                  const void *data, size_t len);
  /* A message sent to connection `id` from another thread. */
  void (*send)(wsk_server *s, uint64_t id, int opcode, const void *data, size_t len);
};

/* A server joins h. Returns its member, or NULL when out of memory. */
struct wsk_hub_member *wsk_hub_join(wsk_hub *h, wsk_server *s, wsk_loop *loop,
                                    const struct wsk_hub_ops *ops);
/* The server is being freed (on its loop thread): messages still queued for it are dropped. */
void wsk_hub_leave(struct wsk_hub_member *m);
/* Queue a message (checked already) for every member but `except` (NULL: every member). Any
 * thread. Returns 0 or WSK_ENOMEM (then no member gets it). */
int wsk_hub_post(struct wsk_hub_member *from, const struct wsk_hub_member *except,
                 const void *topic, size_t topic_len, int opcode, const void *data, size_t len);
/* Queue a message for connection `id` of this member (any thread). Returns 0 or WSK_ENOMEM. */
int wsk_hub_send(struct wsk_hub_member *m, uint64_t id, int opcode, const void *data, size_t len);
/* 1 when called from inside wsk_loop_run of this loop (its own thread, in a callback). */
int wsk_hub_on_loop(const struct wsk_hub_member *m);

#endif
