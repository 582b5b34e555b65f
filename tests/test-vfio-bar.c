/*
 * test-vfio-bar.c: the MSI-X table hole, mmap areas, BAR access by mmap with
 * pread/pwrite fallback, typed config space accessors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include "vh-fake-vfio.h"
#include "vh-fake-vfio-caps.h"
#include "vh-vfio-priv.h"

#define KIB 1024ULL

static const int one_group[] = { 3 };

typedef struct {
    guint64 offset;
    guint64 size;
    gsize page;
    guint64 start;
    guint64 end;
} HoleCase;

static void
test_hole_arith(void)
{
    static const HoleCase cases[] = {
        /* page aligned table, one page */
        { 0x3000, 16 * 16, 4 * KIB, 0x3000, 0x4000 },
        /* odd offset inside a page */
        { 0x1234, 0x30, 4 * KIB, 0x1000, 0x2000 },
        /* straddling a page boundary: both pages */
        { 0xff8, 0x20, 4 * KIB, 0x0, 0x2000 },
        /* ends exactly on a boundary: that page not included */
        { 0x2f00, 0x100, 4 * KIB, 0x2000, 0x3000 },
        /* 2048 vectors (32 KiB) at an odd offset */
        { 0x10010, 2048 * 16, 4 * KIB, 0x10000, 0x19000 },
        /* 64 KiB pages: the table's whole page */
        { 0x1234, 0x30, 64 * KIB, 0x0, 0x10000 },
        { 0x2000, 0x100, 64 * KIB, 0x0, 0x10000 },
        { 0xfff0, 0x20, 64 * KIB, 0x0, 0x20000 },
        { 0x30000, 0x800, 64 * KIB, 0x30000, 0x40000 },
    };
    guint i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        guint64 start = 0, end = 0;

        vh_vfio_msix_hole(cases[i].offset, cases[i].size, cases[i].page,
                          &start, &end);
        g_test_message("table 0x%" G_GINT64_MODIFIER "x+0x%" G_GINT64_MODIFIER "x page 0x%zx",
                       cases[i].offset, cases[i].size, cases[i].page);
        g_assert_cmphex(start, ==, cases[i].start);
        g_assert_cmphex(end, ==, cases[i].end);
    }
}

static VhVfioRegion *
region_new(guint64 size, guint32 flags)
{
    VhVfioRegion *r = g_new0(VhVfioRegion, 1);

    r->size = size;
    r->flags = flags;
    r->sparse = g_array_new(FALSE, FALSE, sizeof(VhVfioArea));
    return r;
}

static void
assert_areas(GArray *areas, const VhVfioArea *want, guint n)
{
    guint i;

    g_assert_cmpuint(areas->len, ==, n);
    for (i = 0; i < n; i++) {
        g_assert_cmphex(g_array_index(areas, VhVfioArea, i).offset, ==,
                        want[i].offset);
        g_assert_cmphex(g_array_index(areas, VhVfioArea, i).size, ==,
                        want[i].size);
    }
}

