/*
 * vh-vfio-util.c: the library's pure arithmetic: capability chains, the
 * MSI-X hole, SET_IRQS buffers, DMA coalescing, ROM checks
 *
 * Nothing here calls the kernel, so the unit tests check it byte by byte.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "hostdev.vfio"

#include <string.h>

#include "vh-vfio-priv.h"

char *
vh_vfio_format_size(guint64 size)
{
    static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB" };
    guint u = 0;

    while (u + 1 < G_N_ELEMENTS(units) && size >= 1024 && size % 1024 == 0) {
        size /= 1024;
        u++;
    }
    return g_strdup_printf("%" G_GUINT64_FORMAT " %s", size, units[u]);
}

/* ---- capability chains ---- */

gboolean
vh_vfio_caps_walk(const guint8 *buf, gsize len, guint32 first,
                  gsize min_offset, VhVfioCapFunc func, gpointer data,
                  GError **error)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);
    guint32 off = first;

    while (off != 0) {
        struct vfio_info_cap_header hdr;

        if (off < min_offset || off > len ||
            len - off < sizeof(struct vfio_info_cap_header)) {
            g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_CORRUPT,
                        "capability chain points outside its buffer: offset %u, buffer %zu bytes (header %zu)",
                        off, len, min_offset);
            return FALSE;
        }
        if (g_hash_table_contains(seen, GUINT_TO_POINTER(off))) {
            g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_CORRUPT,
                        "capability chain contains a cycle: offset %u comes twice",
                        off);
            return FALSE;
        }
        g_hash_table_add(seen, GUINT_TO_POINTER(off));
        memcpy(&hdr, buf + off, sizeof(hdr));
        if (func && !func(data, hdr.id, hdr.version, buf + off, len - off,
                          error))
            return FALSE;
        off = hdr.next;
    }
    return TRUE;
}

static gboolean
cap_too_short(gsize avail, gsize need, const char *what, GError **error)
{
    if (avail >= need)
        return FALSE;
    g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_CORRUPT,
                "%s capability runs past the end of its buffer (%zu bytes left, %zu needed)",
                what, avail, need);
    return TRUE;
}

static gboolean
region_cap(gpointer data, guint16 id, guint16 version, const guint8 *cap,
           gsize avail, GError **error)
{
    VhVfioRegion *region = data;

    switch (id) {
    case VFIO_REGION_INFO_CAP_SPARSE_MMAP: {
        struct vfio_region_info_cap_sparse_mmap sparse;
        guint32 i;

        if (cap_too_short(avail, sizeof(sparse), "sparse mmap", error))
            return FALSE;
        memcpy(&sparse, cap, sizeof(sparse));
        if (cap_too_short(avail, sizeof(sparse) +
                          (gsize) sparse.nr_areas *
                          sizeof(struct vfio_region_sparse_mmap_area),
                          "sparse mmap", error))
            return FALSE;
        region->has_sparse = TRUE;
        g_array_set_size(region->sparse, 0);
        for (i = 0; i < sparse.nr_areas; i++) {
            struct vfio_region_sparse_mmap_area a;
            VhVfioArea area;

            memcpy(&a, cap + sizeof(sparse) + i * sizeof(a), sizeof(a));
            if (a.size == 0)
                continue;
            if (a.offset > region->size || a.size > region->size - a.offset) {
                g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_CORRUPT,
                            "sparse mmap area %u [0x%llx, +0x%llx) lies outside region %u of 0x%llx bytes",
                            i, (unsigned long long) a.offset,
                            (unsigned long long) a.size, region->index,
                            (unsigned long long) region->size);
                return FALSE;
            }
            area.offset = a.offset;
            area.size = a.size;
            g_array_append_val(region->sparse, area);
        }
        break;
    }
    case VFIO_REGION_INFO_CAP_TYPE: {
        struct vfio_region_info_cap_type type;

        if (cap_too_short(avail, sizeof(type), "region type", error))
            return FALSE;
        memcpy(&type, cap, sizeof(type));
        region->has_type = TRUE;
        region->type = type.type;
        region->subtype = type.subtype;
        break;
    }
    case VFIO_REGION_INFO_CAP_MSIX_MAPPABLE:
        region->msix_mappable = TRUE;
        break;
    default:
        g_debug("region %u: capability %u (version %u) not used",
                region->index, id, version);
        break;
    }
    return TRUE;
}

