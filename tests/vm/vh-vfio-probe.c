/*
 * vh-vfio-probe.c: drives the VFIO library on the test bed's real kernel
 *
 *   vh-vfio-probe msix ADDR   MSI-X vectors enabled one by one; a loopback
 *                             trigger of each reaches its own eventfd only
 *   vh-vfio-probe dma ADDR    type1 DMA through the library on QEMU's edu:
 *                             coalesced map, refusals before the call, a
 *                             RAM -> device -> RAM round trip, unmap
 *
 * Run as root in the guest with ADDR bound to vfio-pci.  Prints what it
 * checks; exits 0 when all held, 1 at the first that did not (with the
 * expression, the values and the library's error), 2 on bad usage.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "tests.vfio-probe"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vh-vfio.h"

#define CHECK(cond, ...) do { \
    if (!(cond)) { \
        fprintf(stderr, "FAIL: %s:%d: %s: ", __FILE__, __LINE__, #cond); \
        fprintf(stderr, __VA_ARGS__); \
        fprintf(stderr, "\n"); \
        exit(1); \
    } \
} while (0)

#define CHECK_OK(call, err) do { \
    if (!(call)) { \
        fprintf(stderr, "FAIL: %s:%d: %s: %s\n", __FILE__, __LINE__, #call, \
                (err) ? (err)->message : "no error set"); \
        exit(1); \
    } \
} while (0)

static VhVfioDevice *
open_device(const char *arg, VhSysfs **ret_sysfs)
{
    g_autoptr(GError) err = NULL;
    VhSysfs *sysfs;
    VhVfioDevice *dev;
    VhPciAddress addr;

    if (!vh_pci_address_parse(arg, &addr, &err)) {
        fprintf(stderr, "vh-vfio-probe: %s\n", err->message);
        exit(2);
    }
    sysfs = vh_sysfs_new("/sys", &err);
    CHECK_OK(sysfs != NULL, err);
    dev = vh_vfio_device_open_address(vh_vfio_ops_kernel(), NULL, sysfs,
                                      &addr, NULL, &err);
    CHECK_OK(dev != NULL, err);
    *ret_sysfs = sysfs;
    return dev;
}

/* The eventfd of @vector fired exactly once. */
static void
expect_fired(VhVfioDevice *dev, guint vector)
{
    g_autoptr(GError) err = NULL;
    guint64 count = 0;

    CHECK_OK(vh_vfio_device_irq_wait(dev, VH_VFIO_IRQ_MSIX, vector, 2000,
                                     &count, &err), err);
    CHECK(count == 1, "vector %u: eventfd counter %" G_GUINT64_FORMAT,
          vector, count);
}

static void
expect_quiet(VhVfioDevice *dev, guint vector)
{
    g_autoptr(GError) err = NULL;
    gboolean fired = vh_vfio_device_irq_wait(dev, VH_VFIO_IRQ_MSIX, vector,
                                             0, NULL, &err);

    CHECK(!fired && g_error_matches(err, VH_VFIO_ERROR, VH_VFIO_ERROR_TIMEOUT),
          "vector %u fired although not triggered", vector);
}

