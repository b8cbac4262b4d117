/* status.c - what a client can be asked about where it is: why its last attempt or connection
 * ended (a category, the status of a refused upgrade) and its state. */
#include <stdio.h>

#include "client/client_internal.h"

int wsk__client_category(const wsk_conn *c, int err) {
  switch (err) {
  case WSK_EHANDSHAKE:
    return wsk__client_of(c)->att.status ? WSK_CLIENT_ERR_REFUSED : WSK_CLIENT_ERR_PROTOCOL;
  case WSK_ETLS:
    return c->ext && c->ext->tls && c->ext->tls->verify_failed ? WSK_CLIENT_ERR_TLS_VERIFY
                                                               : WSK_CLIENT_ERR_TLS;
  case WSK_EPROTO:
  case WSK_EUTF8:
  case WSK_ETOOBIG:
  case WSK_EDEFLATE:
  case WSK_EHTTP:
  case WSK_EHEADERS:
    return WSK_CLIENT_ERR_PROTOCOL;
  default: /* DNS, sockets, timeouts, memory: what another attempt may not meet again */
    return WSK_CLIENT_ERR_NETWORK;
  }
}

void wsk__client_note(wsk_client *cl, int category, int code, const char *message) {
  snprintf(cl->err_message, sizeof cl->err_message, "%s", message ? message : "");
  cl->err = (struct wsk_client_error){
      .category = category,
      .code = code,
      .http_status = category == WSK_CLIENT_ERR_REFUSED ? cl->att.status : 0,
      .message = cl->err_message,
  };
}

const struct wsk_client_error *wsk_client_error(const wsk_client *cl) {
  return cl && cl->err.category != WSK_CLIENT_ERR_NONE ? &cl->err : NULL;
}

int wsk_client_state(const wsk_client *cl) {
  if (!cl || cl->freeing) return WSK_CLIENT_STOPPED;
  if (cl->conn) {
    unsigned st = wsk__conn_state(cl->conn);
    if (st == WSK_CS_OPEN) return WSK_CLIENT_OPEN;
    return st < WSK_CS_OPEN ? WSK_CLIENT_CONNECTING : WSK_CLIENT_CLOSING;
  }
  return cl->retrying && !cl->stopped ? WSK_CLIENT_WAITING : WSK_CLIENT_STOPPED;
}
