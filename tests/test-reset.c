/*
 * test-reset.c: nodedev-reset over a simulated kernel
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "vh-error.h"
#include "vh-fake-kernel.h"
#include "vh-hostdev.h"
#include "vh-test-host.h"
#include "vh-pci-config.h"

/* A network function with a PM capability (PCI PM 1.2, 3.2.4) at 0x40:
 * PMCSR @pmcsr, whose bit 3 is No_Soft_Reset. */
#define RESET_PM_CONFIG(pmcsr) { \
    [0x00] = 0x86, [0x01] = 0x80, [0x02] = 0xd3, [0x03] = 0x10, \
    [0x06] = 0x10,                              /* status: capabilities */ \
    [0x0b] = 0x02,                              /* class: network */ \
    [0x34] = 0x40,                              /* capability pointer */ \
    [0x40] = 0x01, [0x41] = 0x00, [0x42] = 0x03, /* PM, last */ \
    [0x44] = (pmcsr), \
}

/* D3hot->D0 resets it: the pm method. */
static const guint8 reset_pm_config[256] = RESET_PM_CONFIG(0x00);
/* No_Soft_Reset: D3hot->D0 keeps the state, no pm method. */
static const guint8 reset_nosoftrst_config[256] = RESET_PM_CONFIG(0x08);
/* A PCI Express endpoint whose Device Capabilities (PCIe 6.0, 7.5.3.3)
 * have Function Level Reset (bit 28). */
static const guint8 reset_flr_config[256] = {
    [0x00] = 0x86, [0x01] = 0x80, [0x02] = 0xd3, [0x03] = 0x10,
    [0x06] = 0x10, [0x0b] = 0x02, [0x34] = 0x40,
    [0x40] = 0x10, [0x41] = 0x00, [0x42] = 0x02,  /* PCIe, endpoint */
    [0x47] = 0x10,                                /* DEVCAP bit 28 */
};

/*
 * The test bed's bridge with two e1000 as the guest's 6.1 kernel shows
 * them (the first got "bus" while it was alone on the bus, the second
 * nothing); devices on the root bus; a PCIe port with a bus-only device,
 * a sibling and a bridge below it; and a port whose devices come from a
 * kernel before reset_method (reset files added by the setup).
 */
static const VhFakePciDevice reset_devices[] = {
    VH_FAKE_PCI("0000:00:00.0", 0x8086, 0x29c0, 0x060000, .group = 0),
    VH_FAKE_PCI("0000:00:02.0", 0x8086, 0x10d3, 0x020000, .group = 1,
                .driver = "e1000e", .reset_method = "flr bus"),
    VH_FAKE_PCI("0000:00:04.0", 0x1b36, 0x000e, 0x060400, .group = 4,
                .reset_method = "pm"),
    VH_FAKE_PCI("0000:01:01.0", 0x8086, 0x100e, 0x020000, .group = 4,
                .parent = "0000:00:04.0", .driver = "e1000",
                .reset_method = "bus"),
    VH_FAKE_PCI("0000:01:02.0", 0x8086, 0x100e, 0x020000, .group = 4,
                .parent = "0000:00:04.0", .driver = "e1000"),
    VH_FAKE_PCI("0000:00:05.0", 0x8086, 0x100e, 0x020000, .group = 5,
                .driver = "e1000", .reset_method = "bus"),
    VH_FAKE_PCI("0000:00:06.0", 0x8086, 0x100e, 0x020000, .group = 6,
                .driver = "e1000", .reset_method = ""),
    VH_FAKE_PCI("0000:00:1c.0", 0x8086, 0xa110, 0x060400, .group = 7,
                .driver = "pcieport"),
    VH_FAKE_PCI("0000:02:00.0", 0x8086, 0x0953, 0x010802, .group = 8,
                .parent = "0000:00:1c.0", .driver = "nvme",
                .reset_method = "bus"),
    VH_FAKE_PCI("0000:02:00.1", 0x8086, 0x10d3, 0x020000, .group = 9,
                .parent = "0000:00:1c.0", .driver = "e1000e"),
    VH_FAKE_PCI("0000:02:01.0", 0x1b36, 0x000e, 0x060400, .group = 10,
                .parent = "0000:00:1c.0"),
    VH_FAKE_PCI("0000:03:00.0", 0x8086, 0x10d3, 0x020000, .group = 11,
                .parent = "0000:02:01.0", .driver = "e1000e"),
    VH_FAKE_PCI("0000:00:1d.0", 0x8086, 0xa118, 0x060400, .group = 12,
                .driver = "pcieport"),
    VH_FAKE_PCI("0000:04:00.0", 0x8086, 0x10d3, 0x020000, .group = 13,
                .parent = "0000:00:1d.0", .driver = "e1000e",
                .config = reset_nosoftrst_config,
                .config_len = sizeof(reset_nosoftrst_config)),
    VH_FAKE_PCI("0000:04:00.1", 0x8086, 0x10d3, 0x020000, .group = 14,
                .parent = "0000:00:1d.0", .driver = "e1000e",
                .config = reset_pm_config, .config_len = sizeof(reset_pm_config)),
    VH_FAKE_PCI("0000:04:00.2", 0x8086, 0x10d3, 0x020000, .group = 15,
                .parent = "0000:00:1d.0", .driver = "e1000e"),
    VH_FAKE_PCI("0000:04:00.3", 0x8086, 0x10d3, 0x020000, .group = 16,
                .parent = "0000:00:1d.0", .driver = "e1000e",
                .config = reset_flr_config, .config_len = sizeof(reset_flr_config)),
};

