/* retry.c - reconnection: the backoff delays, the retry policy, the scheduling of the next
 * attempt, and the messages queued while no connection is open. */
#include <stdlib.h>
#include <string.h>

#include "client/client_internal.h"
#include "proto/alloc_internal.h"

unsigned wsk__backoff_delay(const struct wsk_backoff *b, unsigned attempt, double r) {
  double cap = b->max_delay_ms ? (double)b->max_delay_ms : 4294967295.0;
  double factor = b->factor > 1.0 ? b->factor : 1.0;
  double d = b->initial_delay_ms;
  for (unsigned i = 1; i < attempt && d < cap && factor > 1.0; i++) d *= factor;
  if (d > cap) d = cap;
  double jitter = b->jitter < 0.0 ? 0.0 : b->jitter > 1.0 ? 1.0 : b->jitter;
  d -= d * jitter * r;
  return (unsigned)(d + 0.5);
}

static void on_delay(void *arg) {
  wsk_client *cl = arg;
  wsk_timer_stop(cl->retry);
  cl->retry = NULL;
  wsk__client_attempt(cl);
}

/* Errors that another attempt would meet again: a refusal with a 4xx status other than 408
 * (Request Timeout) and 429 (Too Many Requests), a certificate that does not verify. (A bad URL
 * never gets this far: wsk_connect and wsk_client_set_url refuse it.) */
static int permanent(const struct wsk_client_error *e) {
  int s = e->http_status;
  if (e->category == WSK_CLIENT_ERR_TLS_VERIFY) return 1;
  return e->category == WSK_CLIENT_ERR_REFUSED && s >= 400 && s < 500 && s != 408 && s != 429;
}

void wsk__client_decide(wsk_client *cl) {
  cl->retrying = 0;
  if (!cl->opt.reconnect || cl->stopped || cl->freeing) return;
  uint32_t bits = 0;
  wsk__loop_random(cl->loop, &bits, sizeof bits); /* jitter only: a failure leaves it at 0 */
  unsigned next = cl->attempt + 1, max = cl->opt.backoff.max_attempts;
  cl->delay = wsk__backoff_delay(&cl->opt.backoff, next, bits / 4294967296.0);
  cl->err.stop = permanent(&cl->err) || (max && cl->attempt >= max);
  int retry = !cl->err.stop;
  if (cl->opt.on_retry) retry = cl->opt.on_retry(cl, &cl->err, next, &cl->delay) == WSK_RETRY;
  cl->retrying = retry && !cl->stopped && !cl->freeing;
}

void wsk__client_schedule(wsk_client *cl) {
  cl->attempt++;
  unsigned delay = cl->delay;
  cl->retry = wsk_timer_start(cl->loop, delay, 0, on_delay, cl);
  if (!cl->retry) { /* out of memory: give up */
    cl->retrying = 0;
    cl->stopped = 1;
    wsk__sendq_clear(&cl->queue);
    return;
  }
  if (cl->opt.on_reconnect) cl->opt.on_reconnect(cl, cl->attempt, delay);
}

int wsk__sendq_push(struct wsk__sendq *q, size_t limit, int opcode, const void *data, size_t len) {
  if (len > limit || q->bytes > limit - len) return WSK_EBACKPRESSURE;
  struct wsk__queued *m = wsk__malloc(sizeof *m + len);
  if (!m) return WSK_ENOMEM;
  m->next = NULL;
  m->len = len;
  m->opcode = (uint8_t)opcode;
  if (len) memcpy(m->data, data, len);
  if (q->tail)
    q->tail->next = m;
  else
    q->head = m;
  q->tail = m;
  q->bytes += len;
  return WSK_SEND_OK;
}

void wsk__sendq_flush(struct wsk__sendq *q, wsk_conn *c) {
  while (q->head && wsk__conn_state(c) == WSK_CS_OPEN) {
    struct wsk__queued *m = q->head;
    if (wsk_send(c, m->opcode, m->data, m->len) < 0) return; /* kept for the next connection */
    q->head = m->next;
    if (!q->head) q->tail = NULL;
    q->bytes -= m->len;
    wsk__free(m);
  }
}

void wsk__sendq_clear(struct wsk__sendq *q) {
  while (q->head) {
    struct wsk__queued *m = q->head;
    q->head = m->next;
    wsk__free(m);
  }
  q->tail = NULL;
  q->bytes = 0;
}
