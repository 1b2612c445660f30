/* Options and environment variables shared by the subcommands. */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const char cli_settings_help[] =
    "  --nats URL        NATS server with JetStream   [TURNSTILE_NATS_URL, "
    "nats://127.0.0.1:4222]\n"
    "  --pg CONNINFO     PostgreSQL (libpq conninfo)  [TURNSTILE_PG_URL, "
    "postgresql://postgres@127.0.0.1:55432/turnstile]\n"
    "  --data DIR        data directory               [TURNSTILE_DATA_DIR, ./.turnstile]\n"
    "  --stream NAME     JetStream stream             [TURNSTILE_STREAM, TICKETS]\n";

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);
    return v && *v ? v : def;
}

void cli_settings_from_env(cli_settings_t *s)
{
    memset(s, 0, sizeof(*s));
    s->nats_url = env_or("TURNSTILE_NATS_URL", "nats://127.0.0.1:4222");
    s->pg_conninfo = env_or("TURNSTILE_PG_URL", "postgresql://postgres@127.0.0.1:55432/turnstile");
    s->data_dir = env_or("TURNSTILE_DATA_DIR", "./.turnstile");
    s->bind = env_or("TURNSTILE_BIND", "127.0.0.1");
    s->stream = env_or("TURNSTILE_STREAM", "TICKETS");
    s->port = atoi(env_or("TURNSTILE_HTTP_PORT", "8080"));
    s->workers = atoi(env_or("TURNSTILE_WORKERS", "0"));
}

int cli_settings_option(cli_settings_t *s, int argc, char **argv, int *i)
{
    static const char *names[] = {"--nats", "--pg", "--data", "--stream"};
    if (strcmp(argv[*i], "--help") == 0 || strcmp(argv[*i], "-h") == 0)
        return CLI_OPT_HELP;
    const char **slots[] = {&s->nats_url, &s->pg_conninfo, &s->data_dir, &s->stream};
    for (size_t k = 0; k < TS_ARRAY_LEN(names); k++) {
        if (strcmp(argv[*i], names[k]) != 0)
            continue;
        if (*i + 1 >= argc || !argv[*i + 1][0]) {
            fprintf(stderr, "turnstile: %s needs a value\n", names[k]);
            return -1;
        }
        *slots[k] = argv[++*i];
        return 1;
    }
    return 0;
}

int cli_mkdirs(const char *path)
{
    char buf[4096];
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof(buf))
        return -1;
    memcpy(buf, path, n + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0755) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    return mkdir(buf, 0755) != 0 && errno != EEXIST ? -1 : 0;
}

int cli_subject_filter_valid(const char *s)
{
    size_t n = strlen(s), token = 0;
    if (n == 0 || n > 256)
        return 0;
    for (size_t i = 0; i <= n; i++) {
        if (i == n || s[i] == '.') {
            /* No empty token; '>' stands alone and last; '*' stands alone. */
            if (token == 0)
                return 0;
            const char *t = s + i - token;
            if ((memchr(t, '>', token) && (token != 1 || i != n)) ||
                (memchr(t, '*', token) && token != 1))
                return 0;
            token = 0;
            continue;
        }
        if ((unsigned char)s[i] <= ' ' || s[i] == 0x7f)
            return 0;
        token++;
    }
    return 1;
}
