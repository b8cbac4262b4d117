/* serve.c - `wsk serve`: a WebSocket server on one port, with static files over plain HTTP when
 * --root is given. Messages are echoed (--echo), relayed to every other client (--broadcast), to
 * every other client in the same room (--rooms: the URL path /room/NAME names it) or only printed;
 * text messages are printed on stdout, one per line. SIGINT/SIGTERM close every WebSocket with
 * 1001 and exit 0. With --threads N, N threads each run a loop and a server on the same port
 * (SO_REUSEPORT: the kernel spreads the connections over them); their servers share one hub, so
 * --broadcast and --rooms reach the clients of every thread (the broadcast is the topic "", a
 * room the topic of its name). With --rooms, the members of a room are told how many they are
 * after each join and leave (tools/serve_rooms.c). */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wsk.h"

#define MAX_ORIGINS 64
#define MAX_THREADS 256
#define SHUTDOWN_GRACE_MS 3000

static const char usage_text[] =
    "usage: wsk serve [--host H] [--port P] [--root DIR] [--echo | --broadcast | --rooms]\n"
    "                 [--welcome TEXT]\n"
    "                 [--max-message BYTES] [--origin O]... [--quiet]\n"
    "                 [--handshake-timeout MS] [--idle-timeout MS] [--close-timeout MS]\n"
    "                 [--ping-interval MS] [--max-connections N] [--send-limit BYTES]\n"
    "                 [--drop-slow] [--threads N] [--log text|json]\n"
    "                 [--tls-cert FILE [--tls-key FILE]] [--deflate [--deflate-...]]\n"
    "                 [--redis URL [--redis-prefix P]] [--io-uring | --epoll]\n"
    "  --host H             listen address (default 0.0.0.0; :: for IPv6 and IPv4)\n"
    "  --port P             port (default 8000; 0 = any free port, printed at startup)\n"
    "  --root DIR           serve the files of DIR over HTTP on the same port\n"
    "  --echo               send every message back to its sender\n"
    "  --broadcast          send every message to every other client\n"
    "  --rooms              send every message to every other client in the same room: the\n"
    "                       URL path /room/NAME names the room (any other path is a room too;\n"
    "                       a name is UTF-8, 256 bytes at most); after each join and leave,\n"
    "                       the room's members get {\"type\":\"members\",\"room\":\"NAME\",\"count\":N}\n"
    "                       (a text message; the last one they get has the current count)\n"
    "  --welcome TEXT       send TEXT to every client when it connects\n"
    "  --max-message BYTES  largest message accepted (default 16M; k and m suffixes)\n"
    "  --origin O           allow WebSockets only from this Origin (repeatable)\n"
    "  --quiet              do not print received messages\n"
    "  --handshake-timeout MS  drop a connection whose request is not in after MS (default 10000)\n"
    "  --idle-timeout MS    close a WebSocket silent for MS with 1001 (default 0: never)\n"
    "  --close-timeout MS   drop a peer that does not answer our close in MS (default 5000)\n"
    "  --ping-interval MS   ping every MS; drop a peer silent for a whole interval (default: off)\n"
    "  --max-connections N  most open WebSockets, then 503 to upgrades and HTTP (default 100000)\n"
    "  --send-limit BYTES   bytes queued for one client at most (default 64M): over it, messages\n"
    "                       to that client are dropped, or it is closed with 1008 (--drop-slow)\n"
    "  --drop-slow          close a client over --send-limit instead of dropping its messages\n"
    "  --threads N          N event loops in N threads on the same port (default 1), each with\n"
    "                       its own connections (--max-connections counts per thread);\n"
    "                       --broadcast and --rooms reach the clients of every thread\n"
    "  --log text|json      an access log on stderr: one line per upgrade (remote address, path,\n"
    "                       101) and per close (code, bytes received and sent, seconds, and\n"
    "                       \"dropped\": messages over --send-limit it did not get, if any)\n"
    "  --tls-cert FILE      speak TLS (https:// and wss://) with this PEM certificate chain\n"
    "  --tls-key FILE       its PEM private key (default: in the --tls-cert file)\n"
    "  --redis URL          share --rooms and --broadcast with every node on this Redis\n"
    "                       (redis://[:password@]host:port[/db]); with --threads, the first\n"
    "                       thread talks to Redis for all of them\n"
    "  --redis-prefix P     Redis channel prefix (default wsk:)\n"
    "  --io-uring           wait with io_uring (the requests of an iteration in one system\n"
    "                       call; the default), and say so; epoll, with the reason, if the\n"
    "                       kernel refuses it\n"
    "  --epoll              wait with epoll (also WSK_LOOP_BACKEND=epoll)\n"
    WSK_CLI_DEFLATE_USAGE
    "Text messages are printed on stdout, one per line. Ctrl-C closes every connection with\n"
    "1001 (going away) and exits; a second Ctrl-C exits at once.\n"
    WSK_CLI_EXIT_CODES;

