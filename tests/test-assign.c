/*
 * test-assign.c: the assignability verdict of each kind, from fake trees
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include "vh-assign.h"
#include "vh-error.h"
#include "vh-test-topologies.h"

typedef struct {
    VhFakeSysfs *fake;
    VhFakeSysfs *fakeproc;      /* a bare tree used as the proc root */
    VhSysfs *sysfs;
    VhSysfs *proc;
    VhNodeDeviceList *list;
    VhHostUsage *usage;
} Host;

static void
host_clear(Host *h)
{
    g_clear_pointer(&h->usage, vh_host_usage_free);
    g_clear_pointer(&h->list, vh_node_device_list_free);
    g_clear_pointer(&h->proc, vh_sysfs_free);
    g_clear_pointer(&h->sysfs, vh_sysfs_free);
    g_clear_pointer(&h->fakeproc, vh_fake_sysfs_free);
    g_clear_pointer(&h->fake, vh_fake_sysfs_free);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Host, host_clear)

static void
host_build(Host *h, const VhFakePciDevice *devs, gsize n)
{
    g_autoptr(GError) err = NULL;

    h->fake = vh_fake_sysfs_new(devs, n, &err);
    g_assert_no_error(err);
    h->fakeproc = vh_fake_sysfs_new(NULL, 0, &err);
    g_assert_no_error(err);
}

/* Scan after the test has added what the host uses. */
static void
host_scan(Host *h)
{
    g_autoptr(GError) err = NULL;

    h->sysfs = vh_sysfs_new(vh_fake_sysfs_root(h->fake), &err);
    h->proc = vh_sysfs_new(vh_fake_sysfs_root(h->fakeproc), &err);
    g_assert_no_error(err);
    h->list = vh_node_device_list_scan(h->sysfs, 0, &err);
    g_assert_no_error(err);
    h->usage = vh_host_usage_scan(h->sysfs, h->proc, &err);
    g_assert_no_error(err);
}

static VhAssignVerdict *
host_check(Host *h, const char *addr)
{
    const VhNodeDevice *dev;
    VhPciAddress a;

    g_assert_true(vh_pci_address_parse(addr, &a, NULL));
    dev = vh_node_device_list_lookup(h->list, &a);
    g_assert_nonnull(dev);
    return vh_assign_check(h->list, dev, h->usage, h->sysfs);
}

/* "code:blocks" of every reason, space-separated. */
static char *
reasons_of(const VhAssignVerdict *v)
{
    GString *s = g_string_new(NULL);
    guint i;

    for (i = 0; i < v->reasons->len; i++) {
        const VhAssignReason *r = g_ptr_array_index(v->reasons, i);
        g_string_append_printf(s, "%s%s:%s", i ? " " : "",
                               vh_assign_code_string(r->code),
                               r->blocks ? "blocks" : "ok");
    }
    return g_string_free(s, FALSE);
}

static const VhAssignReason *
reason(const VhAssignVerdict *v, guint i)
{
    g_assert_cmpuint(i, <, v->reasons->len);
    return g_ptr_array_index(v->reasons, i);
}

static void
test_needs_group(void)
{
    g_auto(Host) h = { 0 };
    g_autoptr(VhAssignVerdict) v = NULL;
    g_autofree char *codes = NULL;
    const VhAssignReason *r;
    const VhNodeDevice *peer;
    char buf[VH_PCI_ADDRESS_BUFLEN];

    host_build(&h, vh_test_testbed, G_N_ELEMENTS(vh_test_testbed));
    host_scan(&h);
    v = host_check(&h, "0000:01:01.0");
    codes = reasons_of(v);
    /* e1000 has no reset file in the fake tree: no-reset as a warning. */
    g_assert_cmpstr(codes, ==, "needs-group:ok no-reset:ok");
    g_assert_true(v->assignable);
    g_assert_cmpstr(vh_assign_verdict_code(v), ==, "needs-group");
    r = reason(v, 0);
    g_assert_cmpuint(r->devices->len, ==, 1);     /* the bridge is not held */
    peer = g_ptr_array_index(r->devices, 0);
    g_assert_cmpstr(vh_pci_address_format(&peer->addr, buf), ==, "0000:01:02.0");
    g_assert_nonnull(strstr(r->message, "0000:01:02.0 (e1000)"));
    g_assert_nonnull(strstr(r->message, "IOMMU group 4"));
    g_assert_nonnull(v->reset_methods);
    g_assert_null(v->reset_methods[0]);
}

static void
test_ok_and_reset(void)
{
    g_auto(Host) h = { 0 };
    g_autoptr(VhAssignVerdict) vf = NULL;
    g_autoptr(VhAssignVerdict) edu = NULL;

    host_build(&h, vh_test_sriov, G_N_ELEMENTS(vh_test_sriov));
    host_scan(&h);
    vf = host_check(&h, "0001:00:02.1");
    g_assert_cmpuint(vf->reasons->len, ==, 0);
    g_assert_cmpstr(vh_assign_verdict_code(vf), ==, "ok");
    g_assert_true(vf->assignable);
    g_assert_cmpstrv(vf->reset_methods, ((const char *[]) { "flr", NULL }));
    host_clear(&h);

    /* An older kernel: no reset_method, but a reset file: resettable. */
    host_build(&h, vh_test_testbed, G_N_ELEMENTS(vh_test_testbed));
    g_assert_true(vh_fake_sysfs_add_file(h.fake,
                                         "devices/pci0000:00/0000:00:03.0/reset",
                                         "", NULL));
    host_scan(&h);
    edu = host_check(&h, "0000:00:03.0");
    g_assert_cmpstr(vh_assign_verdict_code(edu), ==, "ok");
    g_assert_null(edu->reset_methods);
}