static void
test_areas(void)
{
    g_autoptr(VhVfioRegion) whole = region_new(0x10000, VFIO_REGION_INFO_FLAG_MMAP);
    g_autoptr(VhVfioRegion) nommap = region_new(0x10000, VFIO_REGION_INFO_FLAG_READ);
    g_autoptr(VhVfioRegion) sparse = region_new(0x10000, VFIO_REGION_INFO_FLAG_MMAP);
    g_autoptr(VhVfioRegion) small = region_new(0x800, VFIO_REGION_INFO_FLAG_MMAP);
    g_autoptr(VhVfioRegion) empty_sparse = region_new(0x10000, VFIO_REGION_INFO_FLAG_MMAP);
    g_autoptr(GArray) a = NULL;
    guint64 s, e;

    /* No hole: the whole BAR. */
    a = vh_vfio_mmap_areas(whole, FALSE, 0, 0, 4 * KIB);
    assert_areas(a, (VhVfioArea[]) { { 0, 0x10000 } }, 1);
    g_clear_pointer(&a, g_array_unref);

    /* Table at 0x1234 (3 entries): the page 0x1000 is cut out. */
    vh_vfio_msix_hole(0x1234, 0x30, 4 * KIB, &s, &e);
    a = vh_vfio_mmap_areas(whole, TRUE, s, e, 4 * KIB);
    assert_areas(a, (VhVfioArea[]) { { 0, 0x1000 }, { 0x2000, 0xe000 } }, 2);
    g_clear_pointer(&a, g_array_unref);

    /* Same with 64 KiB pages: nothing left of a 64 KiB BAR. */
    vh_vfio_msix_hole(0x1234, 0x30, 64 * KIB, &s, &e);
    a = vh_vfio_mmap_areas(whole, TRUE, s, e, 64 * KIB);
    assert_areas(a, NULL, 0);
    g_clear_pointer(&a, g_array_unref);

    /* Table at the start: only what follows. */
    vh_vfio_msix_hole(0, 0x100, 4 * KIB, &s, &e);
    a = vh_vfio_mmap_areas(whole, TRUE, s, e, 4 * KIB);
    assert_areas(a, (VhVfioArea[]) { { 0x1000, 0xf000 } }, 1);
    g_clear_pointer(&a, g_array_unref);

    /* Table in the last page: only what precedes. */
    vh_vfio_msix_hole(0xff00, 0x100, 4 * KIB, &s, &e);
    a = vh_vfio_mmap_areas(whole, TRUE, s, e, 4 * KIB);
    assert_areas(a, (VhVfioArea[]) { { 0, 0xf000 } }, 1);
    g_clear_pointer(&a, g_array_unref);

    /* Not mmap-able: nothing. */
    a = vh_vfio_mmap_areas(nommap, FALSE, 0, 0, 4 * KIB);
    assert_areas(a, NULL, 0);
    g_clear_pointer(&a, g_array_unref);

    /* Sparse areas honoured, and the hole cut out of the one it hits. */
    g_array_append_vals(sparse->sparse, (VhVfioArea[]) {
        { 0x0, 0x4000 }, { 0x8000, 0x8000 } }, 2);
    sparse->has_sparse = TRUE;
    vh_vfio_msix_hole(0x9010, 0x40, 4 * KIB, &s, &e);
    a = vh_vfio_mmap_areas(sparse, TRUE, s, e, 4 * KIB);
    assert_areas(a, (VhVfioArea[]) {
        { 0x0, 0x4000 }, { 0x8000, 0x1000 }, { 0xa000, 0x6000 } }, 3);
    g_clear_pointer(&a, g_array_unref);

    /* A sparse capability with no areas: nothing may be mapped. */
    empty_sparse->has_sparse = TRUE;
    a = vh_vfio_mmap_areas(empty_sparse, FALSE, 0, 0, 4 * KIB);
    assert_areas(a, NULL, 0);
    g_clear_pointer(&a, g_array_unref);

    /* Sub-page BAR without a table: the BAR itself (mmap pads the page). */
    a = vh_vfio_mmap_areas(small, FALSE, 0, 0, 4 * KIB);
    assert_areas(a, (VhVfioArea[]) { { 0, 0x800 } }, 1);
    g_clear_pointer(&a, g_array_unref);

    /* Sub-page BAR holding the table: its only page is the hole. */
    vh_vfio_msix_hole(0x400, 0x40, 4 * KIB, &s, &e);
    a = vh_vfio_mmap_areas(small, TRUE, s, e, 4 * KIB);
    assert_areas(a, NULL, 0);
    g_clear_pointer(&a, g_array_unref);
}

/* Config space with an MSI-X capability at 0x70: @entries vectors, table
 * in BAR @bar at @offset (PCI 3.0 6.8.2). */
