/*
 * vh-backend-edu.c: a DMA round trip through QEMU's edu device
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "hostdev.vfio.backend"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vh-backend-edu.h"
#include "vh-backend-proto.h"

#define VH_PCI_COMMAND          0x04    /* PCI30 6.2.2 */
#define VH_PCI_COMMAND_MEMORY   0x2
#define VH_PCI_COMMAND_MASTER   0x4
#define VH_EDU_DMA_TIMEOUT_US   (5 * G_USEC_PER_SEC)

/* Run one edu transfer and wait (to a deadline) until it is done. */
static gboolean
vh_edu_dma(VhVfioDevice *dev, guint64 src, guint64 dst, guint64 length,
           guint32 cmd, GError **error)
{
    gint64 deadline;
    guint32 status;

    if (!vh_vfio_device_bar_write_u64(dev, 0, VH_EDU_REG_DMA_SRC, src, error) ||
        !vh_vfio_device_bar_write_u64(dev, 0, VH_EDU_REG_DMA_DST, dst, error) ||
        !vh_vfio_device_bar_write_u64(dev, 0, VH_EDU_REG_DMA_COUNT, length,
                                      error) ||
        !vh_vfio_device_bar_write_u64(dev, 0, VH_EDU_REG_DMA_CMD,
                                      cmd | VH_EDU_DMA_RUN, error))
        return FALSE;
    deadline = g_get_monotonic_time() + VH_EDU_DMA_TIMEOUT_US;
    for (;;) {
        if (!vh_vfio_device_bar_read_u32(dev, 0, VH_EDU_REG_DMA_CMD, &status,
                                         error))
            return FALSE;
        if (!(status & VH_EDU_DMA_RUN))
            return TRUE;
        if (g_get_monotonic_time() > deadline) {
            g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_TIMEOUT,
                        "edu DMA %#" G_GINT64_MODIFIER "x -> %#"
                        G_GINT64_MODIFIER "x (%" G_GUINT64_FORMAT " bytes) "
                        "still running after %d s (command register %#x)",
                        src, dst, length,
                        (int) (VH_EDU_DMA_TIMEOUT_US / G_USEC_PER_SEC),
                        status);
            return FALSE;
        }
        g_usleep(1000);
    }
}

static gboolean
vh_edu_check_args(guint64 iova, guint64 length, guint64 unmapped_iova,
                  gsize page, GError **error)
{
    if (length == 0 || length > VH_BACKEND_EDU_MAX_LENGTH || length > page) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "length %" G_GUINT64_FORMAT " must be 1 to %d bytes "
                    "(edu's buffer is 4 KiB, and QEMU 7.2 aborts on a transfer "
                    "that ends exactly at its end)", length,
                    VH_BACKEND_EDU_MAX_LENGTH);
        return FALSE;
    }
    if (iova % page || unmapped_iova % page) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "IOVAs %#" G_GINT64_MODIFIER "x and %#" G_GINT64_MODIFIER
                    "x must be multiples of the page size (%zu)", iova,
                    unmapped_iova, page);
        return FALSE;
    }
    if (iova > VH_BACKEND_EDU_DMA_LIMIT - 2 * page ||
        unmapped_iova > VH_BACKEND_EDU_DMA_LIMIT - page) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "IOVAs must lie below 256 MiB (edu's DMA mask is 28 bits)");
        return FALSE;
    }
    if (unmapped_iova + page > iova && unmapped_iova < iova + 2 * page) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID,
                    "unmapped_iova %#" G_GINT64_MODIFIER "x overlaps the two "
                    "pages mapped at %#" G_GINT64_MODIFIER "x", unmapped_iova,
                    iova);
        return FALSE;
    }
    return TRUE;
}

static gboolean
vh_edu_enable_master(VhVfioDevice *dev, GError **error)
{
    guint16 cmd;

    if (!vh_vfio_device_config_read_u16(dev, VH_PCI_COMMAND, &cmd, error))
        return FALSE;
    if ((cmd & (VH_PCI_COMMAND_MEMORY | VH_PCI_COMMAND_MASTER)) ==
        (VH_PCI_COMMAND_MEMORY | VH_PCI_COMMAND_MASTER))
        return TRUE;
    return vh_vfio_device_config_write_u16(dev, VH_PCI_COMMAND,
                                           cmd | VH_PCI_COMMAND_MEMORY |
                                           VH_PCI_COMMAND_MASTER, error);
}

