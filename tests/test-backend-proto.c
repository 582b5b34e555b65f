/*
 * test-backend-proto.c: the backend's JSON protocol: parsing requests,
 * formatting replies, and dispatching bad requests to error replies
 * (no device needed for those)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

#include "vh-backend.h"
#include "vh-backend-proto.h"
#include "vh-vfio.h"

static void
test_parse_ok(void)
{
    g_autoptr(VhBackendRequest) req = NULL;
    g_autoptr(GError) err = NULL;
    VhBackendId id = { 0 };
    guint64 v = 0;
    const char *s = NULL;

    req = vh_backend_request_parse(
        "{\"id\":7,\"cmd\":\"region-read\",\"region\":0,\"offset\":\"0xFFFFFFFFFFFFFFF0\",\"irq\":\"msi\"}",
        &id, &err);
    g_assert_no_error(err);
    g_assert_nonnull(req);
    g_assert_cmpstr(req->cmd, ==, "region-read");
    g_assert_cmpint(req->id.type, ==, VH_BACKEND_ID_INT);
    g_assert_cmpint(req->id.num, ==, 7);
    g_assert_cmpint(id.type, ==, VH_BACKEND_ID_NULL);
    g_assert_true(vh_backend_request_uint(req, "offset", FALSE, 0, G_MAXUINT64,
                                          &v, &err));
    g_assert_cmpuint(v, ==, G_GUINT64_CONSTANT(0xFFFFFFFFFFFFFFF0));
    g_assert_true(vh_backend_request_uint(req, "size", TRUE, 4, 8, &v, &err));
    g_assert_cmpuint(v, ==, 4);
    g_assert_true(vh_backend_request_string(req, "irq", FALSE, NULL, &s, &err));
    g_assert_cmpstr(s, ==, "msi");
}

/* Every bad input is an error naming what is wrong; outputs untouched. */
static void
test_parse_bad(void)
{
    static const struct {
        const char *line;
        const char *message;
        int id_type;
    } cases[] = {
        { "", "not JSON", VH_BACKEND_ID_NULL },
        { "{\"id\":1,", "not JSON", VH_BACKEND_ID_NULL },
        { "[1,2]", "not a JSON object", VH_BACKEND_ID_NULL },
        { "\"quit\"", "not a JSON object", VH_BACKEND_ID_NULL },
        { "{\"id\":{},\"cmd\":\"quit\"}", "\"id\" must be", VH_BACKEND_ID_NULL },
        { "{\"id\":1.5,\"cmd\":\"quit\"}", "\"id\" must be", VH_BACKEND_ID_NULL },
        { "{\"id\":3}", "no string \"cmd\"", VH_BACKEND_ID_INT },
        { "{\"id\":\"x\",\"cmd\":5}", "no string \"cmd\"", VH_BACKEND_ID_STRING },
        { "{\"cmd\":null}", "no string \"cmd\"", VH_BACKEND_ID_NULL },
    };
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        VhBackendId id = { 0 };
        VhBackendRequest *req = vh_backend_request_parse(cases[i].line, &id,
                                                         &err);

        g_test_message("line: %s", cases[i].line);
        g_assert_null(req);
        g_assert_error(err, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID);
        g_assert_nonnull(strstr(err->message, cases[i].message));
        g_assert_cmpint(id.type, ==, cases[i].id_type);
        vh_backend_id_clear(&id);
    }
}

static void
test_fields(void)
{
    static const struct {
        const char *line;
        const char *key;
        guint64 max;
        const char *message;
    } cases[] = {
        { "{\"cmd\":\"x\"}", "offset", 10, "\"offset\" is missing" },
        { "{\"cmd\":\"x\",\"offset\":-1}", "offset", 10, "non-negative" },
        { "{\"cmd\":\"x\",\"offset\":1.5}", "offset", 10, "non-negative" },
        { "{\"cmd\":\"x\",\"offset\":\"12\"}", "offset", 10, "non-negative" },
        { "{\"cmd\":\"x\",\"offset\":\"0x\"}", "offset", 10, "non-negative" },
        { "{\"cmd\":\"x\",\"offset\":\"0xg1\"}", "offset", 10, "non-negative" },
        { "{\"cmd\":\"x\",\"offset\":true}", "offset", 10, "non-negative" },
        { "{\"cmd\":\"x\",\"offset\":11}", "offset", 10, "is 11, more than 10" },
        { "{\"cmd\":\"x\",\"offset\":99999999999999999999}", "offset", G_MAXUINT64, "non-negative" },
    };
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) err = NULL;
        g_autoptr(VhBackendRequest) req = NULL;
        VhBackendId id = { 0 };
        guint64 v = 42;

        g_test_message("line: %s", cases[i].line);
        req = vh_backend_request_parse(cases[i].line, &id, &err);
        g_assert_no_error(err);
        g_assert_false(vh_backend_request_uint(req, cases[i].key, FALSE, 0,
                                               cases[i].max, &v, &err));
        g_assert_error(err, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID);
        g_assert_nonnull(strstr(err->message, cases[i].message));
        g_assert_cmpuint(v, ==, 42);
    }
}

