/*
 * fuzz-vfio-caps.c: libFuzzer target for the VFIO library's capability
 * chain walkers
 *
 * Input: one mode byte, then the bytes the kernel would fill in.
 *   mode & 3 == 0: the whole rest is a struct vfio_region_info + chain for
 *                  vh_vfio_region_parse(), then the mmap areas of the region
 *                  with an MSI-X hole from the mode's upper bits.
 *   mode & 3 == 1: the rest is a struct vfio_iommu_type1_info + chain for
 *                  vh_vfio_iommu_info_parse().
 *   mode & 3 == 2: the rest starts with a u32 first offset and a u8 minimum
 *                  offset, then the buffer for vh_vfio_caps_walk() itself;
 *                  each capability's "avail" is checked against the buffer.
 *   mode & 3 == 3: a device through the simulated kernel
 *                  (tests/fake/vh-fake-vfio.h): 256 bytes of config space
 *                  (the MSI-X capability walk when the device opens), then
 *                  for BARs 0-5 a flags byte, a size byte (a power of two up to 8 KiB)
 *                  and a length-prefixed capability chain; every BAR's
 *                  region and mmap areas are then asked for.
 * The buffers are copied to fresh heap blocks of exactly their length, so
 * that AddressSanitizer sees any read past the end.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "fuzz.vfio-caps"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vh-fake-vfio.h"
#include "vh-vfio-priv.h"
#include "vh-fuzz-input.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct {
    const guint8 *buf;
    gsize len;
    guint count;
} WalkCheck;

/* The walker must hand out exactly the bytes from @cap to the end. */
static gboolean
fuzz_walk_cap(gpointer data, guint16 id, guint16 version, const guint8 *cap,
              gsize avail, GError **error)
{
    WalkCheck *check = data;
    volatile guint8 sink = 0;
    gsize i;

    if (cap < check->buf || cap + avail != check->buf + check->len ||
        avail < sizeof(struct vfio_info_cap_header)) {
        fprintf(stderr, "fuzz-vfio-caps: capability at %td with %zu bytes "
                "in a buffer of %zu\n", cap - check->buf, avail, check->len);
        abort();
    }
    for (i = 0; i < avail; i++)
        sink ^= cap[i];
    (void) sink;
    /* Each offset comes once (cycle check), and a header fits after it. */
    if (++check->count > check->len - sizeof(struct vfio_info_cap_header) + 1) {
        fprintf(stderr, "fuzz-vfio-caps: %u capabilities in %zu bytes\n",
                check->count, check->len);
        abort();
    }
    return TRUE;
}

static void
fuzz_region(const guint8 *buf, gsize len, guint8 mode)
{
    g_autoptr(VhVfioRegion) region = NULL;
    g_autoptr(GArray) areas = NULL;
    g_autoptr(GError) err = NULL;
    guint64 start, end;

    if (!vh_vfio_region_parse(buf, len, &region, &err))
        return;
    /* An MSI-X table somewhere in the region, or none. */
    vh_vfio_msix_hole((guint64) (mode >> 2) << 9, (guint64) (mode >> 5) * 16,
                      4096, &start, &end);
    areas = vh_vfio_mmap_areas(region, mode & 0x80, start, end, 4096);
    g_assert(areas);
}

static void
fuzz_iommu_info(const guint8 *buf, gsize len)
{
    g_autoptr(GArray) ranges = NULL;
    g_autoptr(GError) err = NULL;
    guint64 pgsizes;
    guint32 avail;

    (void) vh_vfio_iommu_info_parse(buf, len, &pgsizes, &ranges, &avail, &err);
}

static void
fuzz_walk(FuzzInput *in)
{
    g_autoptr(GError) err = NULL;
    guint32 first = fuzz_u32(in);
    gsize min_offset = fuzz_u8(in);
    g_autofree guint8 *buf = g_memdup2(in->p, in->left);
    WalkCheck check = { .buf = buf, .len = in->left };

    (void) vh_vfio_caps_walk(buf, in->left, first, min_offset, fuzz_walk_cap,
                             &check, &err);
}

static void
fuzz_device(FuzzInput *in)
{
    static const int group = 4;
    g_autoptr(VhFakeVfio) fake = vh_fake_vfio_new("0000:01:00.0", &group, 1);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(GError) err = NULL;
    const guint8 *cfg;
    gsize cfg_len;
    guint bar;

    cfg = fuzz_bytes(in, 256, &cfg_len);
    memcpy(fake->regions[VFIO_PCI_CONFIG_REGION_INDEX].data->data, cfg,
           cfg_len);
    for (bar = 0; bar < 6; bar++) {
        guint8 flags = fuzz_u8(in);
        guint8 shift = fuzz_u8(in) % 14;     /* up to 8 KiB: the fake allocates it */
        gsize caps_len;
        const guint8 *caps = fuzz_bytes(in, fuzz_u8(in), &caps_len);

        vh_fake_vfio_set_region(fake, bar,
                                flags & (VFIO_REGION_INFO_FLAG_READ |
                                         VFIO_REGION_INFO_FLAG_WRITE |
                                         VFIO_REGION_INFO_FLAG_MMAP),
                                (flags & 0x80) ? 0 : (guint64) 1 << shift,
                                caps_len ? caps : NULL, caps_len);
    }
    if (!(dev = vh_fake_vfio_open(fake, &err)))
        return;
    for (bar = 0; bar < 6; bar++) {
        g_autoptr(GArray) areas = NULL;
        g_autoptr(GError) local = NULL;
        const VhVfioRegion *region;

        if (vh_vfio_device_get_region(dev, bar, &region, &local))
            (void) vh_vfio_device_bar_mmap_areas(dev, bar, &areas, &local);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    FuzzInput in = { .p = data, .left = size };
    guint8 mode = fuzz_u8(&in);
    g_autofree guint8 *buf = NULL;

    switch (mode & 3) {
    case 0:
        buf = g_memdup2(in.p, in.left);
        fuzz_region(buf, in.left, mode);
        break;
    case 1:
        buf = g_memdup2(in.p, in.left);
        fuzz_iommu_info(buf, in.left);
        break;
    case 2:
        fuzz_walk(&in);
        break;
    default:
        fuzz_device(&in);
        break;
    }
    return 0;
}
