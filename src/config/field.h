/*
 * field.h — internal: the config object, its fields, and the helpers the
 * files of src/config/ share.
 *
 * Ownership inside: every char * here is owned by the config and allocated
 * with svk_malloc; values and defaults are wiped before they are freed
 * (secrets need it, and it costs nothing for the rest).
 *
 * Life cycle: state moves DECLARING -> LOADED or DECLARING -> FAILED, never
 * back. Fields are only added while DECLARING, and the loaded values of a
 * LOADED config never change, which is what makes readers thread-safe.
 */
#ifndef SVK_CONFIG_FIELD_H
#define SVK_CONFIG_FIELD_H

#include "svckit/config.h"

#define SVK_CONFIG_FLAGS_ALL                                                     \
    (SVK_CONFIG_REQUIRED | SVK_CONFIG_SECRET | SVK_CONFIG_ALLOW_EMPTY |           \
     SVK_CONFIG_ALLOW_NEGATIVE | SVK_CONFIG_FILE)

/* Longest reason a rule writes (an enum's choice list is cut to fit). */
#define SVK_CONFIG_REASON_SIZE 256

enum svk__config_state { SVK__DECLARING, SVK__LOADED, SVK__FAILED };

/* A parsed scalar: which member is live follows the field's type. */
typedef union svk__config_value {
    int64_t i;     /* int64, duration */
    uint64_t u;    /* bytes */
    bool b;        /* bool */
    size_t choice; /* enum: index into choices (only when set) */
} svk__config_value;

typedef struct svk__config_field {
    char *name;          /* as declared: "PORT" */
    char *env_name;      /* prefix + name: "ORDERS_PORT" */
    char *file_env_name; /* env_name + "_FILE" when accepted, else NULL */
    char *help;          /* never NULL ("" when none given) */
    char *def;           /* default text, NULL when none */
    enum svk_config_type type;
    unsigned flags;
    int64_t imin, imax;  /* int64 and duration bounds */
    uint64_t umin, umax; /* bytes bounds */
    char **choices;      /* enum choices or url schemes: NULL-terminated, one block */
    svk_config_validator validator;
    void *validator_user;
    /* Set by load. */
    enum svk_config_source source;
    char *text;          /* effective text, NUL-terminated; NULL when unset */
    size_t text_len;
    svk__config_value value;
    char **items;        /* list: item pointers then item bytes, one block */
    size_t item_count;
    size_t items_size;   /* bytes of that block, to wipe it */
    bool bad;            /* load found an error in this field */
} svk__config_field;

struct svk_config {
    char *prefix;        /* "" or ends in '_' */
    svk__config_field *fields;
    size_t field_count;
    size_t field_cap;
    enum svk__config_state state;
    int sticky;          /* first declaration error, 0 when none */
    svk_buf errors;      /* "\n"-terminated lines */
    svk_buf warnings;
};

/* config.c */
char *svk__config_strdup(const char *s);
char *svk__config_concat(const char *a, const char *b);
void svk__config_wipe_free(void *p, size_t n);
/* Release what f owns (wiping values), not f itself. */
void svk__config_field_free(svk__config_field *f);
svk__config_field *svk__config_find(const svk_config *c, const char *name);
int svk__config_valid_name(const char *s, bool allow_empty);

/* rules.c: check text against f's type, flags and bounds. On success 0 and
 * *v filled; on failure SVK_EINVAL/SVK_ERANGE and reason (never the text). */
int svk__config_check(const svk__config_field *f, const char *text, size_t len,
                      svk__config_value *v, char *reason, size_t reason_size);
/* rules.c: split a checked list value into f->items (one allocation). */
int svk__config_split_list(svk__config_field *f);

/* render.c: how values and bounds are written into messages. */
int svk__config_append_quoted(svk_buf *b, const char *s, size_t len, size_t max);
int svk__config_append_escaped(svk_buf *b, const char *s, size_t len);
void svk__config_format_duration(int64_t ns, char *out, size_t size);
void svk__config_format_bytes(uint64_t n, char *out, size_t size);
const char *svk__config_type_name(enum svk_config_type t);

/* file_value.c: read NAME_FILE's file into a new buffer, trailing newlines
 * stripped. 0, or SVK_ENOMEM, or SVK_EIO with reason set. */
int svk__config_read_file(const char *path, char **text, size_t *len, char *reason,
                          size_t reason_size);

#endif
