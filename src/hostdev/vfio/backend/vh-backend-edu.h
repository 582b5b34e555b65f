/*
 * vh-backend-edu.h: DMA through QEMU's edu device (1234:11e8)
 *
 * edu's registers (BAR0): 0x80 DMA source, 0x88 destination, 0x90 count,
 * 0x98 command (bit 0 start/busy, bit 1 device-to-RAM, bit 2 interrupt);
 * its 4 KiB buffer at device address 0x40000; a 28-bit DMA mask.  QEMU
 * 7.2's bounds check is off by one: a transfer ending exactly at the end
 * of the buffer aborts the emulator, so transfers stay below 4096 bytes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

#include "vh-vfio.h"

G_BEGIN_DECLS

#define VH_BACKEND_EDU_VENDOR 0x1234
#define VH_BACKEND_EDU_DEVICE 0x11e8
#define VH_BACKEND_EDU_BUFFER 0x40000       /* device address of its buffer */
#define VH_BACKEND_EDU_MAX_LENGTH 4095      /* QEMU 7.2 aborts at 4096 */
#define VH_BACKEND_EDU_DMA_LIMIT (1ULL << 28)   /* 28-bit DMA mask */
#define VH_BACKEND_EDU_IOVA 0x100000        /* default test IOVA (1 MiB) */
#define VH_BACKEND_EDU_UNMAPPED_GAP 0x100000

/* Registers (PCI BAR0 offsets). */
#define VH_EDU_REG_ID        0x00
#define VH_EDU_REG_LIVENESS  0x04
#define VH_EDU_REG_IRQ_STATUS 0x24
#define VH_EDU_REG_IRQ_RAISE 0x60
#define VH_EDU_REG_IRQ_ACK   0x64
#define VH_EDU_REG_DMA_SRC   0x80
#define VH_EDU_REG_DMA_DST   0x88
#define VH_EDU_REG_DMA_COUNT 0x90
#define VH_EDU_REG_DMA_CMD   0x98
#define VH_EDU_DMA_RUN       0x1
#define VH_EDU_DMA_TO_RAM    0x2

typedef struct {
    guint64 mismatches;         /* bytes that came back different */
    gint64 first_mismatch;      /* offset, -1: none */
    guint32 checksum;           /* byte sum of the @length bytes sent */
    guint64 unmapped_changed;   /* bytes of the unmapped page that changed */
    gint64 elapsed_us;
} VhBackendEduDmaResult;

/*
 * The round trip: fill a page with random bytes, map it and a second
 * page at @iova, let edu copy @length bytes RAM->device->RAM into the
 * second page, compare.  Then the negative: map a third page at
 * @unmapped_iova, unmap it again, let edu write there, and count the bytes
 * of that page that changed (0 when the IOMMU stopped it).  Sets PCI
 * bus mastering, which edu needs for DMA.  Everything mapped is unmapped
 * again before returning.
 */
gboolean vh_backend_edu_dma_test(VhVfioDevice *dev, guint64 iova,
                                 guint64 length, guint64 unmapped_iova,
                                 VhBackendEduDmaResult *ret_result,
                                 GError **error);

G_END_DECLS
