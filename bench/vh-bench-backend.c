/*
 * vh-bench-backend.c: the VFIO library against the raw kernel interface,
 * on QEMU's edu device in the test bed (the guest half of bench/backend)
 *
 *   vh-bench-backend [--map-mib N] [--irq-rounds N] [--read-rounds N] ADDR
 *
 * Three ratios, each measured in this one run:
 *   1. mapping an N MiB buffer for DMA: the library (one coalesced map,
 *      its ioctls counted through a counting VhVfioOps) against one
 *      VFIO_IOMMU_MAP_DMA per 4 KiB page;
 *   2. the edu MSI round trip (raise, eventfd wake, acknowledge): through
 *      the library against a raw loop (poll/read on the eventfd, stores
 *      through our own mmap of BAR0);
 *   3. reading edu's ID register: the library's mmap path against pread.
 * Timed rounds alternate between the two sides; the median is compared.
 * Exit status 0 whatever the numbers (targets are reported, not enforced),
 * 1 when something failed to run, 2 on bad usage.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "bench.backend"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vh-vfio.h"

#define EDU_ID          0x00
#define EDU_IRQ_RAISE   0x60
#define EDU_IRQ_ACK     0x64
#define ROUNDS          5

static void G_GNUC_NORETURN
die(const char *what, const GError *err)
{
    fprintf(stderr, "vh-bench-backend: %s: %s\n", what,
            err ? err->message : g_strerror(errno));
    exit(1);
}

/* ---- counting ops: the real kernel, with the ioctls counted ---- */

typedef struct {
    guint64 ioctls;
} Counter;

static const VhVfioOps *kernel;

static int
count_ioctl(gpointer data, int fd, unsigned long request, void *arg)
{
    ((Counter *) data)->ioctls++;
    return kernel->ioctl(NULL, fd, request, arg);
}

#define PASS(name, type, args, call) \
    static type count_##name args { return kernel->call; }
PASS(open, int, (gpointer d, const char *p), open(NULL, p))
PASS(close, int, (gpointer d, int fd), close(NULL, fd))
PASS(pread, gssize, (gpointer d, int fd, void *b, gsize n, off_t o),
     pread(NULL, fd, b, n, o))
PASS(pwrite, gssize, (gpointer d, int fd, const void *b, gsize n, off_t o),
     pwrite(NULL, fd, b, n, o))
PASS(mmap, int, (gpointer d, int fd, gsize n, int p, off_t o, void **r),
     mmap(NULL, fd, n, p, o, r))
PASS(munmap, int, (gpointer d, void *a, gsize n), munmap(NULL, a, n))
PASS(eventfd, int, (gpointer d), eventfd(NULL))
PASS(eventfd_wait, int, (gpointer d, int fd, int t, guint64 *c),
     eventfd_wait(NULL, fd, t, c))
PASS(page_size, gsize, (gpointer d), page_size(NULL))
PASS(memlock_limit, int, (gpointer d, guint64 *l), memlock_limit(NULL, l))

static const VhVfioOps counting_ops = {
    .open = count_open,
    .close = count_close,
    .ioctl = count_ioctl,
    .pread = count_pread,
    .pwrite = count_pwrite,
    .mmap = count_mmap,
    .munmap = count_munmap,
    .eventfd = count_eventfd,
    .eventfd_wait = count_eventfd_wait,
    .page_size = count_page_size,
    .memlock_limit = count_memlock_limit,
};

static int
cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;

    return x < y ? -1 : x > y;
}