static int
probe_msix(const char *arg)
{
    g_autoptr(VhSysfs) sysfs = NULL;
    g_autoptr(VhVfioDevice) dev = open_device(arg, &sysfs);
    g_autoptr(GError) err = NULL;
    g_autoptr(GArray) fds = g_array_new(FALSE, FALSE, sizeof(int));
    const VhVfioIrqInfo *info;
    const VhVfioMsix *msix = vh_vfio_device_get_msix(dev);
    guint v, u, w;

    CHECK_OK(vh_vfio_device_get_irq_info(dev, VH_VFIO_IRQ_MSIX, &info, &err),
             err);
    printf("%s: MSI-X count %u, flags 0x%x%s; table of %u in BAR%u at 0x%" G_GINT64_MODIFIER "x\n",
           arg, info->count, info->flags,
           (info->flags & VFIO_IRQ_INFO_NORESIZE) ? " (noresize)" : "",
           msix->entries, msix->table_bar, msix->table_offset);
    CHECK(info->count >= 2, "MSI-X count %u", info->count);
    CHECK(msix->present && msix->entries == info->count,
          "config space says %u vectors, VFIO %u", msix->entries,
          info->count);

    for (v = 0; v < info->count; v++) {
        int fd;

        CHECK_OK(vh_vfio_device_msix_enable_vector(dev, v, &err), err);
        fd = vh_vfio_device_irq_get_eventfd(dev, VH_VFIO_IRQ_MSIX, v);
        CHECK(fd >= 0, "vector %u has no eventfd", v);
        g_array_append_val(fds, fd);
        CHECK(vh_vfio_device_irq_get_enabled(dev, VH_VFIO_IRQ_MSIX) == v + 1,
              "enabled %u after vector %u",
              vh_vfio_device_irq_get_enabled(dev, VH_VFIO_IRQ_MSIX), v);
        /* Earlier eventfds stay what they were. */
        for (u = 0; u < v; u++)
            CHECK(vh_vfio_device_irq_get_eventfd(dev, VH_VFIO_IRQ_MSIX, u) ==
                  g_array_index(fds, int, u), "vector %u's eventfd changed", u);
        /* Each enabled vector's trigger reaches its own eventfd only. */
        for (u = 0; u <= v; u++) {
            CHECK_OK(vh_vfio_device_irq_trigger(dev, VH_VFIO_IRQ_MSIX, u,
                                                &err), err);
            expect_fired(dev, u);
            for (w = 0; w <= v; w++)
                if (w != u)
                    expect_quiet(dev, w);
        }
        printf("vector %u enabled (eventfd %d, %u enabled): loopback reached vectors 0..%u, each alone\n",
               v, fd, v + 1, v);
    }

    /* De-assign vector 1 (fd -1): its trigger no longer reaches it. */
    CHECK_OK(vh_vfio_device_msix_disable_vector(dev, 1, &err), err);
    CHECK_OK(vh_vfio_device_irq_trigger(dev, VH_VFIO_IRQ_MSIX, 1, &err), err);
    expect_quiet(dev, 1);
    CHECK_OK(vh_vfio_device_irq_trigger(dev, VH_VFIO_IRQ_MSIX, 0, &err), err);
    expect_fired(dev, 0);
    printf("vector 1 de-assigned: its trigger reaches nothing, vector 0 still works\n");

    /* Enabling it again brings the same eventfd back. */
    CHECK_OK(vh_vfio_device_msix_enable_vector(dev, 1, &err), err);
    CHECK(vh_vfio_device_irq_get_eventfd(dev, VH_VFIO_IRQ_MSIX, 1) ==
          g_array_index(fds, int, 1), "vector 1's eventfd changed");
    CHECK_OK(vh_vfio_device_irq_trigger(dev, VH_VFIO_IRQ_MSIX, 1, &err), err);
    expect_fired(dev, 1);
    printf("vector 1 enabled again with the same eventfd: loopback reaches it\n");

    CHECK_OK(vh_vfio_device_irq_disable(dev, VH_VFIO_IRQ_MSIX, &err), err);
    CHECK(vh_vfio_device_irq_get_enabled(dev, VH_VFIO_IRQ_MSIX) == 0,
          "still enabled after disable");
    /* Disabled: a trigger is refused by the kernel. */
    CHECK(!vh_vfio_device_irq_trigger(dev, VH_VFIO_IRQ_MSIX, 0, &err),
          "trigger on disabled MSI-X accepted");
    printf("MSI-X disabled (count 0); a trigger is refused: %s\n",
           err->message);
    printf("PASS: msix %s\n", arg);
    return 0;
}

