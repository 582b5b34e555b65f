/*
 * vh-fake-vfio.c: a simulated VFIO kernel behind VhVfioOps for unit tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "vh-fake-vfio.h"

#define REGION_SHIFT 40

void
vh_fake_vfio_set_region(VhFakeVfio *fake, guint index, guint32 flags,
                        guint64 size, const guint8 *caps, gsize caps_len)
{
    VhFakeVfioRegion *r = &fake->regions[index];

    g_clear_pointer(&r->caps, g_byte_array_unref);
    g_clear_pointer(&r->data, g_byte_array_unref);
    r->flags = flags;
    r->size = size;
    /* Room for whole 64 KiB pages, so that mmap never moves the bytes. */
    r->data = g_byte_array_new();
    g_byte_array_set_size(r->data, (size + 0xffff) & ~(guint64) 0xffff);
    if (r->data->len)
        memset(r->data->data, 0, r->data->len);
    if (caps && caps_len) {
        r->caps = g_byte_array_new();
        g_byte_array_append(r->caps, caps, caps_len);
    }
}

VhFakeVfio *
vh_fake_vfio_new(const char *device_name, const int *group_ids,
                 gsize n_groups)
{
    VhFakeVfio *fake = g_new0(VhFakeVfio, 1);
    gsize i;
    guint j;

    fake->has_type1v2 = TRUE;
    fake->pgsizes = 0x40201000;         /* 4K, 2M, 1G */
    fake->maps = g_array_new(FALSE, FALSE, sizeof(VhFakeVfioMap));
    fake->memlock_limit = 8 * 1024 * 1024;
    fake->groups = g_array_new(FALSE, TRUE, sizeof(VhFakeVfioGroup));
    for (i = 0; i < n_groups; i++) {
        VhFakeVfioGroup g = {
            .id = group_ids[i],
            .flags = VFIO_GROUP_FLAGS_VIABLE,
        };
        g_array_append_val(fake->groups, g);
    }
    fake->device_name = device_name;
    fake->device_flags = VFIO_DEVICE_FLAGS_PCI;
    fake->num_irqs = 5;
    for (j = 0; j < VH_FAKE_VFIO_REGIONS; j++)
        vh_fake_vfio_set_region(fake, j, 0, 0, NULL, 0);
    vh_fake_vfio_set_region(fake, 7, VFIO_REGION_INFO_FLAG_READ |
                            VFIO_REGION_INFO_FLAG_WRITE, 256, NULL, 0);
    for (j = 0; j < 5; j++) {
        guint v;

        for (v = 0; v < G_N_ELEMENTS(fake->irqs[j].trigger); v++)
            fake->irqs[j].trigger[v] = -1;
        fake->irqs[j].flags = VFIO_IRQ_INFO_EVENTFD;
    }
    fake->irqs[0].count = 1;
    fake->irqs[0].flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
    fake->irqs[1].flags |= VFIO_IRQ_INFO_NORESIZE;
    fake->irqs[2].flags |= VFIO_IRQ_INFO_NORESIZE;
    fake->hot_reset_devs = g_array_new(FALSE, TRUE,
                                       sizeof(struct vfio_pci_dependent_device));
    fake->hot_reset_fds = g_array_new(FALSE, TRUE, sizeof(gint32));
    fake->page_size = 4096;
    fake->calls = g_ptr_array_new_with_free_func(g_free);
    fake->irq_sets = g_ptr_array_new_with_free_func((GDestroyNotify) g_bytes_unref);
    return fake;
}

void
vh_fake_vfio_free(VhFakeVfio *fake)
{
    guint j;

    if (!fake)
        return;
    for (j = 0; j < VH_FAKE_VFIO_REGIONS; j++) {
        g_clear_pointer(&fake->regions[j].caps, g_byte_array_unref);
        g_clear_pointer(&fake->regions[j].data, g_byte_array_unref);
    }
    g_clear_pointer(&fake->iova_ranges, g_array_unref);
    g_array_unref(fake->maps);
    g_array_unref(fake->groups);
    g_array_unref(fake->hot_reset_devs);
    g_array_unref(fake->hot_reset_fds);
    g_ptr_array_unref(fake->calls);
    g_ptr_array_unref(fake->irq_sets);
    g_free(fake);
}