/* Before 5.15: a reset file, no reset_method. */
static const char *const reset_old_kernel[] = {
    "0000:04:00.0", "0000:04:00.1", "0000:04:00.3",
};

typedef VhTestHost Host;

static void
host_setup(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    VhFakeSysfs *fake = vh_fake_sysfs_new(reset_devices, G_N_ELEMENTS(reset_devices),
                                          &err);
    gsize i;

    g_assert_no_error(err);
    for (i = 0; i < G_N_ELEMENTS(reset_old_kernel); i++) {
        g_autofree char *relpath = g_strdup_printf("bus/pci/devices/%s/reset",
                                                   reset_old_kernel[i]);
        g_assert_true(vh_fake_sysfs_add_file(fake, relpath, "", &err));
    }
    vh_test_host_init(host, fake, "vh-state-XXXXXX");
}

static void
host_teardown(Host *host, gconstpointer data)
{
    vh_test_host_clear(host);
}

static void
detach(Host *host, const char *addr, const char *driver, const char *owner)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhPlan) plan = NULL;
    VhDetachOptions opts = { .driver = driver, .owner = owner, .hold = TRUE };
    VhPciAddress a = vh_test_addr(addr);

    g_assert_true(vh_hostdev_detach(&host->h, &a, &opts, &plan, &err));
    g_assert_no_error(err);
}

static void
reattach(Host *host, const char *addr)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhPlan) plan = NULL;
    VhPciAddress a = vh_test_addr(addr);

    g_assert_true(vh_hostdev_reattach(&host->h, &a, FALSE, &plan, &err));
    g_assert_no_error(err);
}

/* The reset succeeds and the kernel took exactly one. */
static VhResetResult *
reset_ok(Host *host, const char *addr)
{
    g_autoptr(GError) err = NULL;
    VhResetResult *result = NULL;
    VhPciAddress a = vh_test_addr(addr);
    guint before = vh_fake_kernel_resets(host->kernel, addr);

    g_assert_true(vh_hostdev_reset(&host->h, &a, &result, &err));
    g_assert_no_error(err);
    g_assert_nonnull(result);
    g_assert_true(vh_pci_address_equal(&result->addr, &a));
    g_assert_cmpuint(vh_fake_kernel_resets(host->kernel, addr), ==, before + 1);
    return result;
}

