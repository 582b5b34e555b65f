/*
 * test-backend-device.c: the backend's commands against the library's
 * simulated VFIO kernel (tests/fake/vh-fake-vfio.h): what each answers,
 * and that bad requests about the device are refused with the reason
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "vh-backend.h"
#include "vh-fake-vfio.h"

typedef struct {
    VhFakeVfio *fake;
    VhBackend *b;
} Fixture;

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
    static const int groups[] = { 3 };
    g_autoptr(GError) err = NULL;
    guint8 *config, *bar0;

    fx->fake = vh_fake_vfio_new("0000:00:03.0", groups, 1);
    /* edu's ids in config space; BAR0 4 KiB, mmap-able; BAR2 by pread. */
    config = fx->fake->regions[VFIO_PCI_CONFIG_REGION_INDEX].data->data;
    config[0] = 0x34;
    config[1] = 0x12;
    config[2] = 0xe8;
    config[3] = 0x11;
    vh_fake_vfio_set_region(fx->fake, 0, VFIO_REGION_INFO_FLAG_READ |
                            VFIO_REGION_INFO_FLAG_WRITE |
                            VFIO_REGION_INFO_FLAG_MMAP, 4096, NULL, 0);
    bar0 = fx->fake->regions[0].data->data;
    bar0[0] = 0xed;
    bar0[1] = 0x00;
    bar0[2] = 0x00;
    bar0[3] = 0x01;
    vh_fake_vfio_set_region(fx->fake, 2, VFIO_REGION_INFO_FLAG_READ |
                            VFIO_REGION_INFO_FLAG_WRITE, 256, NULL, 0);
    /* Like edu: no FLR, no bus reset. */
    fx->fake->hot_reset_errno = ENOTTY;
    fx->b = vh_backend_new(vh_fake_vfio_ops(), fx->fake, -1, "0000:00:03.0");
    g_assert_true(vh_backend_open_device(fx->b, VH_FAKE_VFIO_GROUP_FD, 3,
                                         VH_FAKE_VFIO_CONTAINER_FD, &err));
    g_assert_no_error(err);
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
    vh_backend_free(fx->b);
    vh_fake_vfio_free(fx->fake);
}

/* The reply to @line, parsed; asserts it is ok:true. */
static yajl_val
call_ok(Fixture *fx, const char *line)
{
    g_autofree char *out = NULL;
    gboolean quit;
    yajl_val tree;
    const char *path[] = { "ok", NULL };

    out = vh_backend_handle_line(fx->b, line, NULL, &quit);
    g_test_message("%s -> %s", line, out);
    tree = yajl_tree_parse(out, NULL, 0);
    g_assert_nonnull(tree);
    g_assert_true(YAJL_IS_TRUE(yajl_tree_get(tree, path, yajl_t_any)));
    return tree;
}

/* The error message of the reply to @line (free with g_free()). */
static char *
call_error(Fixture *fx, const char *line)
{
    g_autofree char *out = NULL;
    g_auto(VhJson) tree = NULL;
    gboolean quit;
    const char *ok[] = { "ok", NULL };
    const char *msg[] = { "error", NULL };

    out = vh_backend_handle_line(fx->b, line, NULL, &quit);
    g_test_message("%s -> %s", line, out);
    tree = yajl_tree_parse(out, NULL, 0);
    g_assert_nonnull(tree);
    g_assert_true(YAJL_IS_FALSE(yajl_tree_get(tree, ok, yajl_t_any)));
    return g_strdup(YAJL_GET_STRING(yajl_tree_get(tree, msg, yajl_t_string)));
}

static guint64
get_uint(yajl_val tree, const char *key)
{
    const char *path[] = { key, NULL };
    yajl_val v = yajl_tree_get(tree, path, yajl_t_number);

    g_assert_nonnull(v);
    return YAJL_GET_INTEGER(v);
}

static const char *
get_string(yajl_val tree, const char *key)
{
    const char *path[] = { key, NULL };
    yajl_val v = yajl_tree_get(tree, path, yajl_t_string);

    g_assert_nonnull(v);
    return YAJL_GET_STRING(v);
}

static void
test_report(Fixture *fx, gconstpointer data)
{
    g_auto(VhJson) r = call_ok(fx, "{\"id\":1,\"cmd\":\"report\"}");
    const char *regions[] = { "regions", NULL };
    const char *irqs[] = { "irqs", NULL };
    yajl_val arr, bar0;

    g_assert_cmpuint(get_uint(r, "vendor"), ==, 0x1234);
    g_assert_cmpuint(get_uint(r, "device_id"), ==, 0x11e8);
    g_assert_cmpuint(get_uint(r, "num_regions"), ==, 9);
    g_assert_cmpstr(get_string(r, "reset"), ==, "none");
    arr = yajl_tree_get(r, regions, yajl_t_array);
    g_assert_nonnull(arr);
    bar0 = YAJL_GET_ARRAY(arr)->values[0];
    g_assert_cmpstr(get_string(bar0, "name"), ==, "BAR0");
    g_assert_cmpuint(get_uint(bar0, "size"), ==, 4096);
    arr = yajl_tree_get(r, irqs, yajl_t_array);
    g_assert_cmpuint(YAJL_GET_ARRAY(arr)->len, ==, 5);
    g_assert_cmpstr(get_string(YAJL_GET_ARRAY(arr)->values[0], "name"), ==,
                    "intx");
    g_assert_cmpuint(get_uint(YAJL_GET_ARRAY(arr)->values[0], "count"), ==, 1);
}

