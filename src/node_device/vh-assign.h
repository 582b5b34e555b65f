/*
 * vh-assign.h: can this PCI device be given to a guest, and how?
 *
 * A verdict is a list of reasons, each with a code a UI can show:
 *   no-iommu        the device is in no IOMMU group            (blocks)
 *   bridge          bridges cannot be assigned with vfio-pci   (blocks)
 *   host-critical   the device or a group peer carries what the host
 *                   lives on (mount, route, address, console)  (blocks)
 *   needs-group     group peers on host drivers must be held   (how)
 *   no-reset        the kernel knows no reset method          (warning)
 * "in-use" (owned by someone) is the hostdev manager's to add.
 * The verdict's code is the first reason's, "ok" without reasons.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "vh-host-usage.h"
#include "vh-node-device.h"

G_BEGIN_DECLS

typedef enum {
    VH_ASSIGN_NO_IOMMU,
    VH_ASSIGN_BRIDGE,
    VH_ASSIGN_HOST_CRITICAL,
    VH_ASSIGN_NEEDS_GROUP,
    VH_ASSIGN_NO_RESET,
} VhAssignCode;

typedef struct {
    VhAssignCode code;
    gboolean blocks;            /* FALSE for needs-group and no-reset */
    char *message;              /* one line naming devices and what to do */
    GPtrArray *devices;         /* VhNodeDevice * (owned by the list): the
                                 * peers to hold, the devices the host uses */
} VhAssignReason;

typedef struct _VhAssignVerdict {
    gboolean assignable;        /* no reason blocks */
    GPtrArray *reasons;         /* VhAssignReason *, blocking ones first */
    char **reset_methods;       /* the kernel's, or NULL when unknown */
} VhAssignVerdict;

void vh_assign_verdict_free(VhAssignVerdict *verdict);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhAssignVerdict, vh_assign_verdict_free)

/* "no-iommu", "bridge", ... */
const char *vh_assign_code_string(VhAssignCode code);

/* "ok" or the first reason's code. */
const char *vh_assign_verdict_code(const VhAssignVerdict *verdict);

/*
 * The verdict for @dev.  @usage (from vh_host_usage_scan) says what the
 * host lives on; @sysfs is the tree @list was read from (for the reset
 * attribute of kernels older than reset_method).
 */
VhAssignVerdict *vh_assign_check(const VhNodeDeviceList *list,
                                 const VhNodeDevice *dev,
                                 const VhHostUsage *usage,
                                 const VhSysfs *sysfs);

G_END_DECLS
