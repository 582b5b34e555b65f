/*
 * vh-assign.h: can this PCI device be given to a guest, and how?
 *
 * A verdict is a list of reasons, each with a code a UI can show:
 *   no-iommu        the device is in no IOMMU group            (blocks)
 *   bridge          bridges cannot be assigned with vfio-pci   (blocks)
 *   host-critical   the device or a group peer carries what the host
 *                   lives on (mount, route, address, console)  (blocks)
 *   in-use          the device, or its IOMMU group, belongs to
 *                   someone in the hostdev registry            (blocks)
 *   needs-group     group peers on host drivers must be held   (how)
 *   no-reset        the kernel knows no reset method          (warning)
 * The verdict's code is the first reason's, "ok" without reasons.
 *
 * Owners live in the hostdev manager's registry, a layer above: node_device
 * does not read it, the caller passes what it says as VhAssignOwners.
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
    VH_ASSIGN_IN_USE,
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
    /* From the owners passed in: the device's owner, or its group's when
     * the device itself is not recorded; NULL: nobody's, or unknown. */
    char *owner;
    char *role;                 /* the device's own role; NULL: none */
} VhAssignVerdict;

void vh_assign_verdict_free(VhAssignVerdict *verdict);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhAssignVerdict, vh_assign_verdict_free)

/* One device the registry records (a copy of what the caller read). */
typedef struct {
    VhPciAddress addr;
    char *owner;                /* a domain name or UUID, or "manual" */
    char *role;                 /* "assigned", "held" or "detached" */
    char *driver;               /* what it was bound to: "vfio-pci", ... */
    guint group;
} VhAssignOwner;

/* The recorded devices, looked up by address and by group. */
typedef struct _VhAssignOwners VhAssignOwners;

VhAssignOwners *vh_assign_owners_new(void);
void vh_assign_owners_free(VhAssignOwners *owners);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhAssignOwners, vh_assign_owners_free)

/* Record (a copy of) one device; a later entry for @addr replaces it. */
void vh_assign_owners_add(VhAssignOwners *owners, const VhPciAddress *addr,
                          const char *owner, const char *role,
                          const char *driver, guint group);
/* The entry of @addr, or NULL; owned by @owners. */
const VhAssignOwner *vh_assign_owners_lookup(const VhAssignOwners *owners,
                                             const VhPciAddress *addr);
/* The owner of any entry in @group, or NULL (one owner per group). */
const char *vh_assign_owners_group_owner(const VhAssignOwners *owners,
                                         guint group);

/* "no-iommu", "bridge", ... */
const char *vh_assign_code_string(VhAssignCode code);

/* "ok" or the first reason's code. */
const char *vh_assign_verdict_code(const VhAssignVerdict *verdict);

/*
 * The verdict for @dev.  @usage (from vh_host_usage_scan) says what the
 * host lives on; @sysfs is the tree @list was read from (for the reset
 * attribute of kernels older than reset_method).  @owners is what the
 * hostdev registry records; NULL: unknown, no in-use reason is given.
 */
VhAssignVerdict *vh_assign_check(const VhNodeDeviceList *list,
                                 const VhNodeDevice *dev,
                                 const VhHostUsage *usage,
                                 const VhSysfs *sysfs,
                                 const VhAssignOwners *owners);

G_END_DECLS
