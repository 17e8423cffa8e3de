/*
 * router_test.c — routing without sockets: literal, parameter and wildcard
 * segments and their precedence, mounts (chi's Mount), 405 with Allow,
 * automatic HEAD and OPTIONS, registration errors, and a lookup that never
 * calls the allocator (checked with a counting allocator over thousands of
 * lookups).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "http/server.h"

static svk_http_server *srv;
static svk_http_router *root;

static int h_a(svk_http_request *q, svk_http_response *p, void *u) { (void)q; (void)p; (void)u; return 0; }

static void setup(void)
{
    svk_http_server_options o = SVK_HTTP_SERVER_OPTIONS_INIT;
    o.threads = 1;
    cr_assert_eq(svk_http_server_new(&srv, &o, NULL), 0);
    root = svk_http_server_router(srv);
}

static void teardown(void)
{
    svk_http_server_free(srv);
    srv = NULL;
}

TestSuite(router, .init = setup, .fini = teardown);

static void add(svk_http_router *r, const char *method, const char *pattern)
{
    int rc = svk_http_router_handle(r, method, pattern, h_a, NULL, NULL);
    cr_assert_eq(rc, 0, "%s %s: %s", method ? method : "*", pattern, svk_errname(rc));
}

static void freeze(void)
{
    cr_assert_eq(svk__http_router_freeze(root, srv), 0);
}

static svk__http_match m;

static const char *find(const char *method, const char *path)
{
    svk__http_router_lookup(root, method, strlen(method), path, strlen(path), &m);
    return m.status == 0 ? m.route->pattern : NULL;
}

static void expect_param(size_t i, const char *name, const char *value)
{
    cr_assert_lt(i, m.nparams);
    cr_assert_str_eq(m.params[i].name, name);
    cr_assert(m.params[i].len == strlen(value) &&
                  memcmp(m.params[i].value, value, m.params[i].len) == 0,
              "param %s: want %s, got %.*s", name, value, (int)m.params[i].len,
              m.params[i].value);
}

Test(router, literal_parameter_wildcard_precedence)
{
    add(root, "GET", "/");
    add(root, "GET", "/users");
    add(root, "GET", "/users/");
    add(root, "GET", "/users/me");
    add(root, "GET", "/users/{id}");
    add(root, "GET", "/users/{id}/posts/{post}");
    add(root, "GET", "/files/*");
    add(root, "GET", "/*");
    freeze();
    cr_assert_str_eq(find("GET", "/"), "/");
    cr_assert_str_eq(find("GET", "/users"), "/users");
    cr_assert_str_eq(find("GET", "/users/"), "/users/", "a trailing slash is its own route");
    cr_assert_str_eq(find("GET", "/users/me"), "/users/me");
    cr_assert_str_eq(find("GET", "/users/42"), "/users/{id}");
    expect_param(0, "id", "42");
    cr_assert_str_eq(find("GET", "/users/42/posts/a%2Fb"), "/users/{id}/posts/{post}");
    expect_param(0, "id", "42");
    expect_param(1, "post", "a%2Fb");
    cr_assert_str_eq(find("GET", "/files/a/b/c.txt"), "/files/*");
    expect_param(0, "*", "a/b/c.txt");
    cr_assert_str_eq(find("GET", "/files/"), "/files/*");
    expect_param(0, "*", "");
    cr_assert_str_eq(find("GET", "/users/42/other"), "/*", "backtracks to the wildcard");
    expect_param(0, "*", "users/42/other");
}

Test(router, backtracking_prefers_the_branch_that_completes)
{
    add(root, "GET", "/a/b/c");
    add(root, "GET", "/a/{x}/d");
    freeze();
    cr_assert_str_eq(find("GET", "/a/b/d"), "/a/{x}/d");
    expect_param(0, "x", "b");
    cr_assert_eq(m.nparams, 1);
    cr_assert_null(find("GET", "/a/b"));
    cr_assert_eq(m.status, 404);
}

Test(router, parameters_with_different_names_at_one_place)
{
    add(root, "GET", "/u/{id}");
    add(root, "GET", "/u/{user}/posts");
    freeze();
    cr_assert_str_eq(find("GET", "/u/1"), "/u/{id}");
    expect_param(0, "id", "1");
    cr_assert_str_eq(find("GET", "/u/1/posts"), "/u/{user}/posts");
    expect_param(0, "user", "1");
    cr_assert_null(find("GET", "/u/"), "a parameter is never empty");
}

Test(router, method_not_allowed_head_and_options)
{
    add(root, "GET", "/r");
    add(root, "POST", "/r");
    add(root, "PUT", "/only-put");
    add(root, NULL, "/any");
    freeze();
    cr_assert_null(find("DELETE", "/r"));
    cr_assert_eq(m.status, 405);
    cr_assert_str_eq(m.allow, "GET, POST, HEAD, OPTIONS");
    cr_assert_str_eq(find("HEAD", "/r"), "/r");
    cr_assert_eq(m.head_only, 1);
    cr_assert_str_eq(m.route->method, "GET");
    cr_assert_null(find("OPTIONS", "/r"));
    cr_assert_eq(m.status, 204);
    cr_assert_str_eq(m.allow, "GET, POST, HEAD, OPTIONS");
    cr_assert_null(find("HEAD", "/only-put"));
    cr_assert_eq(m.status, 405);
    cr_assert_str_eq(m.allow, "PUT, OPTIONS");
    cr_assert_str_eq(find("PATCH", "/any"), "/any");
    cr_assert_str_eq(find("get", "/r") ? "found" : "none", "none", "methods are case-sensitive");
}

Test(router, mount_serves_the_prefix_and_below)
{
    svk_http_router *orders, *items;
    cr_assert_eq(svk_http_router_new(&orders), 0);
    cr_assert_eq(svk_http_router_new(&items), 0);
    add(orders, "GET", "/");
    add(orders, "GET", "/{id}");
    add(orders, "POST", "/");
    add(items, "GET", "/{item}");
    cr_assert_eq(svk_http_router_mount_take(orders, "/{id}/items", items), SVK_EINVAL,
                 "parameters in a prefix");
    cr_assert_eq(svk_http_router_mount_take(orders, "/x/items", items), 0);
    cr_assert_eq(svk_http_router_mount_take(root, "/v1/orders", orders), 0);
    add(root, "GET", "/v1/other");
    freeze();
    cr_assert_str_eq(find("GET", "/v1/orders"), "/v1/orders/");
    cr_assert_str_eq(find("GET", "/v1/orders/"), "/v1/orders/");
    cr_assert_str_eq(find("GET", "/v1/orders/42"), "/v1/orders/{id}");
    expect_param(0, "id", "42");
    cr_assert_str_eq(find("GET", "/v1/orders/x/items/7"), "/v1/orders/x/items/{item}");
    expect_param(0, "item", "7");
    cr_assert_str_eq(find("GET", "/v1/other"), "/v1/other");
    cr_assert_null(find("DELETE", "/v1/orders"));
    cr_assert_eq(m.status, 405);
    cr_assert_str_eq(m.allow, "GET, POST, HEAD, OPTIONS");
    cr_assert_null(find("GET", "/v1/orders/42/nope"));
    cr_assert_eq(m.status, 404);
}

Test(router, registration_errors)
{
    svk_http_router *sub, *sub2;
    cr_assert_eq(svk_http_router_handle(root, "GET", "noslash", h_a, NULL, NULL), SVK_EINVAL);
    cr_assert_eq(svk_http_router_handle(root, "GET", "/a/{", h_a, NULL, NULL), SVK_EINVAL);
    cr_assert_eq(svk_http_router_handle(root, "GET", "/a/{}", h_a, NULL, NULL), SVK_EINVAL);
    cr_assert_eq(svk_http_router_handle(root, "GET", "/a/x{id}", h_a, NULL, NULL), SVK_EINVAL);
    cr_assert_eq(svk_http_router_handle(root, "GET", "/*/a", h_a, NULL, NULL), SVK_EINVAL);
    cr_assert_eq(svk_http_router_handle(root, "G T", "/a", h_a, NULL, NULL), SVK_EINVAL);
    cr_assert_eq(svk_http_router_handle(root, "GET", "/a", NULL, NULL, NULL), SVK_EINVAL);
    svk_http_route_options bad = SVK_HTTP_ROUTE_OPTIONS_INIT;
    bad.flags = SVK_HTTP_ROUTE_NONBLOCKING | SVK_HTTP_ROUTE_STREAM_BODY;
    cr_assert_eq(svk_http_router_handle(root, "GET", "/a", h_a, NULL, &bad), SVK_EINVAL);
    add(root, "GET", "/a");
    cr_assert_eq(svk_http_router_handle(root, "GET", "/a", h_a, NULL, NULL), SVK_EEXIST);
    cr_assert_eq(svk_http_router_new(&sub), 0);
    cr_assert_eq(svk_http_router_mount_take(root, "/a", sub), SVK_EEXIST);
    cr_assert_eq(svk_http_router_mount_take(root, "/m/", sub), SVK_EINVAL);
    cr_assert_eq(svk_http_router_mount_take(root, "/", sub), SVK_EINVAL);
    cr_assert_eq(svk_http_router_mount_take(root, "/m", sub), 0);
    cr_assert_eq(svk_http_router_handle(root, "GET", "/m/x", h_a, NULL, NULL), SVK_EEXIST);
    cr_assert_eq(svk_http_router_mount_take(sub, "/loop", root), SVK_EINVAL, "a cycle");
    cr_assert_eq(svk_http_router_new(&sub2), 0);
    cr_assert_eq(svk_http_router_mount_take(root, "/m", sub2), SVK_EEXIST);
    svk_http_router_free(sub2);
    svk_http_router_free(sub); /* mounted: the owner frees it, this is a no-op */
    char pattern[256] = "";
    for (int i = 0; i < 17; i++)
        strcat(pattern, "/{p}");
    cr_assert_eq(svk_http_router_handle(root, "GET", pattern, h_a, NULL, NULL), SVK_EINVAL);
    freeze();
    cr_assert_eq(svk_http_router_handle(root, "GET", "/late", h_a, NULL, NULL), SVK_ESTATE);
    cr_assert_eq(svk_http_router_use(root, (svk_http_middleware_fn)h_a, NULL), SVK_ESTATE);
}

