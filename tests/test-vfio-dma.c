/*
 * test-vfio-dma.c: type1 DMA mapping: coalescing, IOVA range and dma_avail
 * refusals before the call, RLIMIT_MEMLOCK explained, unmap size checked
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <string.h>

#include "vh-fake-vfio.h"
#include "vh-vfio-priv.h"

#define PAGE 0x1000ULL
#define MIB (1024ULL * 1024)

static const int one_group[] = { 3 };

static void
test_coalesce(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GArray) out = NULL;
    /* Given out of order: three adjacent pages (one range), a page adjacent
     * in IOVA but not in vaddr, one with other flags. */
    VhVfioDmaRange in[] = {
        { .vaddr = 0x11000, .iova = 0x1000, .size = PAGE, .flags = 3 },
        { .vaddr = 0x10000, .iova = 0x0, .size = PAGE, .flags = 3 },
        { .vaddr = 0x12000, .iova = 0x2000, .size = 2 * PAGE, .flags = 3 },
        { .vaddr = 0x90000, .iova = 0x4000, .size = PAGE, .flags = 3 },
        { .vaddr = 0x91000, .iova = 0x5000, .size = PAGE, .flags = 1 },
    };
    const VhVfioDmaRange *r;

    out = vh_vfio_dma_coalesce(in, G_N_ELEMENTS(in), PAGE, &err);
    g_assert_no_error(err);
    g_assert_cmpuint(out->len, ==, 3);
    r = &g_array_index(out, VhVfioDmaRange, 0);
    g_assert_cmphex(r->iova, ==, 0);
    g_assert_cmphex(r->vaddr, ==, 0x10000);
    g_assert_cmphex(r->size, ==, 4 * PAGE);
    r = &g_array_index(out, VhVfioDmaRange, 1);
    g_assert_cmphex(r->iova, ==, 0x4000);
    g_assert_cmphex(r->size, ==, PAGE);
    r = &g_array_index(out, VhVfioDmaRange, 2);
    g_assert_cmphex(r->iova, ==, 0x5000);
    g_assert_cmpuint(r->flags, ==, 1);
}