static void
test_config(Fixture *fx, gconstpointer data)
{
    g_auto(VhJson) r1 = call_ok(fx, "{\"id\":1,\"cmd\":\"config-read\","
                                "\"offset\":0,\"size\":4}");
    g_auto(VhJson) r2 = NULL;
    g_auto(VhJson) r3 = NULL;
    guint8 *config = fx->fake->regions[VFIO_PCI_CONFIG_REGION_INDEX].data->data;

    g_assert_cmpuint(get_uint(r1, "value"), ==, 0x11e81234);
    r2 = call_ok(fx, "{\"id\":2,\"cmd\":\"config-write\",\"offset\":\"0x40\","
                 "\"size\":2,\"value\":4660}");
    g_assert_cmpuint(config[0x40], ==, 0x34);
    g_assert_cmpuint(config[0x41], ==, 0x12);
    r3 = call_ok(fx, "{\"id\":3,\"cmd\":\"config-read\",\"offset\":64,"
                 "\"size\":1}");
    g_assert_cmpuint(get_uint(r3, "value"), ==, 0x34);
}

static void
test_regions(Fixture *fx, gconstpointer data)
{
    g_auto(VhJson) r0 = call_ok(fx, "{\"id\":1,\"cmd\":\"region-read\","
                                "\"region\":0,\"offset\":0}");
    g_auto(VhJson) w2 = NULL;
    g_auto(VhJson) r2 = NULL;
    guint8 *bar2 = fx->fake->regions[2].data->data;

    g_assert_cmpuint(get_uint(r0, "value"), ==, 0x010000ed);
    g_assert_cmpstr(get_string(r0, "path"), ==, "mmap");
    w2 = call_ok(fx, "{\"id\":2,\"cmd\":\"region-write\",\"region\":2,"
                 "\"offset\":8,\"size\":8,\"value\":\"0x0102030405060708\"}");
    g_assert_cmpstr(get_string(w2, "path"), ==, "pwrite");
    g_assert_cmpuint(bar2[8], ==, 0x08);
    g_assert_cmpuint(bar2[15], ==, 0x01);
    r2 = call_ok(fx, "{\"id\":3,\"cmd\":\"region-read\",\"region\":2,"
                 "\"offset\":12,\"size\":2}");
    g_assert_cmpuint(get_uint(r2, "value"), ==, 0x0304);
    g_assert_cmpstr(get_string(r2, "path"), ==, "pread");
}

static void
test_bad_requests(Fixture *fx, gconstpointer data)
{
    static const struct {
        const char *line;
        const char *message;
    } cases[] = {
        { "{\"cmd\":\"region-read\",\"region\":9,\"offset\":0}",
          "region 9 does not exist (the device has 9 regions: 0-8)" },
        { "{\"cmd\":\"region-read\",\"region\":0,\"offset\":4093}",
          "BAR0 is 4096 bytes; 4 bytes at offset 0xffd do not fit" },
        { "{\"cmd\":\"region-read\",\"region\":0,\"offset\":\"0xffffffffffffffff\"}",
          "do not fit" },
        { "{\"cmd\":\"region-read\",\"region\":0,\"offset\":0,\"size\":3}",
          "\"size\" must be 1, 2, 4 or 8, not 3" },
        { "{\"cmd\":\"config-read\",\"offset\":0,\"size\":8}",
          "\"size\" must be 1, 2, 4, not 8" },
        { "{\"cmd\":\"config-read\",\"offset\":256}", "config is 256 bytes" },
        { "{\"cmd\":\"region-write\",\"region\":2,\"offset\":0,\"size\":1,\"value\":256}",
          "value 0x100 does not fit in 1 bytes" },
        { "{\"cmd\":\"region-write\",\"region\":2,\"offset\":0}", "\"value\" is missing" },
        { "{\"cmd\":\"region-read\",\"region\":1,\"offset\":0}",
          "BAR1 is 0 bytes" },
        { "{\"cmd\":\"irq-test\",\"irq\":\"msi\"}",
          "msi has 0 vectors; vector 0 does not exist" },
        { "{\"cmd\":\"irq-test\",\"irq\":\"nmi\"}",
          "\"irq\" must be intx, msi, msix, err or req" },
        { "{\"cmd\":\"irq-test\",\"irq\":\"intx\",\"trigger\":{\"region\":0}}",
          "trigger: \"offset\" is missing" },
        { "{\"cmd\":\"irq-test\",\"irq\":\"intx\",\"trigger\":5}",
          "\"trigger\" must be an object" },
        { "{\"cmd\":\"dma-test\",\"length\":4096}",
          "length 4096 must be 1 to 4095 bytes" },
        { "{\"cmd\":\"dma-test\",\"iova\":\"0x10000000\"}",
          "below 256 MiB" },
        { "{\"cmd\":\"dma-test\",\"iova\":4096,\"unmapped_iova\":8192}",
          "overlaps the two pages" },
        { "{\"cmd\":\"dma-test\",\"iova\":100}", "multiples of the page size" },
        { "{\"cmd\":\"reset\"}", "0000:00:03.0" },
    };
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *msg = call_error(fx, cases[i].line);

        g_assert_nonnull(strstr(msg, cases[i].message));
    }
    /* Nothing was written by the refused requests. */
    g_assert_cmpuint(fx->fake->regions[2].data->data[0], ==, 0);
}

