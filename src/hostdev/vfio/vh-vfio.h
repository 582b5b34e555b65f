/*
 * vh-vfio.h: the userspace VFIO library (container + group uAPI, type1)
 *
 * Objects, from the bottom up:
 *
 *   VhVfioOps        every kernel call (open, close, ioctl, pread, pwrite,
 *                    mmap, munmap, eventfd, ...) behind one table; the
 *                    real kernel is vh_vfio_ops_kernel(), tests pass fakes.
 *   VhVfioContainer  a /dev/vfio/vfio fd: the type1 IOMMU, its IOVA ranges
 *                    and dma_avail, DMA map/unmap.  Shared between groups
 *                    (reference counted).
 *   VhVfioGroup      a /dev/vfio/N fd: viability, attaching to a container.
 *   VhVfioDevice     a device fd: device/region/IRQ info, config space,
 *                    BARs (mmap around the MSI-X table, pread fallback),
 *                    ROM, INTx/MSI/MSI-X/ERR/REQ interrupts, reset.
 *
 * Layers: the VhVfioOps functions return -errno (or a value >= 0); every
 * function of this header returns gboolean or a pointer and sets a GError
 * in the VH_VFIO_ERROR domain (src/util/vh-error.h) on failure.  ret_*
 * outputs are set only on success.  Nothing here logs above g_debug and
 * nothing here reads sysfs, except vh_vfio_group_blockers_sysfs() and
 * vh_vfio_device_open_address() which go through the VhSysfs seam.
 *
 * Ownership: objects are reference counted; *_ref() adds one, *_unref()
 * drops one and accepts NULL.  A device holds its group, a group holds its
 * container once attached.  Fds given to a *_new_from_fd() belong to the
 * new object from then on (also when it fails: they are closed).  Eventfds
 * a device creates stay owned by the device; callers may poll and read
 * them but never close them.  Structures returned as "const" are owned by
 * the object and live as long as it does.
 *
 * Not thread safe: one object, one thread at a time.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>
#include <linux/vfio.h>         /* the VFIO_* flag values used below */
#include <sys/types.h>

#include "vh-error.h"
#include "vh-pci-address.h"
#include "vh-sysfs.h"

G_BEGIN_DECLS

/* ------------------------------------------------------------------ */
/* The kernel seam                                                     */
/* ------------------------------------------------------------------ */

/*
 * Every function returns a value >= 0 on success and -errno on failure
 * (no errno to look at afterwards).  @data is the pointer given together
 * with the table (NULL for the real kernel).
 */
typedef struct {
    /* open(2) of a character device (O_RDWR | O_CLOEXEC); returns the fd.
     * Used only by the privileged openers (/dev/vfio/vfio, /dev/vfio/N). */
    int (*open)(gpointer data, const char *path);
    int (*close)(gpointer data, int fd);
    /* ioctl(2); returns the ioctl's value (>= 0). */
    int (*ioctl)(gpointer data, int fd, unsigned long request, void *arg);
    /* pread(2)/pwrite(2); return the byte count. */
    gssize (*pread)(gpointer data, int fd, void *buf, gsize count,
                    off_t offset);
    gssize (*pwrite)(gpointer data, int fd, const void *buf, gsize count,
                     off_t offset);
    /* mmap(2) with MAP_SHARED; the address in *ret_addr on success. */
    int (*mmap)(gpointer data, int fd, gsize length, int prot, off_t offset,
                void **ret_addr);
    int (*munmap)(gpointer data, void *addr, gsize length);
    /* eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK); returns the fd. */
    int (*eventfd)(gpointer data);
    /* Waits up to @timeout_ms (-1: forever) for the eventfd @fd to be
     * signalled and reads its counter into *ret_count; -ETIMEDOUT when
     * it was not. */
    int (*eventfd_wait)(gpointer data, int fd, int timeout_ms,
                        guint64 *ret_count);
    /* The host's page size (sysconf(_SC_PAGESIZE)). */
    gsize (*page_size)(gpointer data);
    /* The soft RLIMIT_MEMLOCK in bytes (G_MAXUINT64: unlimited); used
     * only to explain a failed DMA map. */
    int (*memlock_limit)(gpointer data, guint64 *ret_limit);
} VhVfioOps;

