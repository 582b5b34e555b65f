/*
 * vh-vfio-group.c: a VFIO group: viability and attaching to a container
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "hostdev.vfio"

#include <errno.h>

#include "vh-iommu-group.h"
#include "vh-node-device.h"
#include "vh-vfio-priv.h"

char *
vh_vfio_group_describe(const VhVfioGroup *group)
{
    if (group->id < 0)
        return g_strdup("the group");
    return g_strdup_printf("group %d", group->id);
}

static gboolean
group_get_status(VhVfioGroup *group, GError **error)
{
    struct vfio_group_status status = { .argsz = sizeof(status) };
    int ret;

    ret = group->ops->ioctl(group->ops_data, group->fd,
                            VFIO_GROUP_GET_STATUS, &status);
    if (ret < 0) {
        g_autofree char *what = vh_vfio_group_describe(group);
        g_set_error(error, VH_VFIO_ERROR,
                    ret == -ENOTTY || ret == -EBADF ?
                    VH_VFIO_ERROR_INVALID : VH_VFIO_ERROR_FAILED,
                    "%s: VFIO_GROUP_GET_STATUS on fd %d: %s", what,
                    group->fd, g_strerror(-ret));
        return FALSE;
    }
    group->flags = status.flags;
    return TRUE;
}

VhVfioGroup *
vh_vfio_group_new_from_fd(const VhVfioOps *ops, gpointer ops_data, int fd,
                          int group_id, GError **error)
{
    g_autoptr(VhVfioGroup) group = NULL;

    if (fd < 0) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID,
                    "invalid group fd %d", fd);
        return NULL;
    }
    group = g_new0(VhVfioGroup, 1);
    group->refcount = 1;
    group->ops = ops;
    group->ops_data = ops_data;
    group->fd = fd;
    group->id = group_id;
    if (!group_get_status(group, error))
        return NULL;
    return g_steal_pointer(&group);
}

VhVfioGroup *
vh_vfio_group_new(const VhVfioOps *ops, gpointer ops_data, int group_id,
                  GError **error)
{
    g_autofree char *path = g_strdup_printf("/dev/vfio/%d", group_id);
    int fd;

    if (group_id < 0) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID,
                    "invalid group number %d", group_id);
        return NULL;
    }
    fd = ops->open(ops_data, path);
    if (fd < 0) {
        g_set_error(error, VH_VFIO_ERROR,
                    fd == -ENOENT ? VH_VFIO_ERROR_NOT_FOUND :
                    VH_VFIO_ERROR_FAILED,
                    "cannot open %s: %s%s", path, g_strerror(-fd),
                    fd == -ENOENT ? " (bind the group's devices to vfio-pci first)" :
                    fd == -EBUSY ? " (another process holds the group)" : "");
        return NULL;
    }
    return vh_vfio_group_new_from_fd(ops, ops_data, fd, group_id, error);
}

VhVfioGroup *
vh_vfio_group_ref(VhVfioGroup *group)
{
    group->refcount++;
    return group;
}

void
vh_vfio_group_unref(VhVfioGroup *group)
{
    if (!group || --group->refcount > 0)
        return;
    /* Closing the group fd detaches it from its container. */
    if (group->fd >= 0)
        group->ops->close(group->ops_data, group->fd);
    if (group->container) {
        vh_vfio_container_remove_group(group->container, group);
        vh_vfio_container_unref(group->container);
    }
    g_free(group);
}

int
vh_vfio_group_get_fd(const VhVfioGroup *group)
{
    return group->fd;
}

int
vh_vfio_group_get_id(const VhVfioGroup *group)
{
    return group->id;
}

VhVfioContainer *
vh_vfio_group_get_container(const VhVfioGroup *group)
{
    return group->container;
}

