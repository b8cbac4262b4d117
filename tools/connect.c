/* connect.c - `wsk connect URL`: a WebSocket client for the terminal and for scripts.
 *
 * Interactive by default: each line of stdin is sent as a text message (--binary: binary), each
 * message received is printed on stdout (text as is, binary as `< [binary N bytes] HEX`; --json:
 * one JSON object per message). At the end of stdin, as after -x, it waits --wait seconds for
 * answers (or for the server's close) and then closes with 1000; messages that arrive while our
 * close is on its way are still printed (deliver_after_close). --echo sends every message back.
 * After a closing handshake it exits once the server has closed TCP (RFC 6455 7.1.1), or after
 * the close timeout (5 s).
 * --show-frames prints the handshake lines and every frame header on stderr. Exit status: 0 after
 * a clean close (1000, 1001 or no code), 1 with a one-line reason on stderr otherwise, 2 for bad
 * usage. stdin is read through the loop, so messages keep arriving while the user types. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "cli.h"
#include "wsk.h"

#define MAX_LIST 64
#define QUEUE_LIMIT (64u * 1024 * 1024)

static const char usage_text[] =
    "usage: wsk connect URL [-H 'Name: value']... [--subprotocol P]... [--origin O]\n"
    "                   [-x MESSAGE]... [--wait S] [--binary] [--echo] [--show-frames]\n"
    "                   [--reconnect] [--ca FILE|DIR] [--insecure] [--max-message BYTES]\n"
    "                   [--connect-timeout MS] [--handshake-timeout MS]\n"
    "                   [--close-timeout MS] [--json]\n"
    "                   [--deflate [--deflate-...]]\n"
    "  -H, --header 'N: V'  add a request header (repeatable)\n"
    "  --subprotocol P      offer subprotocol P (repeatable, in order of preference)\n"
    "  --origin O           send Origin: O\n"
    "  -x, --execute MSG    send MSG once connected (repeatable), then close after --wait\n"
    "  --wait S             after -x or the end of stdin: seconds to wait for answers, or\n"
    "                       for the server's close, before closing (default 2)\n"
    "  --binary             send stdin lines and -x messages as binary messages\n"
    "  --echo               send every message received back, until the server closes\n"
    "  --show-frames        print the handshake and every frame header on stderr\n"
    "  --json               print each message received as one JSON object per line:\n"
    "                       {\"time\":SECONDS,\"opcode\":\"text\"|\"binary\",\"data\":...}\n"
    "                       (binary data in hex)\n"
    "  --reconnect          reconnect with backoff when the connection ends (not after a\n"
    "                       refusal with a 4xx status other than 408 and 429, nor after a\n"
    "                       certificate that does not verify)\n"
    "  --ca FILE|DIR        wss://: trust the CAs of this PEM file or hashed directory instead\n"
    "                       of the system's\n"
    "  --insecure           wss://: do not verify the server's certificate (testing only)\n"
    "  --connect-timeout MS  give up when DNS and the TCP connect take longer (default 10000)\n"
    "  --handshake-timeout MS  give up when the server's 101 has not come MS after the TCP\n"
    "                       connect (default 10000; 0 = never)\n"
    "  --close-timeout MS   drop the connection when the server has not ended the closing\n"
    "                       handshake (its close frame, then TCP) MS after ours (default 5000)\n"
    "  --max-message BYTES  largest message accepted (default 16M; k and m suffixes); a bigger\n"
    "                       one closes the connection with 1009\n"
    WSK_CLI_DEFLATE_USAGE
    "Without -x or --echo, each line of stdin is sent as a message and every message received\n"
    "is printed on stdout; at the end of stdin (Ctrl-D) it waits --wait seconds for answers,\n"
    "then closes with 1000.\n"
    WSK_CLI_EXIT_CODES;

struct cli {
  wsk_loop *loop;
  wsk_client *client;
  wsk_watch *in;
  wsk_timer *wait_timer;
  const char *x[MAX_LIST];
  size_t nx;
  unsigned wait_ms;
  int binary, echo, show_frames, reconnect, json;
  int stdin_eof, interrupted, exit_code;
  char *line;
  size_t line_len, line_cap;
  char error[512];  /* what on_error said about the current connection */
  char reason[640]; /* the one-line reason for a non-zero exit */
};

#define usage_error(...) wsk_cli_usage_error("connect", __VA_ARGS__)

