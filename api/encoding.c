/*
 * Content codings: which of zstd, gzip and identity a request's
 * Accept-Encoding takes (RFC 9110 section 12.5.3). Only the seat map is sent
 * compressed (handlers_catalog.c): its 3.8 MB of JSON are mostly the same few
 * dozen bytes per seat; its sections are gzip'd once when they are made
 * (projections/gzpiece.c), and its zstd answer once per map read
 * (projections/zstpiece.c). zstd (RFC 9659) makes the map about
 * 81 KB against gzip's 334 KB, so it is chosen whenever the client names it
 * and takes it at least as willingly as gzip; browsers send "gzip, deflate,
 * br, zstd" over HTTPS (Chrome 123+, Firefox 126+), all at q=1.
 *
 *   Accept-Encoding  = #( codings [ weight ] )
 *   codings          = content-coding / "identity" / "*"
 *   weight           = OWS ";" OWS "q=" qvalue
 *   qvalue           = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
 *
 * Coding names are case-insensitive; "x-gzip" is gzip (section 8.4.1.3); a
 * weight of 0 means "not acceptable"; "*" stands for every coding the field
 * does not name. An element that does not parse is ignored (it names
 * nothing), so a malformed field can only fall back to identity.
 */
#include "api/api_int.h"

#include <string.h>
#include <strings.h>

static int is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* The qvalue at s (n bytes) in thousandths, or -1 when it is not one. */
static int qvalue(const char *s, size_t n)
{
    if (n == 0 || (s[0] != '0' && s[0] != '1'))
        return -1;
    int q = (s[0] - '0') * 1000, scale = 100;
    if (n == 1)
        return q;
    if (s[1] != '.' || n > 5)
        return -1;
    for (size_t i = 2; i < n; i++, scale /= 10) {
        if (s[i] < '0' || s[i] > '9' || (s[0] == '1' && s[i] != '0'))
            return -1;
        q += (s[i] - '0') * scale;
    }
    return q;
}

/* The weight of one element (s, n bytes, without the comma): its coding in
 * *name / *name_len, its q in thousandths (1000 when absent). -1 when the
 * element does not parse. */
static int element(const char *s, size_t n, const char **name, size_t *name_len)
{
    size_t i = 0;
    while (i < n && is_ows(s[i]))
        i++;
    size_t start = i;
    while (i < n && s[i] != ';' && !is_ows(s[i]))
        i++;
    *name = s + start;
    *name_len = i - start;
    if (*name_len == 0)
        return -1;
    int q = 1000;
    /* Parameters: only q counts; RFC 9110 allows no others here, and
     * an unknown one is skipped rather than refused. */
    while (i < n) {
        while (i < n && is_ows(s[i]))
            i++;
        if (i == n)
            break;
        if (s[i] != ';')
            return -1;
        i++;
        while (i < n && is_ows(s[i]))
            i++;
        size_t p = i;
        while (i < n && s[i] != ';' && !is_ows(s[i]))
            i++;
        if (i - p >= 2 && (s[p] == 'q' || s[p] == 'Q') && s[p + 1] == '=') {
            q = qvalue(s + p + 2, i - p - 2);
            if (q < 0)
                return -1;
        }
    }
    return q;
}

static int named(const char *name, size_t n, const char *what)
{
    return strlen(what) == n && strncasecmp(name, what, n) == 0;
}

/* The weights of the codings we send, in thousandths; -1: not named (and
 * not taken through "*"). */
typedef struct {
    int gzip, zstd, identity;
} weights_t;

static weights_t weights_of(const char *accept_encoding)
{
    /* The weights the field gives (-1: not named). */
    int gzip = -1, x_gzip = -1, zstd = -1, star = -1, identity = -1;
    for (const char *s = accept_encoding; s && *s;) {
        const char *comma = strchr(s, ',');
        size_t n = comma ? (size_t)(comma - s) : strlen(s);
        const char *name;
        size_t name_len;
        int q = element(s, n, &name, &name_len);
        if (q >= 0) {
            /* A coding named twice keeps its first weight. */
            if (named(name, name_len, "gzip") && gzip < 0)
                gzip = q;
            else if (named(name, name_len, "x-gzip") && x_gzip < 0)
                x_gzip = q;
            else if (named(name, name_len, "zstd") && zstd < 0)
                zstd = q;
            else if (named(name, name_len, "*") && star < 0)
                star = q;
            else if (named(name, name_len, "identity") && identity < 0)
                identity = q;
        }
        s += n + (comma ? 1 : 0);
    }
    /* A named coding outranks "*" either way; and "*" never stands for
     * zstd: a client gets zstd only when it names it (a client that takes
     * anything gets gzip, which it surely decodes). */
    return (weights_t){gzip >= 0 ? gzip : x_gzip >= 0 ? x_gzip : star, zstd, identity};
}

/* Refused or not named; and a client that prefers identity outright gets
 * identity (at an equal weight the smaller answer wins). */
static int taken(int q, const weights_t *w)
{
    return q > 0 && q >= w->identity;
}

int api_gzip_accepted(const char *accept_encoding)
{
    /* No field: the identity answer, as before content coding. */
    weights_t w = weights_of(accept_encoding);
    return taken(w.gzip, &w);
}

api_coding_t api_coding_of(const char *accept_encoding)
{
    weights_t w = weights_of(accept_encoding);
    if (taken(w.zstd, &w) && w.zstd >= w.gzip)
        return API_CODING_ZSTD;
    return taken(w.gzip, &w) ? API_CODING_GZIP : API_CODING_IDENTITY;
}

/* Every Accept-Encoding line of the request joined with ", " (RFC 9110
 * section 5.3: a list field may come in several lines). */
static enum MHD_Result join_line(void *cls, enum MHD_ValueKind kind, const char *key,
                                 const char *value)
{
    api_req_t *r = cls;
    (void)kind;
    if (key && value && strcasecmp(key, "Accept-Encoding") == 0) {
        const char *was = r->accept_encoding;
        r->accept_encoding = was ? ts_arena_printf(&r->arena, "%s, %s", was, value)
                                 : ts_arena_strdup(&r->arena, value);
    }
    return MHD_YES;
}

api_coding_t api_pick_coding(api_req_t *r)
{
    r->accept_encoding = NULL;
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, join_line, r);
    return api_coding_of(r->accept_encoding);
}
