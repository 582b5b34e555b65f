/*
 * vh-test-topologies.h: device tables shared by the unit tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "vh-fake-sysfs.h"

/* The test bed's default devices (tests/vm): an edu device alone in its
 * group, and two e1000 behind a PCIe-to-PCI bridge sharing one group. */
static const VhFakePciDevice vh_test_testbed[] G_GNUC_UNUSED = {
    VH_FAKE_PCI("0000:00:00.0", 0x8086, 0x29c0, 0x060000, .group = 0),
    VH_FAKE_PCI("0000:00:03.0", 0x1234, 0x11e8, 0x00ff00, .group = 3,
                .subsystem_vendor = 0x1af4, .subsystem_device = 0x1100),
    VH_FAKE_PCI("0000:00:04.0", 0x1b36, 0x000e, 0x060400, .group = 4),
    VH_FAKE_PCI("0000:01:01.0", 0x8086, 0x100e, 0x020000, .group = 4,
                .parent = "0000:00:04.0", .driver = "e1000",
                .subsystem_vendor = 0x1af4, .subsystem_device = 0x1100),
    VH_FAKE_PCI("0000:01:02.0", 0x8086, 0x100e, 0x020000, .group = 4,
                .parent = "0000:00:04.0", .driver = "e1000",
                .subsystem_vendor = 0x1af4, .subsystem_device = 0x1100),
    VH_FAKE_PCI("0000:00:1f.0", 0x8086, 0x2918, 0x060100, .group = 6,
                .driver = "lpc_ich"),
    VH_FAKE_PCI("0000:00:1f.2", 0x8086, 0x2922, 0x010601, .group = 6,
                .driver = "ahci"),
    VH_FAKE_PCI("0000:00:1f.3", 0x8086, 0x2930, 0x0c0500, .group = 6,
                .driver = "i801_smbus"),
};

/* A machine without an IOMMU: devices, no groups. */
static const VhFakePciDevice vh_test_no_iommu[] G_GNUC_UNUSED = {
    VH_FAKE_PCI("0000:00:00.0", 0x8086, 0x29c0, 0x060000),
    VH_FAKE_PCI("0000:00:02.0", 0x8086, 0x10d3, 0x020000, .driver = "e1000e"),
};

/* SR-IOV PF with two VFs, on NUMA node 1, in a non-zero PCI domain. */
static const VhFakePciDevice vh_test_sriov[] G_GNUC_UNUSED = {
    VH_FAKE_PCI("0001:00:00.0", 0x8086, 0x1572, 0x020000, .group = 10,
                .driver = "i40e", .sriov_totalvfs = 64, .numa_node = 1,
                .reset_method = "flr bus"),
    VH_FAKE_PCI("0001:00:02.0", 0x8086, 0x154c, 0x020000, .group = 11,
                .driver = "iavf", .physfn = "0001:00:00.0", .numa_node = 1,
                .reset_method = "flr"),
    VH_FAKE_PCI("0001:00:02.1", 0x8086, 0x154c, 0x020000, .group = 12,
                .physfn = "0001:00:00.0", .numa_node = 1,
                .reset_method = "flr"),
};

/*
 * PCIe config space with a PCI Express capability at 0x40 (PCIe 6.0,
 * 7.5.3): @type is the Device/Port Type, link registers as given.
 */
#define VH_TEST_PCIE_CONFIG(ven, dev, cls, type, lnkcap, lnksta) { \
    [0x00] = (ven) & 0xff, [0x01] = (ven) >> 8, \
    [0x02] = (dev) & 0xff, [0x03] = (dev) >> 8, \
    [0x06] = 0x10,                              /* status: capabilities */ \
    [0x09] = (cls) & 0xff, [0x0a] = ((cls) >> 8) & 0xff, \
    [0x0b] = (cls) >> 16, \
    [0x34] = 0x40,                              /* capability pointer */ \
    [0x40] = 0x10, [0x41] = 0x00,               /* PCIe cap, last */ \
    [0x42] = 0x02 | ((type) << 4), \
    [0x4c] = (lnkcap) & 0xff, [0x4d] = ((lnkcap) >> 8) & 0xff, \
    [0x4e] = ((lnkcap) >> 16) & 0xff, [0x4f] = (lnkcap) >> 24, \
    [0x52] = (lnksta) & 0xff, [0x53] = (lnksta) >> 8, \
}

