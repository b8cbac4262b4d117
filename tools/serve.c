/* serve.c - `wsk serve`: a WebSocket server on one port, with static files over plain HTTP when
 * --root is given. Messages are echoed (--echo), relayed to every other client (--broadcast) or
 * only printed; text messages are printed on stdout, one per line. SIGINT/SIGTERM close every
 * WebSocket with 1001 and exit 0. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wsk.h"

#define MAX_ORIGINS 64
#define SHUTDOWN_GRACE_MS 3000

static const char usage_text[] =
    "usage: wsk serve [--host H] [--port P] [--root DIR] [--echo | --broadcast] [--welcome TEXT]\n"
    "                 [--max-message BYTES] [--origin O]... [--quiet]\n"
    "                 [--handshake-timeout MS] [--idle-timeout MS] [--close-timeout MS]\n"
    "                 [--ping-interval MS] [--max-connections N] [--send-limit BYTES]\n"
    "                 [--drop-slow]\n"
    "                 [--tls-cert FILE [--tls-key FILE]] [--deflate [--deflate-...]]\n"
    "  --host H             listen address (default 0.0.0.0; :: for IPv6 and IPv4)\n"
    "  --port P             port (default 8000; 0 = any free port, printed at startup)\n"
    "  --root DIR           serve the files of DIR over HTTP on the same port\n"
    "  --echo               send every message back to its sender\n"
    "  --broadcast          send every message to every other client\n"
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
    "  --tls-cert FILE      speak TLS (https:// and wss://) with this PEM certificate chain\n"
    "  --tls-key FILE       its PEM private key (default: in the --tls-cert file)\n"
    WSK_CLI_DEFLATE_USAGE
    "Text messages are printed on stdout, one per line. Ctrl-C closes every connection with\n"
    "1001 (going away) and exits.\n";

struct serve {
  wsk_loop *loop;
  wsk_server *server;
  const char *welcome;
  int echo, broadcast, quiet;
  int stopping;
};

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "wsk serve: ");
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n%s", usage_text);
  return 2;
}

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

/* Milliseconds: 0 (none) to a day. */
static int parse_ms(const char *s, unsigned *out) {
  char *end;
  if (!*s || *s == '-') return -1;
  unsigned long v = strtoul(s, &end, 10);
  if (*end || v > 86400000ul) return -1;
  *out = (unsigned)v;
  return 0;
}

static void on_open(wsk_conn *c) {
  struct serve *sv = wsk_server_user_data(wsk_conn_server(c));
  if (sv->welcome) wsk_send_text(c, sv->welcome, strlen(sv->welcome));
}

static void on_message(wsk_conn *c, int opcode, const void *data, size_t len) {
  struct serve *sv = wsk_server_user_data(wsk_conn_server(c));
  if (opcode == WSK_OP_TEXT && !sv->quiet) {
    fwrite(data, 1, len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
  }
  if (sv->echo)
    wsk_send(c, opcode, data, len);
  else if (sv->broadcast)
    wsk_server_broadcast(sv->server, opcode, data, len, c);
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
  struct serve *sv = arg;
  wsk_loop_stop(sv->loop);
}

static void on_signal(wsk_loop *loop, int signo, void *arg) {
  struct serve *sv = arg;
  if (sv->stopping) { /* a second Ctrl-C: stop waiting for the peers */
    wsk_loop_stop(loop);
    return;
  }
  sv->stopping = 1;
  wsk_server_shutdown(sv->server, SHUTDOWN_GRACE_MS, on_done, sv);
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
      {"max-message", required_argument, NULL, 'm'}, {"origin", required_argument, NULL, 'o'},
      {"quiet", no_argument, NULL, 'q'},         {"help", no_argument, NULL, 'h'},
      {"handshake-timeout", required_argument, NULL, 'T'},
      {"idle-timeout", required_argument, NULL, 'I'},
      {"close-timeout", required_argument, NULL, 'c'},
      {"ping-interval", required_argument, NULL, 'P'},
      {"max-connections", required_argument, NULL, 'N'},
      {"send-limit", required_argument, NULL, 'L'},
      {"drop-slow", no_argument, NULL, 'D'},
      {"tls-cert", required_argument, NULL, 'C'}, {"tls-key", required_argument, NULL, 'K'},
      WSK_CLI_DEFLATE_LONGOPTS,
      {NULL, 0, NULL, 0}};
  struct serve sv = {0};
  struct wsk_server_options opt;
  wsk_server_options_init(&opt);
  opt.port = 8000;
  const char *origins[MAX_ORIGINS + 1] = {0};
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
    case 'T': bad = parse_ms(optarg, &opt.handshake_timeout_ms); break;
    case 'I': bad = parse_ms(optarg, &opt.idle_timeout_ms); break;
    case 'c': bad = parse_ms(optarg, &opt.close_timeout_ms); break;
    case 'P': bad = parse_ms(optarg, &opt.ping_interval_ms); break;
    case 'N': bad = wsk_cli_parse_size(optarg, &opt.max_connections); break;
    case 'L': bad = wsk_cli_parse_size(optarg, &opt.send_hard_limit); break;
    case 'D': opt.drop_on_limit = 1; break;
    case 'C': opt.tls_cert = optarg; break;
    case 'K': opt.tls_key = optarg; break;
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
  if (sv.welcome && wsk_utf8_valid((const uint8_t *)sv.welcome, strlen(sv.welcome)) == 0)
    return usage_error("--welcome must be UTF-8 text%s", "");
  if (norigins) opt.origins = origins;
  if (!opt.root) opt.on_http = on_http;
  opt.cb.on_open = on_open;
  opt.cb.on_message = on_message;
  opt.user_data = &sv;

  raise_nofile();
  sv.loop = wsk_loop_new();
  if (!sv.loop) {
    perror("wsk serve: event loop");
    return 1;
  }
  char err[256];
  if (wsk_server_new(sv.loop, &opt, &sv.server, err, sizeof err) != 0) {
    fprintf(stderr, "wsk serve: %s\n", err);
    wsk_loop_free(sv.loop);
    return 1;
  }
  wsk_loop_on_signal(sv.loop, on_signal, &sv);
  const char *host = opt.host && *opt.host ? opt.host : "0.0.0.0";
  const char *lb = strchr(host, ':') ? "[" : "", *rb = strchr(host, ':') ? "]" : "";
  int port = wsk_server_port(sv.server);
  const char *s = opt.tls_cert ? "s" : "";
  /* The listening line comes last: scripts wait for it as the sign that the server is ready. */
  if (opt.root)
    fprintf(stderr, "wsk: serving %s on http%s://%s%s%s:%d/\n", opt.root, s, lb, host, rb, port);
  fprintf(stderr, "wsk: listening on ws%s://%s%s%s:%d\n", s, lb, host, rb, port);
  int rc = wsk_loop_run(sv.loop);
  wsk_server_free(sv.server);
  wsk_loop_free(sv.loop);
  return rc == 0 ? 0 : 1;
}
