/*
 * vh-backend-proto.c: parsing requests and formatting replies
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "hostdev.vfio.backend"

#include <string.h>

#include "vh-backend-proto.h"

G_DEFINE_QUARK(vh-backend-error-quark, vh_backend_error)

void
vh_backend_id_clear(VhBackendId *id)
{
    g_clear_pointer(&id->str, g_free);
    id->type = VH_BACKEND_ID_NULL;
    id->num = 0;
}

void
vh_backend_request_free(VhBackendRequest *req)
{
    if (!req)
        return;
    if (req->root)
        yajl_tree_free(req->root);
    vh_backend_id_clear(&req->id);
    g_free(req);
}

/* The id of @root into @id; FALSE when it is there but of a wrong type. */
static gboolean
vh_backend_id_read(yajl_val root, VhBackendId *id)
{
    const char *path[] = { "id", NULL };
    yajl_val v = yajl_tree_get(root, path, yajl_t_any);

    if (!v || YAJL_IS_NULL(v))
        return TRUE;
    if (YAJL_IS_INTEGER(v)) {
        id->type = VH_BACKEND_ID_INT;
        id->num = YAJL_GET_INTEGER(v);
        return TRUE;
    }
    if (YAJL_IS_STRING(v)) {
        id->type = VH_BACKEND_ID_STRING;
        id->str = g_strdup(YAJL_GET_STRING(v));
        return TRUE;
    }
    return FALSE;
}

VhBackendRequest *
vh_backend_request_parse(const char *line, VhBackendId *ret_id,
                         GError **error)
{
    g_autoptr(VhBackendRequest) req = g_new0(VhBackendRequest, 1);
    const char *path[] = { "cmd", NULL };
    char errbuf[256] = "";
    yajl_val cmd;

    vh_backend_id_clear(ret_id);
    if (!(req->root = yajl_tree_parse(line, errbuf, sizeof(errbuf)))) {
        /* yajl adds lines quoting the input: keep its first line. */
        errbuf[strcspn(errbuf, "\n\r")] = '\0';
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "request is not JSON: %s", g_strstrip(errbuf));
        return NULL;
    }
    if (!YAJL_IS_OBJECT(req->root)) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "request is not a JSON object");
        return NULL;
    }
    if (!vh_backend_id_read(req->root, &req->id)) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "\"id\" must be an integer or a string");
        return NULL;
    }
    *ret_id = req->id;
    ret_id->str = g_strdup(req->id.str);
    cmd = yajl_tree_get(req->root, path, yajl_t_any);
    if (!cmd || !YAJL_IS_STRING(cmd)) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "request has no string \"cmd\"");
        return NULL;
    }
    req->cmd = YAJL_GET_STRING(cmd);
    vh_backend_id_clear(ret_id);
    return g_steal_pointer(&req);
}

static yajl_val
vh_backend_json_field(yajl_val obj, const char *key)
{
    const char *path[] = { key, NULL };

    return obj ? yajl_tree_get(obj, path, yajl_t_any) : NULL;
}

/* "0x1f" (hex digits only after the prefix) into *ret_value. */
static gboolean
vh_backend_hex_parse(const char *s, guint64 *ret_value)
{
    gsize len = strlen(s);

    if (len < 3 || g_ascii_strncasecmp(s, "0x", 2) != 0)
        return FALSE;
    return g_ascii_string_to_unsigned(s + 2, 16, 0, G_MAXUINT64, ret_value,
                                      NULL);
}

gboolean
vh_backend_json_uint(yajl_val obj, const char *where, const char *key,
                     gboolean optional, guint64 def, guint64 max,
                     guint64 *ret_value, GError **error)
{
    yajl_val v = vh_backend_json_field(obj, key);
    guint64 value;

    if (!v) {
        if (optional) {
            *ret_value = def;
            return TRUE;
        }
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "%s%s\"%s\" is missing", where ? where : "",
                    where ? ": " : "", key);
        return FALSE;
    }
    if (YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) >= 0) {
        value = YAJL_GET_INTEGER(v);
    } else if (YAJL_IS_STRING(v) &&
               vh_backend_hex_parse(YAJL_GET_STRING(v), &value)) {
        /* "0x..." for values JSON integers cannot carry */
    } else {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "%s%s\"%s\" must be a non-negative integer or a \"0x\" "
                    "hex string", where ? where : "", where ? ": " : "", key);
        return FALSE;
    }
    if (value > max) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "%s%s\"%s\" is %" G_GUINT64_FORMAT ", more than %"
                    G_GUINT64_FORMAT, where ? where : "", where ? ": " : "",
                    key, value, max);
        return FALSE;
    }
    *ret_value = value;
    return TRUE;
}

gboolean
vh_backend_request_uint(const VhBackendRequest *req, const char *key,
                        gboolean optional, guint64 def, guint64 max,
                        guint64 *ret_value, GError **error)
{
    return vh_backend_json_uint(req->root, NULL, key, optional, def, max,
                                ret_value, error);
}

gboolean
vh_backend_request_string(const VhBackendRequest *req, const char *key,
                          gboolean optional, const char *def,
                          const char **ret_value, GError **error)
{
    yajl_val v = vh_backend_json_field(req->root, key);

    if (!v && optional) {
        *ret_value = def;
        return TRUE;
    }
    if (!v || !YAJL_IS_STRING(v)) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "\"%s\" %s", key, v ? "must be a string" : "is missing");
        return FALSE;
    }
    *ret_value = YAJL_GET_STRING(v);
    return TRUE;
}