void
vh_vfio_region_free(VhVfioRegion *region)
{
    if (!region)
        return;
    if (region->sparse)
        g_array_unref(region->sparse);
    g_free(region);
}

gboolean
vh_vfio_region_parse(const void *buf, gsize len, VhVfioRegion **ret_region,
                     GError **error)
{
    g_autoptr(VhVfioRegion) region = g_new0(VhVfioRegion, 1);
    struct vfio_region_info info;

    if (len < sizeof(info)) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_CORRUPT,
                    "region info of %zu bytes is shorter than its header (%zu)",
                    len, sizeof(info));
        return FALSE;
    }
    memcpy(&info, buf, sizeof(info));
    region->index = info.index;
    region->flags = info.flags;
    region->size = info.size;
    region->offset = info.offset;
    region->sparse = g_array_new(FALSE, FALSE, sizeof(VhVfioArea));
    if ((info.flags & VFIO_REGION_INFO_FLAG_CAPS) && info.cap_offset &&
        !vh_vfio_caps_walk(buf, MIN(len, (gsize) info.argsz),
                           info.cap_offset, sizeof(info), region_cap, region,
                           error)) {
        g_prefix_error(error, "region %u: ", info.index);
        return FALSE;
    }
    *ret_region = g_steal_pointer(&region);
    return TRUE;
}

typedef struct {
    GArray *ranges;
    guint32 dma_avail;
} IommuCaps;

static gboolean
iommu_cap(gpointer data, guint16 id, guint16 version, const guint8 *cap,
          gsize avail, GError **error)
{
    IommuCaps *caps = data;

    switch (id) {
    case VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE: {
        struct vfio_iommu_type1_info_cap_iova_range r;
        guint32 i;

        if (cap_too_short(avail, sizeof(r), "IOVA range", error))
            return FALSE;
        memcpy(&r, cap, sizeof(r));
        if (cap_too_short(avail, sizeof(r) + (gsize) r.nr_iovas *
                          sizeof(struct vfio_iova_range), "IOVA range",
                          error))
            return FALSE;
        if (!caps->ranges)
            caps->ranges = g_array_new(FALSE, FALSE, sizeof(VhVfioIovaRange));
        for (i = 0; i < r.nr_iovas; i++) {
            struct vfio_iova_range k;
            VhVfioIovaRange range;

            memcpy(&k, cap + sizeof(r) + i * sizeof(k), sizeof(k));
            range.start = k.start;
            range.end = k.end;
            g_array_append_val(caps->ranges, range);
        }
        break;
    }
    case VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL: {
        struct vfio_iommu_type1_info_dma_avail a;

        if (cap_too_short(avail, sizeof(a), "dma_avail", error))
            return FALSE;
        memcpy(&a, cap, sizeof(a));
        caps->dma_avail = a.avail;
        break;
    }
    default:
        break;
    }
    return TRUE;
}

