/* test_hub.c - topics across loops and threads: three servers, each on its own loop in its own
 * thread, share a hub; raw clients (two per server) subscribe to "news" on open.
 * - a publish from a thread that is no server's loop reaches all six clients;
 * - a client's message, published by its connection with WSK_PUBLISH_EXCLUDE_SELF, reaches the
 *   five others and not itself;
 * - four foreign threads publish 200 messages each at once: every client gets all 800, each
 *   thread's in the order it published them;
 * - every connection greets its client with its wsk_conn_id; four foreign threads send 100
 *   messages each to every client by id (wsk_send_id): all arrive, in per-thread order; an id
 *   that no connection has is WSK_ECLOSED on the loop and dropped from another thread.
 * Run under ThreadSanitizer by `make tsan`. */
#include <pthread.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "raw_peer.h"
#include "wsk.h"

enum { NLOOPS = 3, PER = 2, NCLI = NLOOPS * PER, NPUB = 4, PUBN = 200 };

struct node {
  wsk_loop *loop;
  wsk_server *server;
  pthread_t tid;
  int port;
};
static struct node nodes[NLOOPS];
static wsk_hub *hub;
static int opened;        /* atomically counted opens */
static int thread_errors; /* failures seen on other threads (check.h is for the main thread) */

static void fail_on_thread(void) { __atomic_add_fetch(&thread_errors, 1, __ATOMIC_SEQ_CST); }

static void on_open(wsk_conn *c) {
  char hello[32];
  int n = snprintf(hello, sizeof hello, "id:%llu", (unsigned long long)wsk_conn_id(c));
  if (wsk_conn_id(c) == 0 || wsk_send_text(c, hello, (size_t)n) < 0) fail_on_thread();
  if (wsk_subscribe(c, "news", 4) != 0) fail_on_thread();
  __atomic_add_fetch(&opened, 1, __ATOMIC_SEQ_CST);
}

static void on_message(wsk_conn *c, int opcode, const void *data, size_t len) {
  if (len == 5 && memcmp(data, "probe", 5) == 0) { /* on the loop: an id nobody has */
    wsk_server *s = wsk_conn_server(c);
    int r = wsk_send_id(s, wsk_conn_id(c) + 1000, WSK_OP_TEXT, "x", 1);
    const char *answer = r == WSK_ECLOSED ? "closed" : "not closed";
    wsk_send_id(s, wsk_conn_id(c), WSK_OP_TEXT, answer, strlen(answer));
    return;
  }
  if (wsk_conn_publish(c, "news", 4, opcode, data, len, WSK_PUBLISH_EXCLUDE_SELF) < 0)
    fail_on_thread();
}

static void *run(void *arg) {
  wsk_loop_run(((struct node *)arg)->loop);
  return NULL;
}

static void stop(void *arg) { wsk_loop_stop(arg); }

/* ---- a raw client: the handshake, masked frames out, unmasked frames in --------------------- */

struct cli {
  int fd;
  uint64_t id;
  int port;
  uint8_t buf[1 << 16];
  size_t len;
};
static struct cli clis[NCLI];