/* Keep the first non-zero exit status and its reason. */
static void set_result(struct cli *cli, int code, const char *reason) {
  if (code && !cli->exit_code) {
    cli->exit_code = code;
    snprintf(cli->reason, sizeof cli->reason, "%s", reason);
  }
}

static void finish(struct cli *cli, int code, const char *reason) {
  set_result(cli, code, reason);
  wsk_loop_stop(cli->loop);
}

/* The connection is over, but its socket may linger: after a closing handshake the client leaves
 * the TCP close to the server (RFC 6455 7.1.1), and the library waits for the server's FIN (at
 * most close_timeout_ms). Stop what is ours in the loop; wsk_loop_run returns once the socket is
 * gone. */
static void ended(struct cli *cli, int code, const char *reason) {
  set_result(cli, code, reason);
  if (cli->in) wsk_watch_stop(cli->in);
  cli->in = NULL;
  if (cli->wait_timer) wsk_timer_stop(cli->wait_timer);
  cli->wait_timer = NULL;
}

/* ---- the connection -------------------------------------------------------------------------- */

static void send_message(struct cli *cli, const char *data, size_t len) {
  int r = wsk_client_send(cli->client, cli->binary ? WSK_OP_BINARY : WSK_OP_TEXT, data, len);
  if (r == WSK_EUTF8)
    fprintf(stderr, "wsk connect: not sent: the line is not valid UTF-8 (use --binary)\n");
  else if (r < 0)
    fprintf(stderr, "wsk connect: not sent: %s\n", wsk_strerror(r));
}

static void on_wait_over(void *arg) {
  struct cli *cli = arg;
  wsk_timer_stop(cli->wait_timer);
  cli->wait_timer = NULL;
  wsk_client_close(cli->client, WSK_CLOSE_NORMAL, NULL);
}

/* After -x or the end of stdin, answers may still be on their way: close after --wait. */
static void start_wait(struct cli *cli) {
  if (!cli->wait_timer)
    cli->wait_timer = wsk_timer_start(cli->loop, cli->wait_ms, 0, on_wait_over, cli);
  if (!cli->wait_timer) wsk_client_close(cli->client, WSK_CLOSE_NORMAL, NULL);
}

static void on_open(wsk_conn *c) {
  struct cli *cli = wsk_conn_user_data(c);
  const char *proto = wsk_conn_protocol(c);
  if (*proto) fprintf(stderr, "wsk connect: connected, subprotocol %s\n", proto);
  const char *ext = wsk_conn_response_header(c, "Sec-WebSocket-Extensions");
  if (ext && wsk_conn_deflate(c, NULL)) wsk_cli_log("wsk connect: compressing: ", ext, strlen(ext));
  for (size_t i = 0; i < cli->nx; i++) send_message(cli, cli->x[i], strlen(cli->x[i]));
  if (cli->nx || cli->stdin_eof) start_wait(cli);
}

static void print_hex(const uint8_t *p, size_t len) {
  static const char digits[] = "0123456789abcdef";
  char hex[4096];
  for (size_t i = 0; i < len;) {
    size_t n = 0;
    for (; i < len && n + 2 <= sizeof hex; i++) {
      hex[n++] = digits[p[i] >> 4];
      hex[n++] = digits[p[i] & 15];
    }
    fwrite(hex, 1, n, stdout); /* cppcheck-suppress uninitvar ; n bytes were just written */
  }
}

/* --json: {"time":UNIX_SECONDS,"opcode":"text"|"binary","data":TEXT_OR_HEX} on one line. */
static void print_json(int opcode, const void *data, size_t len) {
  struct timeval tv;
  gettimeofday(&tv, NULL);
  printf("{\"time\":%lld.%03ld,\"opcode\":\"%s\",\"data\":", (long long)tv.tv_sec,
         (long)(tv.tv_usec / 1000), opcode == WSK_OP_TEXT ? "text" : "binary");
  if (opcode == WSK_OP_TEXT) {
    wsk_cli_json_str(stdout, data, len);
  } else {
    putchar('"');
    print_hex(data, len);
    putchar('"');
  }
  fputs("}\n", stdout);
  fflush(stdout);
}

static void print_message(int opcode, const void *data, size_t len) {
  if (opcode == WSK_OP_TEXT) {
    fwrite(data, 1, len, stdout);
    fputc('\n', stdout);
  } else {
    printf("< [binary %zu bytes] ", len);
    print_hex(data, len);
    fputc('\n', stdout);
  }
  fflush(stdout);
}

