/*
 * vh-fake-vfio.h: a simulated VFIO kernel behind VhVfioOps for unit tests
 *
 * One container (fd 100), one group per VhFakeVfioGroup (fd 101 + i; the
 * first holds the device) and one device (fd 200).  Its ioctls keep to the
 * 6.1 kernel's semantics as far as the library uses them: argsz probing
 * for capability chains, SET_IRQS validation (INTx/MSI/MSI-X exclusive, a
 * NORESIZE block cannot grow while enabled), DATA_NONE triggers signal
 * the eventfds (real eventfds, so waits work), type1 mappings with
 * EEXIST, whole-mapping unmaps and dma_avail accounting.
 *
 * Every ioctl is logged by name; SET_IRQS buffers are kept byte for byte.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "vh-vfio.h"

G_BEGIN_DECLS

#define VH_FAKE_VFIO_CONTAINER_FD 100
#define VH_FAKE_VFIO_GROUP_FD 101
#define VH_FAKE_VFIO_DEVICE_FD 200
#define VH_FAKE_VFIO_REGIONS 9

typedef struct {
    /* Capability chain bytes appended after struct vfio_region_info; the
     * test builds them (offsets relative to the start of the info). */
    guint32 flags;
    guint64 size;
    GByteArray *caps;           /* NULL: none */
    GByteArray *data;           /* contents; size bytes, zeroed */
} VhFakeVfioRegion;

typedef struct {
    int id;
    guint32 flags;              /* VFIO_GROUP_FLAGS_* */
    gboolean container_set;
} VhFakeVfioGroup;

typedef struct {
    guint32 flags;
    guint32 count;
    /* What the kernel holds now. */
    guint32 enabled;            /* 0: disabled */
    int trigger[64];            /* eventfd per vector, -1 none */
    gboolean masked;
} VhFakeVfioIrq;

typedef struct {
    guint64 iova;
    guint64 size;
    guint64 vaddr;
} VhFakeVfioMap;

typedef struct {
    /* container */
    gboolean has_type1v2;
    int iommu_type;             /* 0 until VFIO_SET_IOMMU */
    guint64 pgsizes;
    GArray *iova_ranges;        /* VhVfioIovaRange; NULL: cap not reported */
    gboolean report_dma_avail;
    guint32 dma_avail;
    GArray *maps;               /* VhFakeVfioMap */
    int map_errno;              /* > 0: MAP_DMA fails with it */
    guint64 memlock_limit;
    guint64 unmap_short;        /* bytes the fake "forgets" to unmap */

    /* groups */
    GArray *groups;             /* VhFakeVfioGroup */

    /* device */
    const char *device_name;
    guint32 device_flags;
    guint32 num_irqs;
    VhFakeVfioRegion regions[VH_FAKE_VFIO_REGIONS];
    VhFakeVfioIrq irqs[5];
    /* hot reset info: dependent devices */
    GArray *hot_reset_devs;     /* struct vfio_pci_dependent_device */
    int hot_reset_errno;        /* > 0: GET_PCI_HOT_RESET_INFO fails */
    GArray *hot_reset_fds;      /* group fds given to the last hot reset */
    guint resets;

    gsize page_size;

    /* log */
    GPtrArray *calls;           /* "SET_IRQS", "MAP_DMA", "pread", ... */
    GPtrArray *irq_sets;        /* GBytes of each SET_IRQS argument */
    guint preads;
    guint pwrites;
    guint mmaps;
    guint closes;
    int open_errno;             /* > 0: open() fails with it */
} VhFakeVfio;

/* A device with @n_groups groups (ids from @group_ids, the first the
 * device's), all viable, PCI flags, 9 regions, 5 IRQ indexes with INTx 1
 * and the rest 0, config space 256 bytes.  Free with vh_fake_vfio_free(). */
VhFakeVfio *vh_fake_vfio_new(const char *device_name, const int *group_ids,
                             gsize n_groups);
void vh_fake_vfio_free(VhFakeVfio *fake);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhFakeVfio, vh_fake_vfio_free)

/* The ops; pass the fake as ops_data. */
const VhVfioOps *vh_fake_vfio_ops(void);

/* Sets region @index: flags, size (contents zeroed) and caps (copied). */
void vh_fake_vfio_set_region(VhFakeVfio *fake, guint index, guint32 flags,
                             guint64 size, const guint8 *caps,
                             gsize caps_len);

/* Calls logged so far, joined by " " (free with g_free()). */
char *vh_fake_vfio_calls(const VhFakeVfio *fake);
void vh_fake_vfio_clear_log(VhFakeVfio *fake);

/* The group, container and device opened through the fake as a test
 * normally wants them. */
VhVfioDevice *vh_fake_vfio_open(VhFakeVfio *fake, GError **error);

G_END_DECLS