static void
test_bridge_and_no_iommu(void)
{
    g_auto(Host) h = { 0 };
    g_autoptr(VhAssignVerdict) bridge = NULL;
    g_autoptr(VhAssignVerdict) nic = NULL;
    g_autofree char *bcodes = NULL;
    g_autofree char *ncodes = NULL;

    host_build(&h, vh_test_testbed, G_N_ELEMENTS(vh_test_testbed));
    host_scan(&h);
    bridge = host_check(&h, "0000:00:04.0");
    bcodes = reasons_of(bridge);
    g_assert_cmpstr(bcodes, ==, "bridge:blocks no-reset:ok");
    g_assert_false(bridge->assignable);
    g_assert_nonnull(strstr(reason(bridge, 0)->message, "0000:00:04.0 is a bridge"));
    host_clear(&h);

    host_build(&h, vh_test_no_iommu, G_N_ELEMENTS(vh_test_no_iommu));
    host_scan(&h);
    nic = host_check(&h, "0000:00:02.0");
    ncodes = reasons_of(nic);
    g_assert_cmpstr(ncodes, ==, "no-iommu:blocks no-reset:ok");
    g_assert_cmpstr(vh_assign_verdict_code(nic), ==, "no-iommu");
    g_assert_nonnull(strstr(reason(nic, 0)->message, "intel_iommu=on"));
}

/* The root filesystem on the SATA controller: it and its group peers. */
static void
test_host_critical(void)
{
    static const VhFakeBlockDevice sda = {
        .name = "sda", .parent = "0000:00:1f.2",
        .path = "ata1/host0/target0:0:0/0:0:0:0/block",
        .major = 8, .minor = 0, .partitions = { "sda1", "sda2" },
    };
    static const VhFakeNetDevice eth0 = {
        .name = "eth0", .parent = "0000:01:02.0",
    };
    g_autoptr(GError) err = NULL;
    g_auto(Host) h = { 0 };
    g_autoptr(VhAssignVerdict) ahci = NULL;
    g_autoptr(VhAssignVerdict) lpc = NULL;
    g_autoptr(VhAssignVerdict) nic = NULL;
    g_autofree char *acodes = NULL;
    g_autofree char *lcodes = NULL;
    g_autofree char *ncodes = NULL;
    const VhAssignReason *r;

    host_build(&h, vh_test_testbed, G_N_ELEMENTS(vh_test_testbed));
    g_assert_true(vh_fake_sysfs_add_block(h.fake, &sda, &err));
    g_assert_true(vh_fake_sysfs_add_net(h.fake, &eth0, &err));
    g_assert_no_error(err);
    g_assert_true(vh_fake_sysfs_add_file(h.fakeproc, "self/mountinfo",
        "22 1 0:21 / /proc rw - proc proc rw\n"
        "27 1 8:2 / / rw,relatime shared:1 - ext4 /dev/sda2 rw\n", &err));
    g_assert_true(vh_fake_sysfs_add_file(h.fakeproc, "net/route",
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n", &err));
    g_assert_no_error(err);
    host_scan(&h);

    ahci = host_check(&h, "0000:00:1f.2");
    acodes = reasons_of(ahci);
    g_assert_cmpstr(acodes, ==, "host-critical:blocks needs-group:ok no-reset:ok");
    g_assert_false(ahci->assignable);
    r = reason(ahci, 0);
    g_assert_nonnull(strstr(r->message, "0000:00:1f.2: mounted filesystem / on sda2"));
    g_assert_cmpuint(r->devices->len, ==, 1);

    /* A group peer of the disk controller cannot go either. */
    lpc = host_check(&h, "0000:00:1f.0");
    lcodes = reasons_of(lpc);
    g_assert_cmpstr(lcodes, ==, "host-critical:blocks needs-group:ok no-reset:ok");
    g_assert_nonnull(strstr(reason(lpc, 0)->message,
                            "0000:00:1f.0 cannot be taken from the host: "
                            "0000:00:1f.2: mounted filesystem / on sda2"));

    /* The default route's NIC, and through the group its sibling. */
    nic = host_check(&h, "0000:01:01.0");
    ncodes = reasons_of(nic);
    g_assert_cmpstr(ncodes, ==, "host-critical:blocks needs-group:ok no-reset:ok");
    g_assert_nonnull(strstr(reason(nic, 0)->message,
                            "0000:01:02.0: default route via eth0"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_summary("Assignability verdicts: ok, needs-group, bridge, no-iommu, "
                   "host-critical, no-reset");
    g_test_add_func("/node-device/assign/needs-group", test_needs_group);
    g_test_add_func("/node-device/assign/ok-and-reset", test_ok_and_reset);
    g_test_add_func("/node-device/assign/bridge-and-no-iommu", test_bridge_and_no_iommu);
    g_test_add_func("/node-device/assign/host-critical", test_host_critical);
    return g_test_run();
}