gboolean
vh_backend_request_object(const VhBackendRequest *req, const char *key,
                          gboolean optional, yajl_val *ret_value,
                          GError **error)
{
    yajl_val v = vh_backend_json_field(req->root, key);

    if (!v && optional) {
        *ret_value = NULL;
        return TRUE;
    }
    if (!v || !YAJL_IS_OBJECT(v)) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "\"%s\" %s", key, v ? "must be an object" : "is missing");
        return FALSE;
    }
    *ret_value = v;
    return TRUE;
}

gboolean
vh_backend_request_check_fields(const VhBackendRequest *req,
                                const char *const *known, GError **error)
{
    gsize i;

    for (i = 0; i < YAJL_GET_OBJECT(req->root)->len; i++) {
        const char *key = YAJL_GET_OBJECT(req->root)->keys[i];

        if (g_str_equal(key, "id") || g_str_equal(key, "cmd") ||
            (known && g_strv_contains(known, key)))
            continue;
        g_autofree char *esc = g_strescape(key, NULL);
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "%s: unknown field \"%s\"", req->cmd, esc);
        return FALSE;
    }
    return TRUE;
}

/* ---- replies ------------------------------------------------------------ */

void
vh_backend_json_gen_string(yajl_gen g, const char *value)
{
    g_autofree char *valid = NULL;

    if (!value) {
        yajl_gen_null(g);
        return;
    }
    /* Messages may quote what a device or a peer sent: keep JSON valid. */
    if (!g_utf8_validate(value, -1, NULL))
        value = valid = g_utf8_make_valid(value, -1);
    yajl_gen_string(g, (const unsigned char *) value, strlen(value));
}

void
vh_backend_json_gen_uint(yajl_gen g, guint64 value)
{
    char buf[24];
    int n = g_snprintf(buf, sizeof(buf), "%" G_GUINT64_FORMAT, value);

    yajl_gen_number(g, buf, n);
}

static void
vh_backend_id_gen(yajl_gen g, const VhBackendId *id)
{
    yajl_gen_string(g, (const unsigned char *) "id", 2);
    switch (id ? id->type : VH_BACKEND_ID_NULL) {
    case VH_BACKEND_ID_INT:
        yajl_gen_integer(g, id->num);
        break;
    case VH_BACKEND_ID_STRING:
        vh_backend_json_gen_string(g, id->str);
        break;
    default:
        yajl_gen_null(g);
        break;
    }
}

VhBackendReply *
vh_backend_reply_new(const VhBackendId *id)
{
    VhBackendReply *r = g_new0(VhBackendReply, 1);

    r->gen = yajl_gen_alloc(NULL);
    yajl_gen_config(r->gen, yajl_gen_validate_utf8, 1);
    yajl_gen_map_open(r->gen);
    vh_backend_id_gen(r->gen, id);
    vh_backend_reply_bool(r, "ok", TRUE);
    return r;
}

void
vh_backend_reply_free(VhBackendReply *r)
{
    if (!r)
        return;
    if (r->gen)
        yajl_gen_free(r->gen);
    g_free(r);
}

void
vh_backend_reply_key(VhBackendReply *r, const char *key)
{
    vh_backend_json_gen_string(r->gen, key);
}

void
vh_backend_reply_uint(VhBackendReply *r, const char *key, guint64 value)
{
    vh_backend_reply_key(r, key);
    vh_backend_json_gen_uint(r->gen, value);
}

void
vh_backend_reply_int(VhBackendReply *r, const char *key, gint64 value)
{
    vh_backend_reply_key(r, key);
    yajl_gen_integer(r->gen, value);
}

void
vh_backend_reply_bool(VhBackendReply *r, const char *key, gboolean value)
{
    vh_backend_reply_key(r, key);
    yajl_gen_bool(r->gen, value);
}

void
vh_backend_reply_string(VhBackendReply *r, const char *key,
                        const char *value)
{
    vh_backend_reply_key(r, key);
    vh_backend_json_gen_string(r->gen, value);
}

char *
vh_backend_reply_finish(VhBackendReply *r)
{
    const unsigned char *buf;
    size_t len;

    yajl_gen_map_close(r->gen);
    if (yajl_gen_get_buf(r->gen, &buf, &len) != yajl_gen_status_ok)
        return vh_backend_reply_error(NULL, "internal error: the reply "
                                      "could not be formatted");
    return g_strdup_printf("%.*s\n", (int) len, buf);
}

char *
vh_backend_reply_error(const VhBackendId *id, const char *message)
{
    g_autoptr(VhBackendReply) r = vh_backend_reply_new(NULL);

    /* Rebuild: "ok" must be false, and the id goes first. */
    yajl_gen_free(r->gen);
    r->gen = yajl_gen_alloc(NULL);
    yajl_gen_map_open(r->gen);
    vh_backend_id_gen(r->gen, id);
    vh_backend_reply_bool(r, "ok", FALSE);
    vh_backend_reply_string(r, "error", message);
    return vh_backend_reply_finish(r);
}

char *
vh_backend_request_format(guint64 id, const char *cmd, const char *fields)
{
    return g_strdup_printf("{\"id\":%" G_GUINT64_FORMAT ",\"cmd\":\"%s\"%s%s}\n",
                           id, cmd, fields && *fields ? "," : "",
                           fields ? fields : "");
}
