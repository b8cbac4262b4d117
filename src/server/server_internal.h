/* server_internal.h - the server: a listener plus a connection group whose HTTP phase is
 * implemented here (requests, static files, the upgrade decision). */
#ifndef WSK_SERVER_INTERNAL_H
#define WSK_SERVER_INTERNAL_H

#include "conn/conn_internal.h"
#include "net/listener.h"
#include "net/tls.h"
#include "topic/hub.h"
#include "topic/topic.h"

struct wsk_server {
  struct wsk__group group;       /* first: a group pointer is a server pointer */
  struct wsk__listener listener;
  struct wsk_server_options opt;
  char *root;                   /* realpath of opt.root, or NULL */
  size_t root_len;
  char **origins;               /* copy of opt.origins */
  struct wsk_route *routes;     /* copy of opt.routes (patterns copied too), or NULL */
  size_t num_routes;
  struct wsk__tls_ctx *tls;      /* tls_cert given: every connection starts with a TLS handshake */
  struct wsk__topics topics;     /* publish/subscribe (topic/topic.c) */
  struct wsk__hub_member *hub;   /* opt.hub's view of this server (topic/hub.c), or NULL */
  struct wsk_topic_hooks hooks; /* wsk_server_set_topic_hooks (a bridge), zero when none */
  void *hook_arg;
  uint8_t bridge;               /* holds the topic hooks of its hub (topic/hub_count.c) */
  struct wsk__table conn_by_id, conn_by_ptr; /* connections that have an id (conn_ids.c) */
  uint64_t last_id;
  uint8_t shutting_down;
  uint8_t done_called;
  uint8_t freeing;
  wsk_timer *shutdown_timer;    /* drops what is left when the grace period ends */
  wsk_timer *done_timer;        /* calls `done` from the loop, never from inside a callback */
  void (*done)(wsk_server *s, void *arg);
  void *done_arg;
};

static inline wsk_server *wsk__server_of(const wsk_conn *c) { return (wsk_server *)c->group; }

/* The application's handle on one plain HTTP exchange. */
struct wsk_http_reply {
  wsk_conn *c;
  uint8_t replied;
  uint8_t head_only; /* HEAD request: the body is left out, its length kept */
  uint8_t close;     /* Connection: close, then end the connection */
};

/* The application's handle on an upgrade request, alive until accepted or rejected. */
struct wsk_upgrade {
  wsk_conn *c;        /* NULL once the client has gone (a deferred upgrade then only frees) */
  char key[WSK_KEY_LEN + 1];
  char *offered;      /* offered subprotocols, each NUL-terminated, then an empty string */
  const char *selected;
  char *extra;        /* response header lines */
  size_t extra_len;
  void *user_data;
  void (*on_abort)(void *user_data); /* hands user_data back if the upgrade never opens */
  uint16_t route;     /* 1 + the route's index, 0 = none: the connection's callbacks */
  uint8_t deferred;
  uint8_t deflate;    /* permessage-deflate accepted: pmd and pmd_response below */
  struct wsk_pmd_params pmd;
  char pmd_response[WSK_PMD_EXTENSION_MAX];
};

/* http.c: the group's HTTP-phase input handler. */
size_t wsk__server_http_input(wsk_conn *c, uint8_t *buf, size_t len);
/* Answer with a complete response built by wsk_http_write_response; close ends the connection
 * after it (errors and HTTP/1.0). Returns 0 or a negative code. */
int wsk__server_respond(wsk_conn *c, int status, const char *content_type, const char *extra,
                       const void *body, size_t body_len, int head_only, int close);
/* An error answer (text/plain, Connection: close), then the connection ends. */
void wsk__server_error(wsk_conn *c, int status, const char *why);
/* The same with extra header lines ("Name: value\r\n"..., or NULL). */
void wsk__server_error_with(wsk_conn *c, int status, const char *why, const char *extra);

/* The server's side of a request handed to on_http / on_upgrade (wsk_request.ctx): the
 * connection, and the memory of what the wsk_request_* calls return, freed when the request has
 * been handled (wsk__request_end). */
struct wsk__scratch;
struct wsk_request_ctx {
  wsk_conn *c;
  struct wsk__scratch *heap; /* blocks for what does not fit in `small` */
  size_t used;              /* of small */
  char small[256];
};
/* request.c: n bytes of the request's memory, or NULL. */
char *wsk__request_alloc(struct wsk_request_ctx *x, size_t n);
void wsk__request_end(struct wsk_request_ctx *x);

/* route.c: copy and check the route table (0, WSK_EINVAL with a sentence, or WSK_ENOMEM; the
 * caller frees a partial copy with wsk__routes_free); the first route matching a decoded path
 * (1 + its index), or 0. */
int wsk__routes_copy(wsk_server *s, const struct wsk_route *routes, size_t n, char *errbuf,
                    size_t errlen);
void wsk__routes_free(wsk_server *s);
size_t wsk__route_find(const wsk_server *s, const char *path);

/* upgrade.c */
void wsk__server_upgrade(wsk_conn *c, const struct wsk_http_request *hreq,
                        const struct wsk_request *req);
/* The connection of a pending upgrade went away. */
void wsk__upgrade_detach(wsk_conn *c);

/* topics.c: the registry's news go to the hooks or the hub (at the server's creation). */
void wsk__server_topics_init(wsk_server *s);
/* topics.c: deliver a message published on another server of the hub (on this loop; flags: the
 * publish's, WSK_PUBLISH_LOCAL or 0), and tell the hooks a topic's news (the hub's bridge). */
void wsk__server_hub_deliver(wsk_server *s, const void *topic, size_t topic_len, int opcode,
                            const void *data, size_t len, unsigned flags);
void wsk__server_hub_topic(wsk_server *s, const void *topic, size_t len, int first);
/* conn_ids.c: send what another thread sent to connection `id` (on this loop); a connection that
 * is gone no longer has its id */
void wsk__server_hub_send(wsk_server *s, uint64_t id, int opcode, const void *data, size_t len);
void wsk__conn_ids_forget(wsk_server *s, wsk_conn *c);
void wsk__conn_ids_free(wsk_server *s);

/* static.c: serve req from the root directory (GET, HEAD). */
void wsk__server_static(wsk_server *s, const struct wsk_request *req, struct wsk_http_reply *reply);

#endif
