/*
 * vh-vfio-device.c: a VFIO device: opening, regions, config space, BARs, ROM
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "hostdev.vfio"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "vh-vfio-priv.h"

/* PCI 3.0 6.1: configuration header registers used here. */
#define PCI_STATUS              0x06
#define PCI_STATUS_CAP_LIST     0x10    /* PCI 3.0 6.2.3 */
#define PCI_CAPABILITY_LIST     0x34
#define PCI_CAP_ID_MSIX         0x11    /* PCI 3.0 6.8.2 */
#define PCI_MSIX_FLAGS          2       /* message control */
#define PCI_MSIX_TABLE          4       /* table offset / BIR */
#define PCI_MSIX_PBA            8
#define PCI_MSIX_ENTRY_SIZE     16

/* ---- opening ---- */

static gboolean
device_read_msix(VhVfioDevice *dev, GError **error)
{
    guint16 status;
    guint8 pos;
    guint seen = 0;

    if (!vh_vfio_device_config_read_u16(dev, PCI_STATUS, &status, error))
        return FALSE;
    if (!(status & PCI_STATUS_CAP_LIST))
        return TRUE;
    if (!vh_vfio_device_config_read_u8(dev, PCI_CAPABILITY_LIST, &pos, error))
        return FALSE;
    /* At most 48 capabilities fit in 192 bytes: more is a loop. */
    while (pos >= 0x40 && seen++ < 48) {
        guint8 id, next;

        pos &= ~3;
        if (!vh_vfio_device_config_read_u8(dev, pos, &id, error) ||
            !vh_vfio_device_config_read_u8(dev, pos + 1, &next, error))
            return FALSE;
        if (id == PCI_CAP_ID_MSIX) {
            guint16 ctrl;
            guint32 table, pba;

            if (!vh_vfio_device_config_read_u16(dev, pos + PCI_MSIX_FLAGS,
                                                &ctrl, error) ||
                !vh_vfio_device_config_read_u32(dev, pos + PCI_MSIX_TABLE,
                                                &table, error) ||
                !vh_vfio_device_config_read_u32(dev, pos + PCI_MSIX_PBA,
                                                &pba, error))
                return FALSE;
            dev->msix.present = TRUE;
            dev->msix.entries = (ctrl & 0x7ff) + 1;
            dev->msix.table_bar = table & 7;
            dev->msix.table_offset = table & ~7u;
            dev->msix.pba_bar = pba & 7;
            dev->msix.pba_offset = pba & ~7u;
            return TRUE;
        }
        pos = next;
    }
    return TRUE;
}

static void
device_free(VhVfioDevice *dev)
{
    guint i;

    for (i = 0; i < G_N_ELEMENTS(dev->bars); i++)
        vh_vfio_device_bar_unmap(dev, i);
    if (dev->fd >= 0)
        vh_vfio_device_irq_release(dev);
    if (dev->fd >= 0)
        dev->ops->close(dev->ops_data, dev->fd);
    g_clear_pointer(&dev->regions, g_hash_table_unref);
    g_clear_pointer(&dev->irq_infos, g_hash_table_unref);
    vh_vfio_group_unref(dev->group);
    g_free(dev->name);
    g_free(dev);
}

