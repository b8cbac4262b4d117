/* test_redis.c - the pieces of the Redis bridge that need no Redis: its URL parser (each part,
 * defaults, every refusal with its sentence), the message envelope (round trip, big-endian node
 * id, refusal of foreign bytes), and one bridge per hub. The bridge against a real redis-server
 * is tests/integration/serve_redis*.test.js. */
#include <string.h>

#include "check.h"
#include "redis/redis_internal.h"

static void url_ok(const char *url, const char *host, int port, const char *user,
                   const char *password, int db) {
  struct wsk__redis_url u;
  char err[128];
  CHECK_EQ(wsk__redis_url_parse(url, &u, err, sizeof err), 0);
  CHECK_STR(u.host, host);
  CHECK_EQ(u.port, port);
  CHECK_EQ(u.db, db);
  CHECK(user ? u.user && strcmp(u.user, user) == 0 : !u.user);
  CHECK(password ? u.password && strcmp(u.password, password) == 0 : !u.password);
  wsk__redis_url_free(&u);
}

static void url_bad(const char *url, const char *why) {
  struct wsk__redis_url u;
  char err[128] = "";
  CHECK_EQ(wsk__redis_url_parse(url, &u, err, sizeof err), WSK_EINVAL);
  CHECK(strstr(err, why) != NULL);
  CHECK(!u.host && !u.user && !u.password);
}

static void test_url(void) {
  url_ok("redis://127.0.0.1", "127.0.0.1", 6379, NULL, NULL, 0);
  url_ok("redis://127.0.0.1:7000/", "127.0.0.1", 7000, NULL, NULL, 0);
  url_ok("redis://:s3cret@cache:1/15", "cache", 1, NULL, "s3cret", 15);
  url_ok("redis://app:pw@[::1]:6380", "::1", 6380, "app", "pw", 0);
  url_ok("redis://[::1]", "::1", 6379, NULL, NULL, 0);
  url_bad("http://127.0.0.1", "must start with redis://");
  url_bad(NULL, "must start with redis://");
  url_bad("redis://", "no host");
  url_bad("redis://:6379", "no host");
  url_bad("redis://pw@host", "[user]:password@");
  url_bad("redis://host:0", "port");
  url_bad("redis://host:65536", "port");
  url_bad("redis://host:12x", "port");
  url_bad("redis://[::1", "no host");
  url_bad("redis://host/x", "database");
}

static void test_envelope(void) {
  uint8_t msg[WSK_REDIS_HEADER + 3];
  wsk__redis_envelope_write(msg, 0x0102030405060708ull, WSK_OP_BINARY);
  memcpy(msg + WSK_REDIS_HEADER, "abc", 3);
  CHECK_EQ(msg[0], WSK_REDIS_MAGIC);
  CHECK_EQ(msg[1], WSK_REDIS_VERSION);
  CHECK_EQ(msg[2], 1);
  CHECK_EQ(msg[9], 8);
  uint64_t node;
  int opcode;
  const uint8_t *p;
  size_t n;
  CHECK_EQ(wsk__redis_envelope_read(msg, sizeof msg, &node, &opcode, &p, &n), 0);
  CHECK_EQ(node, 0x0102030405060708ull);
  CHECK_EQ(opcode, WSK_OP_BINARY);
  CHECK(n == 3 && memcmp(p, "abc", 3) == 0);
  CHECK_EQ(wsk__redis_envelope_read(msg, WSK_REDIS_HEADER, &node, &opcode, &p, &n), 0);
  CHECK_EQ(n, 0);
  CHECK_EQ(wsk__redis_envelope_read(msg, WSK_REDIS_HEADER - 1, &node, &opcode, &p, &n), -1);
  msg[1] = 2; /* a later version */
  CHECK_EQ(wsk__redis_envelope_read(msg, sizeof msg, &node, &opcode, &p, &n), -1);
  msg[1] = WSK_REDIS_VERSION;
  msg[10] = WSK_OP_PING; /* only data opcodes travel */
  CHECK_EQ(wsk__redis_envelope_read(msg, sizeof msg, &node, &opcode, &p, &n), -1);
  CHECK_EQ(wsk__redis_envelope_read("hello world!", 12, &node, &opcode, &p, &n), -1);
}

/* One bridge per hub: the first server of a hub takes it (before any connection is tried);
 * another server of the same hub is refused, with a sentence, until the first lets go. */
static void test_one_per_hub(void) {
  wsk_loop *loop = wsk_loop_new();
  wsk_hub *hub = wsk_hub_new();
  struct wsk_server_options o;
  wsk_server_options_init(&o);
  o.host = "127.0.0.1";
  o.hub = hub;
  wsk_server *s, *s2;
  CHECK_EQ(wsk_server_new(loop, &o, &s, NULL, 0), 0);
  CHECK_EQ(wsk_server_new(loop, &o, &s2, NULL, 0), 0);
  struct wsk_redis_options ro = {.url = "redis://127.0.0.1:1"};
  wsk_redis *r = NULL, *r2 = NULL;
  char err[256] = "";
  CHECK_EQ(wsk_redis_attach(s, &ro, &r, err, sizeof err), 0);
  CHECK(r != NULL);
  CHECK_EQ(wsk_redis_attach(s2, &ro, &r2, err, sizeof err), WSK_EBUSY);
  CHECK(strstr(err, "one bridge per hub") != NULL);
  CHECK(r2 == NULL);
  struct wsk_topic_hooks h = {0};
  CHECK_EQ(wsk_server_set_topic_hooks(s2, &h, NULL), WSK_EBUSY);
  CHECK_EQ(wsk_server_set_topic_hooks(s2, NULL, NULL), 0); /* (it had none: nothing to do) */
  CHECK_EQ(wsk_publish(s, "t", 1, WSK_OP_TEXT, "x", 1, WSK_PUBLISH_LOCAL), 0);
  CHECK_EQ(wsk_publish(s, "t", 1, WSK_OP_TEXT, "x", 1, WSK_PUBLISH_EXCLUDE_SELF), WSK_EINVAL);
  wsk_redis_free(r);
  CHECK_EQ(wsk_server_set_topic_hooks(s2, &h, NULL), 0);
  CHECK_EQ(wsk_server_set_topic_hooks(s, &h, NULL), WSK_EBUSY);
  CHECK_EQ(wsk_server_set_topic_hooks(s2, NULL, NULL), 0);
  wsk_server_free(s2);
  wsk_server_free(s);
  wsk_hub_free(hub);
  wsk_loop_free(loop);
}

int main(void) {
  test_url();
  test_envelope();
  test_one_per_hub();
  return check_report();
}
