/* route.c - path routing: the server's copy of the route table (server option routes), the
 * pattern check at wsk_server_new, and the first-match lookup for each request. */
#include <stdio.h>
#include <string.h>

#include "proto/alloc_internal.h"
#include "server/server_internal.h"

#define ROUTES_MAX 65535 /* a connection keeps its route in 16 bits */

static int pattern_ok(const char *p) {
  if (!p || (p[0] != '/' && strcmp(p, "*") != 0)) return 0;
  const char *star = strchr(p, '*');
  return !star || star[1] == '\0';
}

int wsk__routes_copy(wsk_server *s, const struct wsk_route *routes, size_t n, char *errbuf,
                    size_t errlen) {
  if (!n) return 0;
  if (!routes || n > ROUTES_MAX) {
    if (errbuf) snprintf(errbuf, errlen, "routes: an array of 1 to %d routes", ROUTES_MAX);
    return WSK_EINVAL;
  }
  for (size_t i = 0; i < n; i++) {
    if (!pattern_ok(routes[i].pattern)) {
      if (errbuf)
        snprintf(errbuf, errlen, "route %zu: the pattern must be \"*\" or a path starting with "
                 "'/', with '*' only at its end", i);
      return WSK_EINVAL;
    }
  }
  if (!(s->routes = wsk__calloc(n, sizeof *s->routes))) return WSK_ENOMEM;
  s->num_routes = n;
  for (size_t i = 0; i < n; i++) {
    s->routes[i] = routes[i];
    if (!(s->routes[i].pattern = wsk__strdup(routes[i].pattern))) return WSK_ENOMEM;
  }
  return 0;
}

void wsk__routes_free(wsk_server *s) {
  for (size_t i = 0; i < s->num_routes; i++) wsk__free((char *)s->routes[i].pattern);
  wsk__free(s->routes);
  s->routes = NULL;
  s->num_routes = 0;
}

static int matches(const char *pattern, const char *path) {
  size_t n = strlen(pattern);
  if (n && pattern[n - 1] == '*') return strncmp(pattern, path, n - 1) == 0;
  return strcmp(pattern, path) == 0;
}

size_t wsk__route_find(const wsk_server *s, const char *path) {
  for (size_t i = 0; i < s->num_routes; i++)
    if (matches(s->routes[i].pattern, path)) return i + 1;
  return 0;
}

const struct wsk_route *wsk_conn_route(const wsk_conn *c) {
  return c && c->route ? &c->group->routes[c->route - 1] : NULL;
}
