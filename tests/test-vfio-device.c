/*
 * test-vfio-device.c: opening from passed fds and by address, containers
 * shared between groups, viability with the blockers named, ROM checks,
 * device and hot reset with group ownership
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include "vh-fake-sysfs.h"
#include "vh-fake-vfio.h"
#include "vh-vfio-priv.h"

static const int one_group[] = { 3 };
static const int two_groups[] = { 3, 5 };

static void
test_open_from_fds(void)
{
    g_autoptr(VhFakeVfio) fake = vh_fake_vfio_new("0000:00:03.0", one_group, 1);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *calls = NULL;
    const VhVfioDeviceInfo *info;

    dev = vh_fake_vfio_open(fake, &err);
    g_assert_no_error(err);
    calls = vh_fake_vfio_calls(fake);
    /* Container checked, group status, viable, attached, type1v2 set,
     * device fd, info, config space read for MSI-X (status only). */
    g_assert_cmpstr(calls, ==,
                    "GROUP_GET_STATUS GET_API_VERSION CHECK_EXTENSION "
                    "IOMMU_GET_INFO GROUP_GET_STATUS GROUP_GET_STATUS "
                    "GROUP_SET_CONTAINER CHECK_EXTENSION SET_IOMMU "
                    "GROUP_GET_DEVICE_FD DEVICE_GET_INFO GET_REGION_INFO");
    g_assert_cmpint(fake->iommu_type, ==, VFIO_TYPE1v2_IOMMU);
    info = vh_vfio_device_get_info(dev);
    g_assert_cmpuint(info->num_regions, ==, 9);
    g_assert_cmpuint(info->num_irqs, ==, 5);
    g_assert_cmpstr(vh_vfio_device_get_name(dev), ==, "0000:00:03.0");
    g_assert_cmpint(vh_vfio_group_get_id(vh_vfio_device_get_group(dev)), ==, 3);
}

static void
test_open_type1_only(void)
{
    g_autoptr(VhFakeVfio) fake = vh_fake_vfio_new("0000:00:03.0", one_group, 1);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(GError) err = NULL;

    fake->has_type1v2 = FALSE;
    dev = vh_fake_vfio_open(fake, &err);
    g_assert_no_error(err);
    g_assert_cmpint(fake->iommu_type, ==, VFIO_TYPE1_IOMMU);
}

static void
test_open_wrong_name(void)
{
    g_autoptr(VhFakeVfio) fake = vh_fake_vfio_new("0000:00:03.0", one_group, 1);
    g_autoptr(GError) err = NULL;
    VhVfioDevice *dev;

    dev = vh_vfio_device_new_from_fds(vh_fake_vfio_ops(), fake,
                                      VH_FAKE_VFIO_GROUP_FD, 3,
                                      VH_FAKE_VFIO_CONTAINER_FD, NULL,
                                      "0000:00:04.0", NULL, NULL, &err);
    g_assert_null(dev);
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_NOT_FOUND);
    g_assert_nonnull(strstr(err->message, "0000:00:04.0: VFIO_GROUP_GET_DEVICE_FD in group 3"));
    /* Everything given was closed again. */
    g_assert_cmpuint(fake->closes, ==, 2);
}

static void
test_shared_container(void)
{
    g_autoptr(VhFakeVfio) fake = vh_fake_vfio_new("0000:00:03.0", two_groups, 2);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(VhVfioGroup) g2 = NULL;
    g_autoptr(GError) err = NULL;
    VhVfioContainer *c;
    guint i, set_iommu = 0;

    dev = vh_fake_vfio_open(fake, &err);
    g_assert_no_error(err);
    c = vh_vfio_group_get_container(vh_vfio_device_get_group(dev));
    g2 = vh_vfio_group_new_from_fd(vh_fake_vfio_ops(), fake,
                                   VH_FAKE_VFIO_GROUP_FD + 1, 5, &err);
    g_assert_no_error(err);
    g_assert_true(vh_vfio_group_attach(g2, c, &err));
    g_assert_no_error(err);
    g_assert_true(vh_vfio_group_get_container(g2) == c);
    g_assert_true(g_array_index(fake->groups, VhFakeVfioGroup, 1).container_set);
    for (i = 0; i < fake->calls->len; i++)
        set_iommu += g_str_equal(g_ptr_array_index(fake->calls, i), "SET_IOMMU");
    /* The IOMMU is set once, by the first group. */
    g_assert_cmpuint(set_iommu, ==, 1);
    /* Attaching again is a no-op. */
    g_assert_true(vh_vfio_group_attach(g2, c, &err));
}