static void on_message(wsk_conn *c, int opcode, const void *data, size_t len) {
  struct cli *cli = wsk_conn_user_data(c);
  if (cli->json)
    print_json(opcode, data, len);
  else
    print_message(opcode, data, len);
  if (cli->echo) wsk_send(c, opcode, data, len);
}

static void on_error(wsk_conn *c, int err, const char *message) {
  struct cli *cli = wsk_conn_user_data(c);
  if (cli->reconnect) wsk_cli_log("wsk connect: ", message, strlen(message));
  if (!cli->error[0]) snprintf(cli->error, sizeof cli->error, "%s", message);
}

/* --reconnect stops on its own after an error that another attempt would meet again: say so. */
static void permanent_error(const struct cli *cli) {
  const struct wsk_client_error *e = wsk_client_error(cli->client);
  if (!cli->reconnect || !e || !e->stop) return;
  if (e->category == WSK_CLIENT_ERR_REFUSED)
    fprintf(stderr, "wsk connect: not reconnecting: the server refused the upgrade with status %d, "
                    "which another attempt would get too\n", e->http_status);
  else if (e->category == WSK_CLIENT_ERR_TLS_VERIFY)
    fprintf(stderr, "wsk connect: not reconnecting: the server's certificate does not verify\n");
}

static void on_close(wsk_conn *c, unsigned code, const char *reason, size_t reason_len, int clean) {
  struct cli *cli = wsk_conn_user_data(c);
  char msg[640];
  int failed = cli->error[0] != '\0';
  snprintf(msg, sizeof msg, "%s", cli->error);
  cli->error[0] = '\0';
  if (wsk_client_reconnecting(cli->client)) return;
  permanent_error(cli);
  if (failed) {
    ended(cli, 1, msg);
  } else if (!clean) {
    ended(cli, 1, "the connection ended without a closing handshake (1006)");
  } else if (code == WSK_CLOSE_NORMAL || code == WSK_CLOSE_GOING_AWAY ||
             code == WSK_CLOSE_NO_STATUS) {
    ended(cli, 0, NULL);
  } else {
    snprintf(msg, sizeof msg, "closed with code %u%s%.*s%s", code, reason_len ? " (" : "",
             (int)reason_len, reason, reason_len ? ")" : "");
    ended(cli, 1, msg);
  }
}

static void on_reconnect(wsk_client *cl, unsigned attempt, unsigned delay_ms) {
  fprintf(stderr, "wsk connect: reconnecting in %u ms (attempt %u)\n", delay_ms, attempt);
}

/* ---- --show-frames --------------------------------------------------------------------------- */

static const char *opcode_name(unsigned op) {
  switch (op) {
  case WSK_OP_CONT: return "continuation";
  case WSK_OP_TEXT: return "text";
  case WSK_OP_BINARY: return "binary";
  case WSK_OP_CLOSE: return "close";
  case WSK_OP_PING: return "ping";
  case WSK_OP_PONG: return "pong";
  default: return "reserved";
  }
}

static void on_frame(wsk_conn *c, int outgoing, const struct wsk_frame_header *h) {
  fprintf(stderr, "%c frame FIN=%u RSV=%u%u%u opcode=0x%x (%s) MASK=%u len=%llu\n",
          outgoing ? '>' : '<', h->fin, (h->rsv >> 2) & 1u, (h->rsv >> 1) & 1u, h->rsv & 1u,
          h->opcode, opcode_name(h->opcode), h->masked, (unsigned long long)h->payload_len);
}

static void on_handshake_line(wsk_conn *c, int outgoing, const char *line, size_t len) {
  wsk_cli_log(outgoing ? "> " : "< ", line, len);
}

/* ---- stdin ----------------------------------------------------------------------------------- */

/* Send every complete line in buf (and the rest too at the end of input). */
static void take_input(struct cli *cli, const char *buf, size_t n, int eof) {
  if (cli->line_len + n > cli->line_cap) {
    size_t cap = (cli->line_len + n) * 2;
    char *p = realloc(cli->line, cap);
    if (!p) {
      finish(cli, 1, "out of memory reading stdin");
      return;
    }
    cli->line = p;
    cli->line_cap = cap;
  }
  if (n) memcpy(cli->line + cli->line_len, buf, n); /* (line is NULL while nothing was read) */
  cli->line_len += n;
  size_t start = 0;
  for (size_t i = 0; i < cli->line_len; i++) {
    if (cli->line[i] != '\n') continue;
    size_t end = i > start && cli->line[i - 1] == '\r' ? i - 1 : i;
    send_message(cli, cli->line + start, end - start);
    start = i + 1;
  }
  if (eof && start < cli->line_len) {
    send_message(cli, cli->line + start, cli->line_len - start);
    start = cli->line_len;
  }
  if (start) memmove(cli->line, cli->line + start, cli->line_len - start);
  cli->line_len -= start;
}

