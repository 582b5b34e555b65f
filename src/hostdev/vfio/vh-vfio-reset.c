/*
 * vh-vfio-reset.c: device reset and hot (bus) reset with group ownership
 *
 * A hot reset hits every device below the bridge.  The kernel allows it
 * only with an fd for every affected group; we check ownership ourselves
 * first so that the error names the devices instead of saying EPERM.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "hostdev.vfio"

#include <errno.h>

#include "vh-vfio-priv.h"

const char *
vh_vfio_reset_method_to_string(VhVfioResetMethod method)
{
    switch (method) {
    case VH_VFIO_RESET_DEVICE:
        return "device";
    case VH_VFIO_RESET_HOT:
        return "hot";
    case VH_VFIO_RESET_NONE:
    default:
        return "none";
    }
}

/* The groups the caller owns: @dev's, those sharing its container and
 * @groups (GPtrArray of VhVfioGroup *, not referenced). */
static GPtrArray *
owned_groups(VhVfioDevice *dev, VhVfioGroup *const *groups, gsize n_groups)
{
    GPtrArray *owned = g_ptr_array_new();
    VhVfioContainer *c = dev->group->container;
    gsize i;

    g_ptr_array_add(owned, dev->group);
    for (i = 0; c && i < c->groups->len; i++) {
        VhVfioGroup *g = g_ptr_array_index(c->groups, i);
        if (!g_ptr_array_find(owned, g, NULL))
            g_ptr_array_add(owned, g);
    }
    for (i = 0; i < n_groups; i++) {
        if (groups[i] && !g_ptr_array_find(owned, groups[i], NULL))
            g_ptr_array_add(owned, groups[i]);
    }
    return owned;
}

static VhVfioGroup *
owned_find(GPtrArray *owned, int group_id)
{
    guint i;

    for (i = 0; i < owned->len; i++) {
        VhVfioGroup *g = g_ptr_array_index(owned, i);
        if (g->id == group_id)
            return g;
    }
    return NULL;
}

gboolean
vh_vfio_device_get_hot_reset_info(VhVfioDevice *dev,
                                  VhVfioGroup *const *groups,
                                  gsize n_groups, GArray **ret_devices,
                                  GError **error)
{
    struct vfio_pci_hot_reset_info probe = { .argsz = sizeof(probe) };
    g_autofree struct vfio_pci_hot_reset_info *info = NULL;
    g_autoptr(GPtrArray) owned = NULL;
    g_autoptr(GArray) out = NULL;
    gsize len;
    guint32 i;
    int ret;

    /* First call: the kernel says how many devices (ENOSPC). */
    ret = dev->ops->ioctl(dev->ops_data, dev->fd,
                          VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &probe);
    if (ret < 0 && ret != -ENOSPC) {
        g_set_error(error, VH_VFIO_ERROR,
                    ret == -ENODEV || ret == -ENOTTY ?
                    VH_VFIO_ERROR_UNSUPPORTED : VH_VFIO_ERROR_FAILED,
                    "%s: VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: %s%s",
                    dev->name, g_strerror(-ret),
                    ret == -ENODEV ? " (no bus or slot reset for this device)" : "");
        return FALSE;
    }
    len = sizeof(*info) + (gsize) probe.count *
          sizeof(struct vfio_pci_dependent_device);
    info = g_malloc0(len);
    info->argsz = len;
    ret = dev->ops->ioctl(dev->ops_data, dev->fd,
                          VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info);
    if (ret < 0) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_FAILED,
                    "%s: VFIO_DEVICE_GET_PCI_HOT_RESET_INFO for %u devices: %s",
                    dev->name, probe.count, g_strerror(-ret));
        return FALSE;
    }
    if (info->count > probe.count) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_CORRUPT,
                    "%s: hot reset info grew from %u to %u devices between two calls",
                    dev->name, probe.count, info->count);
        return FALSE;
    }

    owned = owned_groups(dev, groups, n_groups);
    out = g_array_new(FALSE, FALSE, sizeof(VhVfioHotResetDevice));
    for (i = 0; i < info->count; i++) {
        const struct vfio_pci_dependent_device *d = &info->devices[i];
        VhVfioHotResetDevice hd = {
            .address = {
                .domain = d->segment,
                .bus = d->bus,
                .slot = (d->devfn >> 3) & 0x1f,
                .function = d->devfn & 7,
            },
            .group_id = d->group_id,
            .owned = owned_find(owned, d->group_id) != NULL,
        };
        g_array_append_val(out, hd);
    }
    *ret_devices = g_steal_pointer(&out);
    return TRUE;
}

static GPtrArray *
blocked_devices(const GArray *devices)
{
    GPtrArray *blocked = g_ptr_array_new_with_free_func(g_free);
    guint i;

    for (i = 0; i < devices->len; i++) {
        const VhVfioHotResetDevice *d =
            &g_array_index(devices, VhVfioHotResetDevice, i);
        char buf[VH_PCI_ADDRESS_BUFLEN];

        if (!d->owned)
            g_ptr_array_add(blocked, g_strdup_printf("%s (group %d)",
                                                     vh_pci_address_format(&d->address, buf),
                                                     d->group_id));
    }
    return blocked;
}