VhVfioDevice *
vh_vfio_device_new(VhVfioGroup *group, const char *name, GError **error)
{
    g_autoptr(VhVfioDevice) dev = NULL;
    struct vfio_device_info info = { .argsz = sizeof(info) };
    g_autofree char *what = vh_vfio_group_describe(group);
    guint i;
    int fd;
    int ret;

    if (!group->container) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID,
                    "%s: %s is not attached to a container yet", name, what);
        return NULL;
    }
    fd = group->ops->ioctl(group->ops_data, group->fd,
                           VFIO_GROUP_GET_DEVICE_FD, (void *) name);
    if (fd < 0) {
        g_set_error(error, VH_VFIO_ERROR,
                    fd == -ENODEV || fd == -EINVAL ? VH_VFIO_ERROR_NOT_FOUND :
                    VH_VFIO_ERROR_FAILED,
                    "%s: VFIO_GROUP_GET_DEVICE_FD in %s: %s%s", name, what,
                    g_strerror(-fd),
                    fd == -ENODEV || fd == -EINVAL ? " (not a member of the group, or not bound to vfio-pci)" :
                    fd == -EBUSY ? " (another process has it open)" : "");
        return NULL;
    }

    dev = g_new0(VhVfioDevice, 1);
    dev->refcount = 1;
    dev->ops = group->ops;
    dev->ops_data = group->ops_data;
    dev->group = vh_vfio_group_ref(group);
    dev->name = g_strdup(name);
    dev->fd = fd;
    dev->regions = g_hash_table_new_full(NULL, NULL, NULL,
                                         (GDestroyNotify) vh_vfio_region_free);
    dev->irq_infos = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    for (i = 0; i < VH_VFIO_IRQ_INDEXES; i++) {
        dev->irqs[i].eventfds = g_array_new(FALSE, FALSE, sizeof(int));
        dev->irqs[i].in_use = g_array_new(FALSE, TRUE, sizeof(gboolean));
    }

    ret = dev->ops->ioctl(dev->ops_data, fd, VFIO_DEVICE_GET_INFO, &info);
    if (ret < 0) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_FAILED,
                    "%s: VFIO_DEVICE_GET_INFO: %s", name, g_strerror(-ret));
        return NULL;
    }
    dev->info.flags = info.flags;
    dev->info.num_regions = info.num_regions;
    dev->info.num_irqs = info.num_irqs;

    if ((info.flags & VFIO_DEVICE_FLAGS_PCI) &&
        info.num_regions > VH_VFIO_PCI_CONFIG &&
        !device_read_msix(dev, error)) {
        g_prefix_error(error, "%s: reading the MSI-X capability: ", name);
        return NULL;
    }
    return g_steal_pointer(&dev);
}

VhVfioDevice *
vh_vfio_device_new_from_fds(const VhVfioOps *ops, gpointer ops_data,
                            int group_fd, int group_id, int container_fd,
                            VhVfioContainer *shared, const char *name,
                            VhVfioBlockersFunc blockers,
                            gpointer blockers_data, GError **error)
{
    g_autoptr(VhVfioGroup) group = NULL;
    g_autoptr(VhVfioContainer) container = NULL;
    VhVfioDevice *dev;

    group = vh_vfio_group_new_from_fd(ops, ops_data, group_fd, group_id,
                                      error);
    if (!group) {
        if (container_fd >= 0)
            ops->close(ops_data, container_fd);
        g_prefix_error(error, "%s: ", name);
        return NULL;
    }
    if (container_fd >= 0)
        container = vh_vfio_container_new_from_fd(ops, ops_data,
                                                  container_fd, error);
    else if (shared)
        container = vh_vfio_container_ref(shared);
    else
        container = vh_vfio_container_new(ops, ops_data, error);
    if (!container ||
        !vh_vfio_group_check_viable(group, blockers, blockers_data, error) ||
        !vh_vfio_group_attach(group, container, error)) {
        g_prefix_error(error, "%s: ", name);
        return NULL;
    }
    dev = vh_vfio_device_new(group, name, error);
    return dev;
}

VhVfioDevice *
vh_vfio_device_open_address(const VhVfioOps *ops, gpointer ops_data,
                            const VhSysfs *sysfs, const VhPciAddress *addr,
                            VhVfioContainer *shared, GError **error)
{
    g_autofree char *name = vh_pci_address_to_string(addr);
    g_autofree char *driver_rel = vh_sysfs_pci_device_relpath(addr, "driver");
    g_autofree char *group_rel = vh_sysfs_pci_device_relpath(addr,
                                                             "iommu_group");
    g_autofree char *dev_rel = vh_sysfs_pci_device_relpath(addr, NULL);
    g_autofree char *driver = NULL;
    g_autofree char *group_name = NULL;
    g_autoptr(VhVfioGroup) group = NULL;
    g_autoptr(VhVfioContainer) container = NULL;
    guint64 group_id;

    if (!vh_sysfs_exists(sysfs, dev_rel)) {
        /* As every other verb says it: a well-formed address of nothing
         * is a failed lookup (exit 1), not bad usage. */
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_FAILED,
                    "PCI device %s does not exist under %s/bus/pci/devices; "
                    "list devices with `virt-hostdev nodedev-list`", name,
                    vh_sysfs_get_root(sysfs));
        return NULL;
    }
    if (!vh_sysfs_read_link_name(sysfs, driver_rel, &driver, error) ||
        !vh_sysfs_read_link_name(sysfs, group_rel, &group_name, error)) {
        g_prefix_error(error, "%s: ", name);
        return NULL;
    }
    if (g_strcmp0(driver, "vfio-pci") != 0) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID,
                    "%s is bound to %s, not vfio-pci; bind it first (virt-hostdev nodedev-detach)",
                    name, driver ? driver : "no driver");
        return NULL;
    }
    if (!group_name ||
        !g_ascii_string_to_unsigned(group_name, 10, 0, G_MAXINT, &group_id,
                                    NULL)) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID,
                    "%s (vfio-pci) has no IOMMU group; the host runs without an IOMMU (intel_iommu=on / amd_iommu=on)",
                    name);
        return NULL;
    }
    group = vh_vfio_group_new(ops, ops_data, (int) group_id, error);
    if (!group) {
        g_prefix_error(error, "%s: ", name);
        return NULL;
    }
    if (shared)
        container = vh_vfio_container_ref(shared);
    else
        container = vh_vfio_container_new(ops, ops_data, error);
    if (!container ||
        !vh_vfio_group_check_viable(group, vh_vfio_group_blockers_sysfs,
                                    (gpointer) sysfs, error) ||
        !vh_vfio_group_attach(group, container, error)) {
        g_prefix_error(error, "%s: ", name);
        return NULL;
    }
    return vh_vfio_device_new(group, name, error);
}

