/*
 * vh-vfio-irq.c: a VFIO device's interrupts through VFIO_DEVICE_SET_IRQS
 *
 * The kernel's semantics, which everything here keeps to:
 *  - DATA_EVENTFD | ACTION_TRIGGER with count n: enable (or update) n
 *    vectors from start; an fd of -1 de-assigns that vector;
 *  - DATA_NONE | ACTION_TRIGGER with count 0: disable the index;
 *  - DATA_NONE | ACTION_TRIGGER with count 1: signal the vector (loopback);
 *  - INTx, MSI and MSI-X exclude each other: one is enabled at a time;
 *  - MSI/MSI-X flagged NORESIZE cannot grow while enabled: disable first.
 *
 * Eventfds are created once per (index, vector) and kept for the
 * device's life, so that a caller polling them never sees them change.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "hostdev.vfio"

#include <errno.h>

#include "vh-vfio-priv.h"

static const char *const irq_names[VH_VFIO_IRQ_INDEXES] = {
    "INTx", "MSI", "MSI-X", "ERR", "REQ",
};

static const char *
irq_name(guint index)
{
    return index < VH_VFIO_IRQ_INDEXES ? irq_names[index] : "IRQ";
}

/* One SET_IRQS call; the error names the device, index and action. */
static gboolean
set_irqs(VhVfioDevice *dev, guint32 index, guint32 flags, guint32 start,
         guint32 count, const gint32 *fds, GError **error)
{
    g_autofree struct vfio_irq_set *set = NULL;
    int ret;

    set = vh_vfio_irq_set_new(index, flags, start, count, fds, NULL, NULL);
    ret = dev->ops->ioctl(dev->ops_data, dev->fd, VFIO_DEVICE_SET_IRQS, set);
    if (ret < 0) {
        const char *action =
            (flags & VFIO_IRQ_SET_ACTION_UNMASK) ? "unmask" :
            (flags & VFIO_IRQ_SET_ACTION_MASK) ? "mask" :
            (flags & VFIO_IRQ_SET_DATA_EVENTFD) ? "set eventfds" :
            count == 0 ? "disable" : "trigger";
        g_set_error(error, VH_VFIO_ERROR,
                    ret == -EINVAL ? VH_VFIO_ERROR_INVALID :
                    VH_VFIO_ERROR_FAILED,
                    "%s: VFIO_DEVICE_SET_IRQS %s %s vectors %u..%u: %s",
                    dev->name, irq_name(index), action, start,
                    count ? start + count - 1 : start, g_strerror(-ret));
        return FALSE;
    }
    return TRUE;
}

static gboolean
check_index(VhVfioDevice *dev, guint32 index, guint need,
            const VhVfioIrqInfo **ret_info, GError **error)
{
    const VhVfioIrqInfo *info;

    if (index >= VH_VFIO_IRQ_INDEXES) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID,
                    "%s: interrupt index %u is not one of INTx, MSI, MSI-X, ERR, REQ",
                    dev->name, index);
        return FALSE;
    }
    if (!vh_vfio_device_get_irq_info(dev, index, &info, error))
        return FALSE;
    if (info->count == 0 || !(info->flags & VFIO_IRQ_INFO_EVENTFD)) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED,
                    "%s has no %s interrupt", dev->name, irq_name(index));
        return FALSE;
    }
    if (need > info->count) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID,
                    "%s: %u %s vectors asked for, the device has %u",
                    dev->name, need, irq_name(index), info->count);
        return FALSE;
    }
    if (ret_info)
        *ret_info = info;
    return TRUE;
}

