/*
 * test-vfio-cli.c: `virt-hostdev device-info` over a fake sysfs tree and the
 * simulated VFIO kernel (the edu device as the test bed shows it)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "vh-cli.h"
#include "vh-fake-sysfs.h"
#include "vh-fake-vfio.h"

static const VhFakePciDevice bed[] = {
    VH_FAKE_PCI("0000:00:03.0", 0x1234, 0x11e8, 0x00ff00, .group = 3,
                .driver = "vfio-pci"),
    VH_FAKE_PCI("0000:00:05.0", 0x8086, 0x100e, 0x020000, .group = 5,
                .driver = "e1000"),
};

static const int edu_group[] = { 3 };

/* The edu device: BAR0 1 MiB mmap-able, config, INTx and one MSI vector,
 * no reset; the q35 IOVA ranges around the MSI window. */
static VhFakeVfio *
fake_edu(void)
{
    VhFakeVfio *fake = vh_fake_vfio_new("0000:00:03.0", edu_group, 1);
    VhVfioIovaRange ranges[] = {
        { .start = 0, .end = 0xfedfffff },
        { .start = 0xfef00000, .end = G_MAXUINT64 },
    };

    vh_fake_vfio_set_region(fake, 0, VFIO_REGION_INFO_FLAG_READ |
                            VFIO_REGION_INFO_FLAG_WRITE |
                            VFIO_REGION_INFO_FLAG_MMAP, 1024 * 1024, NULL, 0);
    fake->irqs[1].count = 1;
    fake->irqs[4].count = 1;
    fake->hot_reset_errno = 19;     /* ENODEV: root bus, no bus reset */
    fake->iova_ranges = g_array_new(FALSE, FALSE, sizeof(VhVfioIovaRange));
    g_array_append_vals(fake->iova_ranges, ranges, 2);
    fake->report_dma_avail = TRUE;
    fake->dma_avail = 65535;
    return fake;
}

static int
run(VhFakeSysfs *tree, VhFakeVfio *fake, const char *a1, const char *a2)
{
    VhCliHooks hooks = { .vfio_ops = vh_fake_vfio_ops(), .data = fake };
    g_autofree char *root = g_strdup_printf("--sysfs-root=%s",
                                            vh_fake_sysfs_root(tree));
    char *argv[] = { "virt-hostdev", root, "device-info", (char *) a1,
                     (char *) a2, NULL };

    return vh_cli_run(a2 ? 5 : 4, argv, &hooks);
}

static VhFakeSysfs *
tree_new(void)
{
    g_autoptr(GError) err = NULL;
    VhFakeSysfs *tree = vh_fake_sysfs_new(bed, G_N_ELEMENTS(bed), &err);

    g_assert_no_error(err);
    return tree;
}

