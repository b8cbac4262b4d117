/* conn_ids.c - stable 64-bit connection ids (wsk_conn_id) and sends by id from any thread
 * (wsk_send_id).
 *
 * Ids are handed out on first request, from a per-server counter (never reused), so connections
 * that never ask cost nothing: the two hash sets (id -> connection, connection -> id) hold only
 * those that did, and a connection leaves them when it is destroyed. A send by id from a thread
 * that is not the server's loop travels through the server's hub (topic/hub.c), whose queues
 * outlive the server, so a send that arrives after the server was freed is only dropped. */
#include "proto/alloc_internal.h"
#include "server/server_internal.h"

struct conn_id {
  wsk_conn *c;
  uint64_t id;
};

static uint64_t conn_hash(const wsk_conn *c) { return wsk__table_mix((uintptr_t)c); }

static int by_id(const void *item, const void *key) {
  return ((const struct conn_id *)item)->id == *(const uint64_t *)key;
}
static int by_conn(const void *item, const void *key) {
  return ((const struct conn_id *)item)->c == key;
}

uint64_t wsk_conn_id(wsk_conn *c) {
  if (!c || c->group->client) return 0;
  wsk_server *s = wsk__server_of(c);
  struct wsk__table_slot *slot = wsk__table_find(&s->conn_by_ptr, conn_hash(c), by_conn, c);
  if (slot) return ((struct conn_id *)slot->item)->id;
  struct conn_id *e = wsk__malloc(sizeof *e);
  if (!e) return 0;
  e->c = c;
  e->id = ++s->last_id;
  if (wsk__table_add(&s->conn_by_id, wsk__table_mix(e->id), e) != 0) {
    wsk__free(e);
    return 0;
  }
  if (wsk__table_add(&s->conn_by_ptr, conn_hash(c), e) != 0) {
    wsk__table_remove_item(&s->conn_by_id, wsk__table_mix(e->id), e);
    wsk__free(e);
    return 0;
  }
  return e->id;
}

void wsk__conn_ids_forget(wsk_server *s, wsk_conn *c) {
  if (!s->conn_by_ptr.n) return;
  struct wsk__table_slot *slot = wsk__table_find(&s->conn_by_ptr, conn_hash(c), by_conn, c);
  if (!slot) return;
  struct conn_id *e = slot->item;
  wsk__table_remove(&s->conn_by_ptr, slot);
  wsk__table_remove_item(&s->conn_by_id, wsk__table_mix(e->id), e);
  wsk__free(e);
}

void wsk__conn_ids_free(wsk_server *s) {
  for (size_t i = 0; i < s->conn_by_id.cap; i++) wsk__free(s->conn_by_id.slots[i].item);
  wsk__table_free(&s->conn_by_id);
  wsk__table_free(&s->conn_by_ptr);
}

/* On the server's loop. */
static int send_here(wsk_server *s, uint64_t id, int opcode, const void *data, size_t len) {
  struct wsk__table_slot *slot = wsk__table_find(&s->conn_by_id, wsk__table_mix(id), by_id, &id);
  if (!slot) return WSK_ECLOSED;
  return wsk_send(((struct conn_id *)slot->item)->c, opcode, data, len);
}

void wsk__server_hub_send(wsk_server *s, uint64_t id, int opcode, const void *data, size_t len) {
  send_here(s, id, opcode, data, len); /* (gone by now, or over its limit: dropped) */
}

int wsk_send_id(wsk_server *s, uint64_t id, int opcode, const void *data, size_t len) {
  if (!s || (opcode != WSK_OP_TEXT && opcode != WSK_OP_BINARY) || (!data && len))
    return WSK_EINVAL;
  if (!s->hub || wsk__hub_on_loop(s->hub)) return send_here(s, id, opcode, data, len);
  if (opcode == WSK_OP_TEXT && !wsk_utf8_valid(data, len)) return WSK_EUTF8;
  return wsk__hub_send(s->hub, id, opcode, data, len);
}
