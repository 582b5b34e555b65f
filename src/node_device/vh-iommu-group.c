/*
 * vh-iommu-group.c: IOMMU groups and whether VFIO can use them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "node_device.iommu-group"

#include <string.h>

#include "vh-error.h"
#include "vh-iommu-group.h"

gboolean
vh_iommu_group_driver_is_safe(const char *driver)
{
    if (!driver)
        return TRUE;
    /* vfio-pci and the variant drivers built on vfio-pci-core
     * (mlx5_vfio_pci, hisi_acc_vfio_pci, ...) all carry "vfio". */
    return g_str_equal(driver, "pci-stub") || strstr(driver, "vfio") != NULL;
}

gboolean
vh_iommu_group_member_blocks(const VhNodeDevice *dev)
{
    return !vh_node_device_is_bridge(dev) &&
           !vh_iommu_group_driver_is_safe(dev->driver);
}

GPtrArray *
vh_iommu_group_members(const VhNodeDeviceList *list, guint number)
{
    return g_hash_table_lookup(list->groups, GUINT_TO_POINTER(number));
}

GPtrArray *
vh_iommu_group_blockers(const VhNodeDeviceList *list, guint number)
{
    GPtrArray *members = vh_iommu_group_members(list, number);
    GPtrArray *blockers = g_ptr_array_new();
    guint i;

    for (i = 0; members && i < members->len; i++) {
        VhNodeDevice *dev = g_ptr_array_index(members, i);
        if (vh_iommu_group_member_blocks(dev))
            g_ptr_array_add(blockers, dev);
    }
    return blockers;
}

char *
vh_iommu_group_blockers_describe(const GPtrArray *blockers)
{
    GString *s = g_string_new(NULL);
    guint i;

    for (i = 0; i < blockers->len; i++) {
        const VhNodeDevice *dev = g_ptr_array_index(blockers, i);
        /* The name of a driver link, which a broken tree may give any
         * bytes: the description goes into one-line messages. */
        g_autofree char *driver = vh_error_one_line(dev->driver);
        char buf[VH_PCI_ADDRESS_BUFLEN];

        g_string_append_printf(s, "%s%s (%s)", i ? ", " : "",
                               vh_pci_address_format(&dev->addr, buf),
                               driver);
    }
    return g_string_free(s, FALSE);
}
