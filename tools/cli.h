/* cli.h - entry points of the `wsk` subcommands; tools/wsk.c dispatches to them.
 * Each takes the subcommand's own argv (argv[0] is the subcommand name) and returns the process
 * exit status. */
#ifndef WSK_TOOLS_CLI_H
#define WSK_TOOLS_CLI_H

#include <stddef.h>
#include <stdio.h>

/* `wsk serve [--host H] [--port P] [--root DIR] [--echo | --broadcast] ...` (tools/serve.c). */
int wsk_cli_serve(int argc, char **argv);
/* `wsk serve --redis`: attach the bridge to s, or print why not (tools/serve_redis.c). Returns 0 or
 * the error of wsk_redis_attach. */
struct wsk_server;
struct wsk_redis;
int wsk_cli_redis_start(struct wsk_server *s, const char *url, const char *prefix,
                        struct wsk_redis **out);
/* Print the bridge's counters (published, received, dropped, invalid) on stderr and free it;
 * nothing for NULL. */
void wsk_cli_redis_stop(struct wsk_redis *r);

/* `wsk bench [echo|connect|idle] URL [options]`: load generator and measurement (tools/bench.c). */
int wsk_cli_bench(int argc, char **argv);

/* `wsk connect URL [-H 'N: V']... [-x MSG]... [--echo] [--show-frames] ...`: a WebSocket client
 * for the terminal and scripts (tools/connect.c). */
int wsk_cli_connect(int argc, char **argv);

/* Write prefix, then text[0..len) with its control characters escaped, then a newline, on
 * stderr: for log lines that quote a peer (tools/log.c). */
void wsk_cli_log(const char *prefix, const char *text, size_t len);

/* Milliseconds for an option: 0 (none) to a day. Returns 0 and *out, or -1 (tools/serve.c). */
int wsk_cli_parse_ms(const char *s, unsigned *out);

/* Bad usage of `wsk <command>`: print one line, "wsk <command>: <what>; try 'wsk <command>
 * --help'", on stderr and return 2 (tools/usage.c). */
__attribute__((format(printf, 2, 3))) int wsk_cli_usage_error(const char *command,
                                                               const char *fmt, ...);

/* The exit statuses, the same for every command; the last lines of each --help. */
#define WSK_CLI_EXIT_CODES                                                                     \
  "Exit status: 0 on success (a clean close, a clean stop), 1 on failure (with a one-line\n"  \
  "reason on stderr), 2 for bad usage (a wrong option or value).\n"

/* s[0..len) as a JSON string, quotes included; s is UTF-8, control bytes become \u00NN
 * (tools/json.c). */
void wsk_cli_json_str(FILE *out, const char *s, size_t len);

/* A byte count for an option: decimal, optionally with a k or m suffix (KiB, MiB), not 0.
 * Returns 0 and *out, or -1 (tools/serve.c). */
int wsk_cli_parse_size(const char *s, size_t *out);

/* The permessage-deflate flags shared by `wsk serve` and `wsk connect` (tools/deflate_opts.c):
 * entries for a getopt_long table, the lines for the usage text, and the codes getopt returns
 * (above any character, so they never collide with a command's own codes). */
enum {
  WSK_CLI_DEFLATE = 0x300,
  WSK_CLI_DEFLATE_WINDOW,
  WSK_CLI_DEFLATE_MEM_LEVEL,
  WSK_CLI_DEFLATE_NO_TAKEOVER,
  WSK_CLI_DEFLATE_THRESHOLD,
};
#define WSK_CLI_DEFLATE_LONGOPTS                                                     \
  {"deflate", no_argument, NULL, WSK_CLI_DEFLATE},                                   \
      {"deflate-window", required_argument, NULL, WSK_CLI_DEFLATE_WINDOW},           \
      {"deflate-mem-level", required_argument, NULL, WSK_CLI_DEFLATE_MEM_LEVEL},     \
      {"deflate-no-context-takeover", no_argument, NULL, WSK_CLI_DEFLATE_NO_TAKEOVER}, \
      {"deflate-threshold", required_argument, NULL, WSK_CLI_DEFLATE_THRESHOLD}
#define WSK_CLI_DEFLATE_USAGE                                                                  \
  "  --deflate            compress messages (permessage-deflate, RFC 7692) when the peer\n"    \
  "                       agrees; each connection that exchanged messages then keeps ~300 KB\n" \
  "                       of compression state (the flags below imply --deflate)\n"            \
  "  --deflate-window BITS  LZ77 window both ways, 9 to 15 (default 15): smaller compresses\n"  \
  "                       less with less memory (9 and --deflate-mem-level 1: ~17 KB)\n"       \
  "  --deflate-mem-level N  zlib memLevel of our compressor, 1 to 9 (default 8)\n"              \
  "  --deflate-no-context-takeover  compress each message on its own, both ways: the state\n"   \
  "                       is released between messages, at some cost in compression\n"         \
  "  --deflate-threshold BYTES  send shorter messages uncompressed (default 0: compress all)\n"

/* `wsk serve --log FORMAT`: the access log (tools/access_log.c). */
#include <stdint.h>
enum wsk_cli_log_format { WSK_CLI_LOG_OFF, WSK_CLI_LOG_TEXT, WSK_CLI_LOG_JSON };
struct wsk_upgrade;
struct wsk_request;
struct wsk_conn;
/* "text" or "json". Returns 0 and *out, or -1. */
int wsk_cli_log_format_parse(const char *s, enum wsk_cli_log_format *out);
/* From on_upgrade: log the upgrade and give the connection its record (its user data). shared
 * is the thread's running total of broadcast bytes. Returns WSK_UPGRADE_ACCEPT, or 503 without
 * memory. */
int wsk_cli_access_upgrade(struct wsk_upgrade *up, const struct wsk_request *req,
                           enum wsk_cli_log_format format, const uint64_t *shared);
/* Message bytes received from and sent to c; not_shared: bytes of c's own message that were
 * broadcast to the others (not to c). */
void wsk_cli_access_count(struct wsk_conn *c, uint64_t in, uint64_t out, uint64_t not_shared);
/* From on_close: log the close and free the record. */
void wsk_cli_access_close(struct wsk_conn *c, unsigned code, int clean);

struct wsk_pmd_options;
/* Apply the deflate flag whose getopt code is `code` (arg: its value) to o. Returns 1 when it was
 * one of them, -1 for a bad value, 0 for any other code. */
int wsk_cli_deflate_option(int code, const char *arg, struct wsk_pmd_options *o);

/* `wsk serve --rooms`: the members of each room across the threads (tools/serve_rooms.c). The
 * table is thread-safe; every change makes the announcer (one loop and its server, set before
 * any join) publish {"type":"members","room":NAME,"count":N} to the room, soon after. Free the
 * table after the loops. */
#define WSK_CLI_ROOM_MAX 256 /* bytes in a room name, at most */
struct wsk_loop;
struct wsk_server;
struct wsk_cli_rooms;
struct wsk_cli_rooms *wsk_cli_rooms_new(void); /* NULL when out of memory */
void wsk_cli_rooms_free(struct wsk_cli_rooms *r);
void wsk_cli_rooms_announcer(struct wsk_cli_rooms *r, struct wsk_loop *loop,
                             struct wsk_server *server);
/* One more member in the room. Returns 0, WSK_EINVAL (a name too long) or WSK_ENOMEM. */
int wsk_cli_rooms_join(struct wsk_cli_rooms *r, const char *name, size_t len);
/* One member fewer (one that joined). */
void wsk_cli_rooms_leave(struct wsk_cli_rooms *r, const char *name, size_t len);

#endif