gboolean
vh_vfio_iommu_info_parse(const void *buf, gsize len, guint64 *ret_pgsizes,
                         GArray **ret_ranges, guint32 *ret_dma_avail,
                         GError **error)
{
    struct vfio_iommu_type1_info info;
    IommuCaps caps = { .ranges = NULL, .dma_avail = G_MAXUINT32 };

    if (len < offsetof(struct vfio_iommu_type1_info, cap_offset)) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_CORRUPT,
                    "IOMMU info of %zu bytes is too short", len);
        return FALSE;
    }
    memset(&info, 0, sizeof(info));
    memcpy(&info, buf, MIN(len, sizeof(info)));
    if ((info.flags & VFIO_IOMMU_INFO_CAPS) && len >= sizeof(info) &&
        info.cap_offset &&
        !vh_vfio_caps_walk(buf, MIN(len, (gsize) info.argsz), info.cap_offset,
                           sizeof(info), iommu_cap, &caps, error)) {
        g_prefix_error(error, "IOMMU info: ");
        if (caps.ranges)
            g_array_unref(caps.ranges);
        return FALSE;
    }
    if (ret_pgsizes)
        *ret_pgsizes = (info.flags & VFIO_IOMMU_INFO_PGSIZES) ?
                       info.iova_pgsizes : 0;
    if (ret_ranges)
        *ret_ranges = caps.ranges;
    else if (caps.ranges)
        g_array_unref(caps.ranges);
    if (ret_dma_avail)
        *ret_dma_avail = caps.dma_avail;
    return TRUE;
}

/* ---- BAR arithmetic ---- */

void
vh_vfio_msix_hole(guint64 table_offset, guint64 table_size, gsize page_size,
                  guint64 *ret_start, guint64 *ret_end)
{
    guint64 end = table_offset + table_size;

    *ret_start = table_offset / page_size * page_size;
    *ret_end = (end + page_size - 1) / page_size * page_size;
}

static void
areas_add(GArray *out, guint64 start, guint64 end)
{
    VhVfioArea area = { .offset = start, .size = end - start };

    if (end > start)
        g_array_append_val(out, area);
}

GArray *
vh_vfio_mmap_areas(const VhVfioRegion *region, gboolean has_hole,
                   guint64 hole_start, guint64 hole_end, gsize page_size)
{
    GArray *out = g_array_new(FALSE, FALSE, sizeof(VhVfioArea));
    g_autoptr(GArray) base = g_array_new(FALSE, FALSE, sizeof(VhVfioArea));
    guint i;

    if (!(region->flags & VFIO_REGION_INFO_FLAG_MMAP) || region->size == 0)
        return out;
    if (region->has_sparse) {
        g_array_append_vals(base, region->sparse->data, region->sparse->len);
    } else {
        VhVfioArea whole = { .offset = 0, .size = region->size };
        g_array_append_val(base, whole);
    }

    for (i = 0; i < base->len; i++) {
        const VhVfioArea *a = &g_array_index(base, VhVfioArea, i);
        guint64 start = a->offset;
        guint64 end = MIN(a->offset + a->size, region->size);

        /* mmap offsets must be page aligned: an area that starts inside
         * a page cannot be mapped from there. */
        if (start % page_size)
            start = (start / page_size + 1) * page_size;
        if (start >= end)
            continue;
        if (has_hole && hole_start < end && hole_end > start) {
            areas_add(out, start, MIN(hole_start, end));
            areas_add(out, MAX(hole_end, start), end);
        } else {
            areas_add(out, start, end);
        }
    }
    return out;
}

/* ---- interrupts ---- */

struct vfio_irq_set *
vh_vfio_irq_set_new(guint32 index, guint32 flags, guint32 start,
                    guint32 count, const gint32 *fds, const guint8 *bools,
                    gsize *ret_size)
{
    gsize data_len = 0;
    struct vfio_irq_set *set;

    if (flags & VFIO_IRQ_SET_DATA_EVENTFD)
        data_len = (gsize) count * sizeof(gint32);
    else if (flags & VFIO_IRQ_SET_DATA_BOOL)
        data_len = count;
    set = g_malloc0(sizeof(*set) + data_len);
    set->argsz = sizeof(*set) + data_len;
    set->flags = flags;
    set->index = index;
    set->start = start;
    set->count = count;
    if (data_len && (flags & VFIO_IRQ_SET_DATA_EVENTFD))
        memcpy(set->data, fds, data_len);
    else if (data_len)
        memcpy(set->data, bools, data_len);
    if (ret_size)
        *ret_size = set->argsz;
    return set;
}

/* ---- DMA ---- */

