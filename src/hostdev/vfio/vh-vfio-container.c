/*
 * vh-vfio-container.c: a VFIO container: the type1 IOMMU and DMA mapping
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "hostdev.vfio"

#include <errno.h>
#include <string.h>

#include "vh-vfio-priv.h"

static VhVfioContainer *
container_new_fd(const VhVfioOps *ops, gpointer ops_data, int fd,
                 GError **error)
{
    g_autoptr(VhVfioContainer) c = g_new0(VhVfioContainer, 1);
    int ret;

    c->refcount = 1;
    c->ops = ops;
    c->ops_data = ops_data;
    c->fd = fd;
    c->mappings = g_array_new(FALSE, FALSE, sizeof(VhVfioDmaRange));
    c->groups = g_ptr_array_new();

    ret = ops->ioctl(ops_data, fd, VFIO_GET_API_VERSION, NULL);
    if (ret < 0) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID,
                    "fd %d is not a VFIO container: VFIO_GET_API_VERSION: %s",
                    fd, g_strerror(-ret));
        return NULL;
    }
    if (ret != VFIO_API_VERSION) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED,
                    "VFIO container speaks API version %d, this library %d",
                    ret, VFIO_API_VERSION);
        return NULL;
    }
    if (ops->ioctl(ops_data, fd, VFIO_CHECK_EXTENSION,
                   GINT_TO_POINTER(VFIO_TYPE1v2_IOMMU)) <= 0 &&
        ops->ioctl(ops_data, fd, VFIO_CHECK_EXTENSION,
                   GINT_TO_POINTER(VFIO_TYPE1_IOMMU)) <= 0) {
        g_set_error_literal(error, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED,
                            "the VFIO container offers no type1 IOMMU: load the vfio_iommu_type1 module");
        return NULL;
    }
    /* A passed container may already have its IOMMU set (the manager
     * attached a group): GET_INFO answers only then. */
    {
        struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };

        if (ops->ioctl(ops_data, fd, VFIO_IOMMU_GET_INFO, &info) == 0)
            c->iommu_type = VFIO_TYPE1v2_IOMMU;
    }
    return g_steal_pointer(&c);
}

VhVfioContainer *
vh_vfio_container_new(const VhVfioOps *ops, gpointer ops_data,
                      GError **error)
{
    int fd = ops->open(ops_data, "/dev/vfio/vfio");

    if (fd < 0) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_FAILED,
                    "cannot open /dev/vfio/vfio: %s%s", g_strerror(-fd),
                    fd == -ENOENT ? " (load the vfio module)" :
                    fd == -EACCES || fd == -EPERM ? " (needs root, or pass the fd)" : "");
        return NULL;
    }
    return container_new_fd(ops, ops_data, fd, error);
}

VhVfioContainer *
vh_vfio_container_new_from_fd(const VhVfioOps *ops, gpointer ops_data,
                              int fd, GError **error)
{
    if (fd < 0) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID,
                    "invalid container fd %d", fd);
        return NULL;
    }
    return container_new_fd(ops, ops_data, fd, error);
}

VhVfioContainer *
vh_vfio_container_ref(VhVfioContainer *container)
{
    container->refcount++;
    return container;
}

void
vh_vfio_container_unref(VhVfioContainer *container)
{
    if (!container || --container->refcount > 0)
        return;
    /* Closing the fd makes the kernel drop every mapping. */
    if (container->fd >= 0)
        container->ops->close(container->ops_data, container->fd);
    if (container->mappings)
        g_array_unref(container->mappings);
    if (container->groups)
        g_ptr_array_unref(container->groups);
    g_free(container);
}

int
vh_vfio_container_get_fd(const VhVfioContainer *container)
{
    return container->fd;
}

gboolean
vh_vfio_container_has_iommu(const VhVfioContainer *container)
{
    return container->iommu_type != 0;
}

