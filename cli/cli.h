/*
 * cli — the `turnstile` binary: option parsing shared by the subcommands,
 * and one entry point per subcommand. Options win over environment
 * variables, which win over defaults.
 */
#ifndef TS_CLI_H
#define TS_CLI_H

#include "base/base.h"

typedef struct {
    const char *nats_url;
    const char *pg_conninfo;
    const char *data_dir;
    const char *bind;
    const char *stream;
    int port;
    int workers;
} cli_settings_t;

/* Fills defaults from the environment (TURNSTILE_*). */
void cli_settings_from_env(cli_settings_t *s);
/* Consumes a shared option at argv[*i] (advancing *i past its value).
 * Returns 1 when consumed, 0 when not a shared option, -1 on a bad value,
 * CLI_OPT_HELP for --help / -h (the caller prints its own help). */
#define CLI_OPT_HELP 2
int cli_settings_option(cli_settings_t *s, int argc, char **argv, int *i);
/* The help text of the shared options. */
extern const char cli_settings_help[];
/* mkdir -p. 0 on success. */
int cli_mkdirs(const char *path);
/* 1 when s is a plausible NATS subject filter: 1..256 printable characters
 * without spaces, no empty token, '>' only as the last token. */
int cli_subject_filter_valid(const char *s);

int cli_serve(int argc, char **argv);
int cli_project(int argc, char **argv);
int cli_user(int argc, char **argv);
int cli_audit(int argc, char **argv);
int cli_snapshots(int argc, char **argv);
int cli_replay(int argc, char **argv);

#endif
