/*
 * vh-bad-input-tree.c: a fake sysfs tree for the bad-input corpus
 *
 *   vh-bad-input-tree TOPOLOGY
 *
 * Builds one of the unit tests' device tables (tests/vh-test-topologies.h:
 * testbed, no-iommu, sriov, pcie, vpd) with the tests' own builder, in a
 * fresh directory under $TMPDIR, and keeps it: its path is the only line
 * on standard output.  The runner (run.py) then bends the tree as a case
 * describes and removes it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "tests.bad-input-tree"

#include "vh-fake-sysfs.h"
#include "vh-test-topologies.h"

typedef struct {
    const char *name;
    const VhFakePciDevice *devs;
    gsize ndevs;
} VhBadInputTopology;

#define TOPOLOGY(n, t) { n, t, G_N_ELEMENTS(t) }

static const VhBadInputTopology topologies[] = {
    TOPOLOGY("testbed", vh_test_testbed),
    TOPOLOGY("no-iommu", vh_test_no_iommu),
    TOPOLOGY("sriov", vh_test_sriov),
    TOPOLOGY("pcie", vh_test_pcie),
    TOPOLOGY("vpd", vh_test_vpd),
};

int
main(int argc, char **argv)
{
    g_autoptr(VhFakeSysfs) fake = NULL;
    g_autoptr(GError) err = NULL;
    gsize i;

    if (argc != 2) {
        g_printerr("usage: vh-bad-input-tree TOPOLOGY\n");
        return 2;
    }
    for (i = 0; i < G_N_ELEMENTS(topologies); i++) {
        if (g_str_equal(topologies[i].name, argv[1]))
            break;
    }
    if (i == G_N_ELEMENTS(topologies)) {
        g_printerr("vh-bad-input-tree: unknown topology '%s'\n", argv[1]);
        return 2;
    }
    fake = vh_fake_sysfs_new(topologies[i].devs, topologies[i].ndevs, &err);
    if (!fake) {
        g_printerr("vh-bad-input-tree: %s\n", err->message);
        return 1;
    }
    /* Drivers the mutating verbs look for: they exist on any host. */
    if (!vh_fake_sysfs_add_driver(fake, "vfio-pci", &err) ||
        !vh_fake_sysfs_add_driver(fake, "pci-stub", &err)) {
        g_printerr("vh-bad-input-tree: %s\n", err->message);
        return 1;
    }
    g_print("%s\n", vh_fake_sysfs_root(fake));
    /* Keep the tree: the runner bends it, runs the case and removes it. */
    g_setenv("VH_FAKE_SYSFS_KEEP", "1", TRUE);
    return 0;
}