static void
test_check_fields(void)
{
    const char *const known[] = { "offset", "size", NULL };
    g_autoptr(VhBackendRequest) req = NULL;
    g_autoptr(GError) err = NULL;
    VhBackendId id = { 0 };

    req = vh_backend_request_parse("{\"id\":1,\"cmd\":\"config-read\","
                                   "\"offset\":0,\"sise\":4}", &id, &err);
    g_assert_no_error(err);
    g_assert_false(vh_backend_request_check_fields(req, known, &err));
    g_assert_error(err, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID);
    g_assert_cmpstr(err->message, ==, "config-read: unknown field \"sise\"");
}

static void
test_reply(void)
{
    VhBackendId id = { .type = VH_BACKEND_ID_STRING, .str = (char *) "a\"b" };
    VhBackendId num = { .type = VH_BACKEND_ID_INT, .num = -3 };
    g_autoptr(VhBackendReply) r = vh_backend_reply_new(&id);
    g_autofree char *line = NULL;
    g_autofree char *err = NULL;
    g_autofree char *bad = NULL;
    g_autofree char *req = NULL;

    vh_backend_reply_uint(r, "value", G_MAXUINT64);
    vh_backend_reply_string(r, "path", "mmap");
    vh_backend_reply_bool(r, "fired", FALSE);
    line = vh_backend_reply_finish(r);
    g_assert_cmpstr(line, ==, "{\"id\":\"a\\\"b\",\"ok\":true,"
                    "\"value\":18446744073709551615,\"path\":\"mmap\","
                    "\"fired\":false}\n");
    err = vh_backend_reply_error(&num, "no \"such\" thing");
    g_assert_cmpstr(err, ==, "{\"id\":-3,\"ok\":false,"
                    "\"error\":\"no \\\"such\\\" thing\"}\n");
    /* Invalid UTF-8 in a message still gives valid JSON. */
    bad = vh_backend_reply_error(NULL, "bad \xff byte");
    g_assert_true(g_str_has_prefix(bad, "{\"id\":null,\"ok\":false,\"error\":\"bad "));
    g_assert_true(g_utf8_validate(bad, -1, NULL));
    req = vh_backend_request_format(9, "status", NULL);
    g_assert_cmpstr(req, ==, "{\"id\":9,\"cmd\":\"status\"}\n");
}

/* ---- dispatch without a device ------------------------------------------ */

static char *
handle(VhBackend *b, const char *line, gboolean *ret_quit)
{
    gboolean quit = FALSE;
    char *out = vh_backend_handle_line(b, line, NULL, &quit);

    if (ret_quit)
        *ret_quit = quit;
    return out;
}

