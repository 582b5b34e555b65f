/*
 * vh-qemu-argv.h: QEMU -device arguments for a domain's PCI host devices
 *
 * The same properties, in the same order and formats, as libvirt 9.0's
 * qemuBuildPCIHostdevDevProps + qemuBuildDeviceAddressProps +
 * qemuBuildRomProps, in the JSON syntax libvirt uses with QEMU 7.2 or the
 * older key=value syntax.  docs/formatdomain-hostdev.rst is the reference.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "vh-domain.h"

G_BEGIN_DECLS

typedef enum {
    VH_QEMU_SYNTAX_JSON,        /* {"driver":"vfio-pci","host":...} */
    VH_QEMU_SYNTAX_LEGACY,      /* vfio-pci,host=...,id=... */
} VhQemuSyntax;

/*
 * Give every hostdev of @def a guest address when the XML gave none (the
 * rule of docs/formatdomain-hostdev.rst) and check the guest addresses
 * against the controllers; set multifunction as libvirt does.  Idempotent.
 * Bad or unsupported XML: VH_QEMU_ERROR_INVALID.
 */
gboolean vh_qemu_assign(VhDomainDef *def, GError **error);

/*
 * The value of one -device option per emitted hostdev, in @def's hostdev
 * order (unassigned ones emit nothing).  Calls vh_qemu_assign().  A domain
 * with a non-PCI <hostdev> (usb, scsi, mdev) is refused.  Free the array
 * with g_ptr_array_unref(); it owns its strings.
 */
GPtrArray *vh_qemu_device_args(VhDomainDef *def, VhQemuSyntax syntax,
                               GError **error);

/* @arg quoted for a POSIX shell only when it needs to be, as libvirt
 * prints command lines: '{"driver":...}' but vfio-pci,host=... bare. */
char *vh_qemu_shell_quote(const char *arg);

G_END_DECLS
