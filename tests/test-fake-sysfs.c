/*
 * test-fake-sysfs.c: the fake tree has the shape of /sys
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "vh-error.h"
#include "vh-sysfs.h"
#include "vh-test-topologies.h"

static char *
fake_readlink(VhFakeSysfs *fake, const char *relpath)
{
    g_autofree char *path = vh_fake_sysfs_path(fake, relpath);
    g_autoptr(GError) err = NULL;
    char *target = g_file_read_link(path, &err);

    g_assert_no_error(err);
    return target;
}

static char *
fake_realpath(VhFakeSysfs *fake, const char *relpath)
{
    g_autofree char *path = vh_fake_sysfs_path(fake, relpath);
    g_autofree char *resolved = realpath(path, NULL);
    g_autofree char *root = realpath(vh_fake_sysfs_root(fake), NULL);

    g_assert_nonnull(resolved);
    g_assert_true(g_str_has_prefix(resolved, root));
    return g_strdup(resolved + strlen(root) + 1);
}

static void
test_layout(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhFakeSysfs) fake = NULL;
    g_autofree char *dev = NULL;
    g_autofree char *grp = NULL;
    g_autofree char *drv = NULL;
    g_autofree char *back = NULL;
    g_autofree char *member = NULL;
    g_autofree char *rel = NULL;
    g_autofree char *unbind = NULL;
    g_autofree char *probe = NULL;

    fake = vh_fake_sysfs_new(vh_test_testbed, G_N_ELEMENTS(vh_test_testbed), &err);
    g_assert_no_error(err);

    /* Devices behind a bridge nest under it, as in /sys/devices. */
    dev = fake_realpath(fake, "bus/pci/devices/0000:01:01.0");
    g_assert_cmpstr(dev, ==, "devices/pci0000:00/0000:00:04.0/0000:01:01.0");
    grp = fake_realpath(fake, "bus/pci/devices/0000:01:01.0/iommu_group");
    g_assert_cmpstr(grp, ==, "kernel/iommu_groups/4");
    drv = fake_realpath(fake, "bus/pci/devices/0000:01:01.0/driver");
    g_assert_cmpstr(drv, ==, "bus/pci/drivers/e1000");
    back = fake_realpath(fake, "bus/pci/drivers/e1000/0000:01:01.0");
    g_assert_cmpstr(back, ==, dev);
    member = fake_realpath(fake, "kernel/iommu_groups/4/devices/0000:01:01.0");
    g_assert_cmpstr(member, ==, dev);

    /* Links are relative, as the kernel makes them. */
    rel = fake_readlink(fake, "bus/pci/devices/0000:01:01.0");
    g_assert_cmpstr(rel, ==,
                    "../../../devices/pci0000:00/0000:00:04.0/0000:01:01.0");

    /* Driver directories carry their control files; the bus its probe. */
    unbind = vh_fake_sysfs_path(fake, "bus/pci/drivers/e1000/unbind");
    probe = vh_fake_sysfs_path(fake, "bus/pci/drivers_probe");
    g_assert_true(g_file_test(unbind, G_FILE_TEST_IS_REGULAR));
    g_assert_true(g_file_test(probe, G_FILE_TEST_IS_REGULAR));
}