/*
 * The reset fails with @domain/@code, its message holds each of the
 * NULL-terminated @parts on one line, *ret_result stays untouched and the
 * kernel saw no reset of @addr.
 */
static void
reset_fails(Host *host, const char *addr, GQuark domain, int code, ...)
{
    g_autoptr(GError) err = NULL;
    VhResetResult *untouched = (VhResetResult *) &err;
    VhResetResult *result = untouched;
    VhPciAddress a = vh_test_addr(addr);
    guint before = vh_fake_kernel_resets(host->kernel, addr);
    const char *part;
    va_list ap;

    g_assert_false(vh_hostdev_reset(&host->h, &a, &result, &err));
    g_assert_error(err, domain, code);
    g_test_message("%s: %s", addr, err->message);
    g_assert_true(result == untouched);
    g_assert_null(strchr(err->message, '\n'));
    va_start(ap, code);
    while ((part = va_arg(ap, const char *)))
        g_assert_nonnull(strstr(err->message, part));
    va_end(ap);
    g_assert_cmpuint(vh_fake_kernel_resets(host->kernel, addr), ==, before);
}

static char *
join_also_reset(const VhResetResult *result)
{
    g_autoptr(GString) s = g_string_new(NULL);
    guint i;

    for (i = 0; i < result->also_reset->len; i++)
        g_string_append_printf(s, "%s%s", i ? ", " : "",
                               (char *) g_ptr_array_index(result->also_reset, i));
    return g_string_free(g_steal_pointer(&s), FALSE);
}

/* A device on its host driver: "1" to its reset file, the methods said. */
static void
test_plain(Host *host, gconstpointer data)
{
    g_autoptr(VhResetResult) result = reset_ok(host, "0000:00:02.0");
    const GPtrArray *writes = vh_fake_kernel_writes(host->kernel);

    g_assert_cmpstrv(result->methods, ((const char *[]) { "flr", "bus", NULL }));
    g_assert_cmpstr(result->driver, ==, "e1000e");
    g_assert_false(result->bus_reset);
    g_assert_cmpuint(result->also_reset->len, ==, 0);
    /* One write, the reset, and nothing else. */
    g_assert_cmpuint(writes->len, ==, 1);
    g_assert_cmpstr(g_ptr_array_index(writes, 0), ==,
                    "devices/pci0000:00/0000:00:02.0/reset=1");
    /* A reset changes no state. */
    {
        g_autofree char *registry = g_build_filename(host->state_dir,
                                                     "registry.json", NULL);
        g_assert_false(g_file_test(registry, G_FILE_TEST_EXISTS));
    }
}

/* On vfio-pci its user resets it, through VFIO. */
static void
test_vfio_pci(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    VhPciAddress nic = vh_test_addr("0000:00:02.0");

    detach(host, "0000:01:01.0", NULL, NULL);
    reset_fails(host, "0000:01:01.0", VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT,
                "0000:01:01.0 is bound to vfio-pci (assigned to manual): its "
                "user resets it through VFIO (VFIO_DEVICE_RESET); reattach it "
                "first (`virt-hostdev nodedev-reattach pci_0000_01_01_0`)", NULL);

    /* Bound to vfio-pci by someone else: not in the registry, still refused. */
    g_assert_true(vh_pci_driver_bind(&host->h, &nic, "vfio-pci", &err));
    g_assert_no_error(err);
    reset_fails(host, "0000:00:02.0", VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT,
                "0000:00:02.0 is bound to vfio-pci (not detached by "
                "virt-hostdev)", "VFIO_DEVICE_RESET",
                "reattach it to a host driver first", NULL);
}

