/* hub.h - what a server uses of the hub that joins the servers of several loops (threads) into
 * one topic space (the public part is wsk_hub_new/wsk_hub_free in wsk.h). */
#ifndef WSK_TOPIC_HUB_H
#define WSK_TOPIC_HUB_H

#include <stddef.h>

#include "wsk.h"

struct wsk_hub_member;

/* A server joins h (h may be NULL: a hub of its own, so that publishing from another thread
 * works without one). deliver(s, ...) runs on the server's loop for each message published
 * elsewhere. Returns the member, or NULL when out of memory. Call on the server's loop thread. */
struct wsk_hub_member *wsk_hub_join(wsk_hub *h, wsk_server *s, wsk_loop *loop,
                                    void (*deliver)(wsk_server *s, const void *topic,
                                                    size_t topic_len, int opcode,
                                                    const void *data, size_t len));
/* The server is being freed (on its loop thread): messages still queued for it are dropped. */
void wsk_hub_leave(struct wsk_hub_member *m);
/* Queue a message (checked already) for every member but `except` (NULL: every member). Any
 * thread. Returns 0 or WSK_ENOMEM (then no member gets it). */
int wsk_hub_post(struct wsk_hub_member *from, const struct wsk_hub_member *except,
                 const void *topic, size_t topic_len, int opcode, const void *data, size_t len);
/* 1 when called from inside wsk_loop_run of this loop (its own thread, in a callback). */
int wsk_hub_on_loop(const struct wsk_hub_member *m);

#endif