/* The real kernel; a static table, data NULL. */
const VhVfioOps *vh_vfio_ops_kernel(void);

/* ------------------------------------------------------------------ */
/* Container: type1 IOMMU and DMA                                      */
/* ------------------------------------------------------------------ */

typedef struct _VhVfioContainer VhVfioContainer;

typedef struct {
    guint64 start;      /* first usable IOVA */
    guint64 end;        /* last usable IOVA (inclusive, as the kernel says) */
} VhVfioIovaRange;

/*
 * Opens /dev/vfio/vfio through @ops (privileged).  Checks the API version
 * and that type1 (v2 preferred) is offered.  Free with
 * vh_vfio_container_unref().
 */
VhVfioContainer *vh_vfio_container_new(const VhVfioOps *ops,
                                       gpointer ops_data, GError **error);

/* As vh_vfio_container_new() from a passed fd, which the container owns. */
VhVfioContainer *vh_vfio_container_new_from_fd(const VhVfioOps *ops,
                                               gpointer ops_data, int fd,
                                               GError **error);

VhVfioContainer *vh_vfio_container_ref(VhVfioContainer *container);
void vh_vfio_container_unref(VhVfioContainer *container);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhVfioContainer, vh_vfio_container_unref)

int vh_vfio_container_get_fd(const VhVfioContainer *container);

/* TRUE once an IOMMU model is set (a group was attached). */
gboolean vh_vfio_container_has_iommu(const VhVfioContainer *container);

/*
 * VFIO_IOMMU_GET_INFO, asked anew: the IOMMU page sizes (bitmap), the
 * usable IOVA ranges (VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE; when the kernel
 * does not report them: one range covering everything) and the number of
 * DMA mappings still available (VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL;
 * G_MAXUINT32 when not reported).  Needs an attached group.
 * *ret_ranges: GArray of VhVfioIovaRange, free with g_array_unref().
 * Any ret_ pointer may be NULL.
 */
gboolean vh_vfio_container_get_iommu_info(VhVfioContainer *container,
                                          guint64 *ret_pgsizes,
                                          GArray **ret_ranges,
                                          guint32 *ret_dma_avail,
                                          GError **error);

typedef enum {
    VH_VFIO_DMA_READ  = 1 << 0,     /* the device may read (VFIO_DMA_MAP_FLAG_READ) */
    VH_VFIO_DMA_WRITE = 1 << 1,     /* the device may write */
} VhVfioDmaFlags;

typedef struct {
    guint64 vaddr;      /* process address, page aligned */
    guint64 iova;       /* device address, page aligned */
    guint64 size;       /* page multiple, > 0 */
    VhVfioDmaFlags flags;
} VhVfioDmaRange;

/*
 * Maps @n_ranges ranges for DMA.  Ranges that are adjacent in both vaddr
 * and IOVA with the same flags are coalesced into one VFIO_IOMMU_MAP_DMA.
 * Before any map call: ranges must be page aligned (IOMMU page size),
 * must not overlap each other or an existing mapping, must lie within
 * the IOVA ranges the kernel reports, and the number of map calls must
 * fit dma_avail (VH_VFIO_ERROR_NO_SPACE naming the range, nothing
 * mapped).  ENOMEM from the kernel gives VH_VFIO_ERROR_MEMLOCK saying how
 * much is needed and how to raise RLIMIT_MEMLOCK.  On a failure half way
 * the ranges mapped by this call are unmapped again.
 * Costs one VFIO_IOMMU_GET_INFO plus one map call per coalesced range.
 */
gboolean vh_vfio_container_dma_map_ranges(VhVfioContainer *container,
                                          const VhVfioDmaRange *ranges,
                                          gsize n_ranges, GError **error);

/* One range: vh_vfio_container_dma_map_ranges() with @n_ranges 1. */
gboolean vh_vfio_container_dma_map(VhVfioContainer *container,
                                   gconstpointer vaddr, guint64 iova,
                                   guint64 size, VhVfioDmaFlags flags,
                                   GError **error);