static void input_ended(struct cli *cli) {
  cli->stdin_eof = 1;
  if (wsk_client_conn(cli->client)) start_wait(cli); /* else on_open starts it */
}

static void on_stdin(wsk_watch *w, int fd, unsigned events, void *arg) {
  struct cli *cli = arg;
  char buf[65536];
  ssize_t n = read(fd, buf, sizeof buf);
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
  if (n > 0) {
    take_input(cli, buf, (size_t)n, 0);
    return;
  }
  if (n < 0) fprintf(stderr, "wsk connect: reading stdin: %s\n", strerror(errno));
  take_input(cli, buf, 0, 1);
  wsk_watch_stop(cli->in);
  cli->in = NULL;
  input_ended(cli);
}

/* stdin through the loop; a regular file (or /dev/null) cannot be watched and never blocks. */
static int watch_stdin(struct cli *cli) {
  cli->in = wsk_loop_watch_fd(cli->loop, STDIN_FILENO, WSK_WATCH_IN, on_stdin, cli);
  if (cli->in) return 0;
  if (errno != EPERM) return -1;
  char buf[65536];
  ssize_t n;
  while ((n = read(STDIN_FILENO, buf, sizeof buf)) > 0) take_input(cli, buf, (size_t)n, 0);
  take_input(cli, buf, 0, 1);
  input_ended(cli);
  return 0;
}

static void on_signal(wsk_loop *loop, int signo, void *arg) {
  struct cli *cli = arg;
  if (cli->interrupted++ || !wsk_client_conn(cli->client)) {
    finish(cli, 130, "interrupted");
    return;
  }
  wsk_client_close(cli->client, WSK_CLOSE_NORMAL, NULL); /* a second Ctrl-C stops waiting */
}

/* ---- options --------------------------------------------------------------------------------- */