/* In the registry on another driver: assigned, or held for an owner. */
static void
test_registry(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhJournal) journal = vh_journal_new("detach", "vm3");

    detach(host, "0000:00:02.0", "pci-stub", "vm1");
    reset_fails(host, "0000:00:02.0", VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT,
                "0000:00:02.0 (pci-stub) is assigned to vm1: its owner resets "
                "it; reattach it first (`virt-hostdev nodedev-reattach "
                "pci_0000_00_02_0`)", NULL);
    detach(host, "0000:01:01.0", NULL, NULL);
    reset_fails(host, "0000:01:02.0", VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT,
                "0000:01:02.0 (pci-stub) is held for manual as a peer of an "
                "assigned device of IOMMU group 4", "reattach the assigned "
                "device first", NULL);
    reattach(host, "0000:00:02.0");
    vh_reset_result_free(reset_ok(host, "0000:00:02.0"));

    /* An interrupted operation: nothing runs until recover. */
    g_assert_true(vh_journal_save(journal, host->state_dir, &err));
    g_assert_no_error(err);
    reset_fails(host, "0000:00:02.0", VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                "run `virt-hostdev recover` first", NULL);
}

/* Resetting a bridge reaches every device below it. */
static void
test_bridge(Host *host, gconstpointer data)
{
    g_autoptr(VhResetResult) result = NULL;
    g_autofree char *also = NULL;

    detach(host, "0000:01:01.0", NULL, NULL);
    reset_fails(host, "0000:00:04.0", VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT,
                "0000:00:04.0 (no driver) is a bridge: resetting it resets the "
                "devices below it, which would also reset 0000:01:01.0 "
                "(vfio-pci, assigned to manual), 0000:01:02.0 (pci-stub, held "
                "for manual); give them back first", NULL);
    reattach(host, "0000:01:01.0");
    result = reset_ok(host, "0000:00:04.0");
    g_assert_false(result->bus_reset);
    also = join_also_reset(result);
    g_assert_cmpstr(also, ==, "0000:01:01.0 (e1000), 0000:01:02.0 (e1000)");
}

/* Only "bus": the bus reset reaches everything below the parent bridge. */
static void
test_bus_reset(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhRegistry) reg = NULL;
    g_autoptr(VhRegistry) back = NULL;
    g_autoptr(VhResetResult) result = NULL;
    g_autofree char *also = NULL;
    char buf[VH_PCI_ADDRESS_BUFLEN];
    VhPciAddress sibling = vh_test_addr("0000:02:00.1");
    VhRegistryEntry held = {
        .addr = vh_test_addr("0000:03:00.0"), .role = VH_ROLE_HELD, .owner = "vm2",
        .driver = "pci-stub", .original_driver = "e1000e", .group = 11,
    };

    detach(host, "0000:02:00.1", NULL, "vm1");
    /* Two levels down, behind 02:01.0: a bus reset reaches it too. */
    reg = vh_registry_load(host->state_dir, &err);
    g_assert_no_error(err);
    vh_registry_set(reg, &held);
    g_assert_true(vh_registry_save(reg, host->state_dir, &err));
    g_assert_no_error(err);

    reset_fails(host, "0000:02:00.0", VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT,
                "0000:02:00.0 (nvme) can be reset only by a secondary bus reset "
                "of 0000:00:1c.0 (reset_method: bus), which would also reset "
                "0000:02:00.1 (vfio-pci, assigned to vm1), 0000:03:00.0 "
                "(e1000e, held for vm2); give them back first", NULL);

    /* Given back: the reset runs and says what else it reached. */
    reattach(host, "0000:02:00.1");
    back = vh_registry_load(host->state_dir, &err);
    g_assert_no_error(err);
    g_assert_true(vh_registry_remove(back, &held.addr));
    g_assert_true(vh_registry_save(back, host->state_dir, &err));

    /* On vfio-pci without us: a VFIO user's all the same. */
    g_assert_true(vh_pci_driver_bind(&host->h, &sibling, "vfio-pci", &err));
    g_assert_no_error(err);
    reset_fails(host, "0000:02:00.0", VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT,
                "which would also reset 0000:02:00.1 (vfio-pci, not detached "
                "by virt-hostdev); give it back first", NULL);
    g_assert_true(vh_pci_driver_restore(&host->h, &sibling, "e1000e", &err));
    g_assert_no_error(err);
    result = reset_ok(host, "0000:02:00.0");
    g_assert_true(result->bus_reset);
    g_assert_cmpstr(vh_pci_address_format(&result->bridge, buf), ==, "0000:00:1c.0");
    g_assert_cmpstrv(result->methods, ((const char *[]) { "bus", NULL }));
    also = join_also_reset(result);
    g_assert_cmpstr(also, ==, "0000:02:00.1 (e1000e), 0000:02:01.0 (no driver), "
                              "0000:03:00.0 (e1000e)");
}