/*
 * Unmaps [@iova, @iova + @size), which must cover whole mappings made
 * through this container (type1 v2 refuses to split one): else
 * VH_VFIO_ERROR_INVALID naming the mapping, nothing unmapped.  The size
 * the kernel reports unmapped is compared with @size
 * (VH_VFIO_ERROR_FAILED when they differ).
 */
gboolean vh_vfio_container_dma_unmap(VhVfioContainer *container,
                                     guint64 iova, guint64 size,
                                     GError **error);

/* Mappings in place, as coalesced (GArray of VhVfioDmaRange, sorted by
 * IOVA), owned by @container and valid until the next map/unmap. */
const GArray *vh_vfio_container_get_mappings(const VhVfioContainer *container);

/* Map calls made since the container was created (for tests and the
 * benchmark: the library's cost in ioctls). */
guint64 vh_vfio_container_get_map_calls(const VhVfioContainer *container);

/* ------------------------------------------------------------------ */
/* Group                                                               */
/* ------------------------------------------------------------------ */

typedef struct _VhVfioGroup VhVfioGroup;

/*
 * The members of group @group_id that keep it from being viable, each a
 * string such as "0000:01:02.0 (e1000)", in *ret_blockers (GPtrArray of
 * char *, with a free function; may be empty).  The library calls this
 * only when the kernel says the group is not viable, to name them.
 */
typedef gboolean (*VhVfioBlockersFunc)(gpointer data, int group_id,
                                       GPtrArray **ret_blockers,
                                       GError **error);

/* A VhVfioBlockersFunc reading the group through the VhSysfs seam (@data
 * is a const VhSysfs *): members on a host driver, bridges excepted. */
gboolean vh_vfio_group_blockers_sysfs(gpointer data, int group_id,
                                      GPtrArray **ret_blockers,
                                      GError **error);

/*
 * Opens /dev/vfio/@group_id through @ops (privileged).  Free with
 * vh_vfio_group_unref().
 */
VhVfioGroup *vh_vfio_group_new(const VhVfioOps *ops, gpointer ops_data,
                               int group_id, GError **error);

/*
 * A group from a passed fd, which the group owns.  @group_id is what the
 * caller knows of its number (-1: unknown; messages then say "the group").
 * Reads VFIO_GROUP_GET_STATUS.
 */
VhVfioGroup *vh_vfio_group_new_from_fd(const VhVfioOps *ops,
                                       gpointer ops_data, int fd,
                                       int group_id, GError **error);

VhVfioGroup *vh_vfio_group_ref(VhVfioGroup *group);
void vh_vfio_group_unref(VhVfioGroup *group);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhVfioGroup, vh_vfio_group_unref)

int vh_vfio_group_get_fd(const VhVfioGroup *group);
int vh_vfio_group_get_id(const VhVfioGroup *group);
/* The container once attached, else NULL; owned by @group. */
VhVfioContainer *vh_vfio_group_get_container(const VhVfioGroup *group);

/*
 * VFIO_GROUP_FLAGS_VIABLE, asked anew.  When not viable:
 * VH_VFIO_ERROR_NOT_VIABLE, naming the blocking members through
 * @blockers (may be NULL: then the message cannot name them) and saying
 * to bind them to vfio-pci or pci-stub.
 */
gboolean vh_vfio_group_check_viable(VhVfioGroup *group,
                                    VhVfioBlockersFunc blockers,
                                    gpointer blockers_data, GError **error);

/*
 * Attaches @group to @container (VFIO_GROUP_SET_CONTAINER), then sets the
 * IOMMU model on the container if this is its first group (type1 v2, else
 * type1).  A group whose status says it already has a container (the
 * manager attached it before passing both fds) is taken as attached to
 * @container.  Several groups may share one container.
 */
gboolean vh_vfio_group_attach(VhVfioGroup *group, VhVfioContainer *container,
                              GError **error);

/* ------------------------------------------------------------------ */
/* Device                                                              */
/* ------------------------------------------------------------------ */

typedef struct _VhVfioDevice VhVfioDevice;

/* vfio-pci region and IRQ indexes (VFIO_PCI_*_INDEX), for readability. */
enum {
    VH_VFIO_PCI_BAR0 = 0,
    VH_VFIO_PCI_BAR5 = 5,
    VH_VFIO_PCI_ROM = 6,
    VH_VFIO_PCI_CONFIG = 7,
    VH_VFIO_PCI_VGA = 8,
};

