/* serve_rooms.c - `wsk serve --rooms`: the members of each room, counted across every thread, and
 * the notice {"type":"members","room":NAME,"count":N} that tells them after each join or leave.
 * One thread (the announcer) publishes every notice: the hub keeps one publisher's messages in
 * order, so the last notice a member gets has the count as it was after the last change. Counts
 * published by whichever thread saw the change could arrive out of order (a loop delivers its own
 * publish at once and the others' later). A room waits for at most one notice at a time: a burst
 * of joins costs one notice per member, not one per join. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wsk.h"

#define BUCKETS 4096 /* a power of two */

struct room {
  struct room *next;
  struct wsk_cli_rooms *rooms;
  size_t members; /* on every thread */
  int posted;     /* announce() is on its way to the announcer's loop */
  size_t len;
  char name[];
};

struct wsk_cli_rooms {
  pthread_mutex_t lock;
  wsk_loop *loop;     /* the announcer's */
  wsk_server *server; /* publishes the notices, on that loop */
  struct room *bucket[BUCKETS];
};

struct wsk_cli_rooms *wsk_cli_rooms_new(void) {
  struct wsk_cli_rooms *r = calloc(1, sizeof *r);
  if (r && pthread_mutex_init(&r->lock, NULL) != 0) {
    free(r);
    return NULL;
  }
  return r;
}

void wsk_cli_rooms_free(struct wsk_cli_rooms *r) {
  if (!r) return;
  for (size_t i = 0; i < BUCKETS; i++)
    for (struct room *m = r->bucket[i], *next; m; m = next) {
      next = m->next;
      free(m);
    }
  pthread_mutex_destroy(&r->lock);
  free(r);
}

void wsk_cli_rooms_announcer(struct wsk_cli_rooms *r, wsk_loop *loop, wsk_server *server) {
  r->loop = loop;
  r->server = server;
}

/* FNV-1a. The names come from clients, so a crafted set could share a bucket: the cost stays
 * bounded by the connections the server accepts. */
static struct room **slot(struct wsk_cli_rooms *r, const char *name, size_t len) {
  uint64_t h = 14695981039346656037ull;
  for (size_t i = 0; i < len; i++) h = (h ^ (unsigned char)name[i]) * 1099511628211ull;
  struct room **p = &r->bucket[h & (BUCKETS - 1)];
  while (*p && ((*p)->len != len || memcmp((*p)->name, name, len) != 0)) p = &(*p)->next;
  return p; /* the room's link, or the null link at the end of its bucket */
}

static void unlink_room(struct room **p) {
  struct room *m = *p;
  *p = m->next;
  free(m);
}

/* On the announcer's loop: publish the room's count as it is now. */
static void announce(void *arg) {
  struct room *m = arg;
  struct wsk_cli_rooms *r = m->rooms;
  char text[96 + 6 * WSK_CLI_ROOM_MAX]; /* a name escaped byte by byte ("\u00NN") fits */
  size_t len = 0;
  pthread_mutex_lock(&r->lock);
  m->posted = 0;
  size_t count = m->members;
  FILE *f = count ? fmemopen(text, sizeof text, "w") : NULL;
  if (f) {
    fputs("{\"type\":\"members\",\"room\":", f);
    wsk_cli_json_str(f, m->name, m->len);
    fprintf(f, ",\"count\":%zu}", count);
    len = (size_t)ftell(f);
    fclose(f);
  }
  char topic[WSK_CLI_ROOM_MAX];
  size_t topic_len = m->len;
  memcpy(topic, m->name, topic_len);
  if (!count) unlink_room(slot(r, m->name, m->len));
  pthread_mutex_unlock(&r->lock);
  /* (LOCAL: with --redis, each node tells its own members its own count; a count across nodes
   * is not kept yet) */
  if (len) wsk_publish(r->server, topic, topic_len, WSK_OP_TEXT, text, len, WSK_PUBLISH_LOCAL);
}

/* Under the lock, after a change of m->members: have the announcer tell the room, unless it is on
 * its way already. An empty room that waits for nothing goes. */
static void changed(struct wsk_cli_rooms *r, struct room **p) {
  struct room *m = *p;
  if (!m->posted) m->posted = wsk_loop_post(r->loop, announce, m) == 0;
  if (!m->posted && !m->members) unlink_room(p);
}

int wsk_cli_rooms_join(struct wsk_cli_rooms *r, const char *name, size_t len) {
  if (len > WSK_CLI_ROOM_MAX) return WSK_EINVAL;
  pthread_mutex_lock(&r->lock);
  struct room **p = slot(r, name, len);
  if (!*p && (*p = calloc(1, sizeof **p + len))) {
    (*p)->rooms = r;
    (*p)->len = len;
    memcpy((*p)->name, name, len);
  }
  int rc = *p ? 0 : WSK_ENOMEM;
  if (*p) {
    (*p)->members++;
    changed(r, p);
  }
  pthread_mutex_unlock(&r->lock);
  return rc;
}

void wsk_cli_rooms_leave(struct wsk_cli_rooms *r, const char *name, size_t len) {
  pthread_mutex_lock(&r->lock);
  struct room **p = slot(r, name, len);
  if (*p && (*p)->members) {
    (*p)->members--;
    changed(r, p);
  }
  pthread_mutex_unlock(&r->lock);
}