struct serve;

/* One loop and its server, in its own thread (the first one in the main thread). */
struct serve_thread {
  struct serve *sv;
  wsk_loop *loop;
  wsk_server *server;
  pthread_t tid;
  int rc;
  uint64_t shared_out; /* message bytes broadcast by this thread (--log) */
  /* --rooms: the room of the connection being upgraded. on_upgrade sets it and, when it accepts,
   * the library calls on_open for that connection before returning, so nothing is allocated for
   * it (an upgrade that never opens leaves nothing behind). */
  char room[WSK_CLI_ROOM_MAX];
  size_t room_len;
};

struct serve {
  const char *welcome;
  int echo, broadcast, rooms, quiet;
  wsk_hub *hub; /* the servers of every thread */
  struct wsk_cli_rooms *members; /* --rooms: how many are in each room */
  enum wsk_cli_log_format log;
  int stopping; /* main thread only */
  int nthreads;
  struct wsk_loop_options loop_opt;
  atomic_int shut;      /* threads that began their shutdown */
  atomic_size_t closing; /* the WebSockets they are closing */
  struct serve_thread t[MAX_THREADS];
};

#define usage_error(...) wsk_cli_usage_error("serve", __VA_ARGS__)

int wsk_cli_parse_size(const char *s, size_t *out) {
  char *end;
  if (!*s || *s == '-') return -1;
  unsigned long long v = strtoull(s, &end, 10);
  if (end == s) return -1;
  if (*end == 'k' || *end == 'K') {
    v <<= 10;
    end++;
  } else if (*end == 'm' || *end == 'M') {
    v <<= 20;
    end++;
  }
  if (*end || v == 0) return -1;
  *out = (size_t)v;
  return 0;
}

int wsk_cli_parse_ms(const char *s, unsigned *out) {
  char *end;
  if (!*s || *s == '-') return -1;
  unsigned long v = strtoul(s, &end, 10);
  if (*end || v > 86400000ul) return -1;
  *out = (unsigned)v;
  return 0;
}

/* The library prints nothing; what it reports about the server goes to the log (stderr). */
static void on_server_error(wsk_server *s, int err, const char *message) {
  fprintf(stderr, "wsk serve: %s\n", message);
}

/* --rooms: c is subscribed to its room exactly when it counts as a member (on_close relies on it). */
static int join_room(wsk_conn *c, struct serve_thread *t) {
  int rc = wsk_subscribe(c, t->room, t->room_len);
  if (rc >= 0 && (rc = wsk_cli_rooms_join(t->sv->members, t->room, t->room_len)) < 0)
    wsk_unsubscribe(c, t->room, t->room_len);
  return rc;
}

/* The welcome goes out before the member count: the count is published later, from a posted
 * callback, while the welcome is queued here. */
static void on_open(wsk_conn *c) {
  struct serve_thread *t = wsk_server_user_data(wsk_conn_server(c));
  const char *w = t->sv->welcome;
  int joined = 0;
  if (t->sv->broadcast) joined = wsk_subscribe(c, "", 0);
  if (t->sv->rooms) joined = join_room(c, t);
  if (joined < 0) { /* (out of memory) */
    wsk_close(c, WSK_CLOSE_INTERNAL, "cannot join");
    return;
  }
  if (w && wsk_send_text(c, w, strlen(w)) >= 0 && t->sv->log)
    wsk_cli_access_count(c, 0, strlen(w), 0);
}