static void
test_container_already_set(void)
{
    g_autoptr(VhFakeVfio) fake = vh_fake_vfio_new("0000:00:03.0", one_group, 1);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(GError) err = NULL;
    guint i;

    /* The manager attached the group and set the IOMMU before passing. */
    g_array_index(fake->groups, VhFakeVfioGroup, 0).container_set = TRUE;
    fake->iommu_type = VFIO_TYPE1v2_IOMMU;
    dev = vh_fake_vfio_open(fake, &err);
    g_assert_no_error(err);
    for (i = 0; i < fake->calls->len; i++) {
        g_assert_cmpstr(g_ptr_array_index(fake->calls, i), !=, "GROUP_SET_CONTAINER");
        g_assert_cmpstr(g_ptr_array_index(fake->calls, i), !=, "SET_IOMMU");
    }
}

static gboolean
blockers_from_list(gpointer data, int group_id, GPtrArray **ret_blockers,
                   GError **error)
{
    GPtrArray *out = g_ptr_array_new_with_free_func(g_free);

    g_assert_cmpint(group_id, ==, 4);
    g_ptr_array_add(out, g_strdup(data));
    *ret_blockers = out;
    return TRUE;
}

static void
test_not_viable(void)
{
    static const int group4[] = { 4 };
    g_autoptr(VhFakeVfio) fake = vh_fake_vfio_new("0000:01:01.0", group4, 1);
    g_autoptr(GError) err = NULL;
    VhVfioDevice *dev;

    g_array_index(fake->groups, VhFakeVfioGroup, 0).flags = 0;
    dev = vh_vfio_device_new_from_fds(vh_fake_vfio_ops(), fake,
                                      VH_FAKE_VFIO_GROUP_FD, 4,
                                      VH_FAKE_VFIO_CONTAINER_FD, NULL,
                                      "0000:01:01.0", blockers_from_list,
                                      (gpointer) "0000:01:02.0 (e1000)", &err);
    g_assert_null(dev);
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_NOT_VIABLE);
    g_assert_cmpstr(err->message, ==, "0000:01:01.0: group 4 is not viable: 0000:01:02.0 (e1000) is still bound to a host driver; bind it to vfio-pci or pci-stub (virt-hostdev nodedev-detach) or hot-unplug it");
    g_clear_error(&err);

    /* Without a way to name them: said so, still refused. */
    dev = vh_vfio_device_new_from_fds(vh_fake_vfio_ops(), fake,
                                      VH_FAKE_VFIO_GROUP_FD, 4,
                                      VH_FAKE_VFIO_CONTAINER_FD, NULL,
                                      "0000:01:01.0", NULL, NULL, &err);
    g_assert_null(dev);
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_NOT_VIABLE);
    g_assert_nonnull(strstr(err->message, "some of its members"));
}

/* The test bed's group 4: a PCIe-to-PCI bridge and two e1000 behind it. */
static const VhFakePciDevice bed[] = {
    VH_FAKE_PCI("0000:00:03.0", 0x1234, 0x11e8, 0x00ff00, .group = 3,
                .driver = "vfio-pci"),
    VH_FAKE_PCI("0000:00:04.0", 0x1b36, 0x000e, 0x060400, .group = 4),
    VH_FAKE_PCI("0000:01:01.0", 0x8086, 0x100e, 0x020000, .group = 4,
                .parent = "0000:00:04.0", .driver = "vfio-pci"),
    VH_FAKE_PCI("0000:01:02.0", 0x8086, 0x100e, 0x020000, .group = 4,
                .parent = "0000:00:04.0", .driver = "e1000"),
    VH_FAKE_PCI("0000:00:05.0", 0x8086, 0x100e, 0x020000, .group = 5,
                .driver = "e1000"),
};

