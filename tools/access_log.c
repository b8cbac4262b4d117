/* access_log.c - `wsk serve --log text|json`: one line on stderr per WebSocket upgrade and one per
 * close, for operators (text) and scripts (json). Each connection carries its record as user data
 * from the upgrade to on_close, where it is printed and freed. Byte counts are message payload:
 * received from the client, and sent to it (welcome, echoes, and its share of broadcasts, taken
 * from its thread's running total since the upgrade). A close line also counts the messages the
 * client did not get because its queue was over --send-limit (wsk_conn_dropped), when there were
 * any. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "wsk.h"

struct wsk_cli_access {
  enum wsk_cli_log_format format;
  const uint64_t *shared; /* the thread's broadcast total */
  uint64_t shared_at_open, in, out;
  struct timespec start;
  char remote[64];
  char path[]; /* NUL-terminated */
};

int wsk_cli_log_format_parse(const char *s, enum wsk_cli_log_format *out) {
  if (strcmp(s, "text") == 0)
    *out = WSK_CLI_LOG_TEXT;
  else if (strcmp(s, "json") == 0)
    *out = WSK_CLI_LOG_JSON;
  else
    return -1;
  return 0;
}

static double since(const struct timespec *t0) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (double)(now.tv_sec - t0->tv_sec) + (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Both formats start with the time; json as {"time":SECONDS,... */
static void begin(enum wsk_cli_log_format f, const char *event, const struct wsk_cli_access *a) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  if (f == WSK_CLI_LOG_JSON) {
    fprintf(stderr, "{\"time\":%lld.%03ld,\"event\":\"%s\",\"remote\":", (long long)now.tv_sec,
            now.tv_nsec / 1000000, event);
    wsk_cli_json_str(stderr, a->remote, strlen(a->remote));
    fputs(",\"path\":", stderr);
    wsk_cli_json_str(stderr, a->path, strlen(a->path));
  } else {
    fprintf(stderr, "wsk: %s %s ", a->remote, event);
    wsk_cli_json_str(stderr, a->path, strlen(a->path)); /* quoted: a path cannot forge a line */
  }
}

int wsk_cli_access_upgrade(wsk_upgrade *up, const struct wsk_request *req,
                           enum wsk_cli_log_format format, const uint64_t *shared) {
  size_t n = strlen(req->path);
  struct wsk_cli_access *a = calloc(1, sizeof *a + n + 1);
  if (!a) return 503;
  a->format = format;
  a->shared = shared;
  a->shared_at_open = *shared;
  clock_gettime(CLOCK_MONOTONIC, &a->start);
  snprintf(a->remote, sizeof a->remote, "%s", req->remote);
  memcpy(a->path, req->path, n + 1);
  wsk_upgrade_set_user_data(up, a);
  flockfile(stderr);
  begin(format, "open", a);
  fputs(format == WSK_CLI_LOG_JSON ? ",\"status\":101}\n" : " 101\n", stderr);
  funlockfile(stderr);
  return WSK_UPGRADE_ACCEPT;
}

void wsk_cli_access_count(wsk_conn *c, uint64_t in, uint64_t out, uint64_t not_shared) {
  struct wsk_cli_access *a = wsk_conn_user_data(c);
  if (!a) return;
  a->in += in;
  a->out += out;
  a->shared_at_open += not_shared; /* its own broadcast does not come back to it */
}

void wsk_cli_access_close(wsk_conn *c, unsigned code, int clean) {
  struct wsk_cli_access *a = wsk_conn_user_data(c);
  if (!a) return;
  wsk_conn_set_user_data(c, NULL);
  uint64_t out = a->out + (*a->shared - a->shared_at_open);
  unsigned long long dropped = (unsigned long long)wsk_conn_dropped(c);
  int json = a->format == WSK_CLI_LOG_JSON;
  flockfile(stderr);
  begin(a->format, "close", a);
  if (json)
    fprintf(stderr, ",\"code\":%u,\"clean\":%s,\"bytes_in\":%llu,\"bytes_out\":%llu,"
                    "\"seconds\":%.3f",
            code, clean ? "true" : "false", (unsigned long long)a->in, (unsigned long long)out,
            since(&a->start));
  else
    fprintf(stderr, " %u%s in=%llu out=%llu %.3fs", code, clean ? "" : " (not clean)",
            (unsigned long long)a->in, (unsigned long long)out, since(&a->start));
  /* Only for a client that was too slow (over --send-limit): the usual line stays as it was. */
  if (dropped) fprintf(stderr, json ? ",\"dropped\":%llu" : " dropped=%llu", dropped);
  fputs(json ? "}\n" : "\n", stderr);
  funlockfile(stderr);
  free(a);
}