gint
vh_vfio_dma_range_cmp(gconstpointer a, gconstpointer b)
{
    const VhVfioDmaRange *ra = a;
    const VhVfioDmaRange *rb = b;

    return ra->iova < rb->iova ? -1 : ra->iova > rb->iova;
}

GArray *
vh_vfio_dma_coalesce(const VhVfioDmaRange *ranges, gsize n_ranges,
                     guint64 page_size, GError **error)
{
    g_autoptr(GArray) sorted = g_array_sized_new(FALSE, FALSE,
                                                 sizeof(VhVfioDmaRange),
                                                 n_ranges);
    g_autoptr(GArray) out = g_array_new(FALSE, FALSE, sizeof(VhVfioDmaRange));
    gsize i;

    for (i = 0; i < n_ranges; i++) {
        const VhVfioDmaRange *r = &ranges[i];

        if (r->size == 0 || r->iova % page_size || r->vaddr % page_size ||
            r->size % page_size) {
            g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID,
                        "DMA range IOVA 0x%" G_GINT64_MODIFIER "x size 0x%" G_GINT64_MODIFIER "x vaddr 0x%" G_GINT64_MODIFIER "x is empty or not aligned to the IOMMU page size 0x%" G_GINT64_MODIFIER "x",
                        r->iova, r->size, r->vaddr, page_size);
            return NULL;
        }
        if (!(r->flags & (VH_VFIO_DMA_READ | VH_VFIO_DMA_WRITE))) {
            g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID,
                        "DMA range IOVA 0x%" G_GINT64_MODIFIER "x size 0x%" G_GINT64_MODIFIER "x allows the device neither to read nor to write",
                        r->iova, r->size);
            return NULL;
        }
        if (r->iova + r->size < r->iova || r->vaddr + r->size < r->vaddr) {
            g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID,
                        "DMA range IOVA 0x%" G_GINT64_MODIFIER "x size 0x%" G_GINT64_MODIFIER "x wraps around",
                        r->iova, r->size);
            return NULL;
        }
        g_array_append_val(sorted, *r);
    }
    g_array_sort(sorted, vh_vfio_dma_range_cmp);

    for (i = 0; i < sorted->len; i++) {
        const VhVfioDmaRange *r = &g_array_index(sorted, VhVfioDmaRange, i);
        VhVfioDmaRange *last = out->len ?
            &g_array_index(out, VhVfioDmaRange, out->len - 1) : NULL;

        if (last && r->iova < last->iova + last->size) {
            g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID,
                        "DMA ranges overlap: IOVA 0x%" G_GINT64_MODIFIER "x+0x%" G_GINT64_MODIFIER "x and 0x%" G_GINT64_MODIFIER "x+0x%" G_GINT64_MODIFIER "x",
                        last->iova, last->size, r->iova, r->size);
            return NULL;
        }
        if (last && r->iova == last->iova + last->size &&
            r->vaddr == last->vaddr + last->size && r->flags == last->flags) {
            last->size += r->size;
            continue;
        }
        g_array_append_val(out, *r);
    }
    return g_steal_pointer(&out);
}

