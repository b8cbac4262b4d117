/* log.c - lines on stderr that quote what a peer sent (a close reason, a handshake line, an error
 * text that holds a server's answer). Control characters are written as \xNN (C0 and DEL) or
 * \u00NN (C1, in their UTF-8 form), so a peer cannot move the cursor, rewrite earlier lines or
 * change the terminal's settings with escape sequences. */
#include <stdio.h>

#include "cli.h"

void wsk_cli_log(const char *prefix, const char *text, size_t len) {
  fputs(prefix, stderr);
  for (size_t i = 0; i < len; i++) {
    unsigned char ch = (unsigned char)text[i];
    unsigned char next = i + 1 < len ? (unsigned char)text[i + 1] : 0;
    if (ch < 0x20 || ch == 0x7f)
      fprintf(stderr, "\\x%02x", ch);
    else if (ch == 0xc2 && next >= 0x80 && next <= 0x9f)
      fprintf(stderr, "\\u%04x", next), i++;
    else
      fputc(ch, stderr);
  }
  fputc('\n', stderr);
}