gboolean
vh_vfio_group_blockers_sysfs(gpointer data, int group_id,
                             GPtrArray **ret_blockers, GError **error)
{
    const VhSysfs *sysfs = data;
    g_autoptr(VhNodeDeviceList) list = NULL;
    g_autoptr(GPtrArray) blockers = NULL;
    g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func(g_free);
    guint i;

    if (group_id < 0) {
        *ret_blockers = g_steal_pointer(&out);
        return TRUE;
    }
    list = vh_node_device_list_scan(sysfs, 0, error);
    if (!list)
        return FALSE;
    blockers = vh_iommu_group_blockers(list, group_id);
    for (i = 0; i < blockers->len; i++) {
        const VhNodeDevice *dev = g_ptr_array_index(blockers, i);
        char buf[VH_PCI_ADDRESS_BUFLEN];

        g_ptr_array_add(out, g_strdup_printf("%s (%s)",
                                             vh_pci_address_format(&dev->addr, buf),
                                             dev->driver ? dev->driver : "no driver"));
    }
    *ret_blockers = g_steal_pointer(&out);
    return TRUE;
}

gboolean
vh_vfio_group_check_viable(VhVfioGroup *group, VhVfioBlockersFunc blockers,
                           gpointer blockers_data, GError **error)
{
    g_autoptr(GPtrArray) names = NULL;
    g_autoptr(GError) why = NULL;
    g_autofree char *what = NULL;
    g_autofree char *list = NULL;

    if (!group_get_status(group, error))
        return FALSE;
    if (group->flags & VFIO_GROUP_FLAGS_VIABLE)
        return TRUE;

    what = vh_vfio_group_describe(group);
    if (blockers && !blockers(blockers_data, group->id, &names, &why))
        g_debug("%s: cannot name the blocking members: %s", what,
                why->message);
    if (names && names->len) {
        gboolean many = names->len > 1;

        g_ptr_array_add(names, NULL);
        list = g_strjoinv(", ", (char **) names->pdata);
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_NOT_VIABLE,
                    "%s is not viable: %s %s still bound to a host driver; bind %s to vfio-pci or pci-stub (virt-hostdev nodedev-detach) or hot-unplug %s",
                    what, list, many ? "are" : "is", many ? "them" : "it",
                    many ? "them" : "it");
    } else {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_NOT_VIABLE,
                    "%s is not viable: some of its members are still bound to host drivers; bind every member to vfio-pci or pci-stub (virt-hostdev nodedev-detach)",
                    what);
    }
    return FALSE;
}

gboolean
vh_vfio_group_attach(VhVfioGroup *group, VhVfioContainer *container,
                     GError **error)
{
    g_autofree char *what = vh_vfio_group_describe(group);
    int ret;

    if (group->container) {
        if (group->container == container)
            return TRUE;
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID,
                    "%s is already attached to another container", what);
        return FALSE;
    }
    if (!group_get_status(group, error))
        return FALSE;
    if (!(group->flags & VFIO_GROUP_FLAGS_CONTAINER_SET)) {
        int cfd = container->fd;

        ret = group->ops->ioctl(group->ops_data, group->fd,
                                VFIO_GROUP_SET_CONTAINER, &cfd);
        if (ret < 0) {
            g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_FAILED,
                        "%s: VFIO_GROUP_SET_CONTAINER: %s%s", what,
                        g_strerror(-ret),
                        ret == -EPERM ? " (the group is not viable or the container's IOMMU does not fit it)" : "");
            return FALSE;
        }
        group->flags |= VFIO_GROUP_FLAGS_CONTAINER_SET;
    } else {
        g_debug("%s: already in a container, taken as the one passed", what);
    }

    if (!container->iommu_type) {
        int type = VFIO_TYPE1v2_IOMMU;

        if (container->ops->ioctl(container->ops_data, container->fd,
                                  VFIO_CHECK_EXTENSION,
                                  GINT_TO_POINTER(VFIO_TYPE1v2_IOMMU)) <= 0)
            type = VFIO_TYPE1_IOMMU;
        ret = container->ops->ioctl(container->ops_data, container->fd,
                                    VFIO_SET_IOMMU, GINT_TO_POINTER(type));
        if (ret < 0) {
            int cfd = container->fd;

            g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_FAILED,
                        "%s: VFIO_SET_IOMMU type %d: %s", what, type,
                        g_strerror(-ret));
            group->ops->ioctl(group->ops_data, group->fd,
                              VFIO_GROUP_UNSET_CONTAINER, &cfd);
            group->flags &= ~VFIO_GROUP_FLAGS_CONTAINER_SET;
            return FALSE;
        }
        container->iommu_type = type;
    }
    group->container = vh_vfio_container_ref(container);
    vh_vfio_container_add_group(container, group);
    return TRUE;
}
