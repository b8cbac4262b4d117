/* test_routes.c - the route table of the server options: patterns wsk_server_new refuses (and
 * why), the copy it makes (the caller's table and strings may go away at once), and the
 * drain_low_water check. Matching itself is tested over real sockets (integration/server_api). */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "raw_peer.h"
#include "wsk.h"

static wsk_loop *loop;

static int new_server(const struct wsk_route *routes, size_t n, wsk_server **s, char *err) {
  struct wsk_server_options so;
  wsk_server_options_init(&so);
  so.host = "127.0.0.1";
  so.routes = routes;
  so.num_routes = n;
  *s = NULL;
  return wsk_server_new(loop, &so, s, err, 256);
}

static void test_refused(void) {
  static const char *const bad[] = {"", "chat", "/a*b", "/**", "**", "/a/*/b"};
  char err[256];
  wsk_server *s;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct wsk_route r[2] = {{.pattern = "/ok"}, {.pattern = bad[i]}};
    CHECK_EQ(new_server(r, 2, &s, err), WSK_EINVAL);
    CHECK(s == NULL);
    CHECK(strstr(err, "route 1: the pattern must be") != NULL);
  }
  struct wsk_route null_pattern = {0};
  CHECK_EQ(new_server(&null_pattern, 1, &s, err), WSK_EINVAL);
  CHECK_EQ(new_server(NULL, 3, &s, err), WSK_EINVAL);
  struct wsk_route *many = calloc(65536, sizeof *many);
  for (size_t i = 0; i < 65536; i++) many[i].pattern = "*";
  CHECK_EQ(new_server(many, 65536, &s, err), WSK_EINVAL); /* 16 bits per connection */
  CHECK_EQ(new_server(many, 65535, &s, err), 0);
  wsk_server_free(s);
  free(many);
  static const char *const good[] = {"*", "/", "/*", "/a", "/a/*", "/a*"};
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    struct wsk_route r = {.pattern = good[i]};
    CHECK_EQ(new_server(&r, 1, &s, err), 0);
    wsk_server_free(s);
  }
}

static void test_drain_low_water(void) {
  struct wsk_server_options so;
  wsk_server_options_init(&so);
  so.host = "127.0.0.1";
  so.drain_low_water = so.send_high_water + 1;
  wsk_server *s;
  char err[256];
  CHECK_EQ(wsk_server_new(loop, &so, &s, err, sizeof err), WSK_EINVAL);
  CHECK_STR(err, "drain_low_water is over send_high_water");
  so.drain_low_water = so.send_high_water;
  CHECK_EQ(wsk_server_new(loop, &so, &s, err, sizeof err), 0);
  wsk_server_free(s);
}

static int answer(wsk_server *s, const struct wsk_request *req, wsk_http_reply *reply) {
  return wsk_http_reply_send(reply, 200, "text/plain", NULL, req->route->user_data, 5);
}

static void stop(void *arg) { wsk_loop_stop(loop); }

static void test_copied(void) {
  char pattern[] = "/r";
  struct wsk_route *r = calloc(1, sizeof *r);
  r->pattern = pattern;
  r->on_http = answer;
  r->user_data = "route";
  wsk_server *s;
  char err[256];
  CHECK_EQ(new_server(r, 1, &s, err), 0);
  pattern[1] = 'x'; /* the server matches its own copy */
  free(r);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)wsk_server_port(s))};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK_EQ(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  static const char req[] = "GET /r HTTP/1.1\r\nHost: h\r\n\r\n";
  CHECK_EQ(write(fd, req, sizeof req - 1), (ssize_t)(sizeof req - 1));
  char buf[512];
  ssize_t n = -1;
  for (int i = 0; i < 250 && n <= 0; i++) { /* at most 5 s: a busy machine may be slow */
    wsk_loop_update_time(loop); /* (the loop has not run for a while) */
    wsk_timer *t = wsk_timer_start(loop, 20, 0, stop, NULL);
    wsk_loop_run(loop);
    wsk_timer_stop(t);
    n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
  }
  buf[n > 0 ? n : 0] = '\0';
  CHECK(strncmp(buf, "HTTP/1.1 200 ", 13) == 0);
  CHECK(n > 5 && memcmp(buf + n - 5, "route", 5) == 0);
  close(fd);
  wsk_server_free(s);
}

int main(void) {
  loop = wsk_loop_new();
  test_refused();
  test_drain_low_water();
  test_copied();
  wsk_loop_free(loop);
  return check_report();
}
