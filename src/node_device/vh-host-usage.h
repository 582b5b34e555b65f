/*
 * vh-host-usage.h: which PCI devices the host itself lives on
 *
 * A device is host-critical when it, or anything below it in the sysfs
 * device tree, carries a mounted filesystem or active swap, a network
 * interface with the default route or an address, or the console
 * framebuffer.  Stacked devices are followed down to the hardware: a
 * filesystem on LVM on md on two disks makes both disks' controllers
 * critical (block "slaves"), an address on a bridge over a bond makes every
 * port's NIC critical (net "lower_*" links), a disk behind native NVMe
 * multipath makes every controller of its subsystem critical.
 *
 * What is read, all of it read-only:
 *   proc:  self/mountinfo, swaps, net/route, net/ipv6_route, net/if_inet6
 *          (the caller's mount and network namespaces), each to its end.
 *          mountinfo rather than mounts: its device numbers find the disk
 *          of a "/dev/root" or /dev/disk/by-uuid/... source too.
 *   sysfs: dev/block, class/block, class/net, class/graphics and the
 *          links below them; bus/pci/devices only for a firmware
 *          framebuffer (to find the boot VGA device).  A use belongs to
 *          the PCI devices named on its resolved path ("devices/pci0000:00/
 *          0000:00:1c.0/0000:02:00.0/nvme/nvme0"): the deepest one carries
 *          it, the bridges above it have it below them.
 * A missing proc file means "none of that kind"; a malformed line is
 * skipped.  Sysfs links that resolve outside the sysfs root are ignored.
 *
 * Known blind spots: filesystems whose devices the kernel does not name
 * (ZFS pools, multi-device btrfs beyond the device shown in mountinfo),
 * IPv4 addresses without a connected route (see vh_host_usage_scan()),
 * and graphical sessions on a GPU without a framebuffer device.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "vh-pci-address.h"
#include "vh-sysfs.h"

G_BEGIN_DECLS

typedef enum {
    VH_HOST_USE_MOUNT,          /* what: mount point, detail: block device */
    VH_HOST_USE_SWAP,           /* what: path in swaps, detail: block device */
    VH_HOST_USE_DEFAULT_ROUTE,  /* what: interface, detail: gateway or NULL */
    VH_HOST_USE_ADDRESS,        /* what: interface, detail: "fd00::2/64" or
                                 * "connected route 192.0.2.0/24" */
    VH_HOST_USE_CONSOLE,        /* what: "fb0", detail: NULL or how it was
                                 * attributed ("firmware framebuffer on the
                                 * boot VGA device") */
} VhHostUseKind;

typedef struct {
    VhPciAddress addr;          /* the deepest PCI device that carries it */
    VhHostUseKind kind;
    char *what;
    char *detail;
    /* The device directly on @addr through which the use reaches it, when
     * it is not the one named above: "sda2" for a mount on dm-0, "eth0" for
     * a route on br0.  NULL otherwise. */
    char *via;
} VhHostUse;

typedef struct _VhHostUsage VhHostUsage;

/*
 * One scan of mounts, swaps, routes, addresses and framebuffers, each use
 * attributed to the deepest PCI device its sysfs node sits under.  @sysfs is
 * opened on the sysfs root, @proc on the proc root ("/proc" or a fake tree).
 *
 * IPv4 addresses: /proc has no per-interface IPv4 address file, so an
 * interface counts as addressed when the main routing table has a connected
 * (gateway-less) route through it, which the kernel adds for every address
 * with a prefix shorter than /32.  Missed: /32 addresses without a peer and
 * addresses added with noprefixroute.  getifaddrs() would see those, but
 * it answers for the caller's network namespace only, ignores @proc and so
 * could not be faked without a second seam; the route table is read through
 * the same root as everything else.
 *
 * Console: every class/graphics/fbN counts as the console.  A framebuffer
 * under a PCI device (a DRM driver's fbdev) belongs to that device; one
 * under no PCI device (efifb, vesafb, simplefb/simpledrm scanning out of
 * firmware-set-up memory) belongs to the device whose boot_vga is 1.
 *
 * Free with vh_host_usage_free().
 */
VhHostUsage *vh_host_usage_scan(const VhSysfs *sysfs, const VhSysfs *proc,
                                GError **error);
void vh_host_usage_free(VhHostUsage *usage);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhHostUsage, vh_host_usage_free)

/*
 * Uses of @addr and of every device below it (behind it, if it is a bridge),
 * in scan order; an empty array, never NULL, when there are none or @addr is
 * not in the tree.  The elements are owned by @usage and live as long as it
 * does; the array has no free function.  Free with g_ptr_array_unref().
 */
GPtrArray *vh_host_usage_lookup(const VhHostUsage *usage,
                                const VhPciAddress *addr);

/* Every use found, in scan order; same ownership as vh_host_usage_lookup(). */
GPtrArray *vh_host_usage_list(const VhHostUsage *usage);

/*
 * One line for users, e.g. "mounted filesystem / on vda1",
 * "mounted filesystem / on dm-0, through sda2",
 * "default route via eth0 (gateway 192.0.2.1)",
 * "interface eth0 has address fd00::2/64",
 * "interface eth0 has connected route 192.0.2.0/24",
 * "console framebuffer fb0".  Free with g_free().
 */
char *vh_host_use_describe(const VhHostUse *use);

G_END_DECLS