static int on_upgrade(wsk_server *s, const struct wsk_request *req, wsk_upgrade *up) {
  struct serve_thread *t = wsk_server_user_data(s);
  if (t->sv->rooms) {
    static const char prefix[] = "/room/";
    const char *room = req->path;
    if (strncmp(room, prefix, sizeof prefix - 1) == 0) room += sizeof prefix - 1;
    t->room_len = strlen(room);
    if (t->room_len > sizeof t->room) return 414; /* a room name that long is no name */
    /* The name goes into the member notices, which are text. */
    if (!wsk_utf8_valid((const uint8_t *)room, t->room_len)) return 400;
    memcpy(t->room, room, t->room_len);
  }
  return t->sv->log ? wsk_cli_access_upgrade(up, req, t->sv->log, &t->shared_out)
                    : WSK_UPGRADE_ACCEPT;
}

/* --rooms: a message goes to the connection's room (its one topic). */
struct relay {
  wsk_conn *from;
  int opcode;
  const void *data;
  size_t len;
  int reached;
};
static int relay_to(const void *topic, size_t topic_len, void *arg) {
  struct relay *r = arg;
  r->reached = wsk_conn_publish(r->from, topic, topic_len, r->opcode, r->data, r->len,
                                WSK_PUBLISH_EXCLUDE_SELF);
  return 0;
}

static int leave_room(const void *topic, size_t len, void *members) {
  wsk_cli_rooms_leave(members, topic, len);
  return 0;
}

/* A connection is still subscribed in on_close: it leaves its topics when it is freed. */
static void on_close(wsk_conn *c, unsigned code, const char *reason, size_t reason_len, int clean) {
  struct serve *sv = ((struct serve_thread *)wsk_server_user_data(wsk_conn_server(c)))->sv;
  if (sv->rooms) wsk_conn_topics(c, leave_room, sv->members);
  if (sv->log) wsk_cli_access_close(c, code, clean);
}