void
vh_vfio_container_add_group(VhVfioContainer *container, VhVfioGroup *group)
{
    if (!g_ptr_array_find(container->groups, group, NULL))
        g_ptr_array_add(container->groups, group);
}

void
vh_vfio_container_remove_group(VhVfioContainer *container,
                               VhVfioGroup *group)
{
    g_ptr_array_remove(container->groups, group);
}

/* Room for the info and its capabilities in one call: the IOVA ranges
 * take 16 bytes each, so this holds about 250 of them.  The kernel asks for
 * more through argsz when it needs it, and we then remember that size. */
#define IOMMU_INFO_START_LEN 4096

gboolean
vh_vfio_container_get_iommu_info(VhVfioContainer *container,
                                 guint64 *ret_pgsizes, GArray **ret_ranges,
                                 guint32 *ret_dma_avail, GError **error)
{
    const VhVfioOps *ops = container->ops;
    g_autofree guint8 *buf = NULL;
    g_autoptr(GArray) ranges = NULL;
    guint64 pgsizes = 0;
    guint32 dma_avail = G_MAXUINT32;
    gsize len = MAX(container->info_len, IOMMU_INFO_START_LEN);
    guint attempt;
    int ret;

    /* One call normally (a map costs it plus the map call); a second
     * when the capabilities outgrew the buffer. */
    for (attempt = 0; attempt < 2; attempt++) {
        struct vfio_iommu_type1_info *info;

        g_free(buf);
        buf = g_malloc0(len);
        info = (struct vfio_iommu_type1_info *) buf;
        info->argsz = len;
        ret = ops->ioctl(container->ops_data, container->fd,
                         VFIO_IOMMU_GET_INFO, buf);
        if (ret < 0) {
            g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_FAILED,
                        "VFIO_IOMMU_GET_INFO: %s%s", g_strerror(-ret),
                        ret == -ENOTTY || ret == -EINVAL ?
                        " (no IOMMU set yet: attach a group first)" : "");
            return FALSE;
        }
        if (info->argsz <= len)
            break;
        len = info->argsz;
        container->info_len = len;
    }
    if (attempt == 2) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_CORRUPT,
                    "VFIO_IOMMU_GET_INFO keeps asking for more room (%zu bytes)",
                    len);
        return FALSE;
    }
    if (!vh_vfio_iommu_info_parse(buf, len, &pgsizes, &ranges, &dma_avail,
                                  error))
        return FALSE;
    if (!ranges) {
        VhVfioIovaRange all = { .start = 0, .end = G_MAXUINT64 };

        ranges = g_array_new(FALSE, FALSE, sizeof(VhVfioIovaRange));
        g_array_append_val(ranges, all);
    }
    if (ret_pgsizes)
        *ret_pgsizes = pgsizes;
    if (ret_ranges)
        *ret_ranges = g_steal_pointer(&ranges);
    if (ret_dma_avail)
        *ret_dma_avail = dma_avail;
    return TRUE;
}

/* The kernel call alone; -errno. */
static int
dma_unmap_call(VhVfioContainer *c, guint64 iova, guint64 size,
               guint64 *ret_unmapped)
{
    struct vfio_iommu_type1_dma_unmap unmap = {
        .argsz = sizeof(unmap),
        .iova = iova,
        .size = size,
    };
    int ret = c->ops->ioctl(c->ops_data, c->fd, VFIO_IOMMU_UNMAP_DMA, &unmap);

    if (ret < 0)
        return ret;
    *ret_unmapped = unmap.size;
    return 0;
}

static void
mapping_remove(VhVfioContainer *c, guint64 iova)
{
    guint i;

    for (i = 0; i < c->mappings->len; i++) {
        if (g_array_index(c->mappings, VhVfioDmaRange, i).iova == iova) {
            g_array_remove_index(c->mappings, i);
            return;
        }
    }
}

