/*
 * router.c — method + path routing: a tree of path segments with literal,
 * parameter ("{id}") and wildcard ("*") children, routers mounted under a
 * prefix, and the Allow lists for 405 and automatic OPTIONS.
 *
 * The tree is built by svk_http_router_handle / _mount_take before the
 * server starts, completed by svk__http_router_freeze at start (full
 * patterns, resolved per-route settings, Allow strings, middleware chains)
 * and read-only afterwards, so every loop thread looks routes up without
 * locks. A lookup walks the path in place, one segment at a time, with
 * backtracking (literal, then parameters, then "*"), and stores parameters
 * as spans of the path: it allocates nothing.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "http/server.h"

struct svk__http_node {
    char *seg; /* literal child: its segment; parameter child: its name */
    size_t seg_len;
    svk__http_node **statics;
    size_t nstatics;
    svk__http_node **params;
    size_t nparams;
    svk__http_node *wild;
    svk__http_route **routes; /* one per method */
    size_t nroutes;
    svk__http_route *any; /* method NULL */
    svk_http_router *mount;
    char *allow;
};

/* ----------------------------------------------------------------- build */

static char *dup_n(const char *s, size_t n)
{
    char *d = svk_malloc(n + 1);
    if (d != NULL) {
        memcpy(d, s, n);
        d[n] = '\0';
    }
    return d;
}

static svk__http_node *node_new(const char *seg, size_t len)
{
    svk__http_node *n = svk_malloc(sizeof *n);
    if (n == NULL)
        return NULL;
    memset(n, 0, sizeof *n);
    n->seg = dup_n(seg, len);
    n->seg_len = len;
    if (n->seg == NULL) {
        svk_free(n);
        return NULL;
    }
    return n;
}

static void node_free(svk__http_node *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->nstatics; i++)
        node_free(n->statics[i]);
    for (size_t i = 0; i < n->nparams; i++)
        node_free(n->params[i]);
    node_free(n->wild);
    svk_free(n->statics);
    svk_free(n->params);
    svk_free(n->routes);
    svk_free(n->allow);
    svk_free(n->seg);
    svk_free(n);
}

static int push_node(svk__http_node ***arr, size_t *n, svk__http_node *child)
{
    svk__http_node **grown = svk_realloc(*arr, (*n + 1) * sizeof **arr);
    if (grown == NULL)
        return SVK_ENOMEM;
    grown[(*n)++] = child;
    *arr = grown;
    return 0;
}

static svk__http_node *find_child(svk__http_node **arr, size_t n, const char *seg, size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (arr[i]->seg_len == len && memcmp(arr[i]->seg, seg, len) == 0)
            return arr[i];
    return NULL;
}

/* The child of n for one pattern segment, made when missing. kind: 'l'
 * literal, 'p' parameter (seg is the name), 'w' wildcard. */
static int child_for(svk__http_node *n, int kind, const char *seg, size_t len,
                     svk__http_node **out)
{
    svk__http_node ***arr = kind == 'p' ? &n->params : &n->statics;
    size_t *count = kind == 'p' ? &n->nparams : &n->nstatics;
    svk__http_node *c = kind == 'w' ? n->wild : find_child(*arr, *count, seg, len);
    if (c == NULL) {
        c = node_new(seg, len);
        if (c == NULL)
            return SVK_ENOMEM;
        int rc = kind == 'w' ? (n->wild = c, 0) : push_node(arr, count, c);
        if (rc != 0) {
            node_free(c);
            return rc;
        }
    }
    *out = c;
    return 0;
}

/* Classify one pattern segment: 'l' literal, 'p' parameter (its name in
 * name and name_len) or 'w' wildcard; 0 when malformed. */
static int segment_kind(const char *seg, size_t len, const char **name, size_t *name_len)
{
    *name = seg;
    *name_len = len;
    if (len == 1 && seg[0] == '*')
        return 'w';
    if (len > 0 && seg[0] == '{') {
        if (len < 3 || seg[len - 1] != '}')
            return 0;
        *name = seg + 1;
        *name_len = len - 2;
        return memchr(*name, '{', *name_len) || memchr(*name, '}', *name_len) ? 0 : 'p';
    }
    for (size_t i = 0; i < len; i++)
        if (seg[i] == '{' || seg[i] == '}' || seg[i] == '*')
            return 0;
    return 'l';
}

/* Walk (and extend) the tree along pattern; *end is the node reached. With
 * literal_only, parameters and "*" are refused (mount prefixes). */