/* An x4 8 GT/s capable NVMe controller running x4 at 5 GT/s, port 1. */
static const guint8 vh_test_nvme_config[256] G_GNUC_UNUSED =
    VH_TEST_PCIE_CONFIG(0x8086, 0x0953, 0x010802, 0x0, 0x01000043, 0x0042);
/* A root-complex integrated endpoint: PCIe, but no link. */
static const guint8 vh_test_rciep_config[256] G_GNUC_UNUSED =
    VH_TEST_PCIE_CONFIG(0x8086, 0x10d3, 0x020000, 0x9, 0, 0);

static const VhFakePciDevice vh_test_pcie[] G_GNUC_UNUSED = {
    VH_FAKE_PCI("0000:00:02.0", 0x8086, 0x10d3, 0x020000, .group = 1,
                .driver = "e1000e", .config = vh_test_rciep_config,
                .config_len = sizeof(vh_test_rciep_config), .numa_node = 0),
    VH_FAKE_PCI("0000:00:1c.0", 0x8086, 0xa110, 0x060400, .group = 2,
                .driver = "pcieport"),
    VH_FAKE_PCI("0000:02:00.0", 0x8086, 0x0953, 0x010802, .group = 2,
                .parent = "0000:00:1c.0", .driver = "nvme",
                .config = vh_test_nvme_config,
                .config_len = sizeof(vh_test_nvme_config), .numa_node = 0,
                .reset_method = "flr bus"),
};

/*
 * A made-up NIC's VPD (PCI 3.0 I.3), fields in the card's order rather
 * than libvirt's: the identifier string, VPD-R with PN EC SN MN V1 and RV
 * (its first byte @checksum at 0x74; "\xec" makes bytes 0 to 0x74 add up
 * to 0), VPD-W with YA V2 Y1 and RW, the end tag.  The length is
 * sizeof - 1: the literal ends in a NUL.
 */
#define VH_TEST_VPD_NIC(serial, checksum) \
    "\x82\x2b\x00" "Example Networks 25GbE 2-port SFP28 Adapter" \
    "\x90\x47\x00" \
        "PN\x0e" "EXN-25G2-SFP28" \
        "EC\x02" "A3" \
        "SN\x0c" serial \
        "MN\x04" "1af4" \
        "V1\x11" "FW 2.1.7, PXE 3.4" \
        "RV\x04" checksum "\x00\x00\x00" \
    "\x91\x40\x00" \
        "YA\x0b" "RACK-07 U12" \
        "V2\x11" "Port map: 0=A;1=B" \
        "Y1\x0c" "Boot order=2" \
        "RW\x0c" "\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00" \
    "\x78"

static const guint8 vh_test_vpd_nic[] G_GNUC_UNUSED =
    VH_TEST_VPD_NIC("EXN2043A0123", "\xec");
/* One byte of the serial number changed and the checksum not. */
static const guint8 vh_test_vpd_nic_corrupt[] G_GNUC_UNUSED =
    VH_TEST_VPD_NIC("EXN2043A0124", "\xec");

/* An x8 16 GT/s endpoint running at full speed and width. */
static const guint8 vh_test_nic_config[256] G_GNUC_UNUSED =
    VH_TEST_PCIE_CONFIG(0x8086, 0x159b, 0x020000, 0x0, 0x00000084, 0x0084);

/* Two ports of a NIC with VPD: port 0's is valid; port 1's fails its
 * checksum, so port 1 shows no VPD, as in libvirt. */
static const VhFakePciDevice vh_test_vpd[] G_GNUC_UNUSED = {
    VH_FAKE_PCI("0000:3b:00.0", 0x8086, 0x159b, 0x020000, .group = 30,
                .driver = "ice", .numa_node = 0,
                .config = vh_test_nic_config,
                .config_len = sizeof(vh_test_nic_config),
                .vpd = vh_test_vpd_nic, .vpd_len = sizeof(vh_test_vpd_nic) - 1),
    VH_FAKE_PCI("0000:3b:00.1", 0x8086, 0x159b, 0x020000, .group = 31,
                .driver = "ice", .numa_node = 0,
                .config = vh_test_nic_config,
                .config_len = sizeof(vh_test_nic_config),
                .vpd = vh_test_vpd_nic_corrupt,
                .vpd_len = sizeof(vh_test_vpd_nic_corrupt) - 1),
};