char *
vh_fake_vfio_calls(const VhFakeVfio *fake)
{
    GString *s = g_string_new(NULL);
    guint i;

    for (i = 0; i < fake->calls->len; i++)
        g_string_append_printf(s, "%s%s", i ? " " : "",
                               (char *) g_ptr_array_index(fake->calls, i));
    return g_string_free(s, FALSE);
}

void
vh_fake_vfio_clear_log(VhFakeVfio *fake)
{
    g_ptr_array_set_size(fake->calls, 0);
    g_ptr_array_set_size(fake->irq_sets, 0);
    fake->preads = fake->pwrites = fake->mmaps = 0;
}

static void
log_call(VhFakeVfio *fake, const char *name)
{
    g_ptr_array_add(fake->calls, g_strdup(name));
}

static VhFakeVfioGroup *
group_by_fd(VhFakeVfio *fake, int fd)
{
    int i = fd - VH_FAKE_VFIO_GROUP_FD;

    if (i < 0 || (guint) i >= fake->groups->len)
        return NULL;
    return &g_array_index(fake->groups, VhFakeVfioGroup, i);
}

/* ---- the container ---- */

static int
iommu_get_info(VhFakeVfio *fake, struct vfio_iommu_type1_info *arg)
{
    g_autoptr(GByteArray) buf = g_byte_array_new();
    struct vfio_iommu_type1_info info = {
        .flags = VFIO_IOMMU_INFO_PGSIZES,
        .iova_pgsizes = fake->pgsizes,
    };
    guint32 prev_next_at = 0;

    if (!fake->iommu_type)
        return -ENOTTY;
    g_byte_array_append(buf, (guint8 *) &info, sizeof(info));
    if (fake->iova_ranges) {
        struct vfio_iommu_type1_info_cap_iova_range cap = {
            .header = { .id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
                        .version = 1 },
            .nr_iovas = fake->iova_ranges->len,
        };
        guint i;

        prev_next_at = buf->len + offsetof(struct vfio_info_cap_header, next);
        ((struct vfio_iommu_type1_info *) buf->data)->cap_offset = buf->len;
        g_byte_array_append(buf, (guint8 *) &cap, sizeof(cap));
        for (i = 0; i < fake->iova_ranges->len; i++) {
            const VhVfioIovaRange *r =
                &g_array_index(fake->iova_ranges, VhVfioIovaRange, i);
            struct vfio_iova_range k = { .start = r->start, .end = r->end };
            g_byte_array_append(buf, (guint8 *) &k, sizeof(k));
        }
    }
    if (fake->report_dma_avail) {
        struct vfio_iommu_type1_info_dma_avail cap = {
            .header = { .id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, .version = 1 },
            .avail = fake->dma_avail,
        };
        guint32 here = buf->len;

        if (prev_next_at)
            memcpy(buf->data + prev_next_at, &here, sizeof(here));
        else
            ((struct vfio_iommu_type1_info *) buf->data)->cap_offset = here;
        g_byte_array_append(buf, (guint8 *) &cap, sizeof(cap));
    }
    if (buf->len > sizeof(info))
        ((struct vfio_iommu_type1_info *) buf->data)->flags |= VFIO_IOMMU_INFO_CAPS;
    ((struct vfio_iommu_type1_info *) buf->data)->argsz = buf->len;
    if (arg->argsz < buf->len) {
        struct vfio_iommu_type1_info *hdr = (void *) buf->data;
        hdr->cap_offset = 0;
        memcpy(arg, hdr, sizeof(*arg));
        return 0;
    }
    memcpy(arg, buf->data, buf->len);
    return 0;
}

