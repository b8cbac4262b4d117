/* usage.c - how every `wsk` subcommand reports bad usage: one line that says what is wrong and
 * where the options are, exit status 2. The full usage text is for --help only: printed after an
 * error it would scroll the error out of sight. */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"

int wsk_cli_usage_error(const char *command, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "wsk %s: ", command);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "; try 'wsk %s --help'\n", command);
  return 2;
}