VhVfioDevice *
vh_vfio_device_ref(VhVfioDevice *dev)
{
    dev->refcount++;
    return dev;
}

void
vh_vfio_device_unref(VhVfioDevice *dev)
{
    if (!dev || --dev->refcount > 0)
        return;
    device_free(dev);
}

const char *
vh_vfio_device_get_name(const VhVfioDevice *dev)
{
    return dev->name;
}

int
vh_vfio_device_get_fd(const VhVfioDevice *dev)
{
    return dev->fd;
}

VhVfioGroup *
vh_vfio_device_get_group(const VhVfioDevice *dev)
{
    return dev->group;
}

const VhVfioDeviceInfo *
vh_vfio_device_get_info(const VhVfioDevice *dev)
{
    return &dev->info;
}

const VhVfioMsix *
vh_vfio_device_get_msix(const VhVfioDevice *dev)
{
    return &dev->msix;
}

/* ---- regions ---- */

gboolean
vh_vfio_device_get_region(VhVfioDevice *dev, guint32 index,
                          const VhVfioRegion **ret_region, GError **error)
{
    struct vfio_region_info probe = { .argsz = sizeof(probe), .index = index };
    g_autofree guint8 *buf = NULL;
    VhVfioRegion *region;
    gsize len = sizeof(probe);
    int ret;

    region = g_hash_table_lookup(dev->regions, GUINT_TO_POINTER(index));
    if (region) {
        *ret_region = region;
        return TRUE;
    }
    if (index >= dev->info.num_regions) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_NOT_FOUND,
                    "%s has no region %u (it has %u)", dev->name, index,
                    dev->info.num_regions);
        return FALSE;
    }
    ret = dev->ops->ioctl(dev->ops_data, dev->fd,
                          VFIO_DEVICE_GET_REGION_INFO, &probe);
    if (ret < 0) {
        g_set_error(error, VH_VFIO_ERROR,
                    ret == -EINVAL ? VH_VFIO_ERROR_NOT_FOUND :
                    VH_VFIO_ERROR_FAILED,
                    "%s: VFIO_DEVICE_GET_REGION_INFO for region %u: %s",
                    dev->name, index, g_strerror(-ret));
        return FALSE;
    }
    /* Capabilities follow when the kernel asks for a larger argsz. */
    if (probe.argsz > sizeof(probe)) {
        struct vfio_region_info *big;

        len = probe.argsz;
        buf = g_malloc0(len);
        big = (struct vfio_region_info *) buf;
        big->argsz = len;
        big->index = index;
        ret = dev->ops->ioctl(dev->ops_data, dev->fd,
                              VFIO_DEVICE_GET_REGION_INFO, buf);
        if (ret < 0) {
            g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_FAILED,
                        "%s: VFIO_DEVICE_GET_REGION_INFO for region %u with %zu bytes: %s",
                        dev->name, index, len, g_strerror(-ret));
            return FALSE;
        }
    } else {
        buf = g_memdup2(&probe, sizeof(probe));
    }
    if (!vh_vfio_region_parse(buf, len, &region, error)) {
        g_prefix_error(error, "%s: ", dev->name);
        return FALSE;
    }
    g_hash_table_insert(dev->regions, GUINT_TO_POINTER(index), region);
    *ret_region = region;
    return TRUE;
}