static int
container_ioctl(VhFakeVfio *fake, unsigned long request, void *arg)
{
    guint i;

    switch (request) {
    case VFIO_GET_API_VERSION:
        log_call(fake, "GET_API_VERSION");
        return VFIO_API_VERSION;
    case VFIO_CHECK_EXTENSION:
        log_call(fake, "CHECK_EXTENSION");
        if (GPOINTER_TO_INT(arg) == VFIO_TYPE1v2_IOMMU)
            return fake->has_type1v2;
        return GPOINTER_TO_INT(arg) == VFIO_TYPE1_IOMMU;
    case VFIO_SET_IOMMU: {
        gboolean any = FALSE;

        log_call(fake, "SET_IOMMU");
        for (i = 0; i < fake->groups->len; i++)
            any |= g_array_index(fake->groups, VhFakeVfioGroup, i).container_set;
        if (!any)
            return -EINVAL;
        if (fake->iommu_type)
            return -EBUSY;
        fake->iommu_type = GPOINTER_TO_INT(arg);
        return 0;
    }
    case VFIO_IOMMU_GET_INFO:
        log_call(fake, "IOMMU_GET_INFO");
        return iommu_get_info(fake, arg);
    case VFIO_IOMMU_MAP_DMA: {
        struct vfio_iommu_type1_dma_map *map = arg;
        VhFakeVfioMap m = { .iova = map->iova, .size = map->size,
                            .vaddr = map->vaddr };

        log_call(fake, "MAP_DMA");
        if (!fake->iommu_type)
            return -EINVAL;
        if (fake->map_errno)
            return -fake->map_errno;
        for (i = 0; i < fake->maps->len; i++) {
            VhFakeVfioMap *e = &g_array_index(fake->maps, VhFakeVfioMap, i);
            if (m.iova < e->iova + e->size && e->iova < m.iova + m.size)
                return -EEXIST;
        }
        if (fake->report_dma_avail) {
            if (fake->dma_avail == 0)
                return -ENOSPC;
            fake->dma_avail--;
        }
        g_array_append_val(fake->maps, m);
        return 0;
    }
    case VFIO_IOMMU_UNMAP_DMA: {
        struct vfio_iommu_type1_dma_unmap *unmap = arg;
        guint64 end = unmap->iova + unmap->size;
        guint64 done = 0;

        log_call(fake, "UNMAP_DMA");
        for (i = 0; i < fake->maps->len; i++) {
            VhFakeVfioMap *e = &g_array_index(fake->maps, VhFakeVfioMap, i);
            if (e->iova < end && unmap->iova < e->iova + e->size &&
                (e->iova < unmap->iova || e->iova + e->size > end))
                return -EINVAL;
        }
        for (i = fake->maps->len; i-- > 0;) {
            VhFakeVfioMap *e = &g_array_index(fake->maps, VhFakeVfioMap, i);
            if (e->iova >= unmap->iova && e->iova + e->size <= end) {
                done += e->size;
                g_array_remove_index(fake->maps, i);
                if (fake->report_dma_avail)
                    fake->dma_avail++;
            }
        }
        unmap->size = done - MIN(done, fake->unmap_short);
        return 0;
    }
    default:
        log_call(fake, "container-unknown");
        return -ENOTTY;
    }
}

/* ---- groups ---- */