static void
put_msix(VhFakeVfio *fake, guint bar, guint32 offset, guint16 entries)
{
    guint8 *cfg = fake->regions[7].data->data;
    guint16 ctrl = entries - 1;
    guint32 table = offset | bar;
    guint32 pba = (offset + entries * 16) | bar;

    cfg[0x06] = 0x10;           /* status: capability list */
    cfg[0x34] = 0x50;
    cfg[0x50] = 0x05;           /* MSI, to be skipped */
    cfg[0x51] = 0x70;
    cfg[0x70] = 0x11;           /* MSI-X */
    cfg[0x71] = 0x00;
    memcpy(cfg + 0x72, &ctrl, 2);
    memcpy(cfg + 0x74, &table, 4);
    memcpy(cfg + 0x78, &pba, 4);
}

static void
test_msix_from_config(void)
{
    g_autoptr(VhFakeVfio) fake = vh_fake_vfio_new("0000:00:06.0", one_group, 1);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(GError) err = NULL;
    const VhVfioMsix *msix;

    put_msix(fake, 3, 0x2000, 5);
    dev = vh_fake_vfio_open(fake, &err);
    g_assert_no_error(err);
    msix = vh_vfio_device_get_msix(dev);
    g_assert_true(msix->present);
    g_assert_cmpuint(msix->entries, ==, 5);
    g_assert_cmpuint(msix->table_bar, ==, 3);
    g_assert_cmphex(msix->table_offset, ==, 0x2000);
    g_assert_cmphex(msix->pba_offset, ==, 0x2050);
}

static void
test_capability_loop(void)
{
    g_autoptr(VhFakeVfio) fake = vh_fake_vfio_new("0000:00:06.0", one_group, 1);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(GError) err = NULL;
    guint8 *cfg = fake->regions[7].data->data;

    /* A config space whose capability list loops: no MSI-X, no hang. */
    cfg[0x06] = 0x10;
    cfg[0x34] = 0x40;
    cfg[0x40] = 0x05;
    cfg[0x41] = 0x40;
    dev = vh_fake_vfio_open(fake, &err);
    g_assert_no_error(err);
    g_assert_false(vh_vfio_device_get_msix(dev)->present);
}