static void cli_open(struct cli *k, int port) {
  k->fd = raw_peer_upgrade(port, 0);
  struct timeval tv = {10, 0};
  setsockopt(k->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  k->len = 0;
  for (;;) { /* the 101 head, and whatever frames follow it */
    ssize_t r = read(k->fd, k->buf + k->len, sizeof k->buf - k->len);
    CHECK(r > 0);
    if (r <= 0) return;
    k->len += (size_t)r;
    uint8_t *end = memmem(k->buf, k->len, "\r\n\r\n", 4);
    if (end) {
      CHECK(memcmp(k->buf, "HTTP/1.1 101", 12) == 0);
      size_t head = (size_t)(end + 4 - k->buf);
      memmove(k->buf, k->buf + head, k->len - head);
      k->len -= head;
      return;
    }
  }
}

/* The next text message (payload under 126 bytes) into out; 0, or -1 on a timeout. */
static int cli_recv(struct cli *k, char *out, size_t cap) {
  for (;;) {
    if (k->len >= 2 && k->len >= 2u + (k->buf[1] & 0x7f)) {
      size_t n = k->buf[1] & 0x7f;
      CHECK_EQ(k->buf[0], 0x81);
      snprintf(out, cap, "%.*s", (int)n, (const char *)k->buf + 2);
      memmove(k->buf, k->buf + 2 + n, k->len - 2 - n);
      k->len -= 2 + n;
      return 0;
    }
    ssize_t r = read(k->fd, k->buf + k->len, sizeof k->buf - k->len);
    if (r <= 0) return -1;
    k->len += (size_t)r;
  }
}

static void cli_send(struct cli *k, const char *text) {
  size_t n = strlen(text);
  uint8_t f[6 + 125] = {0x81, (uint8_t)(0x80 | n), 1, 2, 3, 4};
  for (size_t i = 0; i < n; i++) f[6 + i] = (uint8_t)text[i] ^ f[2 + i % 4];
  CHECK_EQ(write(k->fd, f, 6 + n), (ssize_t)(6 + n));
}

/* Nothing more is waiting for k (a message it should not have got would be there by now). */
static int cli_quiet(struct cli *k) {
  struct timeval tv = {0, 300000};
  setsockopt(k->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  char out[128];
  int quiet = cli_recv(k, out, sizeof out) != 0;
  tv.tv_sec = 10;
  tv.tv_usec = 0;
  setsockopt(k->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return quiet;
}

static void *sender(void *arg) {
  int id = (int)(intptr_t)arg;
  char text[32];
  for (int i = 0; i < PUBN / 2; i++)
    for (int k = 0; k < NCLI; k++) {
      int n = snprintf(text, sizeof text, "s%d:%d", id, i);
      if (wsk_send_id(nodes[k % NLOOPS].server, clis[k].id, WSK_OP_TEXT, text, (size_t)n) != 0)
        fail_on_thread();
    }
  return NULL;
}

/* Every client gets `count` messages "<tag><thread>:<seq>" from NPUB threads, each in order. */
static void expect_streams(char tag, int count) {
  char out[128];
  for (int i = 0; i < NCLI; i++) {
    int next[NPUB] = {0};
    for (int m = 0; m < count; m++) {
      int id, seq;
      char t;
      if (cli_recv(&clis[i], out, sizeof out) != 0 || sscanf(out, "%c%d:%d", &t, &id, &seq) != 3 ||
          t != tag || id < 0 || id >= NPUB) {
        CHECK(!"a message from every thread");
        break;
      }
      CHECK_EQ(seq, next[id]); /* one thread's messages in the order it sent them */
      next[id] = seq + 1;
    }
    CHECK(cli_quiet(&clis[i]));
  }
}

static void *publisher(void *arg) {
  int id = (int)(intptr_t)arg;
  char text[32];
  for (int i = 0; i < PUBN; i++) {
    int n = snprintf(text, sizeof text, "p%d:%d", id, i);
    /* Any server of the hub will do, from a thread that is none of their loops. */
    if (wsk_publish(nodes[i % NLOOPS].server, "news", 4, WSK_OP_TEXT, text, (size_t)n, 0) != 0)
      __atomic_add_fetch(&thread_errors, 1, __ATOMIC_SEQ_CST);
  }
  return NULL;
}

int main(void) {
  hub = wsk_hub_new();
  CHECK(hub != NULL);
  for (int i = 0; i < NLOOPS; i++) {
    struct wsk_server_options opt;
    wsk_server_options_init(&opt);
    opt.host = "127.0.0.1";
    opt.hub = hub;
    opt.cb.on_open = on_open;
    opt.cb.on_message = on_message;
    char err[256];
    nodes[i].loop = wsk_loop_new();
    CHECK_EQ(wsk_server_new(nodes[i].loop, &opt, &nodes[i].server, err, sizeof err), 0);
    nodes[i].port = wsk_server_port(nodes[i].server);
    CHECK_EQ(pthread_create(&nodes[i].tid, NULL, run, &nodes[i]), 0);
  }
  char out[128];
  for (int i = 0; i < NCLI; i++) {
    cli_open(&clis[i], nodes[i % NLOOPS].port);
    unsigned long long id = 0;
    CHECK_EQ(cli_recv(&clis[i], out, sizeof out), 0);
    CHECK_EQ(sscanf(out, "id:%llu", &id), 1);
    clis[i].id = id;
  }
  for (int t = 0; t < 1000 && __atomic_load_n(&opened, __ATOMIC_SEQ_CST) < NCLI; t++) usleep(5000);
  CHECK_EQ(__atomic_load_n(&opened, __ATOMIC_SEQ_CST), NCLI);

  CHECK_EQ(wsk_publish(nodes[1].server, "news", 4, WSK_OP_TEXT, "hello all", 9, 0), 0);
  for (int i = 0; i < NCLI; i++) {
    CHECK_EQ(cli_recv(&clis[i], out, sizeof out), 0);
    CHECK_STR(out, "hello all");
  }
  CHECK_EQ(wsk_publish(nodes[1].server, "news", 4, WSK_OP_TEXT, "\xff", 1, 0), WSK_EUTF8);
  CHECK_EQ(wsk_publish(nodes[1].server, "news", 4, WSK_OP_TEXT, "x", 1, 7), WSK_EINVAL);

  cli_send(&clis[0], "from client 0");
  for (int i = 1; i < NCLI; i++) {
    CHECK_EQ(cli_recv(&clis[i], out, sizeof out), 0);
    CHECK_STR(out, "from client 0");
  }
  CHECK(cli_quiet(&clis[0]));

  pthread_t th[NPUB];
  for (int p = 0; p < NPUB; p++) CHECK_EQ(pthread_create(&th[p], NULL, publisher, (void *)(intptr_t)p), 0);
  for (int p = 0; p < NPUB; p++) pthread_join(th[p], NULL);
  expect_streams('p', NPUB * PUBN);

  for (int p = 0; p < NPUB; p++) CHECK_EQ(pthread_create(&th[p], NULL, sender, (void *)(intptr_t)p), 0);
  for (int p = 0; p < NPUB; p++) pthread_join(th[p], NULL);
  expect_streams('s', NPUB * PUBN / 2);

  cli_send(&clis[3], "probe");
  CHECK_EQ(cli_recv(&clis[3], out, sizeof out), 0);
  CHECK_STR(out, "closed");
  /* From another thread, an id that is gone: queued, then dropped on the loop. */
  CHECK_EQ(wsk_send_id(nodes[0].server, 987654, WSK_OP_TEXT, "lost", 4), 0);
  CHECK_EQ(wsk_send_id(nodes[0].server, clis[0].id, WSK_OP_TEXT, "\xff", 1), WSK_EUTF8);
  CHECK_EQ(wsk_send_id(nodes[0].server, clis[0].id, 9, "x", 1), WSK_EINVAL);
  CHECK_EQ(wsk_hub_dropped(hub), 0);
  CHECK_EQ(__atomic_load_n(&thread_errors, __ATOMIC_SEQ_CST), 0);

  for (int i = 0; i < NCLI; i++) close(clis[i].fd);
  for (int i = 0; i < NLOOPS; i++) {
    wsk_loop_wakeup(nodes[i].loop, stop, nodes[i].loop);
    pthread_join(nodes[i].tid, NULL);
    wsk_server_free(nodes[i].server);
    wsk_loop_free(nodes[i].loop);
  }
  wsk_hub_free(hub);
  return check_report();
}