gboolean
vh_vfio_device_get_irq_info(VhVfioDevice *dev, guint32 index,
                            const VhVfioIrqInfo **ret_info, GError **error)
{
    struct vfio_irq_info info = { .argsz = sizeof(info), .index = index };
    VhVfioIrqInfo *out;
    int ret;

    out = g_hash_table_lookup(dev->irq_infos, GUINT_TO_POINTER(index));
    if (out) {
        *ret_info = out;
        return TRUE;
    }
    if (index >= dev->info.num_irqs) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_NOT_FOUND,
                    "%s has no interrupt index %u (it has %u)", dev->name,
                    index, dev->info.num_irqs);
        return FALSE;
    }
    ret = dev->ops->ioctl(dev->ops_data, dev->fd, VFIO_DEVICE_GET_IRQ_INFO,
                          &info);
    if (ret == -EINVAL) {
        /* vfio-pci refuses the index of an interrupt the device cannot
         * have (ERR on conventional PCI): that is zero vectors. */
        g_debug("%s: interrupt index %u: EINVAL, taken as none", dev->name,
                index);
        info.flags = 0;
        info.count = 0;
    } else if (ret < 0) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_FAILED,
                    "%s: VFIO_DEVICE_GET_IRQ_INFO for index %u: %s",
                    dev->name, index, g_strerror(-ret));
        return FALSE;
    }
    out = g_new0(VhVfioIrqInfo, 1);
    out->index = index;
    out->flags = info.flags;
    out->count = info.count;
    g_hash_table_insert(dev->irq_infos, GUINT_TO_POINTER(index), out);
    *ret_info = out;
    return TRUE;
}

static gboolean
region_check_access(VhVfioDevice *dev, guint32 index, guint64 offset,
                    gsize len, guint32 need_flag,
                    const VhVfioRegion **ret_region, GError **error)
{
    const VhVfioRegion *region;

    if (!vh_vfio_device_get_region(dev, index, &region, error))
        return FALSE;
    if (!(region->flags & need_flag)) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED,
                    "%s: region %u is not %s", dev->name, index,
                    need_flag == VFIO_REGION_INFO_FLAG_READ ? "readable" :
                    "writable");
        return FALSE;
    }
    if (offset > region->size || len > region->size - offset) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID,
                    "%s: access of %zu bytes at 0x%" G_GINT64_MODIFIER "x is outside region %u (0x%" G_GINT64_MODIFIER "x bytes)",
                    dev->name, len, offset, index, region->size);
        return FALSE;
    }
    *ret_region = region;
    return TRUE;
}

gboolean
vh_vfio_device_region_read(VhVfioDevice *dev, guint32 index, guint64 offset,
                           void *buf, gsize len, GError **error)
{
    const VhVfioRegion *region;
    gssize ret;

    if (!region_check_access(dev, index, offset, len,
                             VFIO_REGION_INFO_FLAG_READ, &region, error))
        return FALSE;
    ret = dev->ops->pread(dev->ops_data, dev->fd, buf, len,
                          region->offset + offset);
    if (ret < 0 || (gsize) ret != len) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_FAILED,
                    "%s: reading %zu bytes at 0x%" G_GINT64_MODIFIER "x of region %u: %s",
                    dev->name, len, offset, index,
                    ret < 0 ? g_strerror(-ret) : "short read");
        return FALSE;
    }
    return TRUE;
}

gboolean
vh_vfio_device_region_write(VhVfioDevice *dev, guint32 index,
                            guint64 offset, const void *buf, gsize len,
                            GError **error)
{
    const VhVfioRegion *region;
    gssize ret;

    if (!region_check_access(dev, index, offset, len,
                             VFIO_REGION_INFO_FLAG_WRITE, &region, error))
        return FALSE;
    ret = dev->ops->pwrite(dev->ops_data, dev->fd, buf, len,
                           region->offset + offset);
    if (ret < 0 || (gsize) ret != len) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_FAILED,
                    "%s: writing %zu bytes at 0x%" G_GINT64_MODIFIER "x of region %u: %s",
                    dev->name, len, offset, index,
                    ret < 0 ? g_strerror(-ret) : "short write");
        return FALSE;
    }
    return TRUE;
}

/* ---- config space ---- */