typedef enum {
    VH_VFIO_IRQ_INTX = 0,
    VH_VFIO_IRQ_MSI = 1,
    VH_VFIO_IRQ_MSIX = 2,
    VH_VFIO_IRQ_ERR = 3,
    VH_VFIO_IRQ_REQ = 4,
} VhVfioIrqIndex;

typedef struct {
    guint32 flags;          /* VFIO_DEVICE_FLAGS_* */
    guint32 num_regions;
    guint32 num_irqs;
} VhVfioDeviceInfo;

typedef struct {
    guint64 offset;         /* within the region */
    guint64 size;
} VhVfioArea;

typedef struct {
    guint32 index;
    guint32 flags;          /* VFIO_REGION_INFO_FLAG_* */
    guint64 size;
    guint64 offset;         /* of the region in the device fd */
    /* From the capability chain: */
    gboolean has_sparse;    /* VFIO_REGION_INFO_CAP_SPARSE_MMAP present */
    GArray *sparse;         /* of VhVfioArea; empty if !has_sparse */
    gboolean msix_mappable; /* VFIO_REGION_INFO_CAP_MSIX_MAPPABLE */
    gboolean has_type;      /* VFIO_REGION_INFO_CAP_TYPE present */
    guint32 type;
    guint32 subtype;
} VhVfioRegion;

typedef struct {
    guint32 index;
    guint32 flags;          /* VFIO_IRQ_INFO_* */
    guint32 count;
} VhVfioIrqInfo;

/* The MSI-X capability found in config space (PCI 3.0 6.8.2). */
typedef struct {
    gboolean present;
    guint16 entries;        /* table size */
    guint32 table_bar;      /* BIR */
    guint64 table_offset;
    guint32 pba_bar;
    guint64 pba_offset;
} VhVfioMsix;

/*
 * VFIO_GROUP_GET_DEVICE_FD for @name ("0000:00:03.0") in @group, which
 * must be viable and attached to a container.  Reads the device info,
 * and for a PCI device config space (MSI-X capability).  Free with
 * vh_vfio_device_unref(): it unmaps BARs, disables the interrupts it
 * enabled, closes its eventfds and the device fd, and drops the group.
 */
VhVfioDevice *vh_vfio_device_new(VhVfioGroup *group, const char *name,
                                 GError **error);

/*
 * The whole open from passed fds: a group from @group_fd (and @group_id,
 * -1 if unknown), the viability check (names blockers through @blockers
 * if given), a container from @container_fd or, when it is -1, the
 * container @shared (may be NULL: then one is opened through @ops, which
 * needs privilege), attach, and the device @name.  Both fds belong to the
 * library from the call on.
 */
VhVfioDevice *vh_vfio_device_new_from_fds(const VhVfioOps *ops,
                                          gpointer ops_data,
                                          int group_fd, int group_id,
                                          int container_fd,
                                          VhVfioContainer *shared,
                                          const char *name,
                                          VhVfioBlockersFunc blockers,
                                          gpointer blockers_data,
                                          GError **error);

/*
 * Privileged open by address: the group from @sysfs
 * ("bus/pci/devices/ADDR/iommu_group"), /dev/vfio/N, the viability check
 * (blockers named through @sysfs), a new container or @shared, and the
 * device.  The device must be bound to vfio-pci (VH_VFIO_ERROR_INVALID
 * naming its driver otherwise).
 */
VhVfioDevice *vh_vfio_device_open_address(const VhVfioOps *ops,
                                          gpointer ops_data,
                                          const VhSysfs *sysfs,
                                          const VhPciAddress *addr,
                                          VhVfioContainer *shared,
                                          GError **error);

VhVfioDevice *vh_vfio_device_ref(VhVfioDevice *dev);
void vh_vfio_device_unref(VhVfioDevice *dev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhVfioDevice, vh_vfio_device_unref)

const char *vh_vfio_device_get_name(const VhVfioDevice *dev);
int vh_vfio_device_get_fd(const VhVfioDevice *dev);
VhVfioGroup *vh_vfio_device_get_group(const VhVfioDevice *dev);
const VhVfioDeviceInfo *vh_vfio_device_get_info(const VhVfioDevice *dev);
const VhVfioMsix *vh_vfio_device_get_msix(const VhVfioDevice *dev);