static int
group_ioctl(VhFakeVfio *fake, VhFakeVfioGroup *g, unsigned long request,
            void *arg)
{
    switch (request) {
    case VFIO_GROUP_GET_STATUS: {
        struct vfio_group_status *st = arg;

        log_call(fake, "GROUP_GET_STATUS");
        st->flags = g->flags |
                    (g->container_set ? VFIO_GROUP_FLAGS_CONTAINER_SET : 0);
        return 0;
    }
    case VFIO_GROUP_SET_CONTAINER:
        log_call(fake, "GROUP_SET_CONTAINER");
        if (*(int *) arg != VH_FAKE_VFIO_CONTAINER_FD)
            return -EBADF;
        if (!(g->flags & VFIO_GROUP_FLAGS_VIABLE))
            return -EPERM;
        if (g->container_set)
            return -EINVAL;
        g->container_set = TRUE;
        return 0;
    case VFIO_GROUP_UNSET_CONTAINER:
        log_call(fake, "GROUP_UNSET_CONTAINER");
        g->container_set = FALSE;
        return 0;
    case VFIO_GROUP_GET_DEVICE_FD:
        log_call(fake, "GROUP_GET_DEVICE_FD");
        if (!g->container_set || !fake->iommu_type)
            return -EINVAL;
        if (g != &g_array_index(fake->groups, VhFakeVfioGroup, 0) ||
            g_strcmp0(arg, fake->device_name) != 0)
            return -ENODEV;
        return VH_FAKE_VFIO_DEVICE_FD;
    default:
        log_call(fake, "group-unknown");
        return -ENOTTY;
    }
}

/* ---- the device ---- */

static int
region_info(VhFakeVfio *fake, struct vfio_region_info *arg)
{
    VhFakeVfioRegion *r;
    struct vfio_region_info info;
    gsize need;

    if (arg->index >= VH_FAKE_VFIO_REGIONS)
        return -EINVAL;
    r = &fake->regions[arg->index];
    if (arg->index == 8 && r->flags == 0)
        return -EINVAL;         /* VGA on a non-VGA device */
    need = sizeof(info) + (r->caps ? r->caps->len : 0);
    info = (struct vfio_region_info) {
        .argsz = need,
        .flags = r->flags | (r->caps ? VFIO_REGION_INFO_FLAG_CAPS : 0),
        .index = arg->index,
        .size = r->size,
        .offset = (guint64) arg->index << REGION_SHIFT,
    };
    if (arg->argsz < need) {
        memcpy(arg, &info, sizeof(info));
        return 0;
    }
    if (r->caps)
        info.cap_offset = sizeof(info);
    memcpy(arg, &info, sizeof(info));
    if (r->caps)
        memcpy((guint8 *) arg + sizeof(info), r->caps->data, r->caps->len);
    return 0;
}

static int
irqs_exclusive_busy(VhFakeVfio *fake, guint index)
{
    guint i;

    if (index > 2)
        return 0;
    for (i = 0; i <= 2; i++) {
        if (i != index && fake->irqs[i].enabled)
            return -EINVAL;
    }
    return 0;
}

static void
irq_disable(VhFakeVfio *fake, guint index)
{
    VhFakeVfioIrq *irq = &fake->irqs[index];
    guint v;

    irq->enabled = 0;
    for (v = 0; v < G_N_ELEMENTS(irq->trigger); v++)
        irq->trigger[v] = -1;
}