static int walk_pattern(svk__http_node *root, const char *pattern, int literal_only,
                        svk__http_node **end)
{
    if (pattern == NULL || pattern[0] != '/')
        return SVK_EINVAL;
    svk__http_node *n = root;
    size_t params = 0;
    for (const char *p = pattern + 1;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        const char *name;
        size_t name_len;
        int kind = segment_kind(p, len, &name, &name_len);
        if (kind == 0 || (literal_only && kind != 'l') || (kind == 'w' && slash != NULL))
            return SVK_EINVAL;
        if (kind == 'p' && ++params > SVK__HTTP_MAX_PARAMS)
            return SVK_EINVAL;
        if (n->mount != NULL)
            return SVK_EEXIST;
        int rc = child_for(n, kind, name, name_len, &n);
        if (rc != 0)
            return rc;
        if (slash == NULL)
            break;
        p = slash + 1;
    }
    *end = n;
    return 0;
}

static int valid_method(const char *m)
{
    if (m == NULL)
        return 1;
    if (*m == '\0')
        return 0;
    for (const unsigned char *p = (const unsigned char *)m; *p; p++)
        if (!(svk__http_class[*p] & SVK__HTTP_TCHAR))
            return 0;
    return 1;
}

static int route_flags_ok(const svk_http_route_options *o)
{
    unsigned known = SVK_HTTP_ROUTE_NONBLOCKING | SVK_HTTP_ROUTE_STREAM_BODY;
    if (o->flags & ~known)
        return 0;
    if ((o->flags & SVK_HTTP_ROUTE_NONBLOCKING) && (o->flags & SVK_HTTP_ROUTE_STREAM_BODY))
        return 0;
    return o->read_timeout >= -1 && o->write_timeout >= -1 && o->handler_timeout >= -1;
}

static int node_has_method(const svk__http_node *n, const char *method)
{
    if (method == NULL)
        return n->any != NULL;
    for (size_t i = 0; i < n->nroutes; i++)
        if (strcmp(n->routes[i]->method, method) == 0)
            return 1;
    return 0;
}

static svk__http_route *route_new(const char *method, const char *pattern,
                                  svk_http_handler_fn fn, void *user,
                                  const svk_http_route_options *opts)
{
    svk__http_route *rt = svk_malloc(sizeof *rt);
    if (rt == NULL)
        return NULL;
    memset(rt, 0, sizeof *rt);
    rt->method = method ? dup_n(method, strlen(method)) : NULL;
    rt->pattern = dup_n(pattern, strlen(pattern));
    if ((method && rt->method == NULL) || rt->pattern == NULL) {
        svk_free(rt->method);
        svk_free(rt->pattern);
        svk_free(rt);
        return NULL;
    }
    svk_http_route_options o = SVK_HTTP_ROUTE_OPTIONS_INIT;
    if (opts != NULL)
        memcpy(&o, opts, opts->size < sizeof o ? opts->size : sizeof o);
    o.size = sizeof o;
    rt->opts = o;
    rt->fn = fn;
    rt->user = user;
    return rt;
}

static void route_free(svk__http_route *rt)
{
    if (rt != NULL) {
        svk_free(rt->method);
        svk_free(rt->pattern);
        svk_free(rt);
    }
}

static int attach_route(svk__http_node *n, svk__http_route *rt)
{
    if (rt->method == NULL) {
        n->any = rt;
        return 0;
    }
    svk__http_route **grown = svk_realloc(n->routes, (n->nroutes + 1) * sizeof *grown);
    if (grown == NULL)
        return SVK_ENOMEM;
    grown[n->nroutes++] = rt;
    n->routes = grown;
    return 0;
}

SVK_API int svk_http_router_handle(svk_http_router *r, const char *method, const char *pattern,
                                   svk_http_handler_fn fn, void *user,
                                   const svk_http_route_options *opts)
{
    if (r == NULL || fn == NULL || pattern == NULL || !valid_method(method))
        return SVK_EINVAL;
    if (opts != NULL && (opts->size == 0 || !route_flags_ok(opts)))
        return SVK_EINVAL;
    if (r->frozen)
        return SVK_ESTATE;
    svk__http_node *n;
    int rc = walk_pattern(r->root, pattern, 0, &n);
    if (rc != 0)
        return rc;
    if (n->mount != NULL || node_has_method(n, method))
        return SVK_EEXIST;
    svk__http_route *rt = route_new(method, pattern, fn, user, opts);
    if (rt == NULL)
        return SVK_ENOMEM;
    rc = attach_route(n, rt);
    if (rc != 0) {
        route_free(rt);
        return rc;
    }
    rt->router = r;
    rt->next_in_router = r->routes;
    r->routes = rt;
    return 0;
}