static void
test_coalesce_refusals(void)
{
    g_autoptr(GError) err = NULL;
    VhVfioDmaRange overlap[] = {
        { .vaddr = 0x10000, .iova = 0x0, .size = 2 * PAGE, .flags = 3 },
        { .vaddr = 0x20000, .iova = 0x1000, .size = PAGE, .flags = 3 },
    };
    VhVfioDmaRange unaligned[] = {
        { .vaddr = 0x10000, .iova = 0x800, .size = PAGE, .flags = 3 },
    };
    VhVfioDmaRange empty[] = {
        { .vaddr = 0x10000, .iova = 0x0, .size = 0, .flags = 3 },
    };

    g_assert_null(vh_vfio_dma_coalesce(overlap, 2, PAGE, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "overlap"));
    g_clear_error(&err);
    g_assert_null(vh_vfio_dma_coalesce(unaligned, 1, PAGE, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_null(vh_vfio_dma_coalesce(empty, 1, PAGE, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID);
}

typedef struct {
    VhFakeVfio *fake;
    VhVfioDevice *dev;
    VhVfioContainer *c;
    guint8 *buf;                /* 64 pages, page aligned */
} Fixture;

static void
fixture_setup(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    VhVfioIovaRange ranges[] = {
        { .start = 0, .end = 0xfedfffff },
        { .start = 0xfef00000, .end = 0xffffffffffULL },
    };

    f->fake = vh_fake_vfio_new("0000:00:03.0", one_group, 1);
    f->fake->iova_ranges = g_array_new(FALSE, FALSE, sizeof(VhVfioIovaRange));
    g_array_append_vals(f->fake->iova_ranges, ranges, 2);
    f->fake->report_dma_avail = TRUE;
    f->fake->dma_avail = 4;
    f->dev = vh_fake_vfio_open(f->fake, &err);
    g_assert_no_error(err);
    f->c = vh_vfio_group_get_container(vh_vfio_device_get_group(f->dev));
    f->buf = g_aligned_alloc0(64, PAGE, PAGE);
    vh_fake_vfio_clear_log(f->fake);
}

static void
fixture_teardown(Fixture *f, gconstpointer data)
{
    vh_vfio_device_unref(f->dev);
    vh_fake_vfio_free(f->fake);
    g_aligned_free(f->buf);
}

static guint64
va(Fixture *f, guint page)
{
    return (guint64) (guintptr) f->buf + page * PAGE;
}

static void
test_map_coalesced(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *calls = NULL;
    VhVfioDmaRange pages[16];
    const GArray *maps;
    guint i;

    /* 16 adjacent pages given one by one: one map call. */
    for (i = 0; i < 16; i++) {
        pages[i] = (VhVfioDmaRange) {
            .vaddr = va(f, i), .iova = 0x100000 + i * PAGE, .size = PAGE,
            .flags = VH_VFIO_DMA_READ | VH_VFIO_DMA_WRITE,
        };
    }
    g_assert_true(vh_vfio_container_dma_map_ranges(f->c, pages, 16, &err));
    g_assert_no_error(err);
    calls = vh_fake_vfio_calls(f->fake);
    g_assert_cmpstr(calls, ==, "IOMMU_GET_INFO IOMMU_GET_INFO MAP_DMA");
    g_assert_cmpuint(f->fake->maps->len, ==, 1);
    g_assert_cmphex(g_array_index(f->fake->maps, VhFakeVfioMap, 0).size, ==,
                    16 * PAGE);
    g_assert_cmpuint(vh_vfio_container_get_map_calls(f->c), ==, 1);
    maps = vh_vfio_container_get_mappings(f->c);
    g_assert_cmpuint(maps->len, ==, 1);

    /* Unmap it whole: the returned size matches. */
    g_assert_true(vh_vfio_container_dma_unmap(f->c, 0x100000, 16 * PAGE,
                                              &err));
    g_assert_no_error(err);
    g_assert_cmpuint(f->fake->maps->len, ==, 0);
    g_assert_cmpuint(vh_vfio_container_get_mappings(f->c)->len, ==, 0);
}

static void
test_iova_range_refused(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;

    /* Across the reserved MSI window 0xfee00000-0xfeefffff. */
    g_assert_false(vh_vfio_container_dma_map(f->c, f->buf, 0xfedff000,
                                             2 * PAGE, VH_VFIO_DMA_READ,
                                             &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_NO_SPACE);
    g_assert_nonnull(strstr(err->message, "[0xfedff000, 0xfee00fff]"));
    g_assert_nonnull(strstr(err->message, "[0x0, 0xfedfffff], [0xfef00000, 0xffffffffff]"));
    /* Refused before the map call. */
    g_assert_cmpuint(vh_vfio_container_get_map_calls(f->c), ==, 0);
    g_assert_cmpuint(f->fake->maps->len, ==, 0);
    g_clear_error(&err);

    /* Above the top. */
    g_assert_false(vh_vfio_container_dma_map(f->c, f->buf, 0x10000000000ULL,
                                             PAGE, VH_VFIO_DMA_READ, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_NO_SPACE);
    g_assert_cmpuint(vh_vfio_container_get_map_calls(f->c), ==, 0);
}

static void
test_dma_avail_refused(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    VhVfioDmaRange scattered[5];
    guint i;

    /* Five ranges not adjacent (a gap each) need 5 mappings; 4 left. */
    for (i = 0; i < 5; i++) {
        scattered[i] = (VhVfioDmaRange) {
            .vaddr = va(f, 2 * i), .iova = 2 * i * PAGE, .size = PAGE,
            .flags = VH_VFIO_DMA_READ,
        };
    }
    g_assert_false(vh_vfio_container_dma_map_ranges(f->c, scattered, 5,
                                                    &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_NO_SPACE);
    g_assert_nonnull(strstr(err->message, "5 DMA mappings needed"));
    g_assert_nonnull(strstr(err->message, "only 4"));
    g_assert_cmpuint(vh_vfio_container_get_map_calls(f->c), ==, 0);
    g_clear_error(&err);

    /* Four fit. */
    g_assert_true(vh_vfio_container_dma_map_ranges(f->c, scattered, 4, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(f->fake->maps->len, ==, 4);
    g_assert_cmpuint(f->fake->dma_avail, ==, 0);
    /* Now none: even one is refused before the call. */
    g_assert_false(vh_vfio_container_dma_map_ranges(f->c, &scattered[4], 1,
                                                    &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_NO_SPACE);
    g_assert_cmpuint(vh_vfio_container_get_map_calls(f->c), ==, 4);
}

static void
test_overlap_existing(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;

    g_assert_true(vh_vfio_container_dma_map(f->c, f->buf, 0x0, 4 * PAGE,
                                            VH_VFIO_DMA_READ, &err));
    g_assert_false(vh_vfio_container_dma_map(f->c, f->buf, 0x3000, PAGE,
                                             VH_VFIO_DMA_READ, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "overlaps the mapping [0x0, 0x3fff]"));
    g_assert_cmpuint(vh_vfio_container_get_map_calls(f->c), ==, 1);
}

static void
test_memlock(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;

    f->fake->map_errno = ENOMEM;
    f->fake->memlock_limit = 8 * MIB;
    g_assert_false(vh_vfio_container_dma_map(f->c, f->buf, 0, 64 * PAGE,
                                             VH_VFIO_DMA_READ |
                                             VH_VFIO_DMA_WRITE, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_MEMLOCK);
    g_test_message("%s", err->message);
    g_assert_nonnull(strstr(err->message, "mapping 256 KiB for DMA needs 256 KiB"));
    g_assert_nonnull(strstr(err->message, "RLIMIT_MEMLOCK is 8 MiB"));
    g_assert_nonnull(strstr(err->message, "at least 256 KiB"));
    g_assert_nonnull(strstr(err->message, "ulimit -l 256"));
    g_assert_nonnull(strstr(err->message, "LimitMEMLOCK="));
    g_assert_cmpuint(vh_vfio_container_get_mappings(f->c)->len, ==, 0);
}

static void
test_memlock_advice(void)
{
    g_autofree char *a = vh_vfio_memlock_advice(256 * MIB, 64 * MIB, 64 * 1024);
    g_autofree char *b = vh_vfio_memlock_advice(MIB, 0, G_MAXUINT64);

    g_assert_cmpstr(a, ==, "mapping 256 MiB for DMA needs 320 MiB of locked memory in all but RLIMIT_MEMLOCK is 64 KiB: raise it to at least 327680 KiB (ulimit -l 327680 in the starting shell, prlimit --pid PID --memlock=BYTES:BYTES, or LimitMEMLOCK= in the service unit)");
    g_assert_nonnull(strstr(b, "unlimited"));
}

static void
test_rollback(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    VhVfioDmaRange two[] = {
        { .vaddr = va(f, 0), .iova = 0, .size = PAGE, .flags = 1 },
        { .vaddr = va(f, 4), .iova = 0x10000, .size = PAGE, .flags = 1 },
    };

    /* The second map fails in the kernel: the first is undone. */
    f->fake->dma_avail = 1;
    f->fake->report_dma_avail = FALSE;
    g_assert_true(vh_vfio_container_dma_map(f->c, f->buf, 0x20000, PAGE, 1,
                                            &err));
    f->fake->map_errno = 0;
    /* Make the kernel refuse the second with EEXIST by mapping behind the
     * library's back. */
    g_array_append_val(f->fake->maps, ((VhFakeVfioMap) {
        .iova = 0x10000, .size = PAGE }));
    g_assert_false(vh_vfio_container_dma_map_ranges(f->c, two, 2, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "File exists"));
    /* The library's view: only the earlier mapping. */
    g_assert_cmpuint(vh_vfio_container_get_mappings(f->c)->len, ==, 1);
    /* The kernel's: the earlier one and the foreign one. */
    g_assert_cmpuint(f->fake->maps->len, ==, 2);
}

static void
test_unmap_checks(Fixture *f, gconstpointer data)
{
    g_autoptr(GError) err = NULL;

    g_assert_true(vh_vfio_container_dma_map(f->c, f->buf, 0, 4 * PAGE, 3,
                                            &err));
    g_assert_true(vh_vfio_container_dma_map(f->c, f->buf + 8 * PAGE,
                                            0x8000, 2 * PAGE, 3, &err));
    vh_fake_vfio_clear_log(f->fake);

    /* Splitting a mapping: refused before the call. */
    g_assert_false(vh_vfio_container_dma_unmap(f->c, 0x1000, PAGE, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "splits the mapping [0x0, 0x4000)"));
    g_clear_error(&err);
    /* Nothing mapped there. */
    g_assert_false(vh_vfio_container_dma_unmap(f->c, 0x20000, PAGE, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID);
    g_clear_error(&err);
    /* A gap in the range: refused. */
    g_assert_false(vh_vfio_container_dma_unmap(f->c, 0, 0xa000, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_cmpuint(f->fake->calls->len, ==, 0);

    /* The kernel unmapping less than asked: reported. */
    f->fake->unmap_short = PAGE;
    g_assert_false(vh_vfio_container_dma_unmap(f->c, 0x8000, 2 * PAGE, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_FAILED);
    g_assert_nonnull(strstr(err->message, "asked for 0x2000 bytes, the kernel unmapped 0x1000"));
    g_clear_error(&err);
    f->fake->unmap_short = 0;

    /* Two neighbours together, from the one's start to the other's end. */
    g_assert_true(vh_vfio_container_dma_map(f->c, f->buf + 4 * PAGE, 0x4000,
                                            4 * PAGE, 3, &err));
    g_assert_true(vh_vfio_container_dma_unmap(f->c, 0, 8 * PAGE, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(vh_vfio_container_get_mappings(f->c)->len, ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_summary("type1 DMA: adjacent ranges coalesced, IOVA ranges and "
                   "dma_avail checked before the call, memlock explained");
    g_test_add_func("/vfio/dma/coalesce", test_coalesce);
    g_test_add_func("/vfio/dma/coalesce-refusals", test_coalesce_refusals);
    g_test_add_func("/vfio/dma/memlock-advice", test_memlock_advice);
#define ADD(path, fn) \
    g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
    ADD("/vfio/dma/map-coalesced", test_map_coalesced);
    ADD("/vfio/dma/iova-range-refused", test_iova_range_refused);
    ADD("/vfio/dma/dma-avail-refused", test_dma_avail_refused);
    ADD("/vfio/dma/overlap-existing", test_overlap_existing);
    ADD("/vfio/dma/memlock", test_memlock);
    ADD("/vfio/dma/rollback", test_rollback);
    ADD("/vfio/dma/unmap-checks", test_unmap_checks);
    return g_test_run();
}
