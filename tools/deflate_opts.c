/* deflate_opts.c - the permessage-deflate options of `wsk serve` and `wsk connect`: both commands
 * take the same flags (WSK_CLI_DEFLATE_LONGOPTS, WSK_CLI_DEFLATE_USAGE in cli.h) and hand the codes
 * getopt returns for them to wsk_cli_deflate_option. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "wsk.h"

/* A whole number in [lo, hi]. */
static int parse_int(const char *s, int lo, int hi, int *out) {
  char *end;
  long v = strtol(s, &end, 10);
  if (!*s || *end || v < lo || v > hi) return -1;
  *out = (int)v;
  return 0;
}

int wsk_cli_deflate_option(int code, const char *arg, struct wsk_pmd_options *o) {
  int bits;
  switch (code) {
  case WSK_CLI_DEFLATE: break;
  case WSK_CLI_DEFLATE_WINDOW:
    if (parse_int(arg, 9, 15, &bits) != 0) return -1;
    o->server_max_window_bits = o->client_max_window_bits = bits;
    break;
  case WSK_CLI_DEFLATE_MEM_LEVEL:
    if (parse_int(arg, 1, 9, &o->mem_level) != 0) return -1;
    break;
  case WSK_CLI_DEFLATE_NO_TAKEOVER:
    o->server_no_context_takeover = o->client_no_context_takeover = 1;
    break;
  case WSK_CLI_DEFLATE_THRESHOLD:
    if (strcmp(arg, "0") == 0)
      o->threshold = 0;
    else if (wsk_cli_parse_size(arg, &o->threshold) != 0)
      return -1;
    break;
  default: return 0;
  }
  o->enabled = 1; /* every flag of the family implies --deflate */
  return 1;
}