/* A kernel before reset_method: config space tells FLR and PM from a bus
 * reset. */
static void
test_old_kernel(Host *host, gconstpointer data)
{
    g_autoptr(VhResetResult) pm = NULL;
    g_autoptr(VhResetResult) flr = NULL;

    detach(host, "0000:04:00.2", NULL, "vm1");
    /* PM with No_Soft_Reset: only a bus reset, which reaches 04:00.2. */
    reset_fails(host, "0000:04:00.0", VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT,
                "0000:04:00.0 (e1000e) can be reset only by a secondary bus "
                "reset of 0000:00:1d.0 (no FLR or PM reset), which would also "
                "reset 0000:04:00.2 (vfio-pci, assigned to vm1); give it back "
                "first", NULL);
    /* A PM reset and an FLR reset the function alone. */
    pm = reset_ok(host, "0000:04:00.1");
    g_assert_null(pm->methods);
    g_assert_false(pm->bus_reset);
    g_assert_cmpuint(pm->also_reset->len, ==, 0);
    flr = reset_ok(host, "0000:04:00.3");
    g_assert_false(flr->bus_reset);
}

/* No reset file and no methods, or "bus" where there is no bridge. */
static void
test_no_method(Host *host, gconstpointer data)
{
    reset_fails(host, "0000:01:02.0", VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                "0000:01:02.0 (e1000) has no reset method (no FLR, PM or bus "
                "reset)", NULL);
    reset_fails(host, "0000:00:06.0", VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                "0000:00:06.0 (e1000) has no reset method", NULL);
    reset_fails(host, "0000:00:07.0", VH_SYSFS_ERROR, VH_SYSFS_ERROR_NOT_FOUND,
                "0000:00:07.0", NULL);
}

/* On a root bus "bus" cannot work: no bridge to reset.  The file is there,
 * so only the check keeps the write from happening. */
static void
test_root_bus(Host *host, gconstpointer data)
{
    g_assert_true(vh_sysfs_exists(host->sysfs, "bus/pci/devices/0000:00:05.0/reset"));
    reset_fails(host, "0000:00:05.0", VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                "0000:00:05.0 (e1000) has no reset method (no FLR, PM or bus "
                "reset)", "root bus", NULL);
    g_assert_cmpuint(vh_fake_kernel_writes(host->kernel)->len, ==, 0);
}

/* The kernel refuses the write: its errno, the device and where to look. */
static void
test_kernel_fails(Host *host, gconstpointer data)
{
    /* The simulated store() reports G_IO_ERROR, as the fake kernel does. */
    vh_fake_kernel_fail_write(host->kernel, "reset", 1, EIO);
    reset_fails(host, "0000:00:02.0", G_IO_ERROR, G_IO_ERROR_FAILED,
                "0000:00:02.0 (e1000e): the kernel did not reset it; see "
                "`dmesg`: cannot write '1' to ", g_strerror(EIO), NULL);
}

/* The config-space test for kernels before reset_method, byte by byte. */
static void
test_config(void)
{
    guint8 af[256] = {
        [0x06] = 0x10, [0x34] = 0x50,
        [0x50] = 0x13, [0x51] = 0x00, [0x52] = 0x06,  /* AF, length 6 */
        [0x53] = 0x03,                                /* TP and FLR */
    };

    g_assert_true(vh_pci_config_has_function_reset(reset_pm_config, 256));
    g_assert_false(vh_pci_config_has_function_reset(reset_nosoftrst_config, 256));
    g_assert_true(vh_pci_config_has_function_reset(reset_flr_config, 256));
    /* What an unprivileged reader gets: the header, no capabilities. */
    g_assert_false(vh_pci_config_has_function_reset(reset_pm_config, 64));
    g_assert_true(vh_pci_config_has_function_reset(af, sizeof(af)));
    af[0x53] = 0x02;        /* FLR without Transactions Pending: unused */
    g_assert_false(vh_pci_config_has_function_reset(af, sizeof(af)));
}