/* ----------------------------------------------------------- life cycle */

SVK_API int svk_http_router_new(svk_http_router **out)
{
    if (out == NULL)
        return SVK_EINVAL;
    *out = NULL;
    svk_http_router *r = svk_malloc(sizeof *r);
    if (r == NULL)
        return SVK_ENOMEM;
    memset(r, 0, sizeof *r);
    r->root = node_new("", 0);
    if (r->root == NULL) {
        svk_free(r);
        return SVK_ENOMEM;
    }
    *out = r;
    return 0;
}

static void free_cors_blocks(void *block)
{
    while (block != NULL) {
        void *next = *(void **)block;
        svk_free(block);
        block = next;
    }
}

static void router_free_tree(svk_http_router *r)
{
    svk_http_router *c = r->children;
    while (c != NULL) {
        svk_http_router *next = c->next_sibling;
        router_free_tree(c);
        c = next;
    }
    for (svk__http_route *rt = r->routes; rt != NULL;) {
        svk__http_route *next = rt->next_in_router;
        route_free(rt);
        rt = next;
    }
    node_free(r->root);
    free_cors_blocks(r->cors);
    svk_free(r->mws);
    svk_free(r->chain);
    svk_free(r->prefix);
    svk_free(r);
}

SVK_API void svk_http_router_free(svk_http_router *r)
{
    if (r != NULL && r->parent == NULL)
        router_free_tree(r);
}

SVK_API int svk_http_router_use(svk_http_router *r, svk_http_middleware_fn fn, void *user)
{
    if (r == NULL || fn == NULL)
        return SVK_EINVAL;
    if (r->frozen)
        return SVK_ESTATE;
    svk__http_mw *grown = svk_realloc(r->mws, (r->nmws + 1) * sizeof *grown);
    if (grown == NULL)
        return SVK_ENOMEM;
    grown[r->nmws].fn = fn;
    grown[r->nmws].user = user;
    r->mws = grown;
    r->nmws++;
    return 0;
}

static int is_ancestor(const svk_http_router *a, const svk_http_router *r)
{
    for (; r != NULL; r = r->parent)
        if (r == a)
            return 1;
    return 0;
}

SVK_API int svk_http_router_mount_take(svk_http_router *r, const char *prefix,
                                       svk_http_router *sub)
{
    if (r == NULL || sub == NULL || prefix == NULL || is_ancestor(sub, r) ||
        sub->parent != NULL)
        return SVK_EINVAL;
    size_t len = strlen(prefix);
    if (len < 2 || prefix[len - 1] == '/')
        return SVK_EINVAL;
    if (r->frozen || sub->frozen)
        return SVK_ESTATE;
    char *copy = dup_n(prefix, len);
    if (copy == NULL)
        return SVK_ENOMEM;
    svk__http_node *n;
    int rc = walk_pattern(r->root, prefix, 1, &n);
    if (rc == 0 && (n->mount != NULL || n->nroutes > 0 || n->any != NULL ||
                    n->nstatics > 0 || n->nparams > 0 || n->wild != NULL))
        rc = SVK_EEXIST;
    if (rc != 0) {
        svk_free(copy);
        return rc;
    }
    n->mount = sub;
    sub->parent = r;
    sub->prefix = copy;
    sub->next_sibling = r->children;
    r->children = sub;
    return 0;
}

/* -------------------------------------------------------------- freeze */

static uint64_t resolve_ms(int64_t route_ns, uint64_t server_ms)
{
    if (route_ns == 0)
        return server_ms;
    if (route_ns < 0)
        return SVK__HTTP_NEVER;
    uint64_t ms = (uint64_t)route_ns / 1000000u;
    return ms > 0 ? ms : 1;
}

static void resolve_cfg(svk__http_route *rt, const svk_http_server *srv)
{
    const svk__http_route_cfg *d = &srv->defaults;
    const svk_http_route_options *o = &rt->opts;
    rt->cfg.flags = o->flags;
    rt->cfg.body_limit = o->body_limit ? o->body_limit : d->body_limit;
    rt->cfg.read_ms = resolve_ms(o->read_timeout, d->read_ms);
    rt->cfg.write_ms = resolve_ms(o->write_timeout, d->write_ms);
    rt->cfg.handler_ms = resolve_ms(o->handler_timeout, d->handler_ms);
    rt->cfg.min_rate = o->min_body_rate ? o->min_body_rate : d->min_rate;
}