gboolean
vh_vfio_dma_check(const GArray *ranges, const GArray *iova_ranges,
                  guint32 dma_avail, const GArray *existing, GError **error)
{
    guint i, j;

    for (i = 0; i < ranges->len; i++) {
        const VhVfioDmaRange *r = &g_array_index(ranges, VhVfioDmaRange, i);
        guint64 last = r->iova + r->size - 1;
        gboolean inside = iova_ranges == NULL;

        for (j = 0; iova_ranges && j < iova_ranges->len; j++) {
            const VhVfioIovaRange *ir =
                &g_array_index(iova_ranges, VhVfioIovaRange, j);
            if (r->iova >= ir->start && last <= ir->end) {
                inside = TRUE;
                break;
            }
        }
        if (!inside) {
            g_autoptr(GString) allowed = g_string_new(NULL);

            for (j = 0; j < iova_ranges->len; j++) {
                const VhVfioIovaRange *ir =
                    &g_array_index(iova_ranges, VhVfioIovaRange, j);
                g_string_append_printf(allowed, "%s[0x%" G_GINT64_MODIFIER "x, 0x%" G_GINT64_MODIFIER "x]",
                                       j ? ", " : "", ir->start, ir->end);
            }
            g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_NO_SPACE,
                        "IOVA range [0x%" G_GINT64_MODIFIER "x, 0x%" G_GINT64_MODIFIER "x] is not within the IOVA ranges the IOMMU allows: %s; choose IOVAs inside one of them",
                        r->iova, last, allowed->len ? allowed->str : "none");
            return FALSE;
        }
        for (j = 0; existing && j < existing->len; j++) {
            const VhVfioDmaRange *e =
                &g_array_index(existing, VhVfioDmaRange, j);
            if (r->iova < e->iova + e->size && e->iova < r->iova + r->size) {
                g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID,
                            "IOVA range [0x%" G_GINT64_MODIFIER "x, 0x%" G_GINT64_MODIFIER "x] overlaps the mapping [0x%" G_GINT64_MODIFIER "x, 0x%" G_GINT64_MODIFIER "x]; unmap it first",
                            r->iova, last, e->iova, e->iova + e->size - 1);
                return FALSE;
            }
        }
    }
    if (ranges->len > dma_avail) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_NO_SPACE,
                    "%u DMA mappings needed but the IOMMU allows only %u more (dma_avail; the vfio_iommu_type1 dma_entry_limit module parameter sets it); map fewer, larger ranges",
                    ranges->len, dma_avail);
        return FALSE;
    }
    return TRUE;
}

char *
vh_vfio_memlock_advice(guint64 needed, guint64 already, guint64 limit)
{
    g_autofree char *need_s = vh_vfio_format_size(needed);
    g_autofree char *total_s = vh_vfio_format_size(needed + already);
    g_autofree char *limit_s = limit == G_MAXUINT64 ?
        g_strdup("unlimited") : vh_vfio_format_size(limit);
    g_autofree char *kib = g_strdup_printf("%" G_GUINT64_FORMAT,
                                           (needed + already + 1023) / 1024);

    if (limit == G_MAXUINT64)
        return g_strdup_printf("mapping %s for DMA needs %s of locked memory in all; RLIMIT_MEMLOCK is unlimited, so the host is short of memory it can pin",
                               need_s, total_s);
    return g_strdup_printf("mapping %s for DMA needs %s of locked memory in all but RLIMIT_MEMLOCK is %s: raise it to at least %s KiB (ulimit -l %s in the starting shell, prlimit --pid PID --memlock=BYTES:BYTES, or LimitMEMLOCK= in the service unit)",
                           need_s, total_s, limit_s, kib, kib);
}

/* ---- ROM (PCI Firmware 3.0 5.1: header, 5.1.2: data structure) ---- */

gboolean
vh_vfio_rom_check(const guint8 *rom, gsize len, GError **error)
{
    guint16 pcir;

    if (len < 0x1a) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_CORRUPT,
                    "ROM of %zu bytes is too short for a ROM header", len);
        return FALSE;
    }
    if (rom[0] != 0x55 || rom[1] != 0xaa) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_CORRUPT,
                    "ROM has no 0xAA55 signature (reads 0x%02x%02x)",
                    rom[1], rom[0]);
        return FALSE;
    }
    pcir = rom[0x18] | (rom[0x19] << 8);
    if (pcir < 0x1a || (gsize) pcir + 4 > len) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_CORRUPT,
                    "ROM's PCI data structure pointer 0x%x lies outside the ROM (%zu bytes)",
                    pcir, len);
        return FALSE;
    }
    if (memcmp(rom + pcir, "PCIR", 4) != 0) {
        g_set_error(error, VH_VFIO_ERROR, VH_VFIO_ERROR_CORRUPT,
                    "ROM has no \"PCIR\" signature at 0x%x", pcir);
        return FALSE;
    }
    return TRUE;
}
