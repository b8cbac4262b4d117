/* redis_internal.h - the Redis bridge (wsk_redis in wsk.h, docs/scale-out.md), built over the
 * public API only. Two connections ("links") per node, as Redis requires: one that SUBSCRIBEs
 * (a subscribed connection can send nothing else) and one that PUBLISHes. Each link connects,
 * and reconnects with backoff, on its own. */
#ifndef WSK_REDIS_INTERNAL_H
#define WSK_REDIS_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "wsk.h"

struct redisAsyncContext;

/* redis://[[user]:password@]host[:port][/db], parsed into one allocation. */
struct wsk__redis_url {
  char *host, *user, *password; /* user and password may be NULL */
  int port, db;
};
/* Returns 0, or WSK_EINVAL with a sentence in errbuf. Free with wsk__redis_url_free. */
int wsk__redis_url_parse(const char *url, struct wsk__redis_url *u, char *errbuf, size_t errlen);
void wsk__redis_url_free(struct wsk__redis_url *u);

/* The envelope of a message on a channel: magic, version, node id (big-endian), opcode, flags,
 * then the payload (docs/scale-out.md). */
#define WSK_REDIS_MAGIC 0xb5u
#define WSK_REDIS_VERSION 1u
#define WSK_REDIS_HEADER 12u
void wsk__redis_envelope_write(uint8_t out[WSK_REDIS_HEADER], uint64_t node, int opcode);
/* Returns 0 and the fields, or -1 for bytes that are not an envelope of this version. */
int wsk__redis_envelope_read(const void *in, size_t len, uint64_t *node, int *opcode,
                            const uint8_t **payload, size_t *payload_len);

struct wsk__redis_link {
  wsk_redis *r;
  struct redisAsyncContext *ac; /* NULL: not connected */
  wsk_watch *w;                 /* ac's socket on the loop (adapter.c) */
  unsigned events;
  wsk_timer *retry;             /* the next attempt, while not connected */
  uint64_t backoff_ms;
  int ready;                    /* connected and authenticated */
  int sub;                      /* the SUBSCRIBE link */
};

struct wsk_redis {
  wsk_server *s;
  wsk_loop *loop;
  struct wsk_redis_options opt;
  struct wsk__redis_url url;
  char *prefix;
  size_t prefix_len;
  uint64_t node;                /* random: our own messages coming back are skipped */
  struct wsk__redis_link pub, sub;
  size_t pending;               /* bytes published and not answered yet */
  uint8_t *scratch;             /* channel and envelope of the publish being sent */
  size_t scratch_cap;
  struct wsk_redis_stats st;
  int reported;                 /* the last state given to on_state, -1: none yet */
  int closing;                  /* wsk_redis_free is under way: no reconnecting */
};

/* link.c: start connecting (now, or after the backoff when `later`). */
void wsk__redis_link_connect(struct wsk__redis_link *l, int later);
/* The link was lost or could not be made: report it, forget ac, try again after the backoff. */
void wsk__redis_link_lost(struct wsk__redis_link *l, const char *why);
/* Close the link for good (wsk_redis_free). */
void wsk__redis_link_close(struct wsk__redis_link *l);

/* adapter.c: drive ac from the loop (hiredis's ev hooks onto a wsk_watch). Returns 0 or -1. */
int wsk__redis_adapter_attach(struct wsk__redis_link *l);

/* bridge.c: a link became ready (the sub link subscribes to every live topic), or one of the
 * links changed state (why: a sentence when one failed, else NULL): tell on_state when the
 * bridge as a whole went up or down. */
void wsk__redis_link_ready(struct wsk__redis_link *l);
void wsk__redis_state(wsk_redis *r, const char *why);

#endif