/* The eventfd of (@index, @vector), created on first use. */
static gboolean
irq_eventfd(VhVfioDevice *dev, guint32 index, guint vector, int *ret_fd,
            GError **error)
{
    VhVfioIrqState *st = &dev->irqs[index];
    int fd;

    while (st->eventfds->len <= vector) {
        int none = -1;
        g_array_append_val(st->eventfds, none);
    }
    if (st->in_use->len <= vector)
        g_array_set_size(st->in_use, vector + 1);
    fd = g_array_index(st->eventfds, int, vector);
    if (fd < 0) {
        fd = dev->ops->eventfd(dev->ops_data);
        if (fd < 0) {
            g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_FAILED,
                        "%s: eventfd for %s vector %u: %s", dev->name,
                        irq_name(index), vector, g_strerror(-fd));
            return FALSE;
        }
        g_array_index(st->eventfds, int, vector) = fd;
    }
    *ret_fd = fd;
    return TRUE;
}

/* The fds to hand the kernel for vectors 0..count-1: ours where in use,
 * -1 elsewhere. */
static GArray *
irq_fds(VhVfioDevice *dev, guint32 index, guint count)
{
    VhVfioIrqState *st = &dev->irqs[index];
    GArray *fds = g_array_sized_new(FALSE, FALSE, sizeof(gint32), count);
    guint i;

    for (i = 0; i < count; i++) {
        gint32 fd = -1;

        if (i < st->in_use->len && g_array_index(st->in_use, gboolean, i))
            fd = g_array_index(st->eventfds, int, i);
        g_array_append_val(fds, fd);
    }
    return fds;
}

static gboolean
irq_disable(VhVfioDevice *dev, guint32 index, GError **error)
{
    VhVfioIrqState *st = &dev->irqs[index];

    if (!set_irqs(dev, index, VFIO_IRQ_SET_DATA_NONE |
                  VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL, error))
        return FALSE;
    st->enabled = 0;
    return TRUE;
}

/* INTx, MSI and MSI-X exclude each other: disable whichever other one is
 * enabled before @index is. */
static gboolean
irq_disable_others(VhVfioDevice *dev, guint32 index, GError **error)
{
    guint32 i;

    for (i = VH_VFIO_IRQ_INTX; i <= VH_VFIO_IRQ_MSIX; i++) {
        if (i != index && dev->irqs[i].enabled &&
            !irq_disable(dev, i, error))
            return FALSE;
    }
    return TRUE;
}

/* Enables @count vectors of @index with the vectors marked in use. */
static gboolean
irq_enable_block(VhVfioDevice *dev, guint32 index, guint count,
                 GError **error)
{
    g_autoptr(GArray) fds = irq_fds(dev, index, count);

    if (!set_irqs(dev, index, VFIO_IRQ_SET_DATA_EVENTFD |
                  VFIO_IRQ_SET_ACTION_TRIGGER, 0, count,
                  (const gint32 *) fds->data, error))
        return FALSE;
    dev->irqs[index].enabled = count;
    return TRUE;
}

static gboolean
irq_enable_all(VhVfioDevice *dev, guint32 index, guint count, GError **error)
{
    VhVfioIrqState *st = &dev->irqs[index];
    guint i;

    if (!check_index(dev, index, count, NULL, error) ||
        (index <= VH_VFIO_IRQ_MSIX && !irq_disable_others(dev, index, error)))
        return FALSE;
    for (i = 0; i < count; i++) {
        int fd;

        if (!irq_eventfd(dev, index, i, &fd, error))
            return FALSE;
    }
    /* Growing or shrinking an enabled block needs a disable first. */
    if (st->enabled && st->enabled != count &&
        !irq_disable(dev, index, error))
        return FALSE;
    for (i = 0; i < st->in_use->len; i++)
        g_array_index(st->in_use, gboolean, i) = i < count;
    return irq_enable_block(dev, index, count, error);
}

gboolean
vh_vfio_device_intx_enable(VhVfioDevice *dev, GError **error)
{
    if (!irq_enable_all(dev, VH_VFIO_IRQ_INTX, 1, error))
        return FALSE;
    return vh_vfio_device_intx_unmask(dev, error);
}