static int
set_irqs(VhFakeVfio *fake, struct vfio_irq_set *set)
{
    VhFakeVfioIrq *irq;
    guint32 data_type = set->flags & VFIO_IRQ_SET_DATA_TYPE_MASK;
    guint32 action = set->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
    gsize data_len = 0;
    guint i;

    if (data_type == VFIO_IRQ_SET_DATA_EVENTFD)
        data_len = set->count * sizeof(gint32);
    else if (data_type == VFIO_IRQ_SET_DATA_BOOL)
        data_len = set->count;
    g_ptr_array_add(fake->irq_sets, g_bytes_new(set, sizeof(*set) + data_len));
    log_call(fake, "SET_IRQS");

    if (set->argsz != sizeof(*set) + data_len || set->index >= 5 ||
        __builtin_popcount(data_type) != 1 || __builtin_popcount(action) != 1)
        return -EINVAL;
    irq = &fake->irqs[set->index];
    if (set->count && (set->start >= irq->count ||
                       set->start + set->count > irq->count))
        return -EINVAL;

    if (action == VFIO_IRQ_SET_ACTION_UNMASK) {
        if (set->index != 0 || !irq->enabled)
            return -EINVAL;
        irq->masked = FALSE;
        return 0;
    }
    if (action == VFIO_IRQ_SET_ACTION_MASK) {
        if (set->index != 0)
            return -EINVAL;
        irq->masked = TRUE;
        return 0;
    }
    /* ACTION_TRIGGER */
    if (data_type == VFIO_IRQ_SET_DATA_NONE && set->count == 0) {
        if (irq->enabled)
            irq_disable(fake, set->index);
        return 0;
    }
    if (data_type == VFIO_IRQ_SET_DATA_EVENTFD) {
        const gint32 *fds = (const gint32 *) set->data;

        if (!irq->enabled) {
            if (irqs_exclusive_busy(fake, set->index) < 0)
                return -EINVAL;
            irq->enabled = set->start + set->count;
        } else if (set->start + set->count > irq->enabled) {
            if (irq->flags & VFIO_IRQ_INFO_NORESIZE)
                return -EINVAL;
            irq->enabled = set->start + set->count;
        }
        for (i = 0; i < set->count; i++)
            irq->trigger[set->start + i] = fds[i];
        return 0;
    }
    /* DATA_NONE / DATA_BOOL trigger: signal (loopback). */
    if (!irq->enabled)
        return -EINVAL;
    for (i = 0; i < set->count; i++) {
        int fd = irq->trigger[set->start + i];
        guint64 one = 1;

        if (data_type == VFIO_IRQ_SET_DATA_BOOL && !set->data[i])
            continue;
        if (fd >= 0 && write(fd, &one, sizeof(one)) != sizeof(one))
            return -errno;
    }
    return 0;
}

static int
hot_reset_info(VhFakeVfio *fake, struct vfio_pci_hot_reset_info *arg)
{
    gsize need = sizeof(*arg) + fake->hot_reset_devs->len *
                 sizeof(struct vfio_pci_dependent_device);

    if (fake->hot_reset_errno)
        return -fake->hot_reset_errno;
    arg->flags = 0;
    arg->count = fake->hot_reset_devs->len;
    if (arg->argsz < need)
        return -ENOSPC;
    memcpy(arg->devices, fake->hot_reset_devs->data,
           fake->hot_reset_devs->len * sizeof(struct vfio_pci_dependent_device));
    return 0;
}

static int
hot_reset(VhFakeVfio *fake, struct vfio_pci_hot_reset *arg)
{
    guint i, j;

    g_array_set_size(fake->hot_reset_fds, 0);
    g_array_append_vals(fake->hot_reset_fds, arg->group_fds, arg->count);
    for (i = 0; i < fake->hot_reset_devs->len; i++) {
        const struct vfio_pci_dependent_device *d =
            &g_array_index(fake->hot_reset_devs,
                           struct vfio_pci_dependent_device, i);
        gboolean found = FALSE;

        for (j = 0; j < arg->count; j++) {
            VhFakeVfioGroup *g = group_by_fd(fake, arg->group_fds[j]);
            found |= g && g->id == (int) d->group_id;
        }
        if (!found)
            return -EPERM;
    }
    fake->resets++;
    return 0;
}