static void
test_dispatch_errors(void)
{
    static const struct {
        const char *line;
        const char *reply_prefix;
        const char *message;
    } cases[] = {
        { "garbage", "{\"id\":null,\"ok\":false,\"error\":\"request is not JSON", NULL },
        { "{\"id\":4,\"cmd\":\"format-disk\"}", "{\"id\":4,\"ok\":false,",
          "unknown command \\\"format-disk\\\"" },
        { "{\"id\":5,\"cmd\":\"region-read\",\"region\":0,\"offset\":0}",
          "{\"id\":5,\"ok\":false,", "no device open yet" },
        { "{\"id\":6,\"cmd\":\"dma-test\"}", "{\"id\":6,\"ok\":false,", "no device open yet" },
        { "{\"id\":7,\"cmd\":\"report\",\"x\":1}", "{\"id\":7,\"ok\":false,",
          "report: unknown field \\\"x\\\"" },
        { "{\"id\":8,\"cmd\":\"handover\"}", "{\"id\":8,\"ok\":false,",
          "got 0 fds" },
        { "{\"id\":9,\"cmd\":\"handover\",\"group\":-1}", "{\"id\":9,\"ok\":false,",
          "\\\"group\\\" must be" },
        { "{\"id\":\"q\",\"cmd\":\"reset\"}", "{\"id\":\"q\",\"ok\":false,", "no device open yet" },
    };
    g_autoptr(VhBackend) b = vh_backend_new(vh_vfio_ops_kernel(), NULL, -1,
                                            "0000:00:03.0");
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        gboolean quit = TRUE;
        g_autofree char *out = handle(b, cases[i].line, &quit);

        g_test_message("line: %s -> %s", cases[i].line, out);
        g_assert_true(g_str_has_prefix(out, cases[i].reply_prefix));
        if (cases[i].message)
            g_assert_nonnull(strstr(out, cases[i].message));
        g_assert_true(g_str_has_suffix(out, "\"}\n"));
        g_assert_false(quit);
    }
}

static void
test_dispatch_status_quit(void)
{
    g_autoptr(VhBackend) b = vh_backend_new(vh_vfio_ops_kernel(), NULL, -1,
                                            "0000:00:03.0");
    g_autofree char *status = NULL;
    g_autofree char *quit_reply = NULL;
    g_autofree char *expect = NULL;
    g_auto(VhJson) tree = NULL;
    const char *path[] = { "pid", NULL };
    gboolean quit = FALSE;

    status = handle(b, "{\"id\":1,\"cmd\":\"status\"}", &quit);
    g_assert_false(quit);
    tree = yajl_tree_parse(status, NULL, 0);
    g_assert_nonnull(tree);
    g_assert_cmpint(YAJL_GET_INTEGER(yajl_tree_get(tree, path, yajl_t_number)),
                    ==, getpid());
    expect = g_strdup_printf("\"uid\":%u,\"gid\":%u,", geteuid(), getegid());
    g_assert_nonnull(strstr(status, expect));
    g_assert_nonnull(strstr(status, "\"device_open\":false"));
    quit_reply = handle(b, "{\"id\":2,\"cmd\":\"quit\"}", &quit);
    g_assert_cmpstr(quit_reply, ==, "{\"id\":2,\"ok\":true}\n");
    g_assert_true(quit);
}

/* fds that come with anything but "handover" are closed, not kept. */
static void
test_dispatch_stray_fds(void)
{
    g_autoptr(VhBackend) b = vh_backend_new(vh_vfio_ops_kernel(), NULL, -1,
                                            "0000:00:03.0");
    g_autoptr(GArray) fds = g_array_new(FALSE, FALSE, sizeof(int));
    g_autofree char *out = NULL;
    gboolean quit;
    int p[2];

    g_assert_cmpint(pipe(p), ==, 0);
    g_array_append_val(fds, p[0]);
    g_array_append_val(fds, p[1]);
    out = vh_backend_handle_line(b, "{\"id\":1,\"cmd\":\"status\"}", fds,
                                 &quit);
    g_assert_true(g_str_has_prefix(out, "{\"id\":1,\"ok\":true"));
    g_assert_cmpuint(fds->len, ==, 0);
    g_assert_cmpint(fcntl(p[0], F_GETFD), ==, -1);
    g_assert_cmpint(fcntl(p[1], F_GETFD), ==, -1);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_summary("The backend's control protocol: request parsing, reply "
                   "formatting, and bad requests answered with errors");
    g_test_add_func("/backend/proto/parse-ok", test_parse_ok);
    g_test_add_func("/backend/proto/parse-bad", test_parse_bad);
    g_test_add_func("/backend/proto/fields", test_fields);
    g_test_add_func("/backend/proto/unknown-field", test_check_fields);
    g_test_add_func("/backend/proto/reply", test_reply);
    g_test_add_func("/backend/dispatch/errors", test_dispatch_errors);
    g_test_add_func("/backend/dispatch/status-quit", test_dispatch_status_quit);
    g_test_add_func("/backend/dispatch/stray-fds", test_dispatch_stray_fds);
    return g_test_run();
}
