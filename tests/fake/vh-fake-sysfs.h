/*
 * vh-fake-sysfs.h: build a tree that looks like /sys from a table of devices
 *
 * Each test gets its own tree in a fresh temporary directory:
 *
 *   static const VhFakePciDevice devs[] = {
 *       VH_FAKE_PCI("0000:00:04.0", 0x1b36, 0x000e, 0x060400, .group = 4),
 *       VH_FAKE_PCI("0000:01:01.0", 0x8086, 0x100e, 0x020000, .group = 4,
 *                   .parent = "0000:00:04.0", .driver = "e1000"),
 *   };
 *   g_autoptr(VhFakeSysfs) fake = vh_fake_sysfs_new(devs, G_N_ELEMENTS(devs), &err);
 *
 * The tree has what the kernel shows: devices/pciDDDD:BB/<bridge>/<device>
 * directories nested under their parent bridge, bus/pci/devices/<addr> links
 * into them, iommu_group links into kernel/iommu_groups/N with a
 * devices/<addr> back link, driver links into bus/pci/drivers/<name> with a
 * <addr> back link, physfn/virtfnN links, and the attribute files vendor,
 * device, class, subsystem_vendor, subsystem_device, numa_node,
 * driver_override, config, and (when given) reset_method with reset (a
 * non-empty reset_method; an older kernel's lone reset file is added by
 * hand), sriov_* and vpd.
 * All links are relative, as in sysfs, so the tree can be moved.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
    const char *address;        /* "0000:01:02.0" */
    guint16 vendor;
    guint16 device;
    guint32 class;              /* 0x020000; 0x0604xx makes a type 1 header */
    guint16 subsystem_vendor;
    guint16 subsystem_device;
    const char *driver;         /* NULL: no driver */
    int group;                  /* VH_FAKE_NO_GROUP: no iommu_group link */
    const char *parent;         /* bridge address; NULL: on the root bus */
    const char *physfn;         /* PF address for a VF */
    guint sriov_totalvfs;       /* > 0: an SR-IOV PF */
    int numa_node;              /* written as is; VH_FAKE_PCI sets -1 */
    const char *reset_method;   /* NULL: no reset_method or reset file */
    const guint8 *config;       /* NULL: a 64-byte header from the ids */
    gsize config_len;
    const guint8 *vpd;          /* NULL: no vpd file; else vpd_len bytes */
    gsize vpd_len;
    /* A directory between the parent bridge and the device, as an Intel
     * VMD puts its own domain's root ("pci10000:e0"); NULL: none. */
    const char *parent_subdir;
} VhFakePciDevice;

#define VH_FAKE_NO_GROUP (-1)

/* Defaults: no NUMA node (-1), no group unless .group is given. */
#define VH_FAKE_PCI(addr, ven, dev, cls, ...) \
    { .address = (addr), .vendor = (ven), .device = (dev), .class = (cls), \
      .numa_node = -1, .group = VH_FAKE_NO_GROUP, __VA_ARGS__ }

typedef struct _VhFakeSysfs VhFakeSysfs;

/* Builds the tree; the table must list parents before children and PFs
 * before VFs.  Free with vh_fake_sysfs_free(), which removes it. */
VhFakeSysfs *vh_fake_sysfs_new(const VhFakePciDevice *devs, gsize ndevs,
                               GError **error);
void vh_fake_sysfs_free(VhFakeSysfs *fake);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhFakeSysfs, vh_fake_sysfs_free)

const char *vh_fake_sysfs_root(const VhFakeSysfs *fake);

/* Absolute path of @relpath in the tree; free with g_free(). */
char *vh_fake_sysfs_path(const VhFakeSysfs *fake, const char *relpath);

/*
 * Class devices on the PCI devices of a tree, for code that asks what the
 * host has on a device.  Each helper adds what the kernel shows: the
 * device's directory, its class/<class>/<name> link, and for block devices
 * a "dev" attribute with dev/block/MAJ:MIN links, slaves/ and holders/.
 * Devices named in .slaves or .lowers must have been added before.
 */
#define VH_FAKE_MAX_STACK 8

typedef struct {
    const char *name;           /* "sda", "nvme0n1", "dm-0", "md0" */
    const char *parent;         /* PCI address; NULL: not on a PCI device */
    /* The directory holding the disk: relative to the PCI device's
     * directory with .parent ("ata1/host0/target0:0:0/0:0:0:0/block"),
     * else to the root.  NULL: "block" below the PCI device, else
     * "devices/virtual/block". */
    const char *path;
    guint major;
    guint minor;                /* partitions get minor + 1, + 2, ... */
    const char *partitions[VH_FAKE_MAX_STACK];  /* "sda1", "sda2" */
    const char *slaves[VH_FAKE_MAX_STACK];      /* "sda2", "sdb" */
    const char *dm_name;        /* dm/name: NAME in /dev/mapper/NAME */
} VhFakeBlockDevice;

gboolean vh_fake_sysfs_add_block(VhFakeSysfs *fake,
                                 const VhFakeBlockDevice *blk,
                                 GError **error);

typedef struct {
    const char *name;           /* "eth0", "br0", "bond0" */
    const char *parent;         /* PCI address; NULL: not on a PCI device */
    /* The directory holding the interface, as VhFakeBlockDevice.path
     * ("virtio2/net"); NULL: "net" below the PCI device, else
     * "devices/virtual/net".  With .parent, "device" links to the
     * directory above it. */
    const char *path;
    const char *lowers[VH_FAKE_MAX_STACK];  /* bridge ports, bond slaves */
} VhFakeNetDevice;

gboolean vh_fake_sysfs_add_net(VhFakeSysfs *fake, const VhFakeNetDevice *net,
                               GError **error);

/* Framebuffer @name ("fb0") in class/graphics, under the PCI device
 * @parent (a DRM driver's fbdev) or, with @parent NULL, under
 * devices/platform/efi-framebuffer.0 as efifb puts it. */
gboolean vh_fake_sysfs_add_fb(VhFakeSysfs *fake, const char *parent,
                              const char *name, GError **error);

/* Write @contents to @relpath, creating the directories above it. */
gboolean vh_fake_sysfs_add_file(VhFakeSysfs *fake, const char *relpath,
                                const char *contents, GError **error);

/* A symlink at @relpath holding @target verbatim, for trees the kernel
 * would not make (links out of the root, absolute links, loops). */
gboolean vh_fake_sysfs_add_raw_link(VhFakeSysfs *fake, const char *relpath,
                                    const char *target, GError **error);

/* A link at @relpath to @target (both relative to the root), written
 * relative as the kernel writes its links.  The directory above @relpath
 * must exist. */
gboolean vh_fake_sysfs_add_link(VhFakeSysfs *fake, const char *relpath,
                                const char *target, GError **error);

/* bus/pci/drivers/@name with its bind, unbind, new_id and remove_id files,
 * as registering a PCI driver makes it; an existing one keeps its links
 * (its control files are emptied). */
gboolean vh_fake_sysfs_add_driver(VhFakeSysfs *fake, const char *name,
                                  GError **error);

G_END_DECLS