static int
device_ioctl(VhFakeVfio *fake, unsigned long request, void *arg)
{
    switch (request) {
    case VFIO_DEVICE_GET_INFO: {
        struct vfio_device_info *info = arg;

        log_call(fake, "DEVICE_GET_INFO");
        info->flags = fake->device_flags;
        info->num_regions = VH_FAKE_VFIO_REGIONS;
        info->num_irqs = fake->num_irqs;
        return 0;
    }
    case VFIO_DEVICE_GET_REGION_INFO:
        log_call(fake, "GET_REGION_INFO");
        return region_info(fake, arg);
    case VFIO_DEVICE_GET_IRQ_INFO: {
        struct vfio_irq_info *info = arg;

        log_call(fake, "GET_IRQ_INFO");
        if (info->index >= fake->num_irqs)
            return -EINVAL;
        /* vfio-pci: ERR only for PCI Express devices. */
        if (info->index == VFIO_PCI_ERR_IRQ_INDEX && !fake->irqs[3].count)
            return -EINVAL;
        info->flags = fake->irqs[info->index].flags;
        info->count = fake->irqs[info->index].count;
        return 0;
    }
    case VFIO_DEVICE_SET_IRQS:
        return set_irqs(fake, arg);
    case VFIO_DEVICE_RESET:
        log_call(fake, "DEVICE_RESET");
        if (!(fake->device_flags & VFIO_DEVICE_FLAGS_RESET))
            return -EINVAL;
        fake->resets++;
        return 0;
    case VFIO_DEVICE_GET_PCI_HOT_RESET_INFO:
        log_call(fake, "GET_PCI_HOT_RESET_INFO");
        return hot_reset_info(fake, arg);
    case VFIO_DEVICE_PCI_HOT_RESET:
        log_call(fake, "PCI_HOT_RESET");
        return hot_reset(fake, arg);
    default:
        log_call(fake, "device-unknown");
        return -ENOTTY;
    }
}

/* ---- the ops ---- */

static int
fake_open(gpointer data, const char *path)
{
    VhFakeVfio *fake = data;
    guint i;

    log_call(fake, "open");
    if (fake->open_errno)
        return -fake->open_errno;
    if (g_str_equal(path, "/dev/vfio/vfio"))
        return VH_FAKE_VFIO_CONTAINER_FD;
    for (i = 0; i < fake->groups->len; i++) {
        g_autofree char *p = g_strdup_printf("/dev/vfio/%d",
            g_array_index(fake->groups, VhFakeVfioGroup, i).id);
        if (g_str_equal(path, p))
            return VH_FAKE_VFIO_GROUP_FD + i;
    }
    return -ENOENT;
}

static gboolean
is_fake_fd(VhFakeVfio *fake, int fd)
{
    return fd == VH_FAKE_VFIO_CONTAINER_FD || fd == VH_FAKE_VFIO_DEVICE_FD ||
           group_by_fd(fake, fd) != NULL;
}

static int
fake_close(gpointer data, int fd)
{
    VhFakeVfio *fake = data;
    VhFakeVfioGroup *g = group_by_fd(fake, fd);

    fake->closes++;
    if (g)
        g->container_set = FALSE;
    if (is_fake_fd(fake, fd))
        return 0;
    return close(fd) < 0 ? -errno : 0;     /* an eventfd */
}

static int
fake_ioctl(gpointer data, int fd, unsigned long request, void *arg)
{
    VhFakeVfio *fake = data;
    VhFakeVfioGroup *g;

    if (fd == VH_FAKE_VFIO_CONTAINER_FD)
        return container_ioctl(fake, request, arg);
    if (fd == VH_FAKE_VFIO_DEVICE_FD)
        return device_ioctl(fake, request, arg);
    g = group_by_fd(fake, fd);
    if (g)
        return group_ioctl(fake, g, request, arg);
    log_call(fake, "ioctl-bad-fd");
    return -EBADF;
}

static VhFakeVfioRegion *
region_at(VhFakeVfio *fake, int fd, off_t offset, gsize count,
          guint64 *ret_off)
{
    guint index = (guint64) offset >> REGION_SHIFT;
    guint64 off = (guint64) offset & ((1ULL << REGION_SHIFT) - 1);
    VhFakeVfioRegion *r;

    if (fd != VH_FAKE_VFIO_DEVICE_FD || index >= VH_FAKE_VFIO_REGIONS)
        return NULL;
    r = &fake->regions[index];
    if (off > r->size || count > r->size - off)
        return NULL;
    *ret_off = off;
    return r;
}