/* ------------------------------------------------ no allocation on lookup */

static long calls;

static void *count_malloc(size_t n, void *u)
{
    (void)u;
    calls++;
    return malloc(n);
}

static void *count_realloc(void *p, size_t n, void *u)
{
    (void)u;
    calls++;
    return realloc(p, n);
}

static void count_free(void *p, void *u)
{
    (void)u;
    free(p);
}

Test(router_alloc, lookup_never_allocates)
{
    cr_assert_eq(svk_set_allocator(count_malloc, count_realloc, count_free, NULL), 0);
    setup();
    svk_http_router *v1;
    cr_assert_eq(svk_http_router_new(&v1), 0);
    add(v1, "GET", "/orders/{id}");
    add(v1, "POST", "/orders");
    add(v1, "GET", "/files/*");
    cr_assert_eq(svk_http_router_mount_take(root, "/v1", v1), 0);
    add(root, "GET", "/hello");
    freeze();
    static const char *const paths[][2] = {
        {"GET", "/v1/orders/123"}, {"POST", "/v1/orders"}, {"GET", "/v1/files/a/b"},
        {"GET", "/hello"},         {"HEAD", "/hello"},     {"DELETE", "/v1/orders"},
        {"OPTIONS", "/hello"},     {"GET", "/nothing/here"}, {"GET", "/v1"},
    };
    long before = calls;
    for (int round = 0; round < 1000; round++)
        for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
            find(paths[i][0], paths[i][1]);
    long during = calls - before;
    teardown();
    svk_set_allocator(NULL, NULL, NULL, NULL);
    cr_assert_eq(during, 0, "route lookup called the allocator %ld times", during);
}
