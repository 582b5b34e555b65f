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
host_check_owned(Host *h, const char *addr, const VhAssignOwners *owners)
{
    const VhNodeDevice *dev;
    VhPciAddress a;

    g_assert_true(vh_pci_address_parse(addr, &a, NULL));
    dev = vh_node_device_list_lookup(h->list, &a);
    g_assert_nonnull(dev);
    return vh_assign_check(h->list, dev, h->usage, h->sysfs, owners);
}

/* Owners unknown: no in-use reason. */
static VhAssignVerdict *
host_check(Host *h, const char *addr)
{
    return host_check_owned(h, addr, NULL);
}

static void
owners_add(VhAssignOwners *owners, const char *addr, const char *owner,
           const char *role, const char *driver, guint group)
{
    VhPciAddress a;

    g_assert_true(vh_pci_address_parse(addr, &a, NULL));
    vh_assign_owners_add(owners, &a, owner, role, driver, group);
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

/* Group 4 of the test bed after `nodedev-detach 01:01.0` (held: 01:02.0),
 * or with --no-hold (01:02.0 stays on e1000). */
static const VhFakePciDevice testbed_assigned[] = {
    VH_FAKE_PCI("0000:00:03.0", 0x1234, 0x11e8, 0x00ff00, .group = 3),
    VH_FAKE_PCI("0000:00:04.0", 0x1b36, 0x000e, 0x060400, .group = 4),
    VH_FAKE_PCI("0000:01:01.0", 0x8086, 0x100e, 0x020000, .group = 4,
                .parent = "0000:00:04.0", .driver = "vfio-pci"),
    VH_FAKE_PCI("0000:01:02.0", 0x8086, 0x100e, 0x020000, .group = 4,
                .parent = "0000:00:04.0", .driver = "pci-stub"),
};
static const VhFakePciDevice testbed_no_hold[] = {
    VH_FAKE_PCI("0000:00:04.0", 0x1b36, 0x000e, 0x060400, .group = 4),
    VH_FAKE_PCI("0000:01:01.0", 0x8086, 0x100e, 0x020000, .group = 4,
                .parent = "0000:00:04.0", .driver = "vfio-pci"),
    VH_FAKE_PCI("0000:01:02.0", 0x8086, 0x100e, 0x020000, .group = 4,
                .parent = "0000:00:04.0", .driver = "e1000"),
};

/* The assigned device, its held peer and the bridge of the group. */
static void
test_in_use_assigned(void)
{
    g_auto(Host) h = { 0 };
    g_autoptr(VhAssignOwners) owners = vh_assign_owners_new();
    g_autoptr(VhAssignOwners) none = vh_assign_owners_new();
    g_autoptr(VhAssignVerdict) nic = NULL;
    g_autoptr(VhAssignVerdict) peer = NULL;
    g_autoptr(VhAssignVerdict) bridge = NULL;
    g_autoptr(VhAssignVerdict) other = NULL;
    g_autoptr(VhAssignVerdict) unknown = NULL;
    g_autoptr(VhAssignVerdict) nobody = NULL;
    g_autofree char *ncodes = NULL;
    g_autofree char *pcodes = NULL;
    g_autofree char *bcodes = NULL;
    const VhAssignReason *r;
    const VhNodeDevice *d;
    char buf[VH_PCI_ADDRESS_BUFLEN];

    owners_add(owners, "0000:01:01.0", "manual", "assigned", "vfio-pci", 4);
    owners_add(owners, "0000:01:02.0", "manual", "held", "pci-stub", 4);
    host_build(&h, testbed_assigned, G_N_ELEMENTS(testbed_assigned));
    host_scan(&h);

    nic = host_check_owned(&h, "0000:01:01.0", owners);
    ncodes = reasons_of(nic);
    g_assert_cmpstr(ncodes, ==, "in-use:blocks no-reset:ok");
    g_assert_false(nic->assignable);
    g_assert_cmpstr(vh_assign_verdict_code(nic), ==, "in-use");
    g_assert_cmpstr(nic->owner, ==, "manual");
    g_assert_cmpstr(nic->role, ==, "assigned");
    r = reason(nic, 0);
    g_assert_cmpstr(r->message, ==, "0000:01:01.0 is assigned to manual "
                    "(vfio-pci); `virt-hostdev nodedev-reattach` it first");
    g_assert_cmpuint(r->devices->len, ==, 1);

    /* The held peer names what it is held for. */
    peer = host_check_owned(&h, "0000:01:02.0", owners);
    pcodes = reasons_of(peer);
    g_assert_cmpstr(pcodes, ==, "in-use:blocks no-reset:ok");
    g_assert_cmpstr(peer->role, ==, "held");
    r = reason(peer, 0);
    g_assert_true(g_str_has_prefix(r->message, "0000:01:02.0 is held on "
                                   "pci-stub for manual as a peer of "
                                   "0000:01:01.0 (assigned); "));
    g_assert_cmpuint(r->devices->len, ==, 1);
    d = g_ptr_array_index(r->devices, 0);
    g_assert_cmpstr(vh_pci_address_format(&d->addr, buf), ==, "0000:01:01.0");

    /* The bridge is not recorded, but its group has an owner. */
    bridge = host_check_owned(&h, "0000:00:04.0", owners);
    bcodes = reasons_of(bridge);
    g_assert_cmpstr(bcodes, ==, "bridge:blocks in-use:blocks no-reset:ok");
    g_assert_cmpstr(bridge->owner, ==, "manual");
    g_assert_null(bridge->role);
    g_assert_nonnull(strstr(reason(bridge, 1)->message,
                            "0000:00:04.0 is in IOMMU group 4, which belongs "
                            "to manual: 0000:01:01.0 (assigned); release"));

    /* Another group is nobody's. */
    other = host_check_owned(&h, "0000:00:03.0", owners);
    g_assert_cmpstr(vh_assign_verdict_code(other), ==, "no-reset");
    g_assert_null(other->owner);

    /* Owners unknown or none: no in-use, no owner. */
    unknown = host_check(&h, "0000:01:01.0");
    g_assert_cmpstr(vh_assign_verdict_code(unknown), ==, "no-reset");
    g_assert_null(unknown->owner);
    nobody = host_check_owned(&h, "0000:01:01.0", none);
    g_assert_cmpstr(vh_assign_verdict_code(nobody), ==, "no-reset");
    g_assert_true(nobody->assignable);
}

/* --no-hold: the detached device, and an unrecorded peer of its group. */
static void
test_in_use_group(void)
{
    g_auto(Host) h = { 0 };
    g_autoptr(VhAssignOwners) owners = vh_assign_owners_new();
    g_autoptr(VhAssignVerdict) nic = NULL;
    g_autoptr(VhAssignVerdict) peer = NULL;
    g_autofree char *ncodes = NULL;
    g_autofree char *pcodes = NULL;

    owners_add(owners, "0000:01:01.0", "vm1", "detached", "vfio-pci", 4);
    host_build(&h, testbed_no_hold, G_N_ELEMENTS(testbed_no_hold));
    host_scan(&h);

    nic = host_check_owned(&h, "0000:01:01.0", owners);
    ncodes = reasons_of(nic);
    g_assert_cmpstr(ncodes, ==, "in-use:blocks needs-group:ok no-reset:ok");
    g_assert_cmpstr(reason(nic, 0)->message, ==, "0000:01:01.0 is detached for "
                    "vm1 (vfio-pci); `virt-hostdev nodedev-reattach` it first");

    peer = host_check_owned(&h, "0000:01:02.0", owners);
    pcodes = reasons_of(peer);
    g_assert_cmpstr(pcodes, ==, "in-use:blocks no-reset:ok");
    g_assert_false(peer->assignable);
    g_assert_cmpstr(peer->owner, ==, "vm1");
    g_assert_null(peer->role);
    g_assert_cmpstr(reason(peer, 0)->message, ==, "0000:01:02.0 is in IOMMU "
                    "group 4, which belongs to vm1: 0000:01:01.0 (detached); "
                    "release the group first (`virt-hostdev nodedev-reattach` "
                    "of its devices)");
}

/* in-use comes before host-critical: blocking reasons in the order a user
 * fixes them, and the owner is the first thing to settle. */
static void
test_in_use_order(void)
{
    static const VhFakeNetDevice eth0 = {
        .name = "eth0", .parent = "0000:01:02.0",
    };
    g_autoptr(GError) err = NULL;
    g_auto(Host) h = { 0 };
    g_autoptr(VhAssignOwners) owners = vh_assign_owners_new();
    g_autoptr(VhAssignVerdict) nic = NULL;
    g_autofree char *codes = NULL;

    owners_add(owners, "0000:01:01.0", "manual", "detached", "vfio-pci", 4);
    host_build(&h, vh_test_testbed, G_N_ELEMENTS(vh_test_testbed));
    g_assert_true(vh_fake_sysfs_add_net(h.fake, &eth0, &err));
    g_assert_true(vh_fake_sysfs_add_file(h.fakeproc, "net/route",
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n", &err));
    g_assert_no_error(err);
    host_scan(&h);

    nic = host_check_owned(&h, "0000:01:01.0", owners);
    codes = reasons_of(nic);
    g_assert_cmpstr(codes, ==,
                    "in-use:blocks host-critical:blocks needs-group:ok no-reset:ok");
    g_assert_cmpstr(vh_assign_verdict_code(nic), ==, "in-use");
}

/* A later entry for an address replaces the earlier one. */
static void
test_owners_replace(void)
{
    g_autoptr(VhAssignOwners) owners = vh_assign_owners_new();
    const VhAssignOwner *e;
    VhPciAddress a;

    owners_add(owners, "0000:01:01.0", "vm1", "assigned", "vfio-pci", 4);
    owners_add(owners, "0000:01:01.0", "vm2", "detached", "pci-stub", 4);
    g_assert_true(vh_pci_address_parse("0000:01:01.0", &a, NULL));
    e = vh_assign_owners_lookup(owners, &a);
    g_assert_nonnull(e);
    g_assert_cmpstr(e->owner, ==, "vm2");
    g_assert_cmpstr(e->role, ==, "detached");
    g_assert_cmpstr(vh_assign_owners_group_owner(owners, 4), ==, "vm2");
    g_assert_null(vh_assign_owners_group_owner(owners, 5));
    g_assert_true(vh_pci_address_parse("0000:01:02.0", &a, NULL));
    g_assert_null(vh_assign_owners_lookup(owners, &a));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_summary("Assignability verdicts: ok, needs-group, bridge, no-iommu, "
                   "in-use, host-critical, no-reset");
    g_test_add_func("/node-device/assign/needs-group", test_needs_group);
    g_test_add_func("/node-device/assign/ok-and-reset", test_ok_and_reset);
    g_test_add_func("/node-device/assign/bridge-and-no-iommu", test_bridge_and_no_iommu);
    g_test_add_func("/node-device/assign/host-critical", test_host_critical);
    g_test_add_func("/node-device/assign/in-use/assigned", test_in_use_assigned);
    g_test_add_func("/node-device/assign/in-use/group", test_in_use_group);
    g_test_add_func("/node-device/assign/in-use/order", test_in_use_order);
    g_test_add_func("/node-device/assign/owners-replace", test_owners_replace);
    return g_test_run();
}