static guint64
mapped_bytes(const VhVfioContainer *c)
{
    guint64 sum = 0;
    guint i;

    for (i = 0; i < c->mappings->len; i++)
        sum += g_array_index(c->mappings, VhVfioDmaRange, i).size;
    return sum;
}

static void
dma_map_error(VhVfioContainer *c, const VhVfioDmaRange *r, guint64 needed,
              int err, GError **error)
{
    guint64 limit = G_MAXUINT64;

    if (err == -ENOMEM && c->ops->memlock_limit &&
        c->ops->memlock_limit(c->ops_data, &limit) == 0) {
        g_autofree char *advice =
            vh_vfio_memlock_advice(needed, mapped_bytes(c), limit);
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_MEMLOCK,
                    "VFIO_IOMMU_MAP_DMA of IOVA 0x%" G_GINT64_MODIFIER "x size 0x%" G_GINT64_MODIFIER "x: %s: %s",
                    r->iova, r->size, g_strerror(-err), advice);
        return;
    }
    g_set_error(error, VH_VFIO_ERROR,
                err == -ENOSPC ? VH_VFIO_ERROR_NO_SPACE :
                err == -EEXIST || err == -EINVAL ? VH_VFIO_ERROR_INVALID :
                VH_VFIO_ERROR_FAILED,
                "VFIO_IOMMU_MAP_DMA of IOVA 0x%" G_GINT64_MODIFIER "x size 0x%" G_GINT64_MODIFIER "x vaddr 0x%" G_GINT64_MODIFIER "x: %s",
                r->iova, r->size, r->vaddr, g_strerror(-err));
}

gboolean
vh_vfio_container_dma_map_ranges(VhVfioContainer *container,
                                 const VhVfioDmaRange *ranges,
                                 gsize n_ranges, GError **error)
{
    VhVfioContainer *c = container;
    g_autoptr(GArray) iova_ranges = NULL;
    g_autoptr(GArray) merged = NULL;
    guint64 pgsizes = 0;
    guint64 page_size;
    guint64 needed = 0;
    guint32 dma_avail = G_MAXUINT32;
    guint i;

    if (n_ranges == 0)
        return TRUE;
    /* Step 1: what the IOMMU allows, asked before the calls. */
    if (!vh_vfio_container_get_iommu_info(c, &pgsizes, &iova_ranges,
                                          &dma_avail, error))
        return FALSE;
    /* The smallest IOMMU page size; the host page when not reported. */
    page_size = pgsizes ? (pgsizes & -pgsizes) : c->ops->page_size(c->ops_data);

    /* Step 2: coalesce, then refuse what the kernel would refuse. */
    merged = vh_vfio_dma_coalesce(ranges, n_ranges, page_size, error);
    if (!merged)
        return FALSE;
    if (!vh_vfio_dma_check(merged, iova_ranges, dma_avail, c->mappings,
                           error))
        return FALSE;
    for (i = 0; i < merged->len; i++)
        needed += g_array_index(merged, VhVfioDmaRange, i).size;

    /* Step 3: one map call per coalesced range; undo ours on failure. */
    for (i = 0; i < merged->len; i++) {
        const VhVfioDmaRange *r = &g_array_index(merged, VhVfioDmaRange, i);
        struct vfio_iommu_type1_dma_map map = {
            .argsz = sizeof(map),
            .flags = ((r->flags & VH_VFIO_DMA_READ) ? VFIO_DMA_MAP_FLAG_READ : 0) |
                     ((r->flags & VH_VFIO_DMA_WRITE) ? VFIO_DMA_MAP_FLAG_WRITE : 0),
            .vaddr = r->vaddr,
            .iova = r->iova,
            .size = r->size,
        };
        int ret;

        c->map_calls++;
        ret = c->ops->ioctl(c->ops_data, c->fd, VFIO_IOMMU_MAP_DMA, &map);
        if (ret < 0) {
            guint j;

            dma_map_error(c, r, needed, ret, error);
            for (j = 0; j < i; j++) {
                const VhVfioDmaRange *done =
                    &g_array_index(merged, VhVfioDmaRange, j);
                guint64 unmapped = 0;

                if (dma_unmap_call(c, done->iova, done->size, &unmapped) == 0)
                    mapping_remove(c, done->iova);
            }
            return FALSE;
        }
        g_array_append_val(c->mappings, *r);
        g_array_sort(c->mappings, vh_vfio_dma_range_cmp);
    }
    return TRUE;
}

