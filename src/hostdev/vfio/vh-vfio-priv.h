/*
 * vh-vfio-priv.h: the library's objects and its pure arithmetic, shared by
 * its files and exported for the unit tests only
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <linux/vfio.h>

#include "vh-vfio.h"

G_BEGIN_DECLS

struct _VhVfioContainer {
    gint refcount;
    const VhVfioOps *ops;
    gpointer ops_data;
    int fd;
    int iommu_type;             /* 0 until VFIO_SET_IOMMU */
    GArray *mappings;           /* VhVfioDmaRange, one per kernel mapping */
    GPtrArray *groups;          /* VhVfioGroup *, attached, not referenced */
    guint64 map_calls;
    gsize info_len;             /* argsz VFIO_IOMMU_GET_INFO asked for */
};

struct _VhVfioGroup {
    gint refcount;
    const VhVfioOps *ops;
    gpointer ops_data;
    int fd;
    int id;
    guint32 flags;              /* VFIO_GROUP_FLAGS_* last read */
    VhVfioContainer *container; /* referenced once attached */
};

typedef struct {
    guint64 offset;             /* within the BAR */
    guint64 size;               /* bytes served by the mapping */
    gsize map_len;              /* page multiple given to mmap */
    guint8 *addr;
} VhVfioBarMapping;

typedef struct {
    gboolean mapped;
    GArray *maps;               /* VhVfioBarMapping */
} VhVfioBar;

typedef struct {
    GArray *eventfds;           /* int per vector, -1 before creation */
    GArray *in_use;             /* gboolean per vector: handed to the kernel */
    guint enabled;              /* vectors the kernel has (0: disabled) */
} VhVfioIrqState;

#define VH_VFIO_IRQ_INDEXES 5

struct _VhVfioDevice {
    gint refcount;
    const VhVfioOps *ops;
    gpointer ops_data;
    VhVfioGroup *group;
    char *name;
    int fd;
    VhVfioDeviceInfo info;
    VhVfioMsix msix;
    GHashTable *regions;        /* index -> VhVfioRegion * */
    GHashTable *irq_infos;      /* index -> VhVfioIrqInfo * */
    VhVfioBar bars[6];
    VhVfioIrqState irqs[VH_VFIO_IRQ_INDEXES];
};

/* ---- capability chains (region info, IOMMU info) ---- */

/*
 * Called for each capability: @cap points at its header, @avail is the
 * number of bytes from there to the end of the buffer (the capability's
 * own structure must fit in it).
 */
typedef gboolean (*VhVfioCapFunc)(gpointer data, guint16 id, guint16 version,
                                  const guint8 *cap, gsize avail,
                                  GError **error);

/*
 * Walks the chain starting at @first in @buf of @len bytes (the argsz the
 * kernel filled).  Offsets must lie at or after @min_offset (the end of
 * the fixed structure) with a whole header inside @len; an offset seen
 * twice is a cycle.  Both give VH_VFIO_ERROR_CORRUPT.
 */
gboolean vh_vfio_caps_walk(const guint8 *buf, gsize len, guint32 first,
                           gsize min_offset, VhVfioCapFunc func,
                           gpointer data, GError **error);

/* A region from the bytes of a struct vfio_region_info (+ chain) of
 * @len bytes.  Free with vh_vfio_region_free(). */
gboolean vh_vfio_region_parse(const void *buf, gsize len,
                              VhVfioRegion **ret_region, GError **error);
void vh_vfio_region_free(VhVfioRegion *region);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhVfioRegion, vh_vfio_region_free)

/* IOVA ranges (GArray of VhVfioIovaRange, may be NULL: none reported) and
 * dma_avail (G_MAXUINT32: not reported) from a struct
 * vfio_iommu_type1_info of @len bytes. */
gboolean vh_vfio_iommu_info_parse(const void *buf, gsize len,
                                  guint64 *ret_pgsizes, GArray **ret_ranges,
                                  guint32 *ret_dma_avail, GError **error);

/* ---- BAR arithmetic ---- */

/* The MSI-X table hole [floor(offset), ceil(offset + size)) in pages. */
void vh_vfio_msix_hole(guint64 table_offset, guint64 table_size,
                       gsize page_size, guint64 *ret_start,
                       guint64 *ret_end);

/*
 * The mmap-able areas of @region (GArray of VhVfioArea): its sparse areas,
 * or the whole region, when it has VFIO_REGION_INFO_FLAG_MMAP, minus
 * [@hole_start, @hole_end) when @has_hole.  Areas are clipped to the
 * region and keep page-aligned starts; empty pieces are dropped.
 */
GArray *vh_vfio_mmap_areas(const VhVfioRegion *region, gboolean has_hole,
                           guint64 hole_start, guint64 hole_end,
                           gsize page_size);

/* ---- interrupts ---- */

/*
 * A struct vfio_irq_set with its data: @count s32 fds from @fds when
 * @flags has VFIO_IRQ_SET_DATA_EVENTFD, @count bytes from @bools for
 * DATA_BOOL, nothing for DATA_NONE.  argsz is the whole size, also put in
 * *ret_size.  Free with g_free().
 */
struct vfio_irq_set *vh_vfio_irq_set_new(guint32 index, guint32 flags,
                                         guint32 start, guint32 count,
                                         const gint32 *fds,
                                         const guint8 *bools,
                                         gsize *ret_size);

/* ---- DMA ---- */

/* GCompareFunc of two VhVfioDmaRange by IOVA (g_array_sort()). */
gint vh_vfio_dma_range_cmp(gconstpointer a, gconstpointer b);

/*
 * @ranges sorted by IOVA and coalesced where adjacent in both IOVA and
 * vaddr with equal flags (GArray of VhVfioDmaRange).  Overlapping or
 * empty ranges, and unaligned ones (@page_size), are VH_VFIO_ERROR_INVALID.
 */
GArray *vh_vfio_dma_coalesce(const VhVfioDmaRange *ranges, gsize n_ranges,
                             guint64 page_size, GError **error);

/*
 * Refuses, before any call, what the kernel would refuse: a range outside
 * every IOVA range (@iova_ranges may be NULL: no limit), overlapping an
 * @existing mapping, or more ranges than @dma_avail.
 */
gboolean vh_vfio_dma_check(const GArray *ranges, const GArray *iova_ranges,
                           guint32 dma_avail, const GArray *existing,
                           GError **error);

/* "mapping N needs ...; RLIMIT_MEMLOCK is ...: raise it ..." Free with
 * g_free(). */
char *vh_vfio_memlock_advice(guint64 needed, guint64 already, guint64 limit);

/* ---- ROM ---- */

/* The 0xAA55 signature and the "PCIR" structure at the pointer at 0x18,
 * within @len. */
gboolean vh_vfio_rom_check(const guint8 *rom, gsize len, GError **error);

/* ---- shared helpers ---- */

/* The container's weak list of groups (for hot reset ownership). */
void vh_vfio_container_add_group(VhVfioContainer *container,
                                 VhVfioGroup *group);
void vh_vfio_container_remove_group(VhVfioContainer *container,
                                    VhVfioGroup *group);

/* "group 4" or "the group". Free with g_free(). */
char *vh_vfio_group_describe(const VhVfioGroup *group);

/* Re-arms the interrupts that were enabled (after a reset). */
gboolean vh_vfio_device_irq_rearm(VhVfioDevice *dev, GError **error);

/* Disables every interrupt and closes the eventfds (at free). */
void vh_vfio_device_irq_release(VhVfioDevice *dev);

G_END_DECLS