static void
test_sriov_links(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhFakeSysfs) fake = NULL;
    g_autoptr(VhSysfs) sysfs = NULL;
    g_autofree char *pf = NULL;
    g_autofree char *vf1 = NULL;
    g_autofree char *totalvfs = NULL;
    g_autofree char *numa = NULL;
    g_autofree char *reset = NULL;

    fake = vh_fake_sysfs_new(vh_test_sriov, G_N_ELEMENTS(vh_test_sriov), &err);
    g_assert_no_error(err);
    sysfs = vh_sysfs_new(vh_fake_sysfs_root(fake), &err);
    g_assert_no_error(err);

    pf = fake_realpath(fake, "bus/pci/devices/0001:00:02.0/physfn");
    g_assert_cmpstr(pf, ==, "devices/pci0001:00/0001:00:00.0");
    vf1 = fake_realpath(fake, "bus/pci/devices/0001:00:00.0/virtfn1");
    g_assert_cmpstr(vf1, ==, "devices/pci0001:00/0001:00:02.1");

    g_assert_true(vh_sysfs_read(sysfs, "bus/pci/devices/0001:00:00.0/sriov_totalvfs",
                                &totalvfs, &err));
    g_assert_cmpstr(totalvfs, ==, "64");
    g_assert_true(vh_sysfs_read(sysfs, "bus/pci/devices/0001:00:00.0/numa_node",
                                &numa, &err));
    g_assert_cmpstr(numa, ==, "1");
    g_assert_true(vh_sysfs_read(sysfs, "bus/pci/devices/0001:00:00.0/reset_method",
                                &reset, &err));
    g_assert_cmpstr(reset, ==, "flr bus");
}

static void
test_config_bytes_given(void)
{
    static const guint8 cfg[256] = { 0x86, 0x80, 0xd3, 0x10, [0x34] = 0x40 };
    const VhFakePciDevice devs[] = {
        VH_FAKE_PCI("0000:00:02.0", 0x8086, 0x10d3, 0x020000, .group = 1,
                    .config = cfg, .config_len = sizeof(cfg)),
    };
    g_autoptr(GError) err = NULL;
    g_autoptr(VhFakeSysfs) fake = vh_fake_sysfs_new(devs, G_N_ELEMENTS(devs), &err);
    g_autofree char *path = NULL;
    g_autofree char *data = NULL;
    gsize len = 0;

    g_assert_no_error(err);
    path = vh_fake_sysfs_path(fake, "bus/pci/devices/0000:00:02.0/config");
    g_assert_true(g_file_get_contents(path, &data, &len, NULL));
    g_assert_cmpmem(data, len, cfg, sizeof(cfg));
}

static void
test_bad_table(void)
{
    const VhFakePciDevice orphan[] = {
        VH_FAKE_PCI("0000:01:00.0", 1, 1, 0x020000, .parent = "0000:00:1c.0"),
    };
    const VhFakePciDevice noncanon[] = {
        VH_FAKE_PCI("01:00.0", 1, 1, 0x020000),
    };
    g_autoptr(GError) err = NULL;
    g_autoptr(VhFakeSysfs) a = vh_fake_sysfs_new(orphan, 1, &err);

    g_assert_null(a);
    g_assert_nonnull(strstr(err->message, "not listed before it"));
    g_clear_error(&err);
    g_assert_null(vh_fake_sysfs_new(noncanon, 1, &err));
    g_assert_nonnull(err);
}

static void
test_trees_are_private(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhFakeSysfs) a = vh_fake_sysfs_new(vh_test_testbed, 2, &err);
    g_autoptr(VhFakeSysfs) b = vh_fake_sysfs_new(vh_test_testbed, 2, &err);
    g_autofree char *root = g_strdup(vh_fake_sysfs_root(a));

    g_assert_cmpstr(vh_fake_sysfs_root(a), !=, vh_fake_sysfs_root(b));
    g_clear_pointer(&a, vh_fake_sysfs_free);
    g_assert_false(g_file_test(root, G_FILE_TEST_EXISTS));
    g_assert_true(g_file_test(vh_fake_sysfs_root(b), G_FILE_TEST_IS_DIR));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_summary("Fake sysfs trees look like /sys");
    g_test_add_func("/fake-sysfs/layout", test_layout);
    g_test_add_func("/fake-sysfs/sriov", test_sriov_links);
    g_test_add_func("/fake-sysfs/config-bytes", test_config_bytes_given);
    g_test_add_func("/fake-sysfs/bad-table", test_bad_table);
    g_test_add_func("/fake-sysfs/private-trees", test_trees_are_private);
    return g_test_run();
}
