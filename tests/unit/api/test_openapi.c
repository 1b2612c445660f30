/*
 * test_openapi — GET /api/v1/openapi.json lists every route the server
 * registers: the route tables are read from server.c itself (api__routes,
 * api__ops_routes), so a route added there without an entry in openapi.c
 * fails here, as does an entry that names no route.
 */
// clang-format off
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
// clang-format on

#include "api/api_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* path with each "{name}" segment as the router's '*'. */
static void as_pattern(const char *path, char *out, size_t cap)
{
    size_t o = 0;
    for (const char *p = path; *p && o + 1 < cap; p++) {
        if (*p == '{') {
            const char *end = strchr(p, '}');
            assert_non_null(end);
            out[o++] = '*';
            p = end;
        } else {
            out[o++] = *p;
        }
    }
    out[o] = '\0';
}

static void lower(const char *s, char *out, size_t cap)
{
    size_t o = 0;
    for (; *s && o + 1 < cap; s++)
        out[o++] = (char)tolower((unsigned char)*s);
    out[o] = '\0';
}

/* A path item served at the root (its own server "/"), not below /api/v1. */
static int at_root(const json_t *item)
{
    const json_t *servers = json_object_get(item, "servers");
    return servers &&
           strcmp(json_string_value(json_object_get(json_array_get(servers, 0), "url")), "/") == 0;
}

/* The operation of route (method, pattern) in doc, or NULL. */
static const json_t *find_op(const json_t *paths, const api_route_t *route, int root)
{
    char method[16], pattern[256];
    const char *path;
    const json_t *item;
    lower(route->method, method, sizeof method);
    json_object_foreach((json_t *)paths, path, item)
    {
        as_pattern(path, pattern, sizeof pattern);
        if (strcmp(pattern, route->pattern) == 0 && at_root(item) == root)
            return json_object_get(item, method);
    }
    return NULL;
}

static void test_every_route_documented(void **state)
{
    (void)state;
    json_t *doc = api__openapi();
    const json_t *paths = json_object_get(doc, "paths");
    assert_non_null(paths);
    assert_true(api__n_routes > 30); /* the tables are really there */
    for (size_t i = 0; i < api__n_routes; i++) {
        const json_t *op = find_op(paths, &api__routes[i], 0);
        if (!op)
            fail_msg("%s /api/v1%s is routed but not in the OpenAPI document",
                     api__routes[i].method, api__routes[i].pattern);
        assert_non_null(json_string_value(json_object_get(op, "summary")));
        assert_non_null(json_object_get(json_object_get(op, "responses"), "default"));
    }
    assert_true(api__n_ops_routes >= 3);
    for (size_t i = 0; i < api__n_ops_routes; i++)
        if (!find_op(paths, &api__ops_routes[i], 1))
            fail_msg("%s %s is routed but not in the OpenAPI document", api__ops_routes[i].method,
                     api__ops_routes[i].pattern);
    json_decref(doc);
}

static void test_every_entry_routed(void **state)
{
    (void)state;
    json_t *doc = api__openapi();
    const char *path, *method;
    json_t *item, *op;
    json_object_foreach(json_object_get(doc, "paths"), path, item)
    {
        char pattern[256];
        int root = at_root(item);
        as_pattern(path, pattern, sizeof pattern);
        json_object_foreach(item, method, op)
        {
            if (strcmp(method, "parameters") == 0 || strcmp(method, "servers") == 0)
                continue;
            const api_route_t *table = root ? api__ops_routes : api__routes;
            size_t n = root ? api__n_ops_routes : api__n_routes, k;
            for (k = 0; k < n; k++) {
                char m[16];
                lower(table[k].method, m, sizeof m);
                if (strcmp(m, method) == 0 && strcmp(table[k].pattern, pattern) == 0)
                    break;
            }
            if (k == n)
                fail_msg("the OpenAPI document has %s %s, which no route serves", method, path);
        }
    }
    json_decref(doc);
}

static void test_document_shape(void **state)
{
    (void)state;
    json_t *doc = api__openapi();
    assert_string_equal(json_string_value(json_object_get(doc, "openapi")), "3.0.3");
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(json_object_get(doc, "servers"), 0), "url")),
                        "/api/v1");
    /* Each "{name}" of a path is declared as a required path parameter. */
    const char *path;
    json_t *item;
    json_object_foreach(json_object_get(doc, "paths"), path, item)
    {
        size_t braces = 0;
        for (const char *p = path; *p; p++)
            braces += *p == '{';
        const json_t *params = json_object_get(item, "parameters");
        assert_int_equal(json_array_size(params), braces);
        for (size_t i = 0; i < braces; i++) {
            const json_t *p = json_array_get(params, i);
            char want[64];
            snprintf(want, sizeof want, "{%s}", json_string_value(json_object_get(p, "name")));
            assert_non_null(strstr(path, want));
            assert_string_equal(json_string_value(json_object_get(p, "in")), "path");
            assert_true(json_is_true(json_object_get(p, "required")));
        }
    }
    char *text = json_dumps(doc, JSON_COMPACT);
    assert_non_null(text);
    free(text);
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_route_documented),
        cmocka_unit_test(test_every_entry_routed),
        cmocka_unit_test(test_document_shape),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
