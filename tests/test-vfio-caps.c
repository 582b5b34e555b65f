/*
 * test-vfio-caps.c: capability chains of region and IOMMU info, walked with
 * bounds and cycle checks, through the fake kernel and byte by byte
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include "vh-fake-vfio.h"
#include "vh-fake-vfio-caps.h"
#include "vh-vfio-priv.h"

typedef struct {
    guint32 nr_areas;
    guint32 reserved;
    struct vfio_region_sparse_mmap_area areas[2];
} SparseBody;

static const int one_group[] = { 3 };

/* A region info buffer: the header followed by @caps. */
static GByteArray *
region_buf(guint32 index, guint32 flags, guint64 size, const VhFakeCaps *caps,
           guint32 first)
{
    GByteArray *buf = g_byte_array_new();
    struct vfio_region_info info = {
        .argsz = sizeof(info) + caps->bytes->len,
        .flags = flags | VFIO_REGION_INFO_FLAG_CAPS,
        .index = index,
        .cap_offset = first,
        .size = size,
        .offset = 0,
    };

    g_byte_array_append(buf, (guint8 *) &info, sizeof(info));
    g_byte_array_append(buf, caps->bytes->data, caps->bytes->len);
    return buf;
}

static void
test_good_chain(void)
{
    g_autoptr(VhFakeVfio) fake = vh_fake_vfio_new("0000:00:03.0", one_group, 1);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *calls = NULL;
    const VhVfioRegion *region = NULL;
    const VhVfioRegion *again = NULL;
    VhFakeCaps caps;
    SparseBody sparse = {
        .nr_areas = 2,
        .areas = { { .offset = 0, .size = 0x2000 },
                   { .offset = 0x4000, .size = 0xc000 } },
    };
    guint32 type[2] = { 3, 1 };
    const VhVfioArea *a;

    vh_fake_caps_init(&caps, sizeof(struct vfio_region_info));
    vh_fake_caps_add(&caps, VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1, &sparse,
                     sizeof(sparse));
    vh_fake_caps_add(&caps, VFIO_REGION_INFO_CAP_TYPE, 1, type, sizeof(type));
    vh_fake_caps_add(&caps, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 1, NULL, 0);
    vh_fake_vfio_set_region(fake, 0, VFIO_REGION_INFO_FLAG_READ |
                            VFIO_REGION_INFO_FLAG_WRITE |
                            VFIO_REGION_INFO_FLAG_MMAP, 0x10000,
                            caps.bytes->data, caps.bytes->len);
    g_byte_array_unref(caps.bytes);

    dev = vh_fake_vfio_open(fake, &err);
    g_assert_no_error(err);
    vh_fake_vfio_clear_log(fake);
    g_assert_true(vh_vfio_device_get_region(dev, 0, &region, &err));
    g_assert_no_error(err);
    /* Probe with the bare struct, then again with the argsz asked for. */
    calls = vh_fake_vfio_calls(fake);
    g_assert_cmpstr(calls, ==, "GET_REGION_INFO GET_REGION_INFO");

    g_assert_cmpuint(region->size, ==, 0x10000);
    g_assert_true(region->has_sparse);
    g_assert_cmpuint(region->sparse->len, ==, 2);
    a = &g_array_index(region->sparse, VhVfioArea, 1);
    g_assert_cmpuint(a->offset, ==, 0x4000);
    g_assert_cmpuint(a->size, ==, 0xc000);
    g_assert_true(region->has_type);
    g_assert_cmpuint(region->type, ==, 3);
    g_assert_cmpuint(region->subtype, ==, 1);
    g_assert_true(region->msix_mappable);

    /* Cached: no second ioctl. */
    vh_fake_vfio_clear_log(fake);
    g_assert_true(vh_vfio_device_get_region(dev, 0, &again, &err));
    g_assert_true(again == region);
    g_assert_cmpuint(fake->calls->len, ==, 0);
}

