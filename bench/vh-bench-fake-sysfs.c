/*
 * vh-bench-fake-sysfs.c: a large fake sysfs tree for bench/nodedev
 *
 *   vh-bench-fake-sysfs [--pfs=40] [--vfs=249] [--config-size=4096]
 *
 * Builds, with the tests' own builder (tests/fake/vh-fake-sysfs.c), a tree
 * of SR-IOV hosts: each PF sits behind its own PCIe root port on bus 0 and
 * has its VFs on its own bus, next to it under the root port, as the kernel
 * shows them (physfn and virtfnN links, relative).  Every device has its own
 * IOMMU group and a driver: pcieport on the root ports, ice on the PFs,
 * vfio-pci on the VFs.  The config space holds a PCI Express capability
 * with link speed and width, at the size root sees in sysfs (4096 bytes).
 *
 * The tree is made in a fresh directory under $TMPDIR and kept; its path is
 * the only line on standard output.  The caller removes it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "bench.fake-sysfs"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh-fake-sysfs.h"

/* PCI 3.0, 6.2.1 and 6.7: the header fields the tree's readers look at. */
#define CFG_STATUS              0x06
#define CFG_STATUS_CAP_LIST     0x10
#define CFG_HEADER_TYPE         0x0e
#define CFG_SUBSYSTEM_VENDOR    0x2c    /* type 0 header only */
#define CFG_CAPABILITY_LIST     0x34
/* PCIe 6.0, 7.5.3: the PCI Express capability, placed at 0x40. */
#define CFG_EXP                 0x40
#define CFG_EXP_ID              0x10
#define CFG_EXP_FLAGS           0x02
#define CFG_EXP_LNKCAP          0x0c
#define CFG_EXP_LNKSTA          0x12
#define EXP_TYPE_ENDPOINT       0x0
#define EXP_TYPE_ROOT_PORT      0x4

#define CLASS_ETHERNET          0x020000
#define CLASS_PCI_BRIDGE        0x060400

/* The root port's and the PF's ids: QEMU's root port, Intel E810. */
#define RP_VENDOR   0x1b36
#define RP_DEVICE   0x000c
#define PF_VENDOR   0x8086
#define PF_DEVICE   0x1592
#define VF_DEVICE   0x1889

static void
put16(guint8 *cfg, guint off, guint16 v)
{
    cfg[off] = v & 0xff;
    cfg[off + 1] = v >> 8;
}

static void
put32(guint8 *cfg, guint off, guint32 v)
{
    put16(cfg, off, v & 0xffff);
    put16(cfg, off + 2, v >> 16);
}

