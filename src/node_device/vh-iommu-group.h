/*
 * vh-iommu-group.h: IOMMU groups as the kernel lists them in sysfs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "vh-pci-address.h"
#include "vh-sysfs.h"

G_BEGIN_DECLS

typedef struct {
    guint number;
    GArray *members;    /* VhPciAddress, sorted; PCI devices only */
} VhIommuGroup;

void vh_iommu_group_free(VhIommuGroup *group);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhIommuGroup, vh_iommu_group_free)

/*
 * Every group under kernel/iommu_groups, sorted by number, each with its
 * PCI members sorted by address.  No groups directory (no IOMMU) gives an
 * empty array, not an error.  Free with g_ptr_array_unref().
 */
gboolean vh_iommu_group_list(const VhSysfs *sysfs, GPtrArray **ret_groups,
                             GError **error);

/*
 * The group of one device: *ret_number is set and TRUE returned with
 * *ret_has_group telling whether the device has one.  A device that does
 * not exist is VH_SYSFS_ERROR_NOT_FOUND.
 */
gboolean vh_iommu_group_of(const VhSysfs *sysfs, const VhPciAddress *addr,
                           gboolean *ret_has_group, guint *ret_number,
                           GError **error);

G_END_DECLS
