/*
 * vh-backend-proto.h: the backend's JSON control protocol (yajl)
 *
 * One request per line, one reply per line, in order:
 *
 *   {"id":7,"cmd":"region-read","region":0,"offset":0,"size":4}
 *   {"id":7,"ok":true,"value":16777453}
 *   {"id":8,"ok":false,"error":"region 9 does not exist (the device has 9 regions: 0-8)"}
 *
 * "id" is echoed (a number, a string or null); every other field depends
 * on "cmd".  Numbers are JSON integers or strings "0x..." (for values past
 * 2^63).  docs/backend.rst lists every command.  This file is the parsing
 * and formatting half, with no device and no socket behind it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

G_BEGIN_DECLS

#define VH_BACKEND_ERROR (vh_backend_error_quark())
typedef enum {
    VH_BACKEND_ERROR_FAILED,
    VH_BACKEND_ERROR_INVALID,       /* bad request or bad option */
    VH_BACKEND_ERROR_PROTOCOL,      /* not the protocol: bad JSON, no reply */
    VH_BACKEND_ERROR_PRIVILEGE,     /* privileges could not be dropped */
    VH_BACKEND_ERROR_TIMEOUT,       /* no reply, no interrupt, in time */
} VhBackendError;

GQuark vh_backend_error_quark(void);

/* A request line is at most this long (a reply has no limit). */
#define VH_BACKEND_MAX_LINE 65536

/* yajl trees with g_auto(). */
typedef yajl_val VhJson;
G_DEFINE_AUTO_CLEANUP_FREE_FUNC(VhJson, yajl_tree_free, NULL)

/* A request's id, echoed in its reply: null, an integer or a string. */
typedef struct {
    enum { VH_BACKEND_ID_NULL, VH_BACKEND_ID_INT, VH_BACKEND_ID_STRING } type;
    gint64 num;
    char *str;
} VhBackendId;

void vh_backend_id_clear(VhBackendId *id);

typedef struct {
    VhJson root;                /* the whole object, owned */
    VhBackendId id;
    const char *cmd;            /* borrowed from root */
} VhBackendRequest;

void vh_backend_request_free(VhBackendRequest *req);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhBackendRequest, vh_backend_request_free)

/*
 * Parse one request line (without its newline).  Not JSON, not an object,
 * an id that is neither an integer nor a string, or no string "cmd":
 * VH_BACKEND_ERROR_INVALID, and *ret_id gets whatever id could be read,
 * for the error reply (clear it with vh_backend_id_clear()).
 */
VhBackendRequest *vh_backend_request_parse(const char *line,
                                           VhBackendId *ret_id,
                                           GError **error);

/*
 * Field @key of @req as an unsigned integer no larger than @max.  Absent:
 * @def when @optional, else an error naming the field.  Errors are
 * VH_BACKEND_ERROR_INVALID.
 */
gboolean vh_backend_request_uint(const VhBackendRequest *req, const char *key,
                                 gboolean optional, guint64 def, guint64 max,
                                 guint64 *ret_value, GError **error);
/* Same for a field of an object (a nested {"region":..} of a request). */
gboolean vh_backend_json_uint(yajl_val obj, const char *where, const char *key,
                              gboolean optional, guint64 def, guint64 max,
                              guint64 *ret_value, GError **error);

/* Field @key as a string (borrowed), or @def when absent and @optional. */
gboolean vh_backend_request_string(const VhBackendRequest *req,
                                   const char *key, gboolean optional,
                                   const char *def, const char **ret_value,
                                   GError **error);

/* Field @key as an object (borrowed), or NULL when absent and @optional. */
gboolean vh_backend_request_object(const VhBackendRequest *req,
                                   const char *key, gboolean optional,
                                   yajl_val *ret_value, GError **error);

/*
 * Fail unless every field of @req is "id", "cmd" or one of @known (NULL
 * terminated): a misspelt field is an error, not silently ignored.
 */
gboolean vh_backend_request_check_fields(const VhBackendRequest *req,
                                         const char *const *known,
                                         GError **error);

/*
 * A reply under construction: {"id":..,"ok":true, then what the command
 * adds with the yajl_gen (keys and values), then "}" by _finish().
 */
typedef struct {
    yajl_gen gen;
} VhBackendReply;

VhBackendReply *vh_backend_reply_new(const VhBackendId *id);
void vh_backend_reply_free(VhBackendReply *reply);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhBackendReply, vh_backend_reply_free)

void vh_backend_reply_key(VhBackendReply *r, const char *key);
void vh_backend_reply_uint(VhBackendReply *r, const char *key, guint64 value);
void vh_backend_reply_int(VhBackendReply *r, const char *key, gint64 value);
void vh_backend_reply_bool(VhBackendReply *r, const char *key, gboolean value);
void vh_backend_reply_string(VhBackendReply *r, const char *key,
                             const char *value);   /* NULL: null */
/* Without a key, for arrays. */
void vh_backend_json_gen_uint(yajl_gen g, guint64 value);
void vh_backend_json_gen_string(yajl_gen g, const char *value);

/* The reply line, newline-terminated. Free with g_free(). */
char *vh_backend_reply_finish(VhBackendReply *r);

/* {"id":..,"ok":false,"error":MESSAGE} and a newline. Free with g_free(). */
char *vh_backend_reply_error(const VhBackendId *id, const char *message);

/* A request line {"id":ID,"cmd":CMD,FIELDS}\n; @fields is JSON object
 * members or NULL.  Free with g_free(). */
char *vh_backend_request_format(guint64 id, const char *cmd,
                                const char *fields);

G_END_DECLS