static void
test_bar_map_and_fallback(gconstpointer data)
{
    gsize page = GPOINTER_TO_SIZE(data);
    g_autoptr(VhFakeVfio) fake = vh_fake_vfio_new("0000:00:06.0", one_group, 1);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(GArray) areas = NULL;
    guint8 *bar;
    guint mapped = 0;
    guint32 v32 = 0;
    guint64 v64 = 0;
    guint64 table = 4 * page + 0x10;    /* odd offset in the 5th page */

    fake->page_size = page;
    vh_fake_vfio_set_region(fake, 0, VFIO_REGION_INFO_FLAG_READ |
                            VFIO_REGION_INFO_FLAG_WRITE |
                            VFIO_REGION_INFO_FLAG_MMAP, 8 * page, NULL, 0);
    put_msix(fake, 0, table, 4);
    bar = fake->regions[0].data->data;
    memcpy(bar + 0x10, "\x11\x22\x33\x44", 4);
    memcpy(bar + table, "\xaa\xbb\xcc\xdd", 4);
    memcpy(bar + 6 * page, "\x01\x02\x03\x04\x05\x06\x07\x08", 8);

    dev = vh_fake_vfio_open(fake, &err);
    g_assert_no_error(err);
    g_assert_true(vh_vfio_device_bar_mmap_areas(dev, 0, &areas, &err));
    assert_areas(areas, (VhVfioArea[]) {
        { 0, 4 * page }, { 5 * page, 3 * page } }, 2);

    vh_fake_vfio_clear_log(fake);
    g_assert_true(vh_vfio_device_bar_map(dev, 0, &mapped, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(mapped, ==, 2);
    g_assert_cmpuint(fake->mmaps, ==, 2);
    /* Idempotent. */
    g_assert_true(vh_vfio_device_bar_map(dev, 0, &mapped, &err));
    g_assert_cmpuint(fake->mmaps, ==, 2);

    /* Outside the hole: through the mapping, no pread. */
    g_assert_true(vh_vfio_device_bar_is_mapped(dev, 0, 0x10, 4));
    g_assert_true(vh_vfio_device_bar_read_u32(dev, 0, 0x10, &v32, &err));
    g_assert_cmphex(v32, ==, 0x44332211);
    g_assert_true(vh_vfio_device_bar_read_u64(dev, 0, 6 * page, &v64, &err));
    g_assert_cmphex(v64, ==, 0x0807060504030201ULL);
    g_assert_cmpuint(fake->preads, ==, 0);

    /* The MSI-X table page: pread/pwrite. */
    g_assert_false(vh_vfio_device_bar_is_mapped(dev, 0, table, 4));
    g_assert_true(vh_vfio_device_bar_read_u32(dev, 0, table, &v32, &err));
    g_assert_cmphex(v32, ==, 0xddccbbaa);
    g_assert_cmpuint(fake->preads, ==, 1);
    g_assert_true(vh_vfio_device_bar_write_u32(dev, 0, table + 4, 0x12345678,
                                               &err));
    g_assert_cmpuint(fake->pwrites, ==, 1);
    g_assert_cmpmem(bar + table + 4, 4, "\x78\x56\x34\x12", 4);

    /* An access straddling a mapping's end falls back too. */
    g_assert_false(vh_vfio_device_bar_is_mapped(dev, 0, 4 * page - 2, 4));
    g_assert_true(vh_vfio_device_bar_read_u32(dev, 0, 4 * page - 2, &v32,
                                              &err));
    g_assert_cmpuint(fake->preads, ==, 2);

    /* Writes through the mapping land in the BAR. */
    g_assert_true(vh_vfio_device_bar_write_u32(dev, 0, 0x20, 0xcafef00d,
                                               &err));
    g_assert_cmpuint(fake->pwrites, ==, 1);
    g_assert_cmpmem(bar + 0x20, 4, "\x0d\xf0\xfe\xca", 4);

    /* Out of the BAR: refused before any call. */
    g_assert_false(vh_vfio_device_bar_read_u32(dev, 0, 8 * page - 2, &v32,
                                               &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID);
    g_assert_cmpuint(fake->preads, ==, 2);
    g_clear_error(&err);
    g_assert_false(vh_vfio_device_bar_read_u32(dev, 6, 0, &v32, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID);

    vh_vfio_device_bar_unmap(dev, 0);
    g_assert_false(vh_vfio_device_bar_is_mapped(dev, 0, 0x10, 4));
}

static void
test_msix_mappable(void)
{
    g_autoptr(VhFakeVfio) fake = vh_fake_vfio_new("0000:00:06.0", one_group, 1);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(GArray) areas = NULL;
    VhFakeCaps caps;

    vh_fake_caps_init(&caps, sizeof(struct vfio_region_info));
    vh_fake_caps_add(&caps, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 1, NULL, 0);
    vh_fake_vfio_set_region(fake, 0, VFIO_REGION_INFO_FLAG_READ |
                            VFIO_REGION_INFO_FLAG_MMAP, 0x4000,
                            caps.bytes->data, caps.bytes->len);
    g_byte_array_unref(caps.bytes);
    put_msix(fake, 0, 0x1000, 4);
    dev = vh_fake_vfio_open(fake, &err);
    g_assert_no_error(err);
    g_assert_true(vh_vfio_device_bar_mmap_areas(dev, 0, &areas, &err));
    assert_areas(areas, (VhVfioArea[]) { { 0, 0x4000 } }, 1);
}

static void
test_bar_no_mmap(void)
{
    g_autoptr(VhFakeVfio) fake = vh_fake_vfio_new("0000:00:06.0", one_group, 1);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(GError) err = NULL;
    guint mapped = 99;
    guint32 v = 0;

    vh_fake_vfio_set_region(fake, 2, VFIO_REGION_INFO_FLAG_READ |
                            VFIO_REGION_INFO_FLAG_WRITE, 0x20, NULL, 0);
    fake->regions[2].data->data[4] = 0x5a;
    dev = vh_fake_vfio_open(fake, &err);
    g_assert_no_error(err);
    g_assert_true(vh_vfio_device_bar_map(dev, 2, &mapped, &err));
    g_assert_cmpuint(mapped, ==, 0);
    g_assert_cmpuint(fake->mmaps, ==, 0);
    g_assert_true(vh_vfio_device_bar_read_u32(dev, 2, 4, &v, &err));
    g_assert_cmphex(v, ==, 0x5a);
    g_assert_cmpuint(fake->preads, >, 0);
}

static void
test_config_typed(void)
{
    g_autoptr(VhFakeVfio) fake = vh_fake_vfio_new("0000:00:03.0", one_group, 1);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(GError) err = NULL;
    guint8 *cfg = fake->regions[7].data->data;
    guint8 b = 0;
    guint16 w = 0;
    guint32 d = 0;

    memcpy(cfg, "\x34\x12\xe8\x11", 4);         /* 1234:11e8 */
    dev = vh_fake_vfio_open(fake, &err);
    g_assert_no_error(err);
    g_assert_true(vh_vfio_device_config_read_u16(dev, 0, &w, &err));
    g_assert_cmphex(w, ==, 0x1234);
    g_assert_true(vh_vfio_device_config_read_u16(dev, 2, &w, &err));
    g_assert_cmphex(w, ==, 0x11e8);
    g_assert_true(vh_vfio_device_config_read_u32(dev, 0, &d, &err));
    g_assert_cmphex(d, ==, 0x11e81234);
    g_assert_true(vh_vfio_device_config_read_u8(dev, 1, &b, &err));
    g_assert_cmphex(b, ==, 0x12);

    g_assert_true(vh_vfio_device_config_write_u16(dev, 4, 0x0406, &err));
    g_assert_cmpmem(cfg + 4, 2, "\x06\x04", 2);
    g_assert_true(vh_vfio_device_config_write_u32(dev, 0x10, 0xfffffff0, &err));
    g_assert_cmpmem(cfg + 0x10, 4, "\xf0\xff\xff\xff", 4);
    g_assert_true(vh_vfio_device_config_write_u8(dev, 0x3c, 0x0b, &err));
    g_assert_cmphex(cfg[0x3c], ==, 0x0b);

    /* Past the end: refused with the region named, value untouched. */
    d = 0x5555;
    g_assert_false(vh_vfio_device_config_read_u32(dev, 254, &d, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "region 7"));
    g_assert_cmphex(d, ==, 0x5555);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_summary("BAR access: the MSI-X hole in pages, mmap areas with "
                   "sparse areas, mmap with pread fallback, typed config");
    g_test_add_func("/vfio/msix-hole/arithmetic", test_hole_arith);
    g_test_add_func("/vfio/bar/areas", test_areas);
    g_test_add_func("/vfio/bar/msix-from-config", test_msix_from_config);
    g_test_add_func("/vfio/bar/capability-loop", test_capability_loop);
    g_test_add_data_func("/vfio/bar/map-4k", GSIZE_TO_POINTER(4 * KIB),
                         test_bar_map_and_fallback);
    g_test_add_data_func("/vfio/bar/map-64k", GSIZE_TO_POINTER(64 * KIB),
                         test_bar_map_and_fallback);
    g_test_add_func("/vfio/bar/msix-mappable", test_msix_mappable);
    g_test_add_func("/vfio/bar/no-mmap", test_bar_no_mmap);
    g_test_add_func("/vfio/config/typed", test_config_typed);
    return g_test_run();
}
