/* json.c - JSON strings for the machine-readable outputs (wsk connect --json, wsk serve --log json,
 * wsk bench --json). */
#include <stdio.h>

#include "cli.h"

void wsk_cli_json_str(FILE *out, const char *s, size_t len) {
  putc('"', out);
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)s[i];
    if (ch == '"' || ch == '\\')
      fprintf(out, "\\%c", ch);
    else if (ch < 0x20 || ch == 0x7f)
      fprintf(out, "\\u%04x", ch);
    else
      putc(ch, out);
  }
  putc('"', out);
}
