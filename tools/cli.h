/* cli.h - entry points of the `wsk` subcommands; tools/wsk.c dispatches to them.
 * Each takes the subcommand's own argv (argv[0] is the subcommand name) and returns the process
 * exit status. */
#ifndef WSK_TOOLS_CLI_H
#define WSK_TOOLS_CLI_H

#include <stddef.h>

/* `wsk serve [--host H] [--port P] [--root DIR] [--echo | --broadcast] ...` (tools/serve.c). */
int wsk_cli_serve(int argc, char **argv);

/* `wsk bench [echo|connect|idle] URL [options]`: load generator and measurement (tools/bench.c). */
int wsk_cli_bench(int argc, char **argv);

/* `wsk connect URL [-H 'N: V']... [-x MSG]... [--echo] [--show-frames] ...`: a WebSocket client
 * for the terminal and scripts (tools/connect.c). */
int wsk_cli_connect(int argc, char **argv);

/* A byte count for an option: decimal, optionally with a k or m suffix (KiB, MiB), not 0.
 * Returns 0 and *out, or -1 (tools/serve.c). */
int wsk_cli_parse_size(const char *s, size_t *out);

#endif