gboolean
vh_vfio_device_intx_unmask(VhVfioDevice *dev, GError **error)
{
    return set_irqs(dev, VH_VFIO_IRQ_INTX, VFIO_IRQ_SET_DATA_NONE |
                    VFIO_IRQ_SET_ACTION_UNMASK, 0, 1, NULL, error);
}

gboolean
vh_vfio_device_msi_enable(VhVfioDevice *dev, guint count, GError **error)
{
    if (count == 0) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID,
                    "%s: MSI needs at least one vector", dev->name);
        return FALSE;
    }
    return irq_enable_all(dev, VH_VFIO_IRQ_MSI, count, error);
}

gboolean
vh_vfio_device_msix_enable_vector(VhVfioDevice *dev, guint vector,
                                  GError **error)
{
    VhVfioIrqState *st = &dev->irqs[VH_VFIO_IRQ_MSIX];
    const VhVfioIrqInfo *info;
    gint32 fd;
    int efd;

    if (!check_index(dev, VH_VFIO_IRQ_MSIX, vector + 1, &info, error) ||
        !irq_disable_others(dev, VH_VFIO_IRQ_MSIX, error) ||
        !irq_eventfd(dev, VH_VFIO_IRQ_MSIX, vector, &efd, error))
        return FALSE;
    fd = efd;

    if (vector < st->enabled || (st->enabled &&
                                 !(info->flags & VFIO_IRQ_INFO_NORESIZE))) {
        /* Within the enabled block, or a kernel that adds vectors to
         * an enabled MSI-X (no NORESIZE): set just this one. */
        if (!set_irqs(dev, VH_VFIO_IRQ_MSIX, VFIO_IRQ_SET_DATA_EVENTFD |
                      VFIO_IRQ_SET_ACTION_TRIGGER, vector, 1, &fd, error))
            return FALSE;
        g_array_index(st->in_use, gboolean, vector) = TRUE;
        st->enabled = MAX(st->enabled, vector + 1);
        return TRUE;
    }

    /* Grow: disable, then enable vector+1 vectors with the same eventfds
     * for those in use (as QEMU's vfio_msix_vector_do_use does). */
    if (st->enabled && !irq_disable(dev, VH_VFIO_IRQ_MSIX, error))
        return FALSE;
    g_array_index(st->in_use, gboolean, vector) = TRUE;
    if (!irq_enable_block(dev, VH_VFIO_IRQ_MSIX, vector + 1, error)) {
        g_array_index(st->in_use, gboolean, vector) = FALSE;
        return FALSE;
    }
    return TRUE;
}

gboolean
vh_vfio_device_msix_disable_vector(VhVfioDevice *dev, guint vector,
                                   GError **error)
{
    VhVfioIrqState *st = &dev->irqs[VH_VFIO_IRQ_MSIX];
    gint32 none = -1;

    if (vector >= st->enabled) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID,
                    "%s: MSI-X vector %u is not enabled (%u enabled)",
                    dev->name, vector, st->enabled);
        return FALSE;
    }
    if (!set_irqs(dev, VH_VFIO_IRQ_MSIX, VFIO_IRQ_SET_DATA_EVENTFD |
                  VFIO_IRQ_SET_ACTION_TRIGGER, vector, 1, &none, error))
        return FALSE;
    g_array_index(st->in_use, gboolean, vector) = FALSE;
    return TRUE;
}

gboolean
vh_vfio_device_err_enable(VhVfioDevice *dev, GError **error)
{
    return irq_enable_all(dev, VH_VFIO_IRQ_ERR, 1, error);
}

gboolean
vh_vfio_device_req_enable(VhVfioDevice *dev, GError **error)
{
    return irq_enable_all(dev, VH_VFIO_IRQ_REQ, 1, error);
}

gboolean
vh_vfio_device_irq_disable(VhVfioDevice *dev, VhVfioIrqIndex index,
                           GError **error)
{
    VhVfioIrqState *st;
    guint i;

    if (!check_index(dev, index, 0, NULL, error))
        return FALSE;
    if (!irq_disable(dev, index, error))
        return FALSE;
    st = &dev->irqs[index];
    for (i = 0; i < st->in_use->len; i++)
        g_array_index(st->in_use, gboolean, i) = FALSE;
    return TRUE;
}

