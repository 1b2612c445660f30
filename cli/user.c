/* turnstile user create: accounts from the command line. */
#include "cli/cli.h"
#include "engine/engine.h"

#include <stdio.h>
#include <string.h>

static const char help[] =
    "Usage: turnstile user create --email E --password P [--name N]\n"
    "                             [--role R]... [--admin] [options]\n"
    "\n"
    "Creates an account (RULE-AUTH-1: the e-mail is unique, case-insensitive;\n"
    "the password has at least 10 characters and is stored as an scrypt hash).\n"
    "Roles: attendee (default), organizer, box_office, auditor, admin.\n"
    "--admin is --role admin --role organizer --role attendee.\n"
    "Prints {\"user_id\": ..., \"email\": ...} as JSON on success.\n"
    "Exit status: 0 created, 1 failed, 2 bad usage, 3 e-mail taken.\n"
    "\n"
    "Options:\n"
    "%s";

int cli_user(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "create") != 0) {
        if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
            printf(help, cli_settings_help);
            return 0;
        }
        fprintf(stderr, "turnstile user: expected 'create' (see turnstile user --help)\n");
        return 2;
    }
    cli_settings_t s;
    cli_settings_from_env(&s);
    const char *email = NULL, *password = NULL, *name = "";
    uint32_t roles = 0;
    for (int i = 2; i < argc; i++) {
        int r = cli_settings_option(&s, argc, argv, &i);
        if (r < 0)
            return 2;
        if (r == CLI_OPT_HELP) {
            printf(help, cli_settings_help);
            return 0;
        }
        if (r)
            continue;
        const char *a = argv[i];
        if (strcmp(a, "--admin") == 0) {
            roles |= EVT_ROLE_ADMIN | EVT_ROLE_ORGANIZER | EVT_ROLE_ATTENDEE;
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "turnstile user create: %s needs a value\n", a);
            return 2;
        }
        const char *v = argv[++i];
        if (strcmp(a, "--email") == 0)
            email = v;
        else if (strcmp(a, "--password") == 0)
            password = v;
        else if (strcmp(a, "--name") == 0)
            name = v;
        else if (strcmp(a, "--role") == 0) {
            uint32_t bit = evt_role_parse(v);
            if (!bit) {
                fprintf(stderr, "turnstile user create: unknown role '%s'\n", v);
                return 2;
            }
            roles |= bit;
        } else {
            fprintf(stderr, "turnstile user create: unknown option '%s'\n", a);
            return 2;
        }
    }
    if (!email || !password) {
        fprintf(stderr, "turnstile user create: --email and --password are required\n");
        return 2;
    }
    if (strlen(password) < 10) {
        fprintf(stderr, "turnstile user create: the password needs at least 10 characters\n");
        return 2;
    }
    if (cli_mkdirs(s.data_dir) != 0) {
        fprintf(stderr, "turnstile user create: cannot create %s\n", s.data_dir);
        return 1;
    }
    eng_t *e = NULL;
    eng_config_t ec = {
        .nats_url = s.nats_url, .stream = s.stream, .data_dir = s.data_dir, .workers = 1};
    ts_status st = eng_open(&ec, &e);
    if (st != TS_OK) {
        fprintf(stderr, "turnstile user create: %s\n", ts_status_str(st));
        return 1;
    }
    ts_arena_t arena;
    ts_arena_init(&arena, 4096);
    eng_user_t u;
    st = eng_user_create(e, email, password, name, roles, &arena, &u, NULL);
    int rc = 0;
    if (st == TS_OK) {
        printf("{\"user_id\": \"%s\", \"email\": \"%s\"}\n", u.user_id, u.email);
    } else if (st == TS_ERR_CONFLICT) {
        fprintf(stderr, "turnstile user create: %s is already registered\n", email);
        rc = 3;
    } else {
        fprintf(stderr, "turnstile user create: %s\n",
                st == TS_ERR_INVALID ? "not a valid e-mail address" : ts_status_str(st));
        rc = st == TS_ERR_INVALID ? 2 : 1;
    }
    ts_arena_deinit(&arena);
    eng_free(e);
    return rc;
}