gboolean
vh_vfio_container_dma_map(VhVfioContainer *container, gconstpointer vaddr,
                          guint64 iova, guint64 size, VhVfioDmaFlags flags,
                          GError **error)
{
    VhVfioDmaRange r = {
        .vaddr = (guint64) (guintptr) vaddr,
        .iova = iova,
        .size = size,
        .flags = flags,
    };

    return vh_vfio_container_dma_map_ranges(container, &r, 1, error);
}

gboolean
vh_vfio_container_dma_unmap(VhVfioContainer *container, guint64 iova,
                            guint64 size, GError **error)
{
    VhVfioContainer *c = container;
    guint64 covered = 0;
    guint64 unmapped = 0;
    guint64 end = iova + size;
    g_autoptr(GArray) gone = g_array_new(FALSE, FALSE, sizeof(guint64));
    guint i;
    int ret;

    if (size == 0 || end < iova) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID,
                    "cannot unmap IOVA 0x%" G_GINT64_MODIFIER "x size 0x%" G_GINT64_MODIFIER "x: empty or wrapping range",
                    iova, size);
        return FALSE;
    }
    for (i = 0; i < c->mappings->len; i++) {
        const VhVfioDmaRange *m = &g_array_index(c->mappings, VhVfioDmaRange, i);
        guint64 mend = m->iova + m->size;

        if (mend <= iova || m->iova >= end)
            continue;
        if (m->iova < iova || mend > end) {
            g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID,
                        "cannot unmap IOVA [0x%" G_GINT64_MODIFIER "x, 0x%" G_GINT64_MODIFIER "x): it splits the mapping [0x%" G_GINT64_MODIFIER "x, 0x%" G_GINT64_MODIFIER "x), which the IOMMU unmaps only whole",
                        iova, end, m->iova, mend);
            return FALSE;
        }
        covered += m->size;
        g_array_append_val(gone, m->iova);
    }
    if (covered != size) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID,
                    "cannot unmap IOVA [0x%" G_GINT64_MODIFIER "x, 0x%" G_GINT64_MODIFIER "x): only 0x%" G_GINT64_MODIFIER "x bytes of it are mapped",
                    iova, end, covered);
        return FALSE;
    }
    ret = dma_unmap_call(c, iova, size, &unmapped);
    if (ret < 0) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_FAILED,
                    "VFIO_IOMMU_UNMAP_DMA of IOVA 0x%" G_GINT64_MODIFIER "x size 0x%" G_GINT64_MODIFIER "x: %s",
                    iova, size, g_strerror(-ret));
        return FALSE;
    }
    for (i = 0; i < gone->len; i++)
        mapping_remove(c, g_array_index(gone, guint64, i));
    if (unmapped != size) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_FAILED,
                    "VFIO_IOMMU_UNMAP_DMA of IOVA 0x%" G_GINT64_MODIFIER "x: asked for 0x%" G_GINT64_MODIFIER "x bytes, the kernel unmapped 0x%" G_GINT64_MODIFIER "x",
                    iova, size, unmapped);
        return FALSE;
    }
    return TRUE;
}

const GArray *
vh_vfio_container_get_mappings(const VhVfioContainer *container)
{
    return container->mappings;
}

guint64
vh_vfio_container_get_map_calls(const VhVfioContainer *container)
{
    return container->map_calls;
}