gboolean
vh_vfio_device_config_read(VhVfioDevice *dev, guint64 offset, void *buf,
                           gsize len, GError **error)
{
    return vh_vfio_device_region_read(dev, VH_VFIO_PCI_CONFIG, offset, buf,
                                      len, error);
}

gboolean
vh_vfio_device_config_write(VhVfioDevice *dev, guint64 offset,
                            const void *buf, gsize len, GError **error)
{
    return vh_vfio_device_region_write(dev, VH_VFIO_PCI_CONFIG, offset, buf,
                                       len, error);
}

gboolean
vh_vfio_device_config_read_u8(VhVfioDevice *dev, guint64 offset,
                              guint8 *ret_value, GError **error)
{
    return vh_vfio_device_config_read(dev, offset, ret_value, 1, error);
}

gboolean
vh_vfio_device_config_read_u16(VhVfioDevice *dev, guint64 offset,
                               guint16 *ret_value, GError **error)
{
    guint16 v;

    if (!vh_vfio_device_config_read(dev, offset, &v, sizeof(v), error))
        return FALSE;
    *ret_value = GUINT16_FROM_LE(v);
    return TRUE;
}

gboolean
vh_vfio_device_config_read_u32(VhVfioDevice *dev, guint64 offset,
                               guint32 *ret_value, GError **error)
{
    guint32 v;

    if (!vh_vfio_device_config_read(dev, offset, &v, sizeof(v), error))
        return FALSE;
    *ret_value = GUINT32_FROM_LE(v);
    return TRUE;
}

gboolean
vh_vfio_device_config_write_u8(VhVfioDevice *dev, guint64 offset,
                               guint8 value, GError **error)
{
    return vh_vfio_device_config_write(dev, offset, &value, 1, error);
}

gboolean
vh_vfio_device_config_write_u16(VhVfioDevice *dev, guint64 offset,
                                guint16 value, GError **error)
{
    guint16 v = GUINT16_TO_LE(value);

    return vh_vfio_device_config_write(dev, offset, &v, sizeof(v), error);
}

gboolean
vh_vfio_device_config_write_u32(VhVfioDevice *dev, guint64 offset,
                                guint32 value, GError **error)
{
    guint32 v = GUINT32_TO_LE(value);

    return vh_vfio_device_config_write(dev, offset, &v, sizeof(v), error);
}

/* ---- BARs ---- */

static gboolean
bar_check_index(const VhVfioDevice *dev, guint32 bar, GError **error)
{
    if (bar <= VH_VFIO_PCI_BAR5)
        return TRUE;
    g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID,
                "%s: BAR %u does not exist (0-5)", dev->name, bar);
    return FALSE;
}

gboolean
vh_vfio_device_region_mmap_areas(VhVfioDevice *dev, guint32 index,
                                 GArray **ret_areas, GError **error)
{
    const VhVfioRegion *region;
    gsize page = dev->ops->page_size(dev->ops_data);
    gboolean has_hole = FALSE;
    guint64 hole_start = 0, hole_end = 0;

    if (!vh_vfio_device_get_region(dev, index, &region, error))
        return FALSE;
    if (index <= VH_VFIO_PCI_BAR5 && dev->msix.present &&
        dev->msix.table_bar == index && !region->msix_mappable) {
        has_hole = TRUE;
        vh_vfio_msix_hole(dev->msix.table_offset,
                          (guint64) dev->msix.entries * PCI_MSIX_ENTRY_SIZE,
                          page, &hole_start, &hole_end);
    }
    *ret_areas = vh_vfio_mmap_areas(region, has_hole, hole_start, hole_end,
                                    page);
    return TRUE;
}

gboolean
vh_vfio_device_bar_mmap_areas(VhVfioDevice *dev, guint32 bar,
                              GArray **ret_areas, GError **error)
{
    if (!bar_check_index(dev, bar, error))
        return FALSE;
    return vh_vfio_device_region_mmap_areas(dev, bar, ret_areas, error);
}