static void on_message(wsk_conn *c, int opcode, const void *data, size_t len) {
  struct serve_thread *t = wsk_server_user_data(wsk_conn_server(c));
  struct serve *sv = t->sv;
  if (opcode == WSK_OP_TEXT && !sv->quiet) {
    flockfile(stdout); /* whole lines when several threads print */
    fwrite(data, 1, len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    funlockfile(stdout);
  }
  uint64_t out = 0, shared = 0;
  if (sv->echo && wsk_send(c, opcode, data, len) >= 0)
    out = len;
  else if (sv->broadcast &&
           wsk_conn_publish(c, "", 0, opcode, data, len, WSK_PUBLISH_EXCLUDE_SELF) > 0)
    shared = len;
  else if (sv->rooms) {
    struct relay r = {c, opcode, data, len, 0};
    wsk_conn_topics(c, relay_to, &r);
    if (r.reached > 0) shared = len;
  }
  if (sv->log) {
    t->shared_out += shared;
    wsk_cli_access_count(c, len, out, shared);
  }
}

/* Without --root, plain HTTP is told that this port speaks WebSocket (426 Upgrade Required). */
static int on_http(wsk_server *s, const struct wsk_request *req, wsk_http_reply *reply) {
  static const char text[] = "This is a wsk WebSocket server: connect with a WebSocket client, "
                             "or start wsk serve with --root DIR to serve files here.\n";
  wsk_http_reply_send(reply, 426, "text/plain; charset=utf-8", "Upgrade: websocket\r\n", text,
                      sizeof text - 1);
  return 0;
}

static void on_done(wsk_server *s, void *arg) {
  struct serve_thread *t = arg;
  wsk_loop_stop(t->loop);
}

/* On a thread's own loop: close its WebSockets with 1001, then stop; or stop at once. */
static void shutdown_thread(void *arg) {
  struct serve_thread *t = arg;
  struct serve *sv = t->sv;
  size_t n = atomic_fetch_add(&sv->closing, wsk_server_count(t->server)) +
             wsk_server_count(t->server);
  /* The last thread to begin has the total. */
  if (atomic_fetch_add(&sv->shut, 1) + 1 == sv->nthreads)
    fprintf(stderr, "wsk: closing %zu connection%s\n", n, n == 1 ? "" : "s");
  wsk_server_shutdown(t->server, SHUTDOWN_GRACE_MS, on_done, t);
}

static void stop_thread(void *arg) {
  struct serve_thread *t = arg;
  wsk_loop_stop(t->loop);
}

/* Signals arrive on the main thread's loop; the other loops are told through wsk_loop_wakeup. A
 * second Ctrl-C stops waiting for the peers. */
static void on_signal(wsk_loop *loop, int signo, void *arg) {
  struct serve *sv = arg;
  void (*what)(void *) = sv->stopping ? stop_thread : shutdown_thread;
  sv->stopping = 1;
  for (int i = 1; i < sv->nthreads; i++) wsk_loop_wakeup(sv->t[i].loop, what, &sv->t[i]);
  what(&sv->t[0]);
}

static void *run_thread(void *arg) {
  struct serve_thread *t = arg;
  t->rc = wsk_loop_run(t->loop);
  return NULL;
}

/* A loop and a server for t. Returns 0, or prints why not and returns -1. */
static int open_thread(struct serve_thread *t, const struct wsk_server_options *opt,
                       const struct wsk_loop_options *loop_opt) {
  t->loop = wsk_loop_new_with(loop_opt);
  if (!t->loop) {
    perror("wsk serve: event loop");
    return -1;
  }
  struct wsk_server_options o = *opt;
  o.user_data = t;
  char err[256];
  if (wsk_server_new(t->loop, &o, &t->server, err, sizeof err) != 0) {
    fprintf(stderr, "wsk serve: %s\n", err);
    wsk_loop_free(t->loop);
    return -1;
  }
  return 0;
}

/* The main thread's server first: on port 0 it gets one from the kernel, which the others then
 * share. Its loop watches the signals before the other threads start, so that they inherit the
 * blocked signal mask. Returns the threads opened (all of them unless one failed); the extra
 * threads are running. */
static int open_threads(struct serve *sv, struct wsk_server_options *opt) {
  if (sv->nthreads > 1 && opt->port != 0) {
    /* SO_REUSEPORT would let us join another server's group on the port (of the same user) and
     * take half its connections: bind once without it, so that a port in use fails here as it
     * does with one thread ("Address already in use"). */
    if (open_thread(&sv->t[0], opt, &sv->loop_opt) != 0) return 0;
    wsk_server_free(sv->t[0].server);
    wsk_loop_free(sv->t[0].loop);
  }
  opt->reuse_port = sv->nthreads > 1;
  if (open_thread(&sv->t[0], opt, &sv->loop_opt) != 0) return 0;
  wsk_loop_on_signal(sv->t[0].loop, on_signal, sv);
  if (sv->members) wsk_cli_rooms_announcer(sv->members, sv->t[0].loop, sv->t[0].server);
  opt->port = wsk_server_port(sv->t[0].server);
  int n = 1;
  for (; n < sv->nthreads; n++) {
    struct serve_thread *t = &sv->t[n];
    if (open_thread(t, opt, &sv->loop_opt) != 0) break;
    if (pthread_create(&t->tid, NULL, run_thread, t) != 0) {
      fprintf(stderr, "wsk serve: cannot start thread %d\n", n + 1);
      wsk_server_free(t->server);
      wsk_loop_free(t->loop);
      break;
    }
  }
  return n;
}

/* Stop the extra threads (unless they stopped by themselves), join them, free everything. The
 * servers go before any loop: the connections they drop leave their rooms, which posts to the
 * first loop. */
static int close_threads(struct serve *sv, int n, int stop, int rc) {
  for (int i = 1; i < n; i++) {
    if (stop) wsk_loop_wakeup(sv->t[i].loop, stop_thread, &sv->t[i]);
    pthread_join(sv->t[i].tid, NULL);
    if (!rc) rc = sv->t[i].rc;
  }
  for (int i = 0; i < n; i++) wsk_server_free(sv->t[i].server);
  for (int i = 0; i < n; i++) wsk_loop_free(sv->t[i].loop);
  return rc;
}

/* One descriptor per connection: take all the open-files allowance the system grants. */
static void raise_nofile(void) {
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
}

int wsk_cli_serve(int argc, char **argv) {
  static const struct option longopts[] = {
      {"host", required_argument, NULL, 'H'},    {"port", required_argument, NULL, 'p'},
      {"root", required_argument, NULL, 'r'},    {"echo", no_argument, NULL, 'e'},
      {"broadcast", no_argument, NULL, 'b'},     {"welcome", required_argument, NULL, 'w'},
      {"rooms", no_argument, NULL, 'R'},
      {"max-message", required_argument, NULL, 'm'}, {"origin", required_argument, NULL, 'o'},
      {"quiet", no_argument, NULL, 'q'},         {"help", no_argument, NULL, 'h'},
      {"handshake-timeout", required_argument, NULL, 'T'},
      {"idle-timeout", required_argument, NULL, 'I'},
      {"close-timeout", required_argument, NULL, 'c'},
      {"ping-interval", required_argument, NULL, 'P'},
      {"max-connections", required_argument, NULL, 'N'},
      {"send-limit", required_argument, NULL, 'L'},
      {"drop-slow", no_argument, NULL, 'D'},
      {"log", required_argument, NULL, 'l'},
      {"threads", required_argument, NULL, 'n'},
      {"io-uring", no_argument, NULL, 'U'},      {"epoll", no_argument, NULL, 'E'},
      {"tls-cert", required_argument, NULL, 'C'}, {"tls-key", required_argument, NULL, 'K'},
      {"redis", required_argument, NULL, 'X'}, {"redis-prefix", required_argument, NULL, 'x'},
      WSK_CLI_DEFLATE_LONGOPTS,
      {NULL, 0, NULL, 0}};
  static struct serve sv;
  memset(&sv, 0, sizeof sv);
  sv.nthreads = 1;
  struct wsk_server_options opt;
  wsk_server_options_init(&opt);
  opt.port = 8000;
  const char *origins[MAX_ORIGINS + 1] = {0};
  const char *redis_url = NULL, *redis_prefix = NULL;
  wsk_redis *redis = NULL;
  size_t norigins = 0;
  int c, li = 0;
  optind = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":", longopts, &li)) != -1) {
    char *end;
    int bad = 0;
    switch (c) {
    case 'H': opt.host = optarg; break;
    case 'p': {
      long v = strtol(optarg, &end, 10);
      if (!*optarg || *end || v < 0 || v > 65535) return usage_error("bad port '%s'", optarg);
      opt.port = (int)v;
      break;
    }
    case 'r': opt.root = optarg; break;
    case 'e': sv.echo = 1; break;
    case 'b': sv.broadcast = 1; break;
    case 'R': sv.rooms = 1; break;
    case 'w': sv.welcome = optarg; break;
    case 'm':
      if (wsk_cli_parse_size(optarg, &opt.max_message) != 0)
        return usage_error("bad --max-message '%s'", optarg);
      break;
    case 'o':
      if (norigins == MAX_ORIGINS) return usage_error("too many --origin (%s)", "max 64");
      origins[norigins++] = optarg;
      break;
    case 'q': sv.quiet = 1; break;
    case 'T': bad = wsk_cli_parse_ms(optarg, &opt.handshake_timeout_ms); break;
    case 'I': bad = wsk_cli_parse_ms(optarg, &opt.idle_timeout_ms); break;
    case 'c': bad = wsk_cli_parse_ms(optarg, &opt.close_timeout_ms); break;
    case 'P': bad = wsk_cli_parse_ms(optarg, &opt.ping_interval_ms); break;
    case 'N': bad = wsk_cli_parse_size(optarg, &opt.max_connections); break;
    case 'L': bad = wsk_cli_parse_size(optarg, &opt.send_hard_limit); break;
    case 'D': opt.drop_on_limit = 1; break;
    case 'l': bad = wsk_cli_log_format_parse(optarg, &sv.log); break;
    case 'n': {
      long v = strtol(optarg, &end, 10);
      bad = !*optarg || *end || v < 1 || v > MAX_THREADS;
      if (!bad) sv.nthreads = (int)v;
      break;
    }
    case 'U': sv.loop_opt.backend = WSK_BACKEND_IO_URING; break;
    case 'E': sv.loop_opt.backend = WSK_BACKEND_EPOLL; break;
    case 'C': opt.tls_cert = optarg; break;
    case 'K': opt.tls_key = optarg; break;
    case 'X': redis_url = optarg; break;
    case 'x': redis_prefix = optarg; break;
    case 'h': fputs(usage_text, stdout); return 0;
    case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
    default:
      if (!(bad = wsk_cli_deflate_option(c, optarg, &opt.deflate)))
        return usage_error("unknown option '%s'", argv[optind - 1]);
      bad = bad < 0;
    }
    if (bad) return usage_error("bad --%s '%s'", longopts[li].name, optarg);
  }
  if (optind < argc) return usage_error("unexpected argument '%s'", argv[optind]);
  if (sv.echo && sv.broadcast) return usage_error("choose one of --echo and --broadcast%s", "");
  if (sv.rooms && (sv.echo || sv.broadcast))
    return usage_error("--rooms goes with neither --echo nor --broadcast%s", "");
  if (sv.welcome && wsk_utf8_valid((const uint8_t *)sv.welcome, strlen(sv.welcome)) == 0)
    return usage_error("--welcome must be UTF-8 text%s", "");
  if (redis_prefix && !redis_url) return usage_error("--redis-prefix goes with --redis%s", "");
  if (norigins) opt.origins = origins;
  if (!opt.root) opt.on_http = on_http;
  opt.cb.on_open = on_open;
  opt.cb.on_message = on_message;
  opt.on_server_error = on_server_error;
  if (sv.log || sv.rooms) opt.cb.on_close = on_close;
  if (sv.log || sv.rooms) opt.on_upgrade = on_upgrade;
  /* The hub joins the threads' topics (and tells the Redis bridge, on the first thread, which
   * topics have subscribers on any thread). */
  if (!(opt.hub = sv.hub = wsk_hub_new()) ||
      (sv.rooms && !(sv.members = wsk_cli_rooms_new()))) {
    fprintf(stderr, "wsk serve: out of memory\n");
    wsk_hub_free(sv.hub);
    return 1;
  }

  raise_nofile();
  for (int i = 0; i < sv.nthreads; i++) sv.t[i].sv = &sv;
  int opened = open_threads(&sv, &opt);
  if (opened < sv.nthreads ||
      (redis_url && wsk_cli_redis_start(sv.t[0].server, redis_url, redis_prefix, &redis) != 0)) {
    close_threads(&sv, opened, 1, 0);
    wsk_hub_free(sv.hub);
    wsk_cli_rooms_free(sv.members);
    return 1;
  }
  const char *host = opt.host && *opt.host ? opt.host : "0.0.0.0";
  const char *lb = strchr(host, ':') ? "[" : "", *rb = strchr(host, ':') ? "]" : "";
  int port = opt.port;
  const char *s = opt.tls_cert ? "s" : "";
  /* The listening line comes last: scripts wait for it as the sign that the server is ready. */
  if (opt.root)
    fprintf(stderr, "wsk: serving %s on http%s://%s%s%s:%d/\n", opt.root, s, lb, host, rb, port);
  if (sv.nthreads > 1) fprintf(stderr, "wsk: %d threads share the port\n", sv.nthreads);
  /* (Said when asked for on the command line: WSK_LOOP_BACKEND changes no output.) */
  const char *why = wsk_loop_backend_why(sv.t[0].loop);
  if (sv.loop_opt.backend == WSK_BACKEND_IO_URING && *why)
    fprintf(stderr, "wsk: event loop: epoll (io_uring is not available: %s)\n", why);
  else if (sv.loop_opt.backend == WSK_BACKEND_IO_URING)
    fprintf(stderr, "wsk: event loop: %s\n", wsk_loop_backend(sv.t[0].loop));
  fprintf(stderr, "wsk: listening on ws%s://%s%s%s:%d\n", s, lb, host, rb, port);
  int rc = wsk_loop_run(sv.t[0].loop);
  /* The main loop ends after its shutdown or at a second Ctrl-C, and the others were told too;
   * if it failed by itself, they are stopped now. */
  wsk_cli_redis_stop(redis); /* its counters on the log, then free */
  rc = close_threads(&sv, sv.nthreads, rc != 0 && !sv.stopping, rc);
  wsk_hub_free(sv.hub);
  wsk_cli_rooms_free(sv.members);
  fprintf(stderr, "wsk: stopped\n");
  return rc == 0 ? 0 : 1;
}