static void
test_text(void)
{
    if (g_test_subprocess()) {
        int status;

        {
            g_autoptr(VhFakeSysfs) tree = tree_new();
            g_autoptr(VhFakeVfio) fake = fake_edu();

            status = run(tree, fake, "pci_0000_00_03_0", NULL);
        }
        /* After the scope: its auto-cleanups run before exit. */
        exit(status);
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
    g_test_trap_assert_stdout("*Device:       0000:00:03.0 (vfio-pci), IOMMU group 3\n*");
    g_test_trap_assert_stdout("*  BAR0     size 0x100000   1 MiB     read write mmap  mmap: [0x0, +0x100000)\n*");
    g_test_trap_assert_stdout("*  CONFIG   size 0x100      256 B     read write\n*");
    g_test_trap_assert_stdout("*  INTx     count 1     eventfd maskable automasked\n*");
    g_test_trap_assert_stdout("*  MSI      count 1     eventfd noresize\n*");
    g_test_trap_assert_stdout("*  MSI-X    count 0     -\n*");
    g_test_trap_assert_stdout("*Reset:        none (no FLR or PM reset and no bus reset)\n*");
    g_test_trap_assert_stdout("*IOVA ranges:  [0x0, 0xfedfffff] [0xfef00000, 0xffffffffffffffff]\n*");
    g_test_trap_assert_stdout("*IOMMU pages:  4 KiB 2 MiB 1 GiB\n*");
    g_test_trap_assert_stdout("*dma_avail:    65535\n*");
    /* VGA is absent on this device: not listed. */
    g_test_trap_assert_stdout_unmatched("*VGA*");
}

static yajl_val
get(yajl_val v, const char *a, const char *b)
{
    const char *path[] = { a, b, NULL };
    return yajl_tree_get(v, path, yajl_t_any);
}

static void
drop_log(const gchar *domain, GLogLevelFlags level, const gchar *message,
         gpointer data)
{
}

static void
test_json_inproc(void)
{
    g_autoptr(VhFakeSysfs) tree = tree_new();
    g_autoptr(VhFakeVfio) fake = fake_edu();
    g_autofree char *out = NULL;
    char errbuf[256];
    yajl_val doc, regions, bar0, irqs, ranges;
    int saved, pipefd[2];
    gsize len = 0;
    GIOChannel *ch;

    /* Capture stdout through a pipe (g_print writes to it); the library's
     * debug messages would go there too under the test harness. */
    g_log_set_handler("hostdev.vfio", G_LOG_LEVEL_DEBUG, drop_log, NULL);
    g_assert_cmpint(pipe(pipefd), ==, 0);
    fflush(stdout);
    saved = dup(1);
    dup2(pipefd[1], 1);
    close(pipefd[1]);
    g_assert_cmpint(run(tree, fake, "0000:00:03.0", "--json"), ==, 0);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    ch = g_io_channel_unix_new(pipefd[0]);
    g_io_channel_read_to_end(ch, &out, &len, NULL);
    g_io_channel_unref(ch);
    close(pipefd[0]);

    doc = yajl_tree_parse(out, errbuf, sizeof(errbuf));
    if (!doc)
        g_test_message("parse error: %s", errbuf);
    g_assert_nonnull(doc);
    g_assert_cmpstr(YAJL_GET_STRING(get(doc, "address", NULL)), ==, "0000:00:03.0");
    g_assert_cmpint(YAJL_GET_INTEGER(get(doc, "group", NULL)), ==, 3);
    regions = get(doc, "regions", NULL);
    g_assert_true(YAJL_IS_ARRAY(regions));
    bar0 = regions->u.array.values[0];
    g_assert_cmpstr(YAJL_GET_STRING(get(bar0, "name", NULL)), ==, "BAR0");
    g_assert_cmpint(YAJL_GET_INTEGER(get(bar0, "size", NULL)), ==, 1048576);
    g_assert_cmpuint(get(bar0, "mmap_areas", NULL)->u.array.len, ==, 1);
    irqs = get(doc, "interrupts", NULL);
    g_assert_cmpuint(irqs->u.array.len, ==, 5);
    g_assert_cmpint(YAJL_GET_INTEGER(get(irqs->u.array.values[1], "count", NULL)), ==, 1);
    g_assert_cmpstr(YAJL_GET_STRING(get(doc, "reset", "method")), ==, "none");
    ranges = get(doc, "iova_ranges", NULL);
    g_assert_cmpuint(ranges->u.array.len, ==, 2);
    /* 2^64-1 is printed exactly (not as a signed 64-bit integer). */
    g_assert_nonnull(strstr(out, "\"end\":18446744073709551615"));
    g_assert_cmpint(YAJL_GET_INTEGER(get(doc, "dma_avail", NULL)), ==, 65535);
    g_assert_true(YAJL_IS_NULL(get(doc, "msix", NULL)));
    yajl_tree_free(doc);
}

static void
test_refusals(void)
{
    if (g_test_subprocess()) {
        int status;

        {
            g_autoptr(VhFakeSysfs) tree = tree_new();
            g_autoptr(VhFakeVfio) fake = fake_edu();

            status = run(tree, fake, "0000:00:05.0", NULL);
        }
        /* After the scope: its auto-cleanups run before exit. */
        exit(status);
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_failed();
    g_test_trap_assert_stdout("");
    g_test_trap_assert_stderr("virt-hostdev: 0000:00:05.0 is bound to e1000, not vfio-pci; bind it first (virt-hostdev nodedev-detach)\n");
}

static void
test_not_viable(void)
{
    if (g_test_subprocess()) {
        int status;

        {
            g_autoptr(VhFakeSysfs) tree = tree_new();
            g_autoptr(VhFakeVfio) fake = fake_edu();

            g_array_index(fake->groups, VhFakeVfioGroup, 0).flags = 0;
            status = run(tree, fake, "0000:00:03.0", NULL) == 1 ? 0 : 3;
        }
        /* After the scope: its auto-cleanups run before exit. */
        exit(status);
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("virt-hostdev: 0000:00:03.0: group 3 is not viable*");
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_summary("virt-hostdev device-info over a simulated VFIO kernel");
    g_test_add_func("/vfio/cli/device-info/text", test_text);
    g_test_add_func("/vfio/cli/device-info/json", test_json_inproc);
    g_test_add_func("/vfio/cli/device-info/not-vfio-pci", test_refusals);
    g_test_add_func("/vfio/cli/device-info/not-viable", test_not_viable);
    return g_test_run();
}