static gssize
fake_pread(gpointer data, int fd, void *buf, gsize count, off_t offset)
{
    VhFakeVfio *fake = data;
    guint64 off;
    VhFakeVfioRegion *r = region_at(fake, fd, offset, count, &off);

    fake->preads++;
    if (!r || !(r->flags & VFIO_REGION_INFO_FLAG_READ))
        return -EINVAL;
    memcpy(buf, r->data->data + off, count);
    return count;
}

static gssize
fake_pwrite(gpointer data, int fd, const void *buf, gsize count,
            off_t offset)
{
    VhFakeVfio *fake = data;
    guint64 off;
    VhFakeVfioRegion *r = region_at(fake, fd, offset, count, &off);

    fake->pwrites++;
    if (!r || !(r->flags & VFIO_REGION_INFO_FLAG_WRITE))
        return -EINVAL;
    memcpy(r->data->data + off, buf, count);
    return count;
}

/* Maps into the region's contents, so both paths see the same bytes. */
static int
fake_mmap(gpointer data, int fd, gsize length, int prot, off_t offset,
          void **ret_addr)
{
    VhFakeVfio *fake = data;
    guint index = (guint64) offset >> REGION_SHIFT;
    guint64 off = (guint64) offset & ((1ULL << REGION_SHIFT) - 1);
    VhFakeVfioRegion *r;
    guint64 phys_len;

    fake->mmaps++;
    log_call(fake, "mmap");
    if (fd != VH_FAKE_VFIO_DEVICE_FD || index >= VH_FAKE_VFIO_REGIONS)
        return -EINVAL;
    r = &fake->regions[index];
    /* The kernel maps whole pages of a page-padded BAR. */
    phys_len = (r->size + fake->page_size - 1) / fake->page_size *
               fake->page_size;
    if (!(r->flags & VFIO_REGION_INFO_FLAG_MMAP) || off % fake->page_size ||
        length % fake->page_size || off + length > phys_len)
        return -EINVAL;
    *ret_addr = r->data->data + off;
    return 0;
}

static int
fake_munmap(gpointer data, void *addr, gsize length)
{
    log_call(data, "munmap");
    return 0;
}

static int
fake_eventfd(gpointer data)
{
    return vh_vfio_ops_kernel()->eventfd(NULL);
}

static int
fake_eventfd_wait(gpointer data, int fd, int timeout_ms, guint64 *ret_count)
{
    return vh_vfio_ops_kernel()->eventfd_wait(NULL, fd, timeout_ms, ret_count);
}

static gsize
fake_page_size(gpointer data)
{
    return ((VhFakeVfio *) data)->page_size;
}

static int
fake_memlock_limit(gpointer data, guint64 *ret_limit)
{
    *ret_limit = ((VhFakeVfio *) data)->memlock_limit;
    return 0;
}

static const VhVfioOps fake_ops = {
    .open = fake_open,
    .close = fake_close,
    .ioctl = fake_ioctl,
    .pread = fake_pread,
    .pwrite = fake_pwrite,
    .mmap = fake_mmap,
    .munmap = fake_munmap,
    .eventfd = fake_eventfd,
    .eventfd_wait = fake_eventfd_wait,
    .page_size = fake_page_size,
    .memlock_limit = fake_memlock_limit,
};

const VhVfioOps *
vh_fake_vfio_ops(void)
{
    return &fake_ops;
}

VhVfioDevice *
vh_fake_vfio_open(VhFakeVfio *fake, GError **error)
{
    int id = g_array_index(fake->groups, VhFakeVfioGroup, 0).id;

    return vh_vfio_device_new_from_fds(&fake_ops, fake, VH_FAKE_VFIO_GROUP_FD,
                                       id, VH_FAKE_VFIO_CONTAINER_FD, NULL,
                                       fake->device_name, NULL, NULL, error);
}