int wsk_cli_connect(int argc, char **argv) {
  static const struct option longopts[] = {
      {"header", required_argument, NULL, 'H'},      {"subprotocol", required_argument, NULL, 's'},
      {"origin", required_argument, NULL, 'o'},      {"execute", required_argument, NULL, 'x'},
      {"wait", required_argument, NULL, 'w'},        {"binary", no_argument, NULL, 'b'},
      {"echo", no_argument, NULL, 'e'},              {"show-frames", no_argument, NULL, 'f'},
      {"reconnect", no_argument, NULL, 'r'},         {"help", no_argument, NULL, 'h'},
      {"ca", required_argument, NULL, 'c'},          {"insecure", no_argument, NULL, 'k'},
      {"max-message", required_argument, NULL, 'm'}, {"json", no_argument, NULL, 'j'},
      {"connect-timeout", required_argument, NULL, 'C'},
      {"handshake-timeout", required_argument, NULL, 'T'},
      {"close-timeout", required_argument, NULL, 'L'},
      WSK_CLI_DEFLATE_LONGOPTS,
      {NULL, 0, NULL, 0}};
  struct cli cli = {.wait_ms = 2000};
  const char *headers[MAX_LIST + 1] = {0}, *protocols[MAX_LIST + 1] = {0};
  size_t nh = 0, np = 0;
  struct wsk_client_options opt;
  wsk_client_options_init(&opt);
  int c, li = 0;
  optind = 0;
  opterr = 0;
  while ((c = getopt_long(argc, argv, ":H:x:", longopts, &li)) != -1) {
    switch (c) {
    case 'H':
      if (nh == MAX_LIST) return usage_error("too many headers (%s)", "max 64");
      headers[nh++] = optarg;
      break;
    case 's':
      if (np == MAX_LIST) return usage_error("too many subprotocols (%s)", "max 64");
      protocols[np++] = optarg;
      break;
    case 'o': opt.origin = optarg; break;
    case 'x':
      if (cli.nx == MAX_LIST) return usage_error("too many -x (%s)", "max 64");
      cli.x[cli.nx++] = optarg;
      break;
    case 'w': {
      char *end;
      double s = strtod(optarg, &end);
      if (!*optarg || *end || !(s >= 0 && s <= 86400))
        return usage_error("bad --wait '%s'", optarg);
      cli.wait_ms = (unsigned)(s * 1000 + 0.5);
      break;
    }
    case 'b': cli.binary = 1; break;
    case 'e': cli.echo = 1; break;
    case 'f': cli.show_frames = 1; break;
    case 'r': cli.reconnect = 1; break;
    case 'j': cli.json = 1; break;
    case 'C':
      if (wsk_cli_parse_ms(optarg, &opt.connect_timeout_ms) != 0 || !opt.connect_timeout_ms)
        return usage_error("bad --connect-timeout '%s'", optarg);
      break;
    case 'T':
      if (wsk_cli_parse_ms(optarg, &opt.handshake_timeout_ms) != 0)
        return usage_error("bad --handshake-timeout '%s'", optarg);
      break;
    case 'L':
      if (wsk_cli_parse_ms(optarg, &opt.close_timeout_ms) != 0 || !opt.close_timeout_ms)
        return usage_error("bad --close-timeout '%s'", optarg);
      break;
    case 'c': {
      struct stat st;
      if (stat(optarg, &st) != 0) return usage_error("cannot read --ca '%s'", optarg);
      if (S_ISDIR(st.st_mode))
        opt.tls_ca_dir = optarg;
      else
        opt.tls_ca_file = optarg;
      break;
    }
    case 'k': opt.tls_insecure = 1; break;
    case 'm':
      if (wsk_cli_parse_size(optarg, &opt.max_message) != 0)
        return usage_error("bad --max-message '%s'", optarg);
      break;
    case 'h': fputs(usage_text, stdout); return 0;
    case ':': return usage_error("option '%s' needs a value", argv[optind - 1]);
    default:
      switch (wsk_cli_deflate_option(c, optarg, &opt.deflate)) {
      case 1: break;
      case 0: return usage_error("unknown option '%s'", argv[optind - 1]);
      default: return usage_error("bad --%s '%s'", longopts[li].name, optarg);
      }
    }
  }
  if (optind != argc - 1)
    return usage_error("%s", optind >= argc ? "a URL is required" : "only one URL, please");
  if (cli.echo && cli.nx) return usage_error("choose one of --echo and -x%s", "");
  const char *url = argv[optind];
  if (opt.tls_insecure)
    fprintf(stderr, "wsk connect: warning: --insecure: the server's certificate is not verified; "
                    "anyone on the path can pose as the server\n");
  if (nh) opt.headers = headers;
  if (np) opt.protocols = protocols;
  opt.cb.on_open = on_open;
  opt.cb.on_message = on_message;
  opt.cb.on_error = on_error;
  opt.cb.on_close = on_close;
  opt.user_data = &cli;
  opt.queue_limit = QUEUE_LIMIT; /* lines typed before the connection opens are sent then */
  opt.reconnect = cli.reconnect;
  opt.on_reconnect = on_reconnect;
  opt.deliver_after_close = 1; /* answers to the last lines may cross our close */
  if (cli.show_frames) {
    opt.on_frame = on_frame;
    opt.on_handshake_line = on_handshake_line;
  }

  cli.loop = wsk_loop_new();
  if (!cli.loop) {
    perror("wsk connect: event loop");
    return 1;
  }
  char err[512];
  int r = wsk_connect(cli.loop, url, &opt, &cli.client, err, sizeof err);
  if (r < 0) {
    fprintf(stderr, "wsk connect: %s\n", err);
    wsk_loop_free(cli.loop);
    return r == WSK_EINVAL || r == WSK_EUNSUPPORTED ? 2 : 1;
  }
  wsk_loop_on_signal(cli.loop, on_signal, &cli);
  if (!cli.nx && !cli.echo && watch_stdin(&cli) != 0) {
    fprintf(stderr, "wsk connect: cannot watch stdin: %s\n", strerror(errno));
    cli.exit_code = 1;
  } else if (wsk_loop_run(cli.loop) != 0) {
    finish(&cli, 1, "the event loop failed");
  }
  if (cli.in) wsk_watch_stop(cli.in);
  if (cli.wait_timer) wsk_timer_stop(cli.wait_timer);
  wsk_client_free(cli.client);
  if (cli.exit_code && cli.reason[0]) wsk_cli_log("wsk connect: ", cli.reason, strlen(cli.reason));
  wsk_loop_free(cli.loop);
  free(cli.line);
  return cli.exit_code;
}