gboolean
vh_vfio_device_bar_map(VhVfioDevice *dev, guint32 bar, guint *ret_mapped,
                       GError **error)
{
    g_autoptr(GArray) areas = NULL;
    g_autoptr(GArray) maps = NULL;
    const VhVfioRegion *region;
    gsize page = dev->ops->page_size(dev->ops_data);
    int prot = 0;
    guint i;

    if (!bar_check_index(dev, bar, error))
        return FALSE;
    if (dev->bars[bar].mapped) {
        if (ret_mapped)
            *ret_mapped = dev->bars[bar].maps->len;
        return TRUE;
    }
    if (!vh_vfio_device_get_region(dev, bar, &region, error) ||
        !vh_vfio_device_bar_mmap_areas(dev, bar, &areas, error))
        return FALSE;
    if (region->flags & VFIO_REGION_INFO_FLAG_READ)
        prot |= PROT_READ;
    if (region->flags & VFIO_REGION_INFO_FLAG_WRITE)
        prot |= PROT_WRITE;

    maps = g_array_new(FALSE, FALSE, sizeof(VhVfioBarMapping));
    for (i = 0; i < areas->len; i++) {
        const VhVfioArea *a = &g_array_index(areas, VhVfioArea, i);
        VhVfioBarMapping m = {
            .offset = a->offset,
            .size = a->size,
            .map_len = (a->size + page - 1) / page * page,
        };
        void *addr = NULL;
        int ret = dev->ops->mmap(dev->ops_data, dev->fd, m.map_len, prot,
                                 region->offset + a->offset, &addr);

        if (ret < 0) {
            guint j;

            for (j = 0; j < maps->len; j++) {
                VhVfioBarMapping *done = &g_array_index(maps, VhVfioBarMapping, j);
                dev->ops->munmap(dev->ops_data, done->addr, done->map_len);
            }
            g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_FAILED,
                        "%s: mmap of BAR %u [0x%" G_GINT64_MODIFIER "x, +0x%" G_GINT64_MODIFIER "x): %s",
                        dev->name, bar, a->offset, a->size, g_strerror(-ret));
            return FALSE;
        }
        m.addr = addr;
        g_array_append_val(maps, m);
    }
    dev->bars[bar].maps = g_steal_pointer(&maps);
    dev->bars[bar].mapped = TRUE;
    if (ret_mapped)
        *ret_mapped = dev->bars[bar].maps->len;
    return TRUE;
}

void
vh_vfio_device_bar_unmap(VhVfioDevice *dev, guint32 bar)
{
    VhVfioBar *b;
    guint i;

    if (bar > VH_VFIO_PCI_BAR5 || !dev->bars[bar].mapped)
        return;
    b = &dev->bars[bar];
    for (i = 0; i < b->maps->len; i++) {
        VhVfioBarMapping *m = &g_array_index(b->maps, VhVfioBarMapping, i);
        dev->ops->munmap(dev->ops_data, m->addr, m->map_len);
    }
    g_clear_pointer(&b->maps, g_array_unref);
    b->mapped = FALSE;
}

static guint8 *
bar_lookup(const VhVfioDevice *dev, guint32 bar, guint64 offset, gsize len)
{
    const VhVfioBar *b;
    guint i;

    if (bar > VH_VFIO_PCI_BAR5 || !dev->bars[bar].mapped)
        return NULL;
    b = &dev->bars[bar];
    for (i = 0; i < b->maps->len; i++) {
        const VhVfioBarMapping *m =
            &g_array_index(b->maps, VhVfioBarMapping, i);
        if (offset >= m->offset && len <= m->size &&
            offset - m->offset <= m->size - len)
            return m->addr + (offset - m->offset);
    }
    return NULL;
}

gboolean
vh_vfio_device_bar_is_mapped(const VhVfioDevice *dev, guint32 bar,
                             guint64 offset, gsize len)
{
    return bar_lookup(dev, bar, offset, len) != NULL;
}

/* MMIO wants accesses of the width asked for: no memcpy, whose width the
 * compiler chooses. */
static void
mmio_read(const guint8 *p, void *buf, gsize len)
{
    guint8 *out = buf;

    if (len == 8 && ((guintptr) p % 8) == 0) {
        guint64 v = *(const volatile guint64 *) p;
        memcpy(out, &v, 8);
        return;
    }
    while (len >= 4 && ((guintptr) p % 4) == 0) {
        guint32 v = *(const volatile guint32 *) p;
        memcpy(out, &v, 4);
        p += 4, out += 4, len -= 4;
    }
    while (len >= 2 && ((guintptr) p % 2) == 0) {
        guint16 v = *(const volatile guint16 *) p;
        memcpy(out, &v, 2);
        p += 2, out += 2, len -= 2;
    }
    while (len > 0) {
        *out = *(const volatile guint8 *) p;
        p++, out++, len--;
    }
}