/* The probe (for doctor): what a reset would do, without the lock, without
 * a write, and also for devices somebody owns. */
static void
test_probe(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhRegistry) reg = vh_registry_new();
    g_autoptr(VhNodeDeviceList) list = vh_node_device_list_scan(host->sysfs, 0,
                                                                &err);
    g_autoptr(VhResetResult) bus = NULL;
    g_autoptr(VhResetResult) flr = NULL;
    g_autoptr(VhResetResult) none = NULL;
    g_autofree char *also = NULL;
    char buf[VH_PCI_ADDRESS_BUFLEN];
    VhPciAddress nic = vh_test_addr("0000:01:01.0");
    VhPciAddress e1000e = vh_test_addr("0000:00:02.0");
    VhPciAddress nomethod = vh_test_addr("0000:00:06.0");
    guint writes = vh_fake_kernel_writes(host->kernel)->len;
    VhRegistryEntry held = {
        .addr = vh_test_addr("0000:01:02.0"), .role = VH_ROLE_HELD,
        .owner = "vm2", .driver = "pci-stub", .original_driver = "e1000",
        .group = 4,
    };

    g_assert_no_error(err);
    vh_registry_set(reg, &held);
    g_assert_true(vh_hostdev_reset_probe(host->sysfs, reg, list, &nic, &bus,
                                         &err));
    g_assert_no_error(err);
    g_assert_true(bus->bus_reset);
    g_assert_cmpstr(vh_pci_address_format(&bus->bridge, buf), ==, "0000:00:04.0");
    also = join_also_reset(bus);
    g_assert_cmpstr(also, ==, "0000:01:02.0 (e1000, held for vm2)");

    g_assert_true(vh_hostdev_reset_probe(host->sysfs, reg, list, &e1000e, &flr,
                                         &err));
    g_assert_no_error(err);
    g_assert_false(flr->bus_reset);
    g_assert_cmpstrv(flr->methods, ((const char *[]) { "flr", "bus", NULL }));
    g_assert_cmpuint(flr->also_reset->len, ==, 0);

    g_assert_false(vh_hostdev_reset_probe(host->sysfs, reg, list, &nomethod,
                                          &none, &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED);
    g_assert_null(none);
    g_assert_cmpuint(vh_fake_kernel_writes(host->kernel)->len, ==, writes);
    g_assert_false(vh_test_host_state_exists(host, "lock"));
}

#define ADD(path, fn) \
    g_test_add(path, Host, NULL, host_setup, fn, host_teardown)

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_summary("nodedev-reset writes the kernel's reset attribute for "
                   "devices nobody owns, and refuses, naming them, when the "
                   "device or one a bus or bridge reset reaches is somebody's");
    ADD("/hostdev/reset/plain", test_plain);
    ADD("/hostdev/reset/vfio-pci", test_vfio_pci);
    ADD("/hostdev/reset/registry", test_registry);
    ADD("/hostdev/reset/bridge", test_bridge);
    ADD("/hostdev/reset/bus-reset", test_bus_reset);
    ADD("/hostdev/reset/old-kernel", test_old_kernel);
    ADD("/hostdev/reset/no-method", test_no_method);
    ADD("/hostdev/reset/root-bus", test_root_bus);
    ADD("/hostdev/reset/kernel-fails", test_kernel_fails);
    ADD("/hostdev/reset/probe", test_probe);
    g_test_add_func("/hostdev/reset/config", test_config);
    return g_test_run();
}
