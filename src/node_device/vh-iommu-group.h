/*
 * vh-iommu-group.h: IOMMU groups and whether VFIO can use them
 *
 * The kernel lets a process use a VFIO group only when the group is
 * viable: every member is bound to a VFIO driver, to pci-stub, or to no
 * driver, except bridges (non-type-0 headers), whose driver (pcieport) does
 * not count (drivers/vfio/group.c, vfio_dev_driver_allowed()).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "vh-node-device.h"

G_BEGIN_DECLS

/* vfio-pci, its vendor variants (mlx5_vfio_pci, ...) and pci-stub. */
gboolean vh_iommu_group_driver_is_safe(const char *driver);

/* @dev keeps its group from being viable: an endpoint on a host driver. */
gboolean vh_iommu_group_member_blocks(const VhNodeDevice *dev);

/* The members of group @number that block it, sorted by address; empty
 * when the group is viable.  Elements are owned by @list.
 * Free with g_ptr_array_unref(). */
GPtrArray *vh_iommu_group_blockers(const VhNodeDeviceList *list, guint number);

/* "0000:01:01.0 (e1000), 0000:01:02.0 (e1000)": @blockers (from
 * vh_iommu_group_blockers()) by address and driver; "" when empty.
 * Free with g_free(). */
char *vh_iommu_group_blockers_describe(const GPtrArray *blockers);

/* Members of group @number, sorted by address, or NULL. Owned by @list. */
GPtrArray *vh_iommu_group_members(const VhNodeDeviceList *list, guint number);

G_END_DECLS
