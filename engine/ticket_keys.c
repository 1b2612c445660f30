/*
 * The per-event Ed25519 keys of ticket codes (RULE-TKT-1).
 *
 * DATA/keys/<event_id>.pem holds the private key as unencrypted PKCS#8 PEM.
 * The directory is 0700 and the file 0600; the key never leaves them: it is
 * not in an event, a snapshot or a log line. The file is written to a
 * temporary name, fsynced, and then link()ed to its final name, so a reader
 * sees either no file or a whole one, and two engines publishing the same
 * event at once cannot overwrite each other's key (the second link fails
 * and that engine uses the first key).
 */
#include "engine/engine_int.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *keys_dir(ts_arena_t *a, const char *data_dir)
{
    return ts_arena_printf(a, "%s/keys", data_dir);
}

static const char *key_path(ts_arena_t *a, const char *data_dir, const char *event_id)
{
    return ts_arena_printf(a, "%s/keys/%s.pem", data_dir, event_id);
}

static void fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

ts_status eng__ticket_key_load(const char *data_dir, const char *event_id, EVP_PKEY **out)
{
    ts_arena_t a;
    ts_arena_init(&a, 512);
    ts_status rc = TS_OK;
    EVP_PKEY *k = NULL;
    FILE *f = NULL;
    if (!data_dir || !ts_id_valid(event_id)) {
        rc = TS_ERR_INVALID;
        goto done;
    }
    f = fopen(key_path(&a, data_dir, event_id), "r");
    if (!f) {
        rc = errno == ENOENT ? TS_ERR_NOT_FOUND : TS_ERR_IO;
        goto done;
    }
    k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    if (!k || EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
        rc = TS_ERR_CORRUPT;
        goto done;
    }
    *out = k;
    k = NULL;
done:
    EVP_PKEY_free(k);
    if (f)
        fclose(f);
    ts_arena_deinit(&a);
    return rc;
}

ts_status eng__ticket_key_public(EVP_PKEY *k, ts_arena_t *arena, const char **public_key)
{
    uint8_t raw[32];
    size_t n = sizeof(raw);
    if (EVP_PKEY_get_raw_public_key(k, raw, &n) != 1 || n != sizeof(raw))
        return TS_ERR_CORRUPT;
    char *b64 = ts_arena_alloc(arena, 4 * ((sizeof(raw) + 2) / 3) + 1);
    EVP_EncodeBlock((unsigned char *)b64, raw, (int)sizeof(raw));
    *public_key = b64;
    return TS_OK;
}

/* Writes k to path through a temporary file and link(): TS_ERR_CONFLICT when
 * path exists already (someone else's key won). */
static ts_status write_key(ts_arena_t *a, const char *dir, const char *path, EVP_PKEY *k)
{
    uint8_t rnd[8];
    char hex[17];
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        return TS_ERR_IO;
    ts_hex(rnd, sizeof(rnd), hex);
    const char *tmp = ts_arena_printf(a, "%s/.tmp-%s", dir, hex);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return TS_ERR_IO;
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        return TS_ERR_IO;
    }
    int ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
    ok = fflush(f) == 0 && ok;
    ok = fsync(fd) == 0 && ok;
    ok = fclose(f) == 0 && ok;
    ts_status rc = TS_OK;
    if (!ok)
        rc = TS_ERR_IO;
    else if (link(tmp, path) != 0)
        rc = errno == EEXIST ? TS_ERR_CONFLICT : TS_ERR_IO;
    unlink(tmp);
    if (rc == TS_OK)
        fsync_dir(dir);
    return rc;
}

ts_status eng__ticket_key_ensure(const char *data_dir, const char *event_id, ts_arena_t *arena,
                                 const char **public_key)
{
    ts_arena_t a;
    ts_arena_init(&a, 512);
    EVP_PKEY *k = NULL;
    ts_status rc = eng__ticket_key_load(data_dir, event_id, &k);
    if (rc != TS_ERR_NOT_FOUND)
        goto done;
    const char *dir = keys_dir(&a, data_dir);
    if ((mkdir(dir, 0700) != 0 && errno != EEXIST) || chmod(dir, 0700) != 0) {
        fprintf(stderr, "tickets: cannot create %s (0700): %s\n", dir, strerror(errno));
        rc = TS_ERR_IO;
        goto done;
    }
    k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!k) {
        rc = TS_ERR_IO;
        goto done;
    }
    rc = write_key(&a, dir, key_path(&a, data_dir, event_id), k);
    if (rc == TS_ERR_CONFLICT) {
        /* Another publish of this draft made the key first: use that one. */
        EVP_PKEY_free(k);
        k = NULL;
        rc = eng__ticket_key_load(data_dir, event_id, &k);
    }
    if (rc != TS_OK)
        fprintf(stderr, "tickets: cannot write the key of event %s under %s: %s\n", event_id, dir,
                ts_status_str(rc));
done:
    if (rc == TS_OK)
        rc = eng__ticket_key_public(k, arena, public_key);
    EVP_PKEY_free(k);
    ts_arena_deinit(&a);
    return rc;
}

ts_status eng_ticket_key_ensure(eng_t *e, const char *event_id, ts_arena_t *arena,
                                const char **public_key)
{
    if (e->cfg.mode != ENG_MODE_SERVE)
        return TS_ERR_INVALID;
    return eng__ticket_key_ensure(e->cfg.data_dir, event_id, arena, public_key);
}

ts_status eng_ticket_code_sign(eng_t *e, const eng_ticket_payload_t *p, const char *public_key,
                               ts_arena_t *arena, const char **code)
{
    if (e->cfg.mode != ENG_MODE_SERVE)
        return TS_ERR_INVALID;
    EVP_PKEY *k = NULL;
    const char *have = NULL;
    ts_status rc = eng__ticket_key_load(e->cfg.data_dir, p->event_id, &k);
    if (rc == TS_OK)
        rc = eng__ticket_key_public(k, arena, &have);
    if (rc == TS_OK && (!public_key || strcmp(have, public_key) != 0)) {
        /* A key that is not the published one would sign codes no gate
         * accepts: refuse rather than hand them out. */
        fprintf(stderr,
                "tickets: the key file of event %s does not match its published key; "
                "ticket codes of this event cannot be signed on this machine\n",
                p->event_id);
        rc = TS_ERR_UNAVAILABLE;
    } else if (rc != TS_OK) {
        /* RULE-TKT-1: a published event's key is never made again here; a
         * new one would not match the key the gates already have. */
        fprintf(stderr,
                "tickets: the key file of event %s is %s under %s/keys; ticket codes of this "
                "event cannot be signed on this machine\n",
                p->event_id, rc == TS_ERR_NOT_FOUND ? "missing" : "unreadable", e->cfg.data_dir);
        rc = TS_ERR_UNAVAILABLE;
    }
    if (rc == TS_OK)
        rc = eng__ticket_code_sign(k, p, arena, code);
    EVP_PKEY_free(k);
    return rc;
}