/* A config space of @size bytes with a PCIe capability; free with g_free(). */
static guint8 *
bench_config(gsize size, guint16 vendor, guint16 device, guint32 klass,
             guint exp_type, guint8 port)
{
    guint8 *cfg = g_malloc0(size);
    gboolean bridge = (klass >> 8) == 0x0604;

    put16(cfg, 0x00, vendor);
    put16(cfg, 0x02, device);
    put16(cfg, CFG_STATUS, CFG_STATUS_CAP_LIST);
    cfg[0x09] = klass & 0xff;
    cfg[0x0a] = (klass >> 8) & 0xff;
    cfg[0x0b] = (klass >> 16) & 0xff;
    cfg[CFG_HEADER_TYPE] = bridge ? 0x01 : 0x00;
    if (!bridge) {
        put16(cfg, CFG_SUBSYSTEM_VENDOR, vendor);
        put16(cfg, CFG_SUBSYSTEM_VENDOR + 2, 0x0001);
    }
    cfg[CFG_CAPABILITY_LIST] = CFG_EXP;
    cfg[CFG_EXP] = CFG_EXP_ID;
    cfg[CFG_EXP + 1] = 0;                           /* last capability */
    put16(cfg, CFG_EXP + CFG_EXP_FLAGS, 0x2 | exp_type << 4);
    /* 16 GT/s (4), x16; the port number in bits 31:24. */
    put32(cfg, CFG_EXP + CFG_EXP_LNKCAP, 0x4 | 16 << 4 | (guint32) port << 24);
    put16(cfg, CFG_EXP + CFG_EXP_LNKSTA, 0x4 | 16 << 4);
    return cfg;
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GOptionContext) ctx = NULL;
    g_autoptr(VhFakeSysfs) fake = NULL;
    g_autoptr(GArray) devs = NULL;
    g_autoptr(GPtrArray) keep = NULL;
    gint pfs = 40;
    gint vfs = 249;
    gint config_size = 4096;
    const GOptionEntry entries[] = {
        { "pfs", 0, 0, G_OPTION_ARG_INT, &pfs,
          "SR-IOV PFs, each behind its own root port (1-200)", "N" },
        { "vfs", 0, 0, G_OPTION_ARG_INT, &vfs,
          "VFs per PF, on the PF's bus (0-255)", "N" },
        { "config-size", 0, 0, G_OPTION_ARG_INT, &config_size,
          "Bytes of each config file: 4096 as root sees it, 256 otherwise",
          "BYTES" },
        G_OPTION_ENTRY_NULL
    };
    guint8 *pf_config;
    guint8 *vf_config;
    int group = 0;
    int i, j;

    ctx = g_option_context_new("- build a large fake sysfs tree, print its "
                               "root");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        g_printerr("vh-bench-fake-sysfs: %s\n", err->message);
        return 2;
    }
    /* Bus 0 slots 1-25 hold the root ports; each PF takes one bus, and a
     * bus has 256 functions, the PF's included. */
    if (pfs < 1 || pfs > 200 || vfs < 0 || vfs > 255 ||
        (config_size != 256 && config_size != 4096)) {
        g_printerr("vh-bench-fake-sysfs: want 1-200 PFs, 0-255 VFs per PF "
                   "and a config size of 256 or 4096\n");
        return 2;
    }

    devs = g_array_new(FALSE, TRUE, sizeof(VhFakePciDevice));
    keep = g_ptr_array_new_with_free_func(g_free);
    pf_config = bench_config(config_size, PF_VENDOR, PF_DEVICE, CLASS_ETHERNET,
                             EXP_TYPE_ENDPOINT, 0);
    vf_config = bench_config(config_size, PF_VENDOR, VF_DEVICE, CLASS_ETHERNET,
                             EXP_TYPE_ENDPOINT, 0);
    g_ptr_array_add(keep, pf_config);
    g_ptr_array_add(keep, vf_config);

    for (i = 0; i < pfs; i++) {
        int bus = i + 1;
        char *rp = g_strdup_printf("0000:00:%02x.%x", 1 + i / 8, i % 8);
        char *pf = g_strdup_printf("0000:%02x:00.0", bus);
        guint8 *rp_config = bench_config(config_size, RP_VENDOR, RP_DEVICE,
                                         CLASS_PCI_BRIDGE, EXP_TYPE_ROOT_PORT,
                                         (guint8) (i + 1));
        VhFakePciDevice rpdev = VH_FAKE_PCI(rp, RP_VENDOR, RP_DEVICE,
                                            CLASS_PCI_BRIDGE,
                                            .group = group++,
                                            .driver = "pcieport",
                                            .config = rp_config,
                                            .config_len = config_size);
        VhFakePciDevice pfdev = VH_FAKE_PCI(pf, PF_VENDOR, PF_DEVICE,
                                            CLASS_ETHERNET,
                                            .subsystem_vendor = PF_VENDOR,
                                            .subsystem_device = 0x0001,
                                            .group = group++,
                                            .driver = "ice",
                                            .parent = rp,
                                            .sriov_totalvfs = 256,
                                            .numa_node = i % 2,
                                            .reset_method = "flr bus",
                                            .config = pf_config,
                                            .config_len = config_size);

        g_ptr_array_add(keep, rp);
        g_ptr_array_add(keep, pf);
        g_ptr_array_add(keep, rp_config);
        g_array_append_val(devs, rpdev);
        g_array_append_val(devs, pfdev);
        /* With ARI a VF's routing ID is the PF's + offset + n * stride:
         * here functions 1, 2, ... of the PF's bus (00.1 to 1f.1 for 249). */
        for (j = 1; j <= vfs; j++) {
            char *vf = g_strdup_printf("0000:%02x:%02x.%x", bus, j / 8, j % 8);
            VhFakePciDevice vfdev = VH_FAKE_PCI(vf, PF_VENDOR, VF_DEVICE,
                                                CLASS_ETHERNET,
                                                .subsystem_vendor = PF_VENDOR,
                                                .subsystem_device = 0x0001,
                                                .group = group++,
                                                .driver = "vfio-pci",
                                                .parent = rp,
                                                .physfn = pf,
                                                .numa_node = i % 2,
                                                .reset_method = "flr",
                                                .config = vf_config,
                                                .config_len = config_size);

            g_ptr_array_add(keep, vf);
            g_array_append_val(devs, vfdev);
        }
    }

    fake = vh_fake_sysfs_new((const VhFakePciDevice *) devs->data, devs->len,
                             &err);
    if (!fake) {
        g_printerr("vh-bench-fake-sysfs: %s\n", err->message);
        return 1;
    }
    g_print("%s\n", vh_fake_sysfs_root(fake));
    /* Keep the tree: the caller measures and removes it. */
    g_setenv("VH_FAKE_SYSFS_KEEP", "1", TRUE);
    return 0;
}