static void
test_irq_loopback(Fixture *fx, gconstpointer data)
{
    g_auto(VhJson) r = call_ok(fx, "{\"id\":1,\"cmd\":\"irq-test\","
                               "\"irq\":\"intx\",\"timeout_ms\":2000}");
    g_autofree char *calls = vh_fake_vfio_calls(fx->fake);

    g_assert_cmpstr(get_string(r, "trigger"), ==, "loopback");
    g_assert_cmpuint(get_uint(r, "count"), ==, 1);
    /* Left as found: disabled. */
    g_assert_cmpuint(fx->fake->irqs[0].enabled, ==, 0);
}

/* A device that raises nothing: the test says so, and INTx is off again. */
static void
test_irq_timeout(Fixture *fx, gconstpointer data)
{
    g_autofree char *msg = call_error(fx,
        "{\"cmd\":\"irq-test\",\"irq\":\"intx\",\"timeout_ms\":50,"
        "\"trigger\":{\"region\":2,\"offset\":0,\"size\":4,\"value\":1}}");

    g_assert_nonnull(strstr(msg, "no intx interrupt on vector 0 within 50 ms "
                            "after the trigger write"));
    g_assert_cmpuint(fx->fake->regions[2].data->data[0], ==, 1);
    g_assert_cmpuint(fx->fake->irqs[0].enabled, ==, 0);
}

static void
test_dma_not_edu(Fixture *fx, gconstpointer data)
{
    guint8 *config = fx->fake->regions[VFIO_PCI_CONFIG_REGION_INDEX].data->data;
    g_autofree char *msg = NULL;

    config[0] = 0x86;
    config[1] = 0x80;
    config[2] = 0x0e;
    config[3] = 0x10;
    msg = call_error(fx, "{\"cmd\":\"dma-test\"}");
    g_assert_cmpstr(msg, ==, "0000:00:03.0 (8086:100e): dma-test knows how "
                    "to program only QEMU's edu device (1234:11e8)");
    g_assert_cmpuint(fx->fake->maps->len, ==, 0);
}

static void
test_reset(Fixture *fx, gconstpointer data)
{
    g_auto(VhJson) r = NULL;

    /* The device info is read at open: a backend on a device that can. */
    vh_backend_free(fx->b);
    fx->fake->device_flags |= VFIO_DEVICE_FLAGS_RESET;
    fx->b = vh_backend_new(vh_fake_vfio_ops(), fx->fake, -1, "0000:00:03.0");
    g_assert_true(vh_backend_open_device(fx->b, VH_FAKE_VFIO_GROUP_FD, 3,
                                         VH_FAKE_VFIO_CONTAINER_FD, NULL));
    r = call_ok(fx, "{\"id\":1,\"cmd\":\"reset\"}");
    g_assert_cmpstr(get_string(r, "method"), ==, "device");
    g_assert_cmpuint(fx->fake->resets, ==, 1);
}

static void
test_second_open_refused(Fixture *fx, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    int p[2];

    g_assert_cmpint(pipe(p), ==, 0);
    g_assert_false(vh_backend_open_device(fx->b, p[0], 3, p[1], &err));
    g_assert_error(err, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID);
    g_assert_cmpstr(err->message, ==, "0000:00:03.0 is open already; a "
                    "backend serves one device");
    /* Both fds were taken and closed. */
    g_assert_cmpint(fcntl(p[0], F_GETFD), ==, -1);
    g_assert_cmpint(fcntl(p[1], F_GETFD), ==, -1);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_summary("The backend's commands against the simulated VFIO kernel");
#define ADD(path, fn) \
    g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("/backend/device/report", test_report);
    ADD("/backend/device/config", test_config);
    ADD("/backend/device/regions", test_regions);
    ADD("/backend/device/bad-requests", test_bad_requests);
    ADD("/backend/device/irq-loopback", test_irq_loopback);
    ADD("/backend/device/irq-timeout", test_irq_timeout);
    ADD("/backend/device/dma-not-edu", test_dma_not_edu);
    ADD("/backend/device/reset", test_reset);
    ADD("/backend/device/second-open", test_second_open_refused);
    return g_test_run();
}