gboolean
vh_vfio_device_get_reset_method(VhVfioDevice *dev,
                                VhVfioGroup *const *groups, gsize n_groups,
                                VhVfioResetMethod *ret_method,
                                GPtrArray **ret_blocked, GError **error)
{
    g_autoptr(GArray) devices = NULL;
    g_autoptr(GError) local = NULL;

    if (dev->info.flags & VFIO_DEVICE_FLAGS_RESET) {
        *ret_method = VH_VFIO_RESET_DEVICE;
        if (ret_blocked)
            *ret_blocked = g_ptr_array_new_with_free_func(g_free);
        return TRUE;
    }
    if (!(dev->info.flags & VFIO_DEVICE_FLAGS_PCI) ||
        !vh_vfio_device_get_hot_reset_info(dev, groups, n_groups, &devices,
                                           &local)) {
        if (local && !g_error_matches(local, VH_VFIO_ERROR,
                                      VH_VFIO_ERROR_UNSUPPORTED)) {
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        *ret_method = VH_VFIO_RESET_NONE;
        if (ret_blocked)
            *ret_blocked = g_ptr_array_new_with_free_func(g_free);
        return TRUE;
    }
    *ret_method = VH_VFIO_RESET_HOT;
    if (ret_blocked)
        *ret_blocked = blocked_devices(devices);
    return TRUE;
}

static gboolean
hot_reset(VhVfioDevice *dev, VhVfioGroup *const *groups, gsize n_groups,
          GError **error)
{
    g_autoptr(GArray) devices = NULL;
    g_autoptr(GPtrArray) blocked = NULL;
    g_autoptr(GPtrArray) owned = NULL;
    g_autoptr(GArray) fds = g_array_new(FALSE, FALSE, sizeof(gint32));
    g_autoptr(GArray) ids = g_array_new(FALSE, FALSE, sizeof(int));
    g_autofree struct vfio_pci_hot_reset *reset = NULL;
    gsize len;
    guint i, j;
    int ret;

    /* Step 1: who is hit, and do we own all of them? */
    if (!vh_vfio_device_get_hot_reset_info(dev, groups, n_groups, &devices,
                                           error))
        return FALSE;
    blocked = blocked_devices(devices);
    if (blocked->len) {
        g_autofree char *list = NULL;

        g_ptr_array_add(blocked, NULL);
        list = g_strjoinv(", ", (char **) blocked->pdata);
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_NOT_OWNED,
                    "%s has no device reset and a bus reset would also reset %s, whose groups this process does not hold; hold those groups too (pass their fds) or assign the devices together",
                    dev->name, list);
        return FALSE;
    }

    /* Step 2: one fd per affected group. */
    owned = owned_groups(dev, groups, n_groups);
    for (i = 0; i < devices->len; i++) {
        int id = g_array_index(devices, VhVfioHotResetDevice, i).group_id;
        gboolean dup = FALSE;

        for (j = 0; j < ids->len; j++)
            dup |= g_array_index(ids, int, j) == id;
        if (!dup) {
            gint32 fd = owned_find(owned, id)->fd;
            g_array_append_val(ids, id);
            g_array_append_val(fds, fd);
        }
    }
    len = sizeof(*reset) + fds->len * sizeof(gint32);
    reset = g_malloc0(len);
    reset->argsz = len;
    reset->count = fds->len;
    for (i = 0; i < fds->len; i++)
        reset->group_fds[i] = g_array_index(fds, gint32, i);

    /* Step 3: the reset. */
    ret = dev->ops->ioctl(dev->ops_data, dev->fd, VFIO_DEVICE_PCI_HOT_RESET,
                          reset);
    if (ret < 0) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_FAILED,
                    "%s: VFIO_DEVICE_PCI_HOT_RESET with %u groups: %s%s",
                    dev->name, fds->len, g_strerror(-ret),
                    ret == -EBUSY ? " (another device on the bus is in use)" : "");
        return FALSE;
    }
    return TRUE;
}

gboolean
vh_vfio_device_reset(VhVfioDevice *dev, VhVfioGroup *const *groups,
                     gsize n_groups, VhVfioResetMethod *ret_method,
                     GError **error)
{
    VhVfioResetMethod method;

    if (dev->info.flags & VFIO_DEVICE_FLAGS_RESET) {
        int ret = dev->ops->ioctl(dev->ops_data, dev->fd, VFIO_DEVICE_RESET,
                                  NULL);
        if (ret < 0) {
            g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_FAILED,
                        "%s: VFIO_DEVICE_RESET: %s", dev->name,
                        g_strerror(-ret));
            return FALSE;
        }
        method = VH_VFIO_RESET_DEVICE;
    } else {
        g_autoptr(GError) local = NULL;

        if (!hot_reset(dev, groups, n_groups, &local)) {
            if (g_error_matches(local, VH_VFIO_ERROR,
                                VH_VFIO_ERROR_UNSUPPORTED))
                g_prefix_error(&local, "%s cannot be reset: it has no device reset (no FLR or PM reset) and no bus reset: ",
                               dev->name);
            g_propagate_error(error, g_steal_pointer(&local));
            return FALSE;
        }
        method = VH_VFIO_RESET_HOT;
    }
    /* The kernel restores config space but our eventfds are re-armed
     * the way QEMU's post-reset does, so the interrupts work on. */
    if (!vh_vfio_device_irq_rearm(dev, error)) {
        g_prefix_error(error, "%s: ", dev->name);
        return FALSE;
    }
    if (ret_method)
        *ret_method = method;
    return TRUE;
}