/*
 * VFIO_DEVICE_GET_REGION_INFO for @index with the capability chain
 * walked (asked once, then cached).  A chain whose next offset points
 * outside the returned buffer, inside a header, or back to a capability
 * already seen is VH_VFIO_ERROR_CORRUPT.  An index the device does not
 * have (EINVAL, e.g. VGA on a non-VGA device) is VH_VFIO_ERROR_NOT_FOUND.
 * *ret_region is owned by @dev.
 */
gboolean vh_vfio_device_get_region(VhVfioDevice *dev, guint32 index,
                                   const VhVfioRegion **ret_region,
                                   GError **error);

/* VFIO_DEVICE_GET_IRQ_INFO for @index (cached); owned by @dev. */
gboolean vh_vfio_device_get_irq_info(VhVfioDevice *dev, guint32 index,
                                     const VhVfioIrqInfo **ret_info,
                                     GError **error);

/* --- Region I/O by pread/pwrite (any region, any size) --- */

/* Exactly @len bytes at @offset of region @index, or an error naming the
 * region and offset (a short transfer is an error). */
gboolean vh_vfio_device_region_read(VhVfioDevice *dev, guint32 index,
                                    guint64 offset, void *buf, gsize len,
                                    GError **error);
gboolean vh_vfio_device_region_write(VhVfioDevice *dev, guint32 index,
                                     guint64 offset, const void *buf,
                                     gsize len, GError **error);

/* --- Config space, typed (little endian on the wire, host order here) --- */

gboolean vh_vfio_device_config_read(VhVfioDevice *dev, guint64 offset,
                                    void *buf, gsize len, GError **error);
gboolean vh_vfio_device_config_write(VhVfioDevice *dev, guint64 offset,
                                     const void *buf, gsize len,
                                     GError **error);
gboolean vh_vfio_device_config_read_u8(VhVfioDevice *dev, guint64 offset,
                                       guint8 *ret_value, GError **error);
gboolean vh_vfio_device_config_read_u16(VhVfioDevice *dev, guint64 offset,
                                        guint16 *ret_value, GError **error);
gboolean vh_vfio_device_config_read_u32(VhVfioDevice *dev, guint64 offset,
                                        guint32 *ret_value, GError **error);
gboolean vh_vfio_device_config_write_u8(VhVfioDevice *dev, guint64 offset,
                                        guint8 value, GError **error);
gboolean vh_vfio_device_config_write_u16(VhVfioDevice *dev, guint64 offset,
                                         guint16 value, GError **error);
gboolean vh_vfio_device_config_write_u32(VhVfioDevice *dev, guint64 offset,
                                         guint32 value, GError **error);

/* --- BARs: mmap where allowed, pread/pwrite elsewhere --- */

/*
 * The parts of BAR @bar that may be mmapped, in *ret_areas (GArray of
 * VhVfioArea, offsets within the BAR, page aligned; free with
 * g_array_unref()): the sparse areas (or the whole BAR) when the region
 * has VFIO_REGION_INFO_FLAG_MMAP, minus the MSI-X table hole
 * [floor(table offset), ceil(table end)) in pages when the MSI-X table
 * lives in this BAR and the region is not MSIX_MAPPABLE.  Empty when
 * nothing may be mapped.
 */
gboolean vh_vfio_device_bar_mmap_areas(VhVfioDevice *dev, guint32 bar,
                                       GArray **ret_areas, GError **error);

/* The same for any region @index: BARs as above, other regions their
 * sparse areas or whole when they have VFIO_REGION_INFO_FLAG_MMAP. */
gboolean vh_vfio_device_region_mmap_areas(VhVfioDevice *dev, guint32 index,
                                          GArray **ret_areas, GError **error);

/*
 * Maps the mmap-able areas of BAR @bar (idempotent).  A BAR with no such
 * area is not an error: its accesses then all go through pread/pwrite.
 * *ret_mapped (may be NULL) tells the number of areas mapped.
 */
gboolean vh_vfio_device_bar_map(VhVfioDevice *dev, guint32 bar,
                                guint *ret_mapped, GError **error);