static int append_method(svk_buf *b, const char *m)
{
    if (b->len > 0 && svk_buf_append_str(b, ", ") != 0)
        return SVK_ENOMEM;
    return svk_buf_append_str(b, m);
}

static int node_allow(svk__http_node *n)
{
    svk_buf b = SVK_BUF_INIT;
    int rc = 0, get = 0, head = 0, options = 0;
    for (size_t i = 0; i < n->nroutes && rc == 0; i++) {
        const char *m = n->routes[i]->method;
        get |= strcmp(m, "GET") == 0;
        head |= strcmp(m, "HEAD") == 0;
        options |= strcmp(m, "OPTIONS") == 0;
        rc = append_method(&b, m);
    }
    if (rc == 0 && get && !head)
        rc = append_method(&b, "HEAD");
    if (rc == 0 && !options)
        rc = append_method(&b, "OPTIONS");
    if (rc != 0) {
        svk_buf_free(&b);
        return rc;
    }
    n->allow = svk_buf_detach(&b, NULL);
    return n->allow ? 0 : SVK_ENOMEM;
}

static int freeze_nodes(svk__http_node *n)
{
    int rc = (n->nroutes > 0 || n->any) && n->allow == NULL ? node_allow(n) : 0;
    for (size_t i = 0; i < n->nstatics && rc == 0; i++)
        rc = freeze_nodes(n->statics[i]);
    for (size_t i = 0; i < n->nparams && rc == 0; i++)
        rc = freeze_nodes(n->params[i]);
    if (rc == 0 && n->wild != NULL)
        rc = freeze_nodes(n->wild);
    return rc;
}

static int freeze_chain(svk_http_router *r)
{
    const svk_http_router *p = r->parent;
    size_t outer = p != NULL ? p->nchain : 0;
    r->nchain = outer + r->nmws;
    r->chain = svk_malloc((r->nchain ? r->nchain : 1) * sizeof *r->chain);
    if (r->chain == NULL)
        return SVK_ENOMEM;
    if (outer > 0)
        memcpy(r->chain, p->chain, outer * sizeof *r->chain);
    if (r->nmws > 0)
        memcpy(r->chain + outer, r->mws, r->nmws * sizeof *r->chain);
    return 0;
}

/* The prefix of r as seen from the root: the parents' prefixes joined. */
static int freeze_prefix(svk_http_router *r)
{
    if (r->parent == NULL || r->parent->prefix == NULL)
        return 0;
    size_t a = strlen(r->parent->prefix), b = strlen(r->prefix);
    char *full = svk_malloc(a + b + 1);
    if (full == NULL)
        return SVK_ENOMEM;
    memcpy(full, r->parent->prefix, a);
    memcpy(full + a, r->prefix, b + 1);
    svk_free(r->prefix);
    r->prefix = full;
    return 0;
}

static int freeze_routes(svk_http_router *r, const svk_http_server *srv)
{
    for (svk__http_route *rt = r->routes; rt != NULL; rt = rt->next_in_router) {
        resolve_cfg(rt, srv);
        if (r->prefix == NULL)
            continue;
        size_t a = strlen(r->prefix), b = strlen(rt->pattern);
        char *full = svk_malloc(a + b + 1);
        if (full == NULL)
            return SVK_ENOMEM;
        memcpy(full, r->prefix, a);
        memcpy(full + a, rt->pattern, b + 1);
        svk_free(rt->pattern);
        rt->pattern = full;
    }
    return 0;
}

int svk__http_router_freeze(svk_http_router *r, const svk_http_server *srv)
{
    int rc = freeze_prefix(r);
    if (rc == 0)
        rc = freeze_chain(r);
    if (rc == 0)
        rc = freeze_routes(r, srv);
    if (rc == 0)
        rc = freeze_nodes(r->root);
    for (svk_http_router *c = r->children; c != NULL && rc == 0; c = c->next_sibling)
        rc = svk__http_router_freeze(c, srv);
    if (rc == 0)
        r->frozen = 1;
    return rc;
}

/* -------------------------------------------------------------- lookup */