static void
mmio_write(guint8 *p, const void *buf, gsize len)
{
    const guint8 *in = buf;

    if (len == 8 && ((guintptr) p % 8) == 0) {
        guint64 v;
        memcpy(&v, in, 8);
        *(volatile guint64 *) p = v;
        return;
    }
    while (len >= 4 && ((guintptr) p % 4) == 0) {
        guint32 v;
        memcpy(&v, in, 4);
        *(volatile guint32 *) p = v;
        p += 4, in += 4, len -= 4;
    }
    while (len >= 2 && ((guintptr) p % 2) == 0) {
        guint16 v;
        memcpy(&v, in, 2);
        *(volatile guint16 *) p = v;
        p += 2, in += 2, len -= 2;
    }
    while (len > 0) {
        *(volatile guint8 *) p = *in;
        p++, in++, len--;
    }
}

gboolean
vh_vfio_device_bar_read(VhVfioDevice *dev, guint32 bar, guint64 offset,
                        void *buf, gsize len, GError **error)
{
    guint8 *p;

    if (!bar_check_index(dev, bar, error))
        return FALSE;
    p = bar_lookup(dev, bar, offset, len);
    if (p) {
        mmio_read(p, buf, len);
        return TRUE;
    }
    return vh_vfio_device_region_read(dev, bar, offset, buf, len, error);
}

gboolean
vh_vfio_device_bar_write(VhVfioDevice *dev, guint32 bar, guint64 offset,
                         const void *buf, gsize len, GError **error)
{
    guint8 *p;

    if (!bar_check_index(dev, bar, error))
        return FALSE;
    p = bar_lookup(dev, bar, offset, len);
    if (p) {
        mmio_write(p, buf, len);
        return TRUE;
    }
    return vh_vfio_device_region_write(dev, bar, offset, buf, len, error);
}

gboolean
vh_vfio_device_bar_read_u32(VhVfioDevice *dev, guint32 bar, guint64 offset,
                            guint32 *ret_value, GError **error)
{
    guint32 v;

    if (!vh_vfio_device_bar_read(dev, bar, offset, &v, sizeof(v), error))
        return FALSE;
    *ret_value = GUINT32_FROM_LE(v);
    return TRUE;
}

gboolean
vh_vfio_device_bar_write_u32(VhVfioDevice *dev, guint32 bar, guint64 offset,
                             guint32 value, GError **error)
{
    guint32 v = GUINT32_TO_LE(value);

    return vh_vfio_device_bar_write(dev, bar, offset, &v, sizeof(v), error);
}

gboolean
vh_vfio_device_bar_read_u64(VhVfioDevice *dev, guint32 bar, guint64 offset,
                            guint64 *ret_value, GError **error)
{
    guint64 v;

    if (!vh_vfio_device_bar_read(dev, bar, offset, &v, sizeof(v), error))
        return FALSE;
    *ret_value = GUINT64_FROM_LE(v);
    return TRUE;
}

gboolean
vh_vfio_device_bar_write_u64(VhVfioDevice *dev, guint32 bar, guint64 offset,
                             guint64 value, GError **error)
{
    guint64 v = GUINT64_TO_LE(value);

    return vh_vfio_device_bar_write(dev, bar, offset, &v, sizeof(v), error);
}

/* ---- ROM ---- */

gboolean
vh_vfio_device_rom_read(VhVfioDevice *dev, GBytes **ret_rom, GError **error)
{
    const VhVfioRegion *region;
    g_autofree guint8 *buf = NULL;

    if (!vh_vfio_device_get_region(dev, VH_VFIO_PCI_ROM, &region, error))
        return FALSE;
    if (region->size == 0) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_NOT_FOUND,
                    "%s has no option ROM", dev->name);
        return FALSE;
    }
    if (region->size > 16 * 1024 * 1024) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_CORRUPT,
                    "%s: ROM region of 0x%" G_GINT64_MODIFIER "x bytes is larger than a ROM can be (16 MiB)",
                    dev->name, region->size);
        return FALSE;
    }
    buf = g_malloc(region->size);
    if (!vh_vfio_device_region_read(dev, VH_VFIO_PCI_ROM, 0, buf,
                                    region->size, error))
        return FALSE;
    if (!vh_vfio_rom_check(buf, region->size, error)) {
        g_prefix_error(error, "%s: ", dev->name);
        return FALSE;
    }
    *ret_rom = g_bytes_new_take(g_steal_pointer(&buf), region->size);
    return TRUE;
}
