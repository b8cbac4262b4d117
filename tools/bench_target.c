/* bench_target.c - turn a ws:// or wss:// URL given to `wsk bench` into an address, Host and
 * path. */
#include <netdb.h>
#include <stdio.h>
#include <string.h>

#include "bench_net.h"

int bench_target_parse(const char *url, struct bench_target *t, char *err, size_t errlen) {
  memset(t, 0, sizeof *t);
  t->tls = strncmp(url, "wss://", 6) == 0;
  if (!t->tls && strncmp(url, "ws://", 5) != 0) {
    snprintf(err, errlen, "%s: the URL must start with ws:// or wss://", url);
    return -1;
  }
  const char *auth = url + (t->tls ? 6 : 5), *slash = strchr(auth, '/');
  size_t auth_len = slash ? (size_t)(slash - auth) : strlen(auth);
  const char *path = slash ? slash : "/";
  if (auth_len == 0 || auth_len >= sizeof t->host_port || strlen(path) >= sizeof t->path) {
    snprintf(err, errlen, "%s: missing or overlong host or path", url);
    return -1;
  }
  memcpy(t->host_port, auth, auth_len);
  memcpy(t->path, path, strlen(path) + 1);

  /* Split host and port; an IPv6 literal is in brackets. */
  char host[sizeof t->host_port];
  const char *port = t->tls ? "443" : "80";
  memcpy(host, auth, auth_len);
  host[auth_len] = '\0';
  char *h = host, *colon;
  if (host[0] == '[') {
    char *close = strchr(host, ']');
    if (!close || (close[1] != '\0' && close[1] != ':')) {
      snprintf(err, errlen, "%s: bad IPv6 literal", url);
      return -1;
    }
    *close = '\0';
    h = host + 1;
    if (close[1] == ':') port = close + 2;
  } else if ((colon = strrchr(host, ':')) != NULL) {
    *colon = '\0';
    port = colon + 1;
  }

  snprintf(t->host, sizeof t->host, "%s", h);
  struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
  int rc = getaddrinfo(h, port, &hints, &res);
  if (rc != 0) {
    snprintf(err, errlen, "%s: cannot resolve %s port %s: %s", url, h, port, gai_strerror(rc));
    return -1;
  }
  memcpy(&t->addr, res->ai_addr, res->ai_addrlen);
  t->addr_len = res->ai_addrlen;
  freeaddrinfo(res);
  return 0;
}