static void
test_blockers_sysfs(void)
{
    g_autoptr(VhFakeSysfs) tree = NULL;
    g_autoptr(VhSysfs) sysfs = NULL;
    g_autoptr(GPtrArray) blockers = NULL;
    g_autoptr(GError) err = NULL;

    tree = vh_fake_sysfs_new(bed, G_N_ELEMENTS(bed), &err);
    g_assert_no_error(err);
    sysfs = vh_sysfs_new(vh_fake_sysfs_root(tree), &err);
    g_assert_no_error(err);
    g_assert_true(vh_vfio_group_blockers_sysfs(sysfs, 4, &blockers, &err));
    g_assert_no_error(err);
    /* The bridge does not block; the e1000 does. */
    g_assert_cmpuint(blockers->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(blockers, 0), ==, "0000:01:02.0 (e1000)");
}

static void
test_open_address(void)
{
    g_autoptr(VhFakeSysfs) tree = NULL;
    g_autoptr(VhSysfs) sysfs = NULL;
    g_autoptr(VhFakeVfio) fake = vh_fake_vfio_new("0000:00:03.0", one_group, 1);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(GError) err = NULL;
    VhPciAddress addr;

    tree = vh_fake_sysfs_new(bed, G_N_ELEMENTS(bed), &err);
    g_assert_no_error(err);
    sysfs = vh_sysfs_new(vh_fake_sysfs_root(tree), &err);
    g_assert_no_error(err);

    g_assert_true(vh_pci_address_parse("0000:00:03.0", &addr, &err));
    dev = vh_vfio_device_open_address(vh_fake_vfio_ops(), fake, sysfs, &addr,
                                      NULL, &err);
    g_assert_no_error(err);
    g_assert_cmpint(vh_vfio_group_get_id(vh_vfio_device_get_group(dev)), ==, 3);

    /* A device on a host driver: refused naming it, nothing opened. */
    vh_fake_vfio_clear_log(fake);
    g_assert_true(vh_pci_address_parse("0000:00:05.0", &addr, &err));
    g_assert_null(vh_vfio_device_open_address(vh_fake_vfio_ops(), fake, sysfs,
                                              &addr, NULL, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_INVALID);
    g_assert_cmpstr(err->message, ==, "0000:00:05.0 is bound to e1000, not vfio-pci; bind it first (virt-hostdev nodedev-detach)");
    g_assert_cmpuint(fake->calls->len, ==, 0);
    g_clear_error(&err);

    /* No such device. */
    g_assert_true(vh_pci_address_parse("0000:00:09.0", &addr, &err));
    g_assert_null(vh_vfio_device_open_address(vh_fake_vfio_ops(), fake, sysfs,
                                              &addr, NULL, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_FAILED);
    g_assert_true(g_str_has_prefix(err->message, "PCI device 0000:00:09.0 "
                                   "does not exist under "));
    g_assert_true(g_str_has_suffix(err->message, "/bus/pci/devices; list "
                                   "devices with `virt-hostdev nodedev-list`"));
}

static void
test_open_address_not_viable(void)
{
    static const int group4[] = { 4 };
    g_autoptr(VhFakeSysfs) tree = NULL;
    g_autoptr(VhSysfs) sysfs = NULL;
    g_autoptr(VhFakeVfio) fake = vh_fake_vfio_new("0000:01:01.0", group4, 1);
    g_autoptr(GError) err = NULL;
    VhPciAddress addr;

    tree = vh_fake_sysfs_new(bed, G_N_ELEMENTS(bed), &err);
    sysfs = vh_sysfs_new(vh_fake_sysfs_root(tree), &err);
    g_assert_no_error(err);
    g_array_index(fake->groups, VhFakeVfioGroup, 0).flags = 0;
    g_assert_true(vh_pci_address_parse("0000:01:01.0", &addr, &err));
    g_assert_null(vh_vfio_device_open_address(vh_fake_vfio_ops(), fake, sysfs,
                                              &addr, NULL, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_NOT_VIABLE);
    g_assert_nonnull(strstr(err->message, "group 4 is not viable: 0000:01:02.0 (e1000) is still bound"));
}

static void
put_rom(VhFakeVfio *fake, gsize size, guint16 pcir)
{
    guint8 *rom;

    vh_fake_vfio_set_region(fake, 6, VFIO_REGION_INFO_FLAG_READ, size, NULL, 0);
    rom = fake->regions[6].data->data;
    rom[0] = 0x55;
    rom[1] = 0xaa;
    rom[0x18] = pcir & 0xff;
    rom[0x19] = pcir >> 8;
    if ((gsize) pcir + 4 <= size)
        memcpy(rom + pcir, "PCIR", 4);
}

static void
test_rom(void)
{
    g_autoptr(VhFakeVfio) fake = vh_fake_vfio_new("0000:00:03.0", one_group, 1);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(GError) err = NULL;
    g_autoptr(GBytes) rom = NULL;

    dev = vh_fake_vfio_open(fake, &err);
    g_assert_no_error(err);
    /* No ROM (size 0). */
    g_assert_false(vh_vfio_device_rom_read(dev, &rom, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_NOT_FOUND);
    g_assert_null(rom);
    g_clear_error(&err);
    g_clear_pointer(&dev, vh_vfio_device_unref);

    put_rom(fake, 0x800, 0x1c);
    dev = vh_fake_vfio_open(fake, &err);
    g_assert_true(vh_vfio_device_rom_read(dev, &rom, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(g_bytes_get_size(rom), ==, 0x800);
    g_clear_pointer(&dev, vh_vfio_device_unref);

    /* Signature wrong. */
    put_rom(fake, 0x800, 0x1c);
    fake->regions[6].data->data[1] = 0xab;
    dev = vh_fake_vfio_open(fake, &err);
    g_assert_false(vh_vfio_device_rom_read(dev, &rom, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_CORRUPT);
    g_assert_cmpstr(err->message, ==, "0000:00:03.0: ROM has no 0xAA55 signature (reads 0xab55)");
    g_clear_error(&err);
}

static void
test_rom_check(void)
{
    guint8 rom[0x40] = { 0x55, 0xaa, [0x18] = 0x20, [0x20] = 'P', 'C', 'I', 'R' };
    g_autoptr(GError) err = NULL;

    g_assert_true(vh_vfio_rom_check(rom, sizeof(rom), &err));
    /* PCIR missing at the pointer. */
    rom[0x18] = 0x24;
    g_assert_false(vh_vfio_rom_check(rom, sizeof(rom), &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_CORRUPT);
    g_assert_cmpstr(err->message, ==, "ROM has no \"PCIR\" signature at 0x24");
    g_clear_error(&err);
    /* Pointer past the end. */
    rom[0x18] = 0x3e;
    g_assert_false(vh_vfio_rom_check(rom, sizeof(rom), &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_CORRUPT);
    g_assert_nonnull(strstr(err->message, "lies outside the ROM"));
    g_clear_error(&err);
    /* Pointer into the header. */
    rom[0x18] = 0x04;
    g_assert_false(vh_vfio_rom_check(rom, sizeof(rom), &err));
    g_clear_error(&err);
    /* Too short for a header. */
    g_assert_false(vh_vfio_rom_check(rom, 0x10, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_CORRUPT);
}

static void
add_dependent(VhFakeVfio *fake, int group, guint8 bus, guint8 slot,
              guint8 fn)
{
    struct vfio_pci_dependent_device d = {
        .group_id = group,
        .segment = 0,
        .bus = bus,
        .devfn = (slot << 3) | fn,
    };

    g_array_append_val(fake->hot_reset_devs, d);
}

static void
test_hot_reset(void)
{
    g_autoptr(VhFakeVfio) fake = vh_fake_vfio_new("0000:01:01.0", two_groups, 2);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(VhVfioGroup) g5 = NULL;
    g_autoptr(GPtrArray) blocked = NULL;
    g_autoptr(GError) err = NULL;
    VhVfioResetMethod method = VH_VFIO_RESET_NONE;

    add_dependent(fake, 3, 1, 1, 0);
    add_dependent(fake, 5, 1, 2, 0);
    dev = vh_fake_vfio_open(fake, &err);
    g_assert_no_error(err);

    g_assert_true(vh_vfio_device_get_reset_method(dev, NULL, 0, &method,
                                                  &blocked, &err));
    g_assert_cmpint(method, ==, VH_VFIO_RESET_HOT);
    g_assert_cmpuint(blocked->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(blocked, 0), ==, "0000:01:02.0 (group 5)");

    /* Group 5 not ours: refused, naming it, no reset call. */
    method = 99;
    g_assert_false(vh_vfio_device_reset(dev, NULL, 0, &method, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_NOT_OWNED);
    g_assert_cmpstr(err->message, ==, "0000:01:01.0 has no device reset and a bus reset would also reset 0000:01:02.0 (group 5), whose groups this process does not hold; hold those groups too (pass their fds) or assign the devices together");
    g_assert_cmpint(method, ==, 99);
    g_assert_cmpuint(fake->resets, ==, 0);
    g_clear_error(&err);

    /* With group 5 held (given, not attached): reset with both fds. */
    g5 = vh_vfio_group_new_from_fd(vh_fake_vfio_ops(), fake,
                                   VH_FAKE_VFIO_GROUP_FD + 1, 5, &err);
    g_assert_no_error(err);
    g_assert_true(vh_vfio_device_reset(dev, &g5, 1, &method, &err));
    g_assert_no_error(err);
    g_assert_cmpint(method, ==, VH_VFIO_RESET_HOT);
    g_assert_cmpuint(fake->resets, ==, 1);
    g_assert_cmpuint(fake->hot_reset_fds->len, ==, 2);
    g_assert_cmpint(g_array_index(fake->hot_reset_fds, gint32, 0), ==,
                    VH_FAKE_VFIO_GROUP_FD);
    g_assert_cmpint(g_array_index(fake->hot_reset_fds, gint32, 1), ==,
                    VH_FAKE_VFIO_GROUP_FD + 1);
}

static void
test_hot_reset_shared_container(void)
{
    g_autoptr(VhFakeVfio) fake = vh_fake_vfio_new("0000:01:01.0", two_groups, 2);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(VhVfioGroup) g5 = NULL;
    g_autoptr(GError) err = NULL;

    add_dependent(fake, 3, 1, 1, 0);
    add_dependent(fake, 5, 1, 2, 0);
    dev = vh_fake_vfio_open(fake, &err);
    g5 = vh_vfio_group_new_from_fd(vh_fake_vfio_ops(), fake,
                                   VH_FAKE_VFIO_GROUP_FD + 1, 5, &err);
    g_assert_true(vh_vfio_group_attach(g5, vh_vfio_group_get_container(
                                           vh_vfio_device_get_group(dev)),
                                       &err));
    /* Sharing the container counts as holding it. */
    g_assert_true(vh_vfio_device_reset(dev, NULL, 0, NULL, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(fake->resets, ==, 1);
}

static void
test_no_reset(void)
{
    g_autoptr(VhFakeVfio) fake = vh_fake_vfio_new("0000:00:03.0", one_group, 1);
    g_autoptr(VhVfioDevice) dev = NULL;
    g_autoptr(GPtrArray) blocked = NULL;
    g_autoptr(GError) err = NULL;
    VhVfioResetMethod method = VH_VFIO_RESET_HOT;

    /* edu: no FLR, on the root bus (no bus reset). */
    fake->hot_reset_errno = ENODEV;
    dev = vh_fake_vfio_open(fake, &err);
    g_assert_true(vh_vfio_device_get_reset_method(dev, NULL, 0, &method,
                                                  &blocked, &err));
    g_assert_no_error(err);
    g_assert_cmpint(method, ==, VH_VFIO_RESET_NONE);
    g_assert_false(vh_vfio_device_reset(dev, NULL, 0, NULL, &err));
    g_assert_error(err, VH_VFIO_ERROR, VH_VFIO_ERROR_UNSUPPORTED);
    g_assert_nonnull(strstr(err->message, "0000:00:03.0 cannot be reset"));
    g_assert_cmpuint(fake->resets, ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_summary("VFIO devices: open from fds or by address, shared "
                   "containers, viability, ROM, reset and group ownership");
    g_test_add_func("/vfio/device/open-from-fds", test_open_from_fds);
    g_test_add_func("/vfio/device/open-type1-only", test_open_type1_only);
    g_test_add_func("/vfio/device/open-wrong-name", test_open_wrong_name);
    g_test_add_func("/vfio/device/shared-container", test_shared_container);
    g_test_add_func("/vfio/device/container-already-set", test_container_already_set);
    g_test_add_func("/vfio/device/not-viable", test_not_viable);
    g_test_add_func("/vfio/device/blockers-sysfs", test_blockers_sysfs);
    g_test_add_func("/vfio/device/open-address", test_open_address);
    g_test_add_func("/vfio/device/open-address-not-viable", test_open_address_not_viable);
    g_test_add_func("/vfio/rom/read", test_rom);
    g_test_add_func("/vfio/rom/check", test_rom_check);
    g_test_add_func("/vfio/reset/hot", test_hot_reset);
    g_test_add_func("/vfio/reset/hot-shared-container", test_hot_reset_shared_container);
    g_test_add_func("/vfio/reset/none", test_no_reset);
    return g_test_run();
}