static double
median(double *v, guint n)
{
    qsort(v, n, sizeof(double), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double
now_s(void)
{
    return g_get_monotonic_time() / 1e6;
}

/* ---- 1. DMA map ---- */

static double
map_library(VhVfioContainer *c, guint8 *buf, guint64 size, Counter *counter,
            guint64 *ret_ioctls, guint64 *ret_calls)
{
    g_autoptr(GError) err = NULL;
    guint64 calls = vh_vfio_container_get_map_calls(c);
    double t0, t;

    counter->ioctls = 0;
    t0 = now_s();
    if (!vh_vfio_container_dma_map(c, buf, 0, size,
                                   VH_VFIO_DMA_READ | VH_VFIO_DMA_WRITE, &err))
        die("library map", err);
    t = now_s() - t0;
    *ret_ioctls = counter->ioctls;
    *ret_calls = vh_vfio_container_get_map_calls(c) - calls;
    if (!vh_vfio_container_dma_unmap(c, 0, size, &err))
        die("library unmap", err);
    return t;
}

static double
map_per_page(int cfd, guint8 *buf, guint64 size, guint64 page)
{
    struct vfio_iommu_type1_dma_unmap unmap = {
        .argsz = sizeof(unmap), .iova = 0, .size = size,
    };
    double t0 = now_s(), t;
    guint64 off;

    for (off = 0; off < size; off += page) {
        struct vfio_iommu_type1_dma_map map = {
            .argsz = sizeof(map),
            .flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
            .vaddr = (guint64) (guintptr) buf + off,
            .iova = off,
            .size = page,
        };
        if (ioctl(cfd, VFIO_IOMMU_MAP_DMA, &map) < 0)
            die("per-page VFIO_IOMMU_MAP_DMA", NULL);
    }
    t = now_s() - t0;
    if (ioctl(cfd, VFIO_IOMMU_UNMAP_DMA, &unmap) < 0 || unmap.size != size)
        die("per-page unmap", NULL);
    return t;
}

#define MAP_ROUNDS 3

static void
bench_map(VhVfioDevice *dev, Counter *counter, guint64 mib)
{
    VhVfioContainer *c = vh_vfio_group_get_container(vh_vfio_device_get_group(dev));
    const guint64 size = mib << 20, page = 4096;
    double lib[MAP_ROUNDS], per[MAP_ROUNDS], t_lib, t_page;
    guint64 ioctls = 0, calls = 0;
    guint8 *buf;
    guint r;

    /* Populated up front, so that neither side pays the page faults. */
    buf = mmap(NULL, size, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (buf == MAP_FAILED)
        die("mmap of the DMA buffer", NULL);
    for (r = 0; r < MAP_ROUNDS; r++) {
        lib[r] = map_library(c, buf, size, counter, &ioctls, &calls);
        per[r] = map_per_page(vh_vfio_container_get_fd(c), buf, size, page);
    }
    munmap(buf, size);
    t_lib = median(lib, MAP_ROUNDS);
    t_page = median(per, MAP_ROUNDS);

    printf("map %" G_GUINT64_FORMAT " MiB, median of %d: library %.3f s (%" G_GUINT64_FORMAT " map call, %" G_GUINT64_FORMAT " ioctls); per-page %.3f s (%" G_GUINT64_FORMAT " map calls)\n",
           mib, MAP_ROUNDS, t_lib, calls, ioctls, t_page, size / page);
    printf("RATIO map per-page/library = %.1fx (target >= 10x: %s); library ioctls = %" G_GUINT64_FORMAT " (target <= 2: %s)\n",
           t_page / t_lib, t_page / t_lib >= 10 ? "met" : "NOT met", ioctls,
           ioctls <= 2 ? "met" : "NOT met");
}

/* ---- 2. MSI round trip ---- */

static double
msi_round_lib(VhVfioDevice *dev, guint n)
{
    g_autoptr(GError) err = NULL;
    double t0 = now_s();
    guint i;

    for (i = 0; i < n; i++) {
        if (!vh_vfio_device_bar_write_u32(dev, 0, EDU_IRQ_RAISE, 1, &err) ||
            !vh_vfio_device_irq_wait(dev, VH_VFIO_IRQ_MSI, 0, 2000, NULL, &err) ||
            !vh_vfio_device_bar_write_u32(dev, 0, EDU_IRQ_ACK, 1, &err))
            die("library MSI round trip", err);
    }
    return (now_s() - t0) / n;
}

static double
msi_round_raw(volatile guint32 *bar, int efd, guint n)
{
    double t0 = now_s();
    guint i;

    for (i = 0; i < n; i++) {
        struct pollfd pfd = { .fd = efd, .events = POLLIN };
        guint64 count;

        bar[EDU_IRQ_RAISE / 4] = 1;
        if (poll(&pfd, 1, 2000) != 1 ||
            read(efd, &count, sizeof(count)) != sizeof(count))
            die("raw MSI round trip", NULL);
        bar[EDU_IRQ_ACK / 4] = 1;
    }
    return (now_s() - t0) / n;
}

static void
bench_msi(VhVfioDevice *dev, guint n)
{
    g_autoptr(GError) err = NULL;
    const VhVfioRegion *bar0;
    double lib[ROUNDS], raw[ROUNDS], ml, mr;
    volatile guint32 *bar;
    guint16 cmd = 0;
    int efd;
    guint r;

    /* Bus master on: edu's MSI is a memory write by the device. */
    if (!vh_vfio_device_config_read_u16(dev, 0x04, &cmd, &err) ||
        !vh_vfio_device_config_write_u16(dev, 0x04, cmd | 0x4, &err) ||
        !vh_vfio_device_msi_enable(dev, 1, &err) ||
        /* The library's own fast path: its mmap of BAR0. */
        !vh_vfio_device_bar_map(dev, 0, NULL, &err) ||
        !vh_vfio_device_get_region(dev, 0, &bar0, &err))
        die("MSI setup", err);
    efd = vh_vfio_device_irq_get_eventfd(dev, VH_VFIO_IRQ_MSI, 0);
    /* The raw side maps BAR0 itself. */
    bar = mmap(NULL, bar0->size, PROT_READ | PROT_WRITE, MAP_SHARED,
               vh_vfio_device_get_fd(dev), bar0->offset);
    if (bar == MAP_FAILED)
        die("mmap of BAR0 for the raw loop", NULL);

    msi_round_lib(dev, n / 10);             /* warm up both */
    msi_round_raw(bar, efd, n / 10);
    for (r = 0; r < ROUNDS; r++) {
        lib[r] = msi_round_lib(dev, n);
        raw[r] = msi_round_raw(bar, efd, n);
    }
    ml = median(lib, ROUNDS);
    mr = median(raw, ROUNDS);
    printf("edu MSI round trip (raise, eventfd wake, ack), median of %d x %u: library %.2f us, raw eventfd loop %.2f us\n",
           ROUNDS, n, ml * 1e6, mr * 1e6);
    printf("RATIO msi library/raw = %.2fx (target <= 1.5x: %s)\n", ml / mr,
           ml / mr <= 1.5 ? "met" : "NOT met");
    munmap((void *) bar, bar0->size);
    if (!vh_vfio_device_irq_disable(dev, VH_VFIO_IRQ_MSI, &err))
        die("MSI disable", err);
}

/* ---- 3. BAR read ---- */

static double
read_mmap(VhVfioDevice *dev, guint n)
{
    g_autoptr(GError) err = NULL;
    double t0 = now_s();
    guint32 v = 0;
    guint i;

    for (i = 0; i < n; i++)
        if (!vh_vfio_device_bar_read_u32(dev, 0, EDU_ID, &v, &err) ||
            v != 0x010000ed)
            die("mmap read of the edu ID", err);
    return (now_s() - t0) / n;
}

static double
read_pread(VhVfioDevice *dev, guint n)
{
    g_autoptr(GError) err = NULL;
    double t0 = now_s();
    guint32 v = 0;
    guint i;

    for (i = 0; i < n; i++)
        if (!vh_vfio_device_region_read(dev, 0, EDU_ID, &v, 4, &err) ||
            GUINT32_FROM_LE(v) != 0x010000ed)
            die("pread of the edu ID", err);
    return (now_s() - t0) / n;
}

static void
bench_read(VhVfioDevice *dev, guint n)
{
    g_autoptr(GError) err = NULL;
    double mm[ROUNDS], pr[ROUNDS], a, b;
    guint r;

    if (!vh_vfio_device_bar_map(dev, 0, NULL, &err))
        die("BAR0 map", err);
    if (!vh_vfio_device_bar_is_mapped(dev, 0, EDU_ID, 4)) {
        fprintf(stderr, "vh-bench-backend: BAR0 was not mmapped\n");
        exit(1);
    }
    read_mmap(dev, n / 10);
    read_pread(dev, n / 10);
    for (r = 0; r < ROUNDS; r++) {
        mm[r] = read_mmap(dev, n);
        pr[r] = read_pread(dev, n);
    }
    a = median(mm, ROUNDS);
    b = median(pr, ROUNDS);
    printf("edu BAR0 ID register read, median of %d x %u: library mmap %.3f us, pread %.3f us\n",
           ROUNDS, n, a * 1e6, b * 1e6);
    printf("RATIO read pread/mmap = %.1fx (target >= 10x: %s)\n", b / a,
           b / a >= 10 ? "met" : "NOT met");
}

int
main(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(VhSysfs) sysfs = NULL;
    g_autoptr(VhVfioDevice) dev = NULL;
    gint map_mib = 256, irq_rounds = 2000, read_rounds = 20000;
    const GOptionEntry entries[] = {
        { "map-mib", 0, 0, G_OPTION_ARG_INT, &map_mib,
          "MiB to map for DMA (default 256; below 256 for edu's 28-bit mask)", "N" },
        { "irq-rounds", 0, 0, G_OPTION_ARG_INT, &irq_rounds,
          "MSI round trips per timed round (default 2000)", "N" },
        { "read-rounds", 0, 0, G_OPTION_ARG_INT, &read_rounds,
          "register reads per timed round (default 20000)", "N" },
        G_OPTION_ENTRY_NULL
    };
    Counter counter = { 0 };
    VhPciAddress addr;

    ctx = g_option_context_new("ADDRESS");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || argc != 2 ||
        map_mib <= 0 || map_mib > 256 || irq_rounds < 10 || read_rounds < 10) {
        fprintf(stderr, "vh-bench-backend: %s\n", err ? err->message :
                "usage: vh-bench-backend [--map-mib 1..256] [--irq-rounds N>=10] [--read-rounds N>=10] ADDRESS");
        return 2;
    }
    if (!vh_pci_address_parse(argv[1], &addr, &err)) {
        fprintf(stderr, "vh-bench-backend: %s\n", err->message);
        return 2;
    }
    kernel = vh_vfio_ops_kernel();
    if (!(sysfs = vh_sysfs_new("/sys", &err)))
        die("/sys", err);
    dev = vh_vfio_device_open_address(&counting_ops, &counter, sysfs, &addr,
                                      NULL, &err);
    if (!dev)
        die("open", err);

    bench_map(dev, &counter, map_mib);
    bench_msi(dev, irq_rounds);
    bench_read(dev, read_rounds);
    return 0;
}