/* edu registers (TESTBED.md). */
#define EDU_ID          0x00
#define EDU_DMA_SRC     0x80
#define EDU_DMA_DST     0x88
#define EDU_DMA_COUNT   0x90
#define EDU_DMA_CMD     0x98
#define EDU_DMA_START   0x1
#define EDU_DMA_TO_RAM  0x2
#define EDU_BUFFER      0x40000

static void
edu_dma(VhVfioDevice *dev, guint64 src, guint64 dst, guint64 count,
        guint32 cmd)
{
    g_autoptr(GError) err = NULL;
    guint32 status = 0;
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;

    CHECK_OK(vh_vfio_device_bar_write_u64(dev, 0, EDU_DMA_SRC, src, &err), err);
    CHECK_OK(vh_vfio_device_bar_write_u64(dev, 0, EDU_DMA_DST, dst, &err), err);
    CHECK_OK(vh_vfio_device_bar_write_u64(dev, 0, EDU_DMA_COUNT, count, &err), err);
    CHECK_OK(vh_vfio_device_bar_write_u32(dev, 0, EDU_DMA_CMD, cmd, &err), err);
    /* The start bit clears when the transfer is done. */
    do {
        CHECK_OK(vh_vfio_device_bar_read_u32(dev, 0, EDU_DMA_CMD, &status,
                                             &err), err);
        CHECK(g_get_monotonic_time() < deadline,
              "edu DMA still running after 5 s (cmd 0x%x)", status);
    } while (status & EDU_DMA_START);
}

