/* wsk.c - the `wsk` command: finds the subcommand in a table and hands it its own argv.
 * A new subcommand is one line in `commands` plus its entry point in cli.h. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "wsk.h"

static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} commands[] = {
    {"serve", wsk_cli_serve, "WebSocket (and static file) server: echo, broadcast or print"},
    {"connect", wsk_cli_connect, "WebSocket client: send stdin lines or -x messages, print replies"},
    {"bench", wsk_cli_bench, "load generator: echo throughput and latency, connects, idle memory"},
};

static void usage(FILE *out) {
  fprintf(out, "usage: wsk <command> [options]   (wsk <command> --help for its options)\n"
               "commands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "options:\n"
               "  -h, --help  print this help\n"
               "  --version   print the version\n" WSK_CLI_EXIT_CODES);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("wsk %s\n", WSK_VERSION);
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "wsk: unknown command '%s'; try 'wsk --help'\n", argv[1]);
  return 2;
}