static void
test_no_caps(void)
{
    g_autoptr(VhFakeVfio) fake = vh_fake_vfio_new("0000:00:03.0", one_group, 1);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(GError) err = NULL;
    const VhVfioRegion *region = NULL;

    vh_fake_vfio_set_region(fake, 0, VFIO_REGION_INFO_FLAG_READ |
                            VFIO_REGION_INFO_FLAG_MMAP, 0x100000, NULL, 0);
    dev = vh_fake_vfio_open(fake, &err);
    g_assert_no_error(err);
    vh_fake_vfio_clear_log(fake);
    g_assert_true(vh_vfio_device_get_region(dev, 0, &region, &err));
    g_assert_cmpuint(fake->calls->len, ==, 1);
    g_assert_false(region->has_sparse);
    g_assert_false(region->has_type);
    g_assert_false(region->msix_mappable);
    g_assert_cmpuint(region->sparse->len, ==, 0);

    /* VGA on a non-VGA device: absent, not a failure of the kernel. */
    g_assert_false(vh_vfio_device_get_region(dev, VH_VFIO_PCI_VGA, &region,
                                             &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_NOT_FOUND);
}

static void
check_corrupt(GByteArray *buf, const char *needle)
{
    g_autoptr(GError) err = NULL;
    VhVfioRegion *sentinel = (VhVfioRegion *) 0x1;
    VhVfioRegion *region = sentinel;

    g_assert_false(vh_vfio_region_parse(buf->data, buf->len, &region, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_CORRUPT);
    g_assert_nonnull(strstr(err->message, needle));
    /* ret_region untouched on failure. */
    g_assert_true(region == sentinel);
}

static void
test_cycle(void)
{
    g_autoptr(GByteArray) buf = NULL;
    VhFakeCaps caps;
    guint32 first, second;
    guint32 type[2] = { 1, 1 };

    vh_fake_caps_init(&caps, sizeof(struct vfio_region_info));
    first = vh_fake_caps_add(&caps, VFIO_REGION_INFO_CAP_TYPE, 1, type,
                             sizeof(type));
    second = vh_fake_caps_add(&caps, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 1,
                              NULL, 0);
    vh_fake_caps_set_next(&caps, second, first);
    buf = region_buf(0, VFIO_REGION_INFO_FLAG_READ, 0x1000, &caps, first);
    check_corrupt(buf, "cycle");

    /* A capability pointing at itself. */
    vh_fake_caps_set_next(&caps, second, second);
    g_byte_array_unref(buf);
    buf = region_buf(0, VFIO_REGION_INFO_FLAG_READ, 0x1000, &caps, first);
    check_corrupt(buf, "cycle");
    g_byte_array_unref(caps.bytes);
}

static void
test_out_of_bounds(void)
{
    g_autoptr(GByteArray) buf = NULL;
    VhFakeCaps caps;
    guint32 first;

    vh_fake_caps_init(&caps, sizeof(struct vfio_region_info));
    first = vh_fake_caps_add(&caps, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 1,
                             NULL, 0);
    /* next beyond argsz */
    vh_fake_caps_set_next(&caps, first, 0x1000);
    buf = region_buf(0, VFIO_REGION_INFO_FLAG_READ, 0x1000, &caps, first);
    check_corrupt(buf, "outside");

    /* next with a header that would straddle the end */
    vh_fake_caps_set_next(&caps, first, sizeof(struct vfio_region_info) +
                          caps.bytes->len - 4);
    g_byte_array_unref(buf);
    buf = region_buf(0, VFIO_REGION_INFO_FLAG_READ, 0x1000, &caps, first);
    check_corrupt(buf, "outside");

    /* next pointing back into the fixed header */
    vh_fake_caps_set_next(&caps, first, 8);
    g_byte_array_unref(buf);
    buf = region_buf(0, VFIO_REGION_INFO_FLAG_READ, 0x1000, &caps, first);
    check_corrupt(buf, "outside");
    g_byte_array_unref(caps.bytes);
}

static void
test_sparse_overrun(void)
{
    g_autoptr(GByteArray) buf = NULL;
    VhFakeCaps caps;
    guint32 first;
    SparseBody sparse = {
        .nr_areas = 9,          /* says 9, carries 2 */
        .areas = { { .offset = 0, .size = 0x1000 } },
    };
    SparseBody outside = {
        .nr_areas = 1,
        .areas = { { .offset = 0x1000, .size = 0x2000 } },
    };

    vh_fake_caps_init(&caps, sizeof(struct vfio_region_info));
    first = vh_fake_caps_add(&caps, VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1,
                             &sparse, sizeof(sparse));
    buf = region_buf(0, VFIO_REGION_INFO_FLAG_READ, 0x1000, &caps, first);
    check_corrupt(buf, "past the end");
    g_byte_array_unref(caps.bytes);

    /* An area beyond the region's size. */
    vh_fake_caps_init(&caps, sizeof(struct vfio_region_info));
    first = vh_fake_caps_add(&caps, VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1,
                             &outside, sizeof(outside));
    g_byte_array_unref(buf);
    buf = region_buf(0, VFIO_REGION_INFO_FLAG_READ, 0x2000, &caps, first);
    check_corrupt(buf, "outside region");
    g_byte_array_unref(caps.bytes);
}

/* Through the device: the error names the device and region. */
static void
test_cycle_through_device(void)
{
    g_autoptr(VhFakeVfio) fake = vh_fake_vfio_new("0000:00:03.0", one_group, 1);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(GError) err = NULL;
    const VhVfioRegion *region = NULL;
    VhFakeCaps caps;
    guint32 first;

    vh_fake_caps_init(&caps, sizeof(struct vfio_region_info));
    first = vh_fake_caps_add(&caps, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 1,
                             NULL, 0);
    vh_fake_caps_set_next(&caps, first, first);
    vh_fake_vfio_set_region(fake, 2, VFIO_REGION_INFO_FLAG_READ, 0x1000,
                            caps.bytes->data, caps.bytes->len);
    g_byte_array_unref(caps.bytes);
    dev = vh_fake_vfio_open(fake, &err);
    g_assert_no_error(err);
    g_assert_false(vh_vfio_device_get_region(dev, 2, &region, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_CORRUPT);
    g_assert_nonnull(strstr(err->message, "0000:00:03.0: region 2:"));
    g_assert_null(region);
}

static void
test_iommu_info(void)
{
    g_autoptr(VhFakeVfio) fake = vh_fake_vfio_new("0000:00:03.0", one_group, 1);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(GArray) ranges = NULL;
    VhVfioIovaRange r[2] = {
        { .start = 0, .end = 0xfedfffff },
        { .start = 0xfef00000, .end = 0xffffffffffffULL },
    };
    guint64 pgsizes = 0;
    guint32 avail = 0;
    VhVfioContainer *c;

    fake->iova_ranges = g_array_new(FALSE, FALSE, sizeof(VhVfioIovaRange));
    g_array_append_vals(fake->iova_ranges, r, 2);
    fake->report_dma_avail = TRUE;
    fake->dma_avail = 65535;
    dev = vh_fake_vfio_open(fake, &err);
    g_assert_no_error(err);
    c = vh_vfio_group_get_container(vh_vfio_device_get_group(dev));
    g_assert_true(vh_vfio_container_get_iommu_info(c, &pgsizes, &ranges,
                                                   &avail, &err));
    g_assert_no_error(err);
    g_assert_cmphex(pgsizes, ==, 0x40201000);
    g_assert_cmpuint(ranges->len, ==, 2);
    g_assert_cmphex(g_array_index(ranges, VhVfioIovaRange, 0).end, ==,
                    0xfedfffff);
    g_assert_cmphex(g_array_index(ranges, VhVfioIovaRange, 1).start, ==,
                    0xfef00000);
    g_assert_cmpuint(avail, ==, 65535);
}

static void
test_iommu_info_none(void)
{
    g_autoptr(VhFakeVfio) fake = vh_fake_vfio_new("0000:00:03.0", one_group, 1);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(GArray) ranges = NULL;
    guint32 avail = 0;
    VhVfioContainer *c;

    dev = vh_fake_vfio_open(fake, &err);
    g_assert_no_error(err);
    c = vh_vfio_group_get_container(vh_vfio_device_get_group(dev));
    g_assert_true(vh_vfio_container_get_iommu_info(c, NULL, &ranges, &avail,
                                                   &err));
    /* Not reported: everything, and no limit. */
    g_assert_cmpuint(ranges->len, ==, 1);
    g_assert_cmphex(g_array_index(ranges, VhVfioIovaRange, 0).end, ==,
                    G_MAXUINT64);
    g_assert_cmpuint(avail, ==, G_MAXUINT32);
}

static void
test_iommu_cycle(void)
{
    g_autoptr(GByteArray) buf = g_byte_array_new();
    g_autoptr(GError) err = NULL;
    struct vfio_iommu_type1_info info = {
        .flags = VFIO_IOMMU_INFO_CAPS,
        .cap_offset = sizeof(info),
    };
    VhFakeCaps caps;
    guint32 first;
    struct { guint32 avail; } body = { 5 };
    guint32 dma = 77;

    vh_fake_caps_init(&caps, sizeof(info));
    first = vh_fake_caps_add(&caps, VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, 1,
                             &body, sizeof(body));
    vh_fake_caps_set_next(&caps, first, first);
    info.argsz = sizeof(info) + caps.bytes->len;
    g_byte_array_append(buf, (guint8 *) &info, sizeof(info));
    g_byte_array_append(buf, caps.bytes->data, caps.bytes->len);
    g_byte_array_unref(caps.bytes);
    g_assert_false(vh_vfio_iommu_info_parse(buf->data, buf->len, NULL, NULL,
                                            &dma, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_CORRUPT);
    g_assert_nonnull(strstr(err->message, "cycle"));
    g_assert_cmpuint(dma, ==, 77);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_summary("VFIO capability chains: good chains parsed; cycles, "
                   "out-of-bounds offsets and overrunning capabilities refused");
    g_test_add_func("/vfio/caps/good-chain", test_good_chain);
    g_test_add_func("/vfio/caps/no-caps", test_no_caps);
    g_test_add_func("/vfio/caps/cycle", test_cycle);
    g_test_add_func("/vfio/caps/out-of-bounds", test_out_of_bounds);
    g_test_add_func("/vfio/caps/sparse-overrun", test_sparse_overrun);
    g_test_add_func("/vfio/caps/cycle-through-device", test_cycle_through_device);
    g_test_add_func("/vfio/caps/iommu-info", test_iommu_info);
    g_test_add_func("/vfio/caps/iommu-info-none", test_iommu_info_none);
    g_test_add_func("/vfio/caps/iommu-cycle", test_iommu_cycle);
    return g_test_run();
}