/* The transfers, with @mem (3 pages) mapped as the test needs. */
static gboolean
vh_edu_dma_run(VhVfioDevice *dev, VhVfioContainer *container, guint8 *mem,
               gsize page, guint64 iova, guint64 length,
               guint64 unmapped_iova, VhBackendEduDmaResult *r,
               GError **error)
{
    guint8 *src = mem, *dst = mem + page, *victim = mem + 2 * page;
    gsize i;

    /* RAM -> device -> RAM through the IOMMU. */
    if (!vh_edu_dma(dev, iova, VH_BACKEND_EDU_BUFFER, length, 0, error) ||
        !vh_edu_dma(dev, VH_BACKEND_EDU_BUFFER, iova + page, length,
                    VH_EDU_DMA_TO_RAM, error))
        return FALSE;
    r->first_mismatch = -1;
    for (i = 0; i < length; i++) {
        if (dst[i] != src[i]) {
            if (r->first_mismatch < 0)
                r->first_mismatch = i;
            r->mismatches++;
        }
    }

    /* A page that was mapped and no longer is: the device must not
     * reach it.  The buffer still holds the random bytes. */
    if (!vh_vfio_container_dma_map(container, victim, unmapped_iova, page,
                                   VH_VFIO_DMA_READ | VH_VFIO_DMA_WRITE,
                                   error))
        return FALSE;
    if (!vh_vfio_container_dma_unmap(container, unmapped_iova, page, error) ||
        !vh_edu_dma(dev, VH_BACKEND_EDU_BUFFER, unmapped_iova, length,
                    VH_EDU_DMA_TO_RAM, error))
        return FALSE;
    for (i = 0; i < page; i++) {
        if (victim[i] != 0x5a)
            r->unmapped_changed++;
    }
    return TRUE;
}

gboolean
vh_backend_edu_dma_test(VhVfioDevice *dev, guint64 iova, guint64 length,
                        guint64 unmapped_iova,
                        VhBackendEduDmaResult *ret_result, GError **error)
{
    VhVfioContainer *container =
        vh_vfio_group_get_container(vh_vfio_device_get_group(dev));
    VhBackendEduDmaResult r = { 0 };
    gsize page = sysconf(_SC_PAGESIZE);
    g_autoptr(GRand) rand = g_rand_new();
    gint64 t0 = g_get_monotonic_time();
    guint8 *mem;
    gboolean ok;
    gsize i;

    if (!vh_edu_check_args(iova, length, unmapped_iova, page, error))
        return FALSE;
    if (!container) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_FAILED,
                    "the group has no container: nothing to map DMA in");
        return FALSE;
    }
    if (!vh_edu_enable_master(dev, error))
        return FALSE;
    mem = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (mem == MAP_FAILED) {
        int saved_errno = errno;

        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_FAILED,
                    "allocating 3 pages for DMA: %s", g_strerror(saved_errno));
        return FALSE;
    }
    for (i = 0; i < page; i++)
        mem[i] = g_rand_int(rand);
    for (i = 0; i < length; i++)
        r.checksum += mem[i];
    memset(mem + page, 0, page);
    memset(mem + 2 * page, 0x5a, page);

    ok = vh_vfio_container_dma_map(container, mem, iova, 2 * page,
                                   VH_VFIO_DMA_READ | VH_VFIO_DMA_WRITE,
                                   error);
    if (ok) {
        ok = vh_edu_dma_run(dev, container, mem, page, iova, length,
                            unmapped_iova, &r, error);
        if (ok)
            ok = vh_vfio_container_dma_unmap(container, iova, 2 * page, error);
        else
            vh_vfio_container_dma_unmap(container, iova, 2 * page, NULL);
    }
    munmap(mem, 3 * page);
    if (!ok)
        return FALSE;
    r.elapsed_us = g_get_monotonic_time() - t0;
    *ret_result = r;
    return TRUE;
}