typedef struct lookup {
    const char *method;
    size_t method_len;
    const char *end; /* of the path being matched (the sub-path in a mount) */
    svk__http_match *m;
    const svk__http_node *not_allowed; /* first node with the path but not the method */
    const svk_http_router *not_allowed_router;
} lookup;

static int method_is(const lookup *lk, const char *m)
{
    return strlen(m) == lk->method_len && memcmp(m, lk->method, lk->method_len) == 0;
}

/* A node where the path ends: pick the route for the method. */
static int match_terminal(lookup *lk, const svk__http_node *n, const svk_http_router *r)
{
    if (n->nroutes == 0 && n->any == NULL)
        return 0;
    const svk__http_route *get = NULL;
    for (size_t i = 0; i < n->nroutes; i++) {
        if (method_is(lk, n->routes[i]->method)) {
            lk->m->route = n->routes[i];
            return 1;
        }
        if (strcmp(n->routes[i]->method, "GET") == 0)
            get = n->routes[i];
    }
    if (get != NULL && method_is(lk, "HEAD")) {
        lk->m->route = get;
        lk->m->head_only = 1;
        return 1;
    }
    if (n->any != NULL) {
        lk->m->route = n->any;
        return 1;
    }
    if (lk->not_allowed == NULL) {
        lk->not_allowed = n;
        lk->not_allowed_router = r;
    }
    return 0;
}

static int match_node(lookup *lk, const svk__http_node *n, const svk_http_router *r,
                      const char *pos);

static int match_mount(lookup *lk, const svk_http_router *sub, const char *pos)
{
    static const char slash[] = "/";
    const char *saved_end = lk->end;
    int found;
    if (pos == lk->end) {
        lk->end = slash + 1;
        found = match_node(lk, sub->root, sub, slash);
    } else {
        found = match_node(lk, sub->root, sub, pos);
    }
    if (!found)
        lk->end = saved_end;
    return found;
}

static int match_children(lookup *lk, const svk__http_node *n, const svk_http_router *r,
                          const char *pos)
{
    const char *seg = pos + 1;
    const char *seg_end = memchr(seg, '/', (size_t)(lk->end - seg));
    if (seg_end == NULL)
        seg_end = lk->end;
    size_t len = (size_t)(seg_end - seg);
    const svk__http_node *lit = find_child(n->statics, n->nstatics, seg, len);
    if (lit != NULL && match_node(lk, lit, r, seg_end))
        return 1;
    svk__http_match *m = lk->m;
    if (len > 0 && m->nparams < SVK__HTTP_MAX_PARAMS) {
        for (size_t i = 0; i < n->nparams; i++) {
            m->params[m->nparams] = (svk__http_param){n->params[i]->seg, seg, len};
            m->nparams++;
            if (match_node(lk, n->params[i], r, seg_end))
                return 1;
            m->nparams--;
        }
    }
    if (n->wild != NULL && m->nparams < SVK__HTTP_MAX_PARAMS) {
        m->params[m->nparams++] = (svk__http_param){"*", seg, (size_t)(lk->end - seg)};
        if (match_terminal(lk, n->wild, r)) {
            m->router = r;
            return 1;
        }
        m->nparams--;
    }
    return 0;
}

/* pos is the end of the path or a '/' starting the next segment. */
static int match_node(lookup *lk, const svk__http_node *n, const svk_http_router *r,
                      const char *pos)
{
    if (n->mount != NULL)
        return match_mount(lk, n->mount, pos);
    if (pos == lk->end) {
        if (!match_terminal(lk, n, r))
            return 0;
        lk->m->router = r;
        return 1;
    }
    return match_children(lk, n, r, pos);
}

void svk__http_router_lookup(const svk_http_router *r, const char *method, size_t method_len,
                             const char *path, size_t path_len, svk__http_match *m)
{
    lookup lk = {method, method_len, path + path_len, m, NULL, NULL};
    m->route = NULL;
    m->router = r;
    m->allow = NULL;
    m->status = 404;
    m->head_only = 0;
    m->nparams = 0;
    if (path_len > 0 && path[0] == '/' && match_node(&lk, r->root, r, path)) {
        m->status = 0;
        return;
    }
    m->nparams = 0;
    if (lk.not_allowed != NULL) {
        m->allow = lk.not_allowed->allow;
        m->router = lk.not_allowed_router;
        m->status = method_is(&lk, "OPTIONS") ? 204 : 405;
    }
}