/* Unmaps BAR @bar (nothing to do if not mapped). */
void vh_vfio_device_bar_unmap(VhVfioDevice *dev, guint32 bar);

/*
 * Accesses to BAR @bar: through the mapping when [offset, offset+len)
 * lies inside one mapped area (1, 2, 4 and 8 byte accesses are single
 * volatile loads/stores of that width), else pread/pwrite.
 */
gboolean vh_vfio_device_bar_read(VhVfioDevice *dev, guint32 bar,
                                 guint64 offset, void *buf, gsize len,
                                 GError **error);
gboolean vh_vfio_device_bar_write(VhVfioDevice *dev, guint32 bar,
                                  guint64 offset, const void *buf, gsize len,
                                  GError **error);
gboolean vh_vfio_device_bar_read_u32(VhVfioDevice *dev, guint32 bar,
                                     guint64 offset, guint32 *ret_value,
                                     GError **error);
gboolean vh_vfio_device_bar_write_u32(VhVfioDevice *dev, guint32 bar,
                                      guint64 offset, guint32 value,
                                      GError **error);
gboolean vh_vfio_device_bar_read_u64(VhVfioDevice *dev, guint32 bar,
                                     guint64 offset, guint64 *ret_value,
                                     GError **error);
gboolean vh_vfio_device_bar_write_u64(VhVfioDevice *dev, guint32 bar,
                                      guint64 offset, guint64 value,
                                      GError **error);

/* TRUE when [offset, offset+len) of BAR @bar is served by a mapping. */
gboolean vh_vfio_device_bar_is_mapped(const VhVfioDevice *dev, guint32 bar,
                                      guint64 offset, gsize len);

/*
 * The option ROM: read whole, checked for the 0xAA55 signature and a
 * "PCIR" data structure at the pointer in bytes 0x18-0x19 (PCI Firmware
 * 3.0 5.1).  VH_VFIO_ERROR_NOT_FOUND when the device has no ROM region
 * (size 0), VH_VFIO_ERROR_CORRUPT when a check fails.  Free with
 * g_bytes_unref().
 */
gboolean vh_vfio_device_rom_read(VhVfioDevice *dev, GBytes **ret_rom,
                                 GError **error);

/* --- Interrupts --- */

/*
 * INTx: an eventfd as trigger (VFIO_IRQ_SET_ACTION_TRIGGER), then unmask.
 * The line is masked by the kernel on each interrupt (AUTOMASKED): call
 * vh_vfio_device_intx_unmask() after handling one.
 */
gboolean vh_vfio_device_intx_enable(VhVfioDevice *dev, GError **error);
gboolean vh_vfio_device_intx_unmask(VhVfioDevice *dev, GError **error);

/* MSI with @count vectors (1..info count), one eventfd each. */
gboolean vh_vfio_device_msi_enable(VhVfioDevice *dev, guint count,
                                   GError **error);

/*
 * MSI-X vector @vector, enabled lazily as QEMU's vfio-pci does: when the
 * vector lies beyond the vectors enabled so far and the kernel cannot add
 * one without resizing (VFIO_IRQ_INFO_NORESIZE), MSI-X is disabled and
 * enabled again with vector+1 vectors, handing the same eventfds back for
 * the vectors already in use (unused ones get fd -1); otherwise only this
 * vector is set.  Eventfds stay stable for the device's life.
 */
gboolean vh_vfio_device_msix_enable_vector(VhVfioDevice *dev, guint vector,
                                           GError **error);

/* De-assigns one MSI-X vector (SET_IRQS with fd -1 at @vector, count 1);
 * its eventfd is kept for a later enable. */
gboolean vh_vfio_device_msix_disable_vector(VhVfioDevice *dev, guint vector,
                                            GError **error);

/* The error (AER) and request (unplug) interrupts: one eventfd each.
 * VH_VFIO_ERROR_UNSUPPORTED when the device reports count 0. */
gboolean vh_vfio_device_err_enable(VhVfioDevice *dev, GError **error);
gboolean vh_vfio_device_req_enable(VhVfioDevice *dev, GError **error);

