/*
 * vh-fake-kernel.h: a simulated Linux PCI core behind a fake sysfs tree
 *
 * Attached to a VhSysfs opened on a VhFakeSysfs tree (through the seam's
 * write hook), it changes the tree the way the kernel reacts to writes:
 *
 *   bus/pci/devices/ADDR/driver_override  stored up to a newline; "\n"
 *                                          clears it (read back "(null)");
 *                                          "" is a zero-byte write that, as
 *                                          on Linux, never reaches store()
 *   bus/pci/drivers/DRV/unbind  ADDR      drops the device's driver link
 *                                          and DRV's back link; -ENODEV if
 *                                          ADDR is not bound to DRV
 *   bus/pci/drivers/DRV/bind    ADDR      binds when ADDR has no driver and
 *                                          DRV may drive it: DRV is named by
 *                                          driver_override, or (without an
 *                                          override) DRV is its native
 *                                          driver; -EBUSY if bound, -ENODEV
 *                                          if DRV may not drive it
 *   bus/pci/devices/ADDR/reset  1         counted as a reset (what
 *                                          vh_fake_kernel_resets() tells);
 *                                          ("1\n", "0x1" too, as kstrtoul
 *                                          reads); anything else -EINVAL;
 *                                          "" changes nothing; a device
 *                                          without the file: ENOENT
 *   bus/pci/drivers_probe       ADDR      an unbound device gets the driver
 *                                          its driver_override names (if
 *                                          loaded; else it stays unbound),
 *                                          without an override its native
 *                                          driver (if loaded)
 *   (writes through device/driver/... symlinks are resolved first)
 *
 * A device's native driver is the one the fake tree gave it at creation.
 * Binding a device to vfio-pci creates DEV/vfio/GROUP in a fake dev root;
 * the node goes away when no member of the group is on vfio-pci.
 * vfio-pci and pci-stub are not loaded until vh_fake_kernel_load_module()
 * says so (it creates bus/pci/drivers/NAME), as on a host that has not
 * loaded them yet.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "vh-fake-sysfs.h"
#include "vh-sysfs.h"

G_BEGIN_DECLS

typedef struct _VhFakeKernel VhFakeKernel;

/* Hooks itself into @sysfs (opened on @fake's root); both must outlive it. */
VhFakeKernel *vh_fake_kernel_new(VhFakeSysfs *fake, VhSysfs *sysfs,
                                 GError **error);
void vh_fake_kernel_free(VhFakeKernel *kernel);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhFakeKernel, vh_fake_kernel_free)

/* The fake dev root: vfio/GROUP nodes appear below it. */
const char *vh_fake_kernel_dev_root(const VhFakeKernel *kernel);

/* modprobe: create bus/pci/drivers/@module (names as drivers spell them:
 * "vfio-pci", "pci-stub"); loading a loaded module is fine.  Unknown
 * modules fail as modprobe would ("Module x not found"). */
gboolean vh_fake_kernel_load_module(VhFakeKernel *kernel, const char *module,
                                    GError **error);

/* The driver ADDR is bound to, or NULL. Free with g_free(). */
char *vh_fake_kernel_driver_of(VhFakeKernel *kernel, const char *address);

/* Fault injection: the @nth (1-based) next write whose resolved path ends
 * with @suffix ("unbind", "drivers_probe", "driver_override") fails with
 * @err, changing nothing. */
void vh_fake_kernel_fail_write(VhFakeKernel *kernel, const char *suffix,
                               guint nth, int err);

/* Every write seen, "RELPATH=VALUE" as resolved, in order (for asserting
 * the exact sequence an operation used). Owned by @kernel. */
const GPtrArray *vh_fake_kernel_writes(const VhFakeKernel *kernel);

/* How many resets ADDR's reset file took (0 for an unknown address). */
guint vh_fake_kernel_resets(const VhFakeKernel *kernel, const char *address);

G_END_DECLS