static int
probe_dma(const char *arg)
{
    g_autoptr(VhSysfs) sysfs = NULL;
    g_autoptr(VhVfioDevice) dev = open_device(arg, &sysfs);
    g_autoptr(GError) err = NULL;
    g_autoptr(GArray) ranges = NULL;
    VhVfioContainer *c = vh_vfio_group_get_container(vh_vfio_device_get_group(dev));
    const gsize page = 4096, len = 1024 * 1024, xfer = 2048;
    const guint64 iova = 0x100000;
    VhVfioDmaRange pages[256];
    guint32 avail = 0, avail_after = 0, id = 0;
    guint16 cmd = 0;
    guint8 *buf;
    guint64 calls;
    guint i;

    CHECK_OK(vh_vfio_container_get_iommu_info(c, NULL, &ranges, &avail, &err),
             err);
    for (i = 0; i < ranges->len; i++) {
        const VhVfioIovaRange *r = &g_array_index(ranges, VhVfioIovaRange, i);
        printf("IOVA range [0x%" G_GINT64_MODIFIER "x, 0x%" G_GINT64_MODIFIER "x]\n",
               r->start, r->end);
    }
    printf("dma_avail %u\n", avail);
    CHECK(avail != G_MAXUINT32, "the 6.1 kernel reports dma_avail");
    CHECK(ranges->len >= 2, "the MSI window splits the IOVA space");

    buf = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
               -1, 0);
    CHECK(buf != MAP_FAILED, "mmap of %zu bytes", len);

    /* 256 pages given one by one: coalesced into one map call. */
    for (i = 0; i < 256; i++)
        pages[i] = (VhVfioDmaRange) {
            .vaddr = (guint64) (guintptr) buf + i * page,
            .iova = iova + i * page, .size = page,
            .flags = VH_VFIO_DMA_READ | VH_VFIO_DMA_WRITE,
        };
    calls = vh_vfio_container_get_map_calls(c);
    CHECK_OK(vh_vfio_container_dma_map_ranges(c, pages, 256, &err), err);
    CHECK(vh_vfio_container_get_map_calls(c) == calls + 1,
          "%" G_GUINT64_FORMAT " map calls for 256 adjacent pages",
          vh_vfio_container_get_map_calls(c) - calls);
    CHECK_OK(vh_vfio_container_get_iommu_info(c, NULL, NULL, &avail_after,
                                              &err), err);
    CHECK(avail_after == avail - 1, "dma_avail %u -> %u", avail, avail_after);
    printf("256 adjacent pages mapped at IOVA 0x%" G_GINT64_MODIFIER "x in 1 map call; dma_avail %u -> %u\n",
           iova, avail, avail_after);

    /* Across the end of the first IOVA range: refused before the call. */
    {
        const VhVfioIovaRange *r0 = &g_array_index(ranges, VhVfioIovaRange, 0);
        guint64 at = (r0->end + 1) - page;

        calls = vh_vfio_container_get_map_calls(c);
        CHECK(!vh_vfio_container_dma_map(c, buf, at, 2 * page,
                                         VH_VFIO_DMA_READ, &err),
              "map across the reserved window accepted");
        CHECK(g_error_matches(err, VH_VFIO_ERROR, VH_VFIO_ERROR_NO_SPACE) &&
              vh_vfio_container_get_map_calls(c) == calls,
              "%s", err->message);
        printf("refused before the call: %s\n", err->message);
        g_clear_error(&err);
    }
    /* Overlapping the mapping: refused before the call. */
    CHECK(!vh_vfio_container_dma_map(c, buf, iova + 4 * page, page,
                                     VH_VFIO_DMA_READ, &err), "overlap accepted");
    CHECK(g_error_matches(err, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID), "%s",
          err->message);
    printf("refused before the call: %s\n", err->message);
    g_clear_error(&err);

    /* The edu device moves data through that mapping: RAM -> device ->
     * RAM, 2 KiB (below 4096: QEMU 7.2's edu aborts at exactly 4096). */
    CHECK_OK(vh_vfio_device_bar_map(dev, 0, NULL, &err), err);
    CHECK_OK(vh_vfio_device_bar_read_u32(dev, 0, EDU_ID, &id, &err), err);
    CHECK(id == 0x010000ed, "edu id register 0x%08x", id);
    CHECK_OK(vh_vfio_device_config_read_u16(dev, 0x04, &cmd, &err), err);
    CHECK_OK(vh_vfio_device_config_write_u16(dev, 0x04, cmd | 0x4, &err), err);
    for (i = 0; i < xfer; i++) {
        buf[i] = (guint8) (i * 7 + 3);
        buf[0x10000 + i] = 0;
    }
    edu_dma(dev, iova, EDU_BUFFER, xfer, EDU_DMA_START);
    edu_dma(dev, EDU_BUFFER, iova + 0x10000, xfer,
            EDU_DMA_START | EDU_DMA_TO_RAM);
    CHECK(memcmp(buf, buf + 0x10000, xfer) == 0,
          "the DMA round trip changed the data");
    printf("edu DMA RAM(IOVA 0x%" G_GINT64_MODIFIER "x) -> device -> RAM(IOVA 0x%" G_GINT64_MODIFIER "x), %zu bytes: identical\n",
           iova, iova + 0x10000, xfer);

    /* Unmapping part of the mapping: refused, no call. */
    CHECK(!vh_vfio_container_dma_unmap(c, iova, page, &err),
          "a split unmap was accepted");
    printf("refused before the call: %s\n", err->message);
    g_clear_error(&err);
    CHECK_OK(vh_vfio_container_dma_unmap(c, iova, len, &err), err);
    CHECK(vh_vfio_container_get_mappings(c)->len == 0, "mappings left");
    CHECK_OK(vh_vfio_container_get_iommu_info(c, NULL, NULL, &avail_after,
                                              &err), err);
    CHECK(avail_after == avail, "dma_avail %u after unmap, %u before",
          avail_after, avail);
    printf("unmapped 1 MiB at IOVA 0x%" G_GINT64_MODIFIER "x (the kernel's size matched); dma_avail back to %u\n",
           iova, avail_after);
    munmap(buf, len);
    printf("PASS: dma %s\n", arg);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc == 3 && g_str_equal(argv[1], "msix"))
        return probe_msix(argv[2]);
    if (argc == 3 && g_str_equal(argv[1], "dma"))
        return probe_dma(argv[2]);
    fprintf(stderr, "usage: vh-vfio-probe msix|dma ADDRESS\n");
    return 2;
}
