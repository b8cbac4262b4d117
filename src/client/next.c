/* next.c - what the next attempt of a client uses, changed between attempts (a refreshed token, a
 * new address): wsk_client_set_url and wsk_client_set_headers keep their values aside until the
 * next attempt starts, so that an attempt or connection in progress keeps what it started with. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "client/client_internal.h"
#include "proto/alloc_internal.h"

int wsk_client_set_url(wsk_client *cl, const char *url, char *errbuf, size_t errlen) {
  if (errbuf && errlen) errbuf[0] = '\0';
  if (!cl || !url) {
    if (errbuf) snprintf(errbuf, errlen, "wsk_client_set_url: client and url are required");
    return WSK_EINVAL;
  }
  struct wsk__url u;
  int r = wsk__url_parse(url, &u, errbuf, errlen);
  if (r < 0) return r;
  /* A first wss:// URL: the context is made now, so that a CA file that fails is told here. */
  if (u.secure && !cl->tls &&
      (r = wsk__tls_client_ctx(cl->ca_file, cl->ca_dir, cl->opt.tls_insecure, &cl->tls, errbuf,
                              errlen)) < 0) {
    wsk__url_free(&u);
    return r;
  }
  wsk__url_free(&cl->next_url);
  cl->next_url = u;
  return 0;
}

int wsk_client_set_headers(wsk_client *cl, const char *const *headers, char *errbuf,
                           size_t errlen) {
  if (errbuf && errlen) errbuf[0] = '\0';
  if (!cl) {
    if (errbuf) snprintf(errbuf, errlen, "wsk_client_set_headers: no client");
    return WSK_EINVAL;
  }
  char *lines;
  int r = wsk__client_header_lines(headers, &lines, errbuf, errlen);
  if (r < 0) return r;
  wsk__free(cl->next_extra);
  cl->next_extra = lines;
  cl->has_next_extra = 1;
  return 0;
}

void wsk__client_take_next(wsk_client *cl) {
  if (cl->next_url.host) {
    /* A session of another server is of no use, and resuming it would skip verifying this one. */
    if (cl->tls && strcasecmp(cl->next_url.host, cl->url.host) != 0)
      wsk__tls_ctx_forget_session(cl->tls);
    wsk__url_free(&cl->url);
    cl->url = cl->next_url;
    memset(&cl->next_url, 0, sizeof cl->next_url);
  }
  if (cl->has_next_extra) {
    wsk__free(cl->extra);
    cl->extra = cl->next_extra;
    cl->next_extra = NULL;
    cl->has_next_extra = 0;
  }
}