/* Disables @index (SET_IRQS DATA_NONE | ACTION_TRIGGER, count 0).
 * Eventfds are kept. */
gboolean vh_vfio_device_irq_disable(VhVfioDevice *dev, VhVfioIrqIndex index,
                                    GError **error);

/* Loopback: makes the kernel signal vector @vector of @index as if the
 * device had raised it (DATA_NONE | ACTION_TRIGGER, count 1). */
gboolean vh_vfio_device_irq_trigger(VhVfioDevice *dev, VhVfioIrqIndex index,
                                    guint vector, GError **error);

/* The eventfd of vector @vector of @index, or -1 when none was created.
 * Owned by @dev. */
int vh_vfio_device_irq_get_eventfd(const VhVfioDevice *dev,
                                   VhVfioIrqIndex index, guint vector);

/* Vectors of @index currently enabled in the kernel (0: disabled). */
guint vh_vfio_device_irq_get_enabled(const VhVfioDevice *dev,
                                     VhVfioIrqIndex index);

/*
 * Waits up to @timeout_ms for the eventfd of (@index, @vector) to fire and
 * reads it; *ret_count (may be NULL) gets the counter value.
 * VH_VFIO_ERROR_TIMEOUT when it did not.
 */
gboolean vh_vfio_device_irq_wait(VhVfioDevice *dev, VhVfioIrqIndex index,
                                 guint vector, int timeout_ms,
                                 guint64 *ret_count, GError **error);

/* --- Reset --- */

typedef enum {
    VH_VFIO_RESET_NONE,         /* no way to reset it */
    VH_VFIO_RESET_DEVICE,       /* VFIO_DEVICE_RESET (FLR, PM, ...) */
    VH_VFIO_RESET_HOT,          /* secondary bus reset through the bridge */
} VhVfioResetMethod;

typedef struct {
    VhPciAddress address;
    int group_id;
    gboolean owned;             /* one of the groups given / attached */
} VhVfioHotResetDevice;

/* "device", "hot", "none". */
const char *vh_vfio_reset_method_to_string(VhVfioResetMethod method);

/*
 * VFIO_DEVICE_GET_PCI_HOT_RESET_INFO: the devices a bus reset would hit
 * (GArray of VhVfioHotResetDevice; free with g_array_unref()), each marked
 * owned when its group is @dev's, is attached to @dev's container, or is
 * among @groups.  VH_VFIO_ERROR_UNSUPPORTED when the kernel offers no hot
 * reset for the device.
 */
gboolean vh_vfio_device_get_hot_reset_info(VhVfioDevice *dev,
                                           VhVfioGroup *const *groups,
                                           gsize n_groups,
                                           GArray **ret_devices,
                                           GError **error);

/*
 * The method vh_vfio_device_reset() would use (asks the kernel for the
 * hot reset info; does not reset).  *ret_blocked (may be NULL) gets, for a
 * hot reset, the affected devices whose group the caller does not own, as
 * "0000:01:02.0 (group 4)" strings (GPtrArray, free with
 * g_ptr_array_unref(); empty when none).
 */
gboolean vh_vfio_device_get_reset_method(VhVfioDevice *dev,
                                         VhVfioGroup *const *groups,
                                         gsize n_groups,
                                         VhVfioResetMethod *ret_method,
                                         GPtrArray **ret_blocked,
                                         GError **error);

/*
 * Resets the device: VFIO_DEVICE_RESET when the device reports
 * VFIO_DEVICE_FLAGS_RESET; else a hot reset
 * (VFIO_DEVICE_PCI_HOT_RESET), only when every affected group is owned
 * (see above), else VH_VFIO_ERROR_NOT_OWNED naming the devices and their
 * groups, nothing reset.  Afterwards the interrupts that were enabled are
 * armed again with the same eventfds.  *ret_method (may be NULL) says
 * which reset was done.
 */
gboolean vh_vfio_device_reset(VhVfioDevice *dev, VhVfioGroup *const *groups,
                              gsize n_groups, VhVfioResetMethod *ret_method,
                              GError **error);

/* A size for messages, exact: "1 MiB", "4 KiB", "300 B", "1536 B".
 * Free with g_free(). */
char *vh_vfio_format_size(guint64 size);

G_END_DECLS
