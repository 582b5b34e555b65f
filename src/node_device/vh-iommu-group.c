/*
 * vh-iommu-group.c: IOMMU groups as the kernel lists them in sysfs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "node_device.iommu-group"

#include <stdlib.h>

#include "vh-error.h"
#include "vh-iommu-group.h"

void
vh_iommu_group_free(VhIommuGroup *group)
{
    if (!group)
        return;
    if (group->members)
        g_array_unref(group->members);
    g_free(group);
}

/* Group directory names are decimal numbers; anything else is not ours. */
static gboolean
vh_iommu_group_parse_number(const char *name, guint *ret_number)
{
    guint64 value = 0;

    if (!g_ascii_string_to_unsigned(name, 10, 0, G_MAXUINT, &value, NULL))
        return FALSE;
    *ret_number = (guint) value;
    return TRUE;
}

static int
vh_iommu_group_compare(gconstpointer a, gconstpointer b)
{
    const VhIommuGroup *ga = *(VhIommuGroup * const *) a;
    const VhIommuGroup *gb = *(VhIommuGroup * const *) b;

    return ga->number < gb->number ? -1 : ga->number > gb->number;
}

static gboolean
vh_iommu_group_load(const VhSysfs *sysfs, guint number,
                    VhIommuGroup **ret_group, GError **error)
{
    g_autoptr(VhIommuGroup) group = g_new0(VhIommuGroup, 1);
    g_autoptr(GPtrArray) names = NULL;
    g_autofree char *relpath = NULL;
    guint i;

    group->number = number;
    group->members = g_array_new(FALSE, FALSE, sizeof(VhPciAddress));
    relpath = g_strdup_printf("kernel/iommu_groups/%u/devices", number);
    if (!vh_sysfs_list(sysfs, relpath, &names, error))
        return FALSE;
    for (i = 0; names && i < names->len; i++) {
        VhPciAddress addr;

        /* Groups may hold non-PCI devices (platform, ACPI): skip them. */
        if (!vh_pci_address_parse(g_ptr_array_index(names, i), &addr, NULL) ||
            g_str_has_prefix(g_ptr_array_index(names, i), "pci_"))
            continue;
        g_array_append_val(group->members, addr);
    }
    g_array_sort(group->members, (GCompareFunc) vh_pci_address_compare);
    *ret_group = g_steal_pointer(&group);
    return TRUE;
}

gboolean
vh_iommu_group_list(const VhSysfs *sysfs, GPtrArray **ret_groups,
                    GError **error)
{
    g_autoptr(GPtrArray) groups = NULL;
    g_autoptr(GPtrArray) names = NULL;
    guint i;

    if (!vh_sysfs_list(sysfs, "kernel/iommu_groups", &names, error))
        return FALSE;
    groups = g_ptr_array_new_with_free_func((GDestroyNotify) vh_iommu_group_free);
    for (i = 0; names && i < names->len; i++) {
        VhIommuGroup *group = NULL;
        guint number;

        if (!vh_iommu_group_parse_number(g_ptr_array_index(names, i), &number))
            continue;
        if (!vh_iommu_group_load(sysfs, number, &group, error))
            return FALSE;
        g_ptr_array_add(groups, group);
    }
    g_ptr_array_sort(groups, vh_iommu_group_compare);
    *ret_groups = g_steal_pointer(&groups);
    return TRUE;
}

gboolean
vh_iommu_group_of(const VhSysfs *sysfs, const VhPciAddress *addr,
                  gboolean *ret_has_group, guint *ret_number, GError **error)
{
    g_autofree char *devpath = vh_sysfs_pci_device_relpath(addr, NULL);
    g_autofree char *linkpath = vh_sysfs_pci_device_relpath(addr, "iommu_group");
    g_autofree char *name = NULL;
    guint number;

    if (!vh_sysfs_exists(sysfs, devpath)) {
        char buf[VH_PCI_ADDRESS_BUFLEN];
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_NOT_FOUND,
                    "PCI device %s does not exist under %s/bus/pci/devices; "
                    "list devices with `virt-hostdev iommu-groups`",
                    vh_pci_address_format(addr, buf), vh_sysfs_get_root(sysfs));
        return FALSE;
    }
    if (!vh_sysfs_read_link_name(sysfs, linkpath, &name, error))
        return FALSE;
    if (!name) {
        *ret_has_group = FALSE;
        return TRUE;
    }
    if (!vh_iommu_group_parse_number(name, &number)) {
        g_autofree char *path = vh_sysfs_describe(sysfs, linkpath);
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED,
                    "%s points to '%s', not a numbered IOMMU group", path, name);
        return FALSE;
    }
    *ret_has_group = TRUE;
    *ret_number = number;
    return TRUE;
}