gboolean
vh_vfio_device_irq_trigger(VhVfioDevice *dev, VhVfioIrqIndex index,
                           guint vector, GError **error)
{
    if (!check_index(dev, index, vector + 1, NULL, error))
        return FALSE;
    return set_irqs(dev, index, VFIO_IRQ_SET_DATA_NONE |
                    VFIO_IRQ_SET_ACTION_TRIGGER, vector, 1, NULL, error);
}

int
vh_vfio_device_irq_get_eventfd(const VhVfioDevice *dev, VhVfioIrqIndex index,
                               guint vector)
{
    const VhVfioIrqState *st;

    if ((guint) index >= VH_VFIO_IRQ_INDEXES)
        return -1;
    st = &dev->irqs[index];
    if (vector >= st->eventfds->len)
        return -1;
    return g_array_index(st->eventfds, int, vector);
}

guint
vh_vfio_device_irq_get_enabled(const VhVfioDevice *dev, VhVfioIrqIndex index)
{
    if ((guint) index >= VH_VFIO_IRQ_INDEXES)
        return 0;
    return dev->irqs[index].enabled;
}

gboolean
vh_vfio_device_irq_wait(VhVfioDevice *dev, VhVfioIrqIndex index,
                        guint vector, int timeout_ms, guint64 *ret_count,
                        GError **error)
{
    int fd = vh_vfio_device_irq_get_eventfd(dev, index, vector);
    guint64 count = 0;
    int ret;

    if (fd < 0) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID,
                    "%s: %s vector %u has no eventfd; enable it first",
                    dev->name, irq_name(index), vector);
        return FALSE;
    }
    ret = dev->ops->eventfd_wait(dev->ops_data, fd, timeout_ms, &count);
    if (ret == -ETIMEDOUT) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_TIMEOUT,
                    "%s: no %s interrupt on vector %u within %d ms",
                    dev->name, irq_name(index), vector, timeout_ms);
        return FALSE;
    }
    if (ret < 0) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_FAILED,
                    "%s: waiting for %s vector %u: %s", dev->name,
                    irq_name(index), vector, g_strerror(-ret));
        return FALSE;
    }
    if (ret_count)
        *ret_count = count;
    return TRUE;
}

gboolean
vh_vfio_device_irq_rearm(VhVfioDevice *dev, GError **error)
{
    guint32 i;

    for (i = 0; i < VH_VFIO_IRQ_INDEXES; i++) {
        guint count = dev->irqs[i].enabled;

        if (!count)
            continue;
        if (!irq_disable(dev, i, error) ||
            !irq_enable_block(dev, i, count, error)) {
            g_prefix_error(error, "re-arming after reset: ");
            return FALSE;
        }
        if (i == VH_VFIO_IRQ_INTX &&
            !vh_vfio_device_intx_unmask(dev, error))
            return FALSE;
    }
    return TRUE;
}

void
vh_vfio_device_irq_release(VhVfioDevice *dev)
{
    guint32 i;
    guint j;

    for (i = 0; i < VH_VFIO_IRQ_INDEXES; i++) {
        VhVfioIrqState *st = &dev->irqs[i];

        if (!st->eventfds)
            continue;
        if (st->enabled) {
            g_autoptr(GError) err = NULL;

            if (!irq_disable(dev, i, &err))
                g_debug("%s", err->message);
        }
        for (j = 0; j < st->eventfds->len; j++) {
            int fd = g_array_index(st->eventfds, int, j);
            if (fd >= 0)
                dev->ops->close(dev->ops_data, fd);
        }
        g_clear_pointer(&st->eventfds, g_array_unref);
        g_clear_pointer(&st->in_use, g_array_unref);
    }
}
