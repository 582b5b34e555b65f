/*
 * test-fake-kernel.c: the simulated PCI core answers sysfs writes as
 * Linux 6.1 does
 *
 * Every test writes through the seam (vh_sysfs_write) and looks at the
 * tree through it, as the code under test will.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "vh-error.h"
#include "vh-fake-kernel.h"
#include "vh-sysfs.h"
#include "vh-test-topologies.h"

#define E1000_A "0000:01:01.0"
#define E1000_B "0000:01:02.0"
#define EDU "0000:00:03.0"
#define PROBE "bus/pci/drivers_probe"
#define DEVDIR_A "devices/pci0000:00/0000:00:04.0/" E1000_A
#define DEVDIR_B "devices/pci0000:00/0000:00:04.0/" E1000_B

typedef struct {
    VhFakeSysfs *fake;
    VhSysfs *sysfs;
    VhFakeKernel *kernel;
} Fixture;

static void
fixture_open(Fixture *fx, const VhFakePciDevice *devs, gsize ndevs)
{
    g_autoptr(GError) err = NULL;

    fx->fake = vh_fake_sysfs_new(devs, ndevs, &err);
    g_assert_no_error(err);
    fx->sysfs = vh_sysfs_new(vh_fake_sysfs_root(fx->fake), &err);
    g_assert_no_error(err);
    fx->kernel = vh_fake_kernel_new(fx->fake, fx->sysfs, &err);
    g_assert_no_error(err);
    g_assert_nonnull(fx->kernel);
}

static void
fixture_setup(Fixture *fx, gconstpointer data)
{
    fixture_open(fx, vh_test_testbed, G_N_ELEMENTS(vh_test_testbed));
}

static void
fixture_teardown(Fixture *fx, gconstpointer data)
{
    vh_fake_kernel_free(fx->kernel);
    vh_sysfs_free(fx->sysfs);
    vh_fake_sysfs_free(fx->fake);
}

/* ---- Helpers ------------------------------------------------------------ */

static void
write_ok(Fixture *fx, const char *relpath, const char *value)
{
    g_autoptr(GError) err = NULL;
    gboolean ok = vh_sysfs_write(fx->sysfs, relpath, value, &err);

    g_assert_no_error(err);
    g_assert_true(ok);
}

/* The write fails as store() returning -@errnum does. */
static void
write_fails(Fixture *fx, const char *relpath, const char *value, int errnum)
{
    g_autoptr(GError) err = NULL;
    gboolean ok = vh_sysfs_write(fx->sysfs, relpath, value, &err);

    g_assert_false(ok);
    g_assert_error(err, G_IO_ERROR, (gint) g_io_error_from_errno(errnum));
    g_assert_true(g_str_has_suffix(err->message, g_strerror(errnum)));
    /* The seam says which file and what was written. */
    g_assert_nonnull(strstr(err->message, relpath));
}

/* bus/pci/drivers/@driver/@file */
static char *
driver_file(const char *driver, const char *file)
{
    return g_strdup_printf("bus/pci/drivers/%s/%s", driver, file);
}

static void
write_driver_file(Fixture *fx, const char *driver, const char *file,
                  const char *value)
{
    g_autofree char *relpath = driver_file(driver, file);

    write_ok(fx, relpath, value);
}

static char *
override_file(const char *addr)
{
    return g_strdup_printf("bus/pci/devices/%s/driver_override", addr);
}

static void
write_override(Fixture *fx, const char *addr, const char *value)
{
    g_autofree char *relpath = override_file(addr);

    write_ok(fx, relpath, value);
}

static char *
read_override(Fixture *fx, const char *addr)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *relpath = override_file(addr);
    char *value = NULL;

    g_assert_true(vh_sysfs_read(fx->sysfs, relpath, &value, &err));
    g_assert_no_error(err);
    g_assert_nonnull(value);
    return value;
}

/* The device's driver link names @expected (NULL: none), the driver's
 * back link leads to the device, and no other driver holds one. */
static void
assert_driver(Fixture *fx, const char *addr, const char *expected)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *devlink = g_strdup_printf("bus/pci/devices/%s", addr);
    g_autofree char *link = g_strdup_printf("%s/driver", devlink);
    g_autofree char *name = NULL;
    g_autofree char *devdir = NULL;
    g_autofree char *of = vh_fake_kernel_driver_of(fx->kernel, addr);
    g_autoptr(GPtrArray) drivers = NULL;
    guint i;

    g_assert_true(vh_sysfs_read_link_name(fx->sysfs, link, &name, &err));
    g_assert_no_error(err);
    g_assert_cmpstr(name, ==, expected);
    g_assert_cmpstr(of, ==, expected);

    g_assert_true(vh_sysfs_resolve_path(fx->sysfs, devlink, &devdir, &err));
    g_assert_nonnull(devdir);
    g_assert_true(vh_sysfs_list(fx->sysfs, "bus/pci/drivers", &drivers, &err));
    g_assert_nonnull(drivers);
    for (i = 0; i < drivers->len; i++) {
        const char *driver = g_ptr_array_index(drivers, i);
        g_autofree char *back = g_strdup_printf("bus/pci/drivers/%s/%s",
                                                driver, addr);
        g_autofree char *target = NULL;

        g_assert_true(vh_sysfs_resolve_path(fx->sysfs, back, &target, &err));
        g_assert_no_error(err);
        if (g_strcmp0(driver, expected) == 0)
            g_assert_cmpstr(target, ==, devdir);
        else
            g_assert_null(target);
    }
    if (expected) {
        g_autofree char *drvdir = NULL;
        g_autofree char *want = g_strdup_printf("bus/pci/drivers/%s", expected);

        g_assert_true(vh_sysfs_resolve_path(fx->sysfs, link, &drvdir, &err));
        g_assert_cmpstr(drvdir, ==, want);
    }
}

static gboolean
dev_node_exists(Fixture *fx, const char *relpath)
{
    g_autofree char *path = g_build_filename(vh_fake_kernel_dev_root(fx->kernel),
                                             relpath, NULL);

    return g_file_test(path, G_FILE_TEST_IS_REGULAR);
}

static gboolean
driver_loaded(Fixture *fx, const char *driver)
{
    g_autofree char *relpath = g_strdup_printf("bus/pci/drivers/%s", driver);

    return vh_sysfs_exists(fx->sysfs, relpath);
}

static void
load(Fixture *fx, const char *module)
{
    g_autoptr(GError) err = NULL;
    gboolean ok = vh_fake_kernel_load_module(fx->kernel, module, &err);

    g_assert_no_error(err);
    g_assert_true(ok);
}

static void
assert_writes(Fixture *fx, const char * const *expected)
{
    const GPtrArray *writes = vh_fake_kernel_writes(fx->kernel);
    guint i;

    for (i = 0; i < writes->len && expected[i]; i++)
        g_assert_cmpstr(g_ptr_array_index(writes, i), ==, expected[i]);
    g_assert_cmpuint(writes->len, ==, g_strv_length((char **) expected));
}

/* What libvirt's virPCIDeviceBindToStub() writes, minus its checks. */
static void
detach_to(Fixture *fx, const char *addr, const char *driver)
{
    g_autofree char *unbind = g_strdup_printf("bus/pci/devices/%s/driver/unbind",
                                              addr);

    write_override(fx, addr, driver);
    write_ok(fx, unbind, addr);
    write_ok(fx, PROBE, addr);
}

/* virPCIDeviceUnbindFromStub(): clear the override, unbind, reprobe. */
static void
reattach(Fixture *fx, const char *addr)
{
    g_autofree char *unbind = g_strdup_printf("bus/pci/devices/%s/driver/unbind",
                                              addr);

    write_override(fx, addr, "\n");
    write_ok(fx, unbind, addr);
    write_ok(fx, PROBE, addr);
}

/* ---- Tests -------------------------------------------------------------- */

static void
test_initial_state(Fixture *fx, gconstpointer data)
{
    g_autofree char *override = read_override(fx, E1000_A);

    assert_driver(fx, E1000_A, "e1000");
    assert_driver(fx, E1000_B, "e1000");
    assert_driver(fx, "0000:00:1f.2", "ahci");
    assert_driver(fx, EDU, NULL);
    assert_driver(fx, "0000:00:04.0", NULL);
    g_assert_null(vh_fake_kernel_driver_of(fx->kernel, "0000:09:00.0"));
    g_assert_cmpstr(override, ==, "(null)");

    g_assert_true(driver_loaded(fx, "e1000"));
    g_assert_false(driver_loaded(fx, "vfio-pci"));
    g_assert_false(driver_loaded(fx, "pci-stub"));
    g_assert_true(g_file_test(vh_fake_kernel_dev_root(fx->kernel),
                              G_FILE_TEST_IS_DIR));
    g_assert_false(dev_node_exists(fx, "vfio/vfio"));
    g_assert_cmpuint(vh_fake_kernel_writes(fx->kernel)->len, ==, 0);
}

/* A tree that booted with a device on vfio-pci: the driver is loaded, its
 * nodes are there, and vfio-pci is that device's native driver. */
static void
test_initial_vfio(void)
{
    static const VhFakePciDevice devs[] = {
        VH_FAKE_PCI("0000:00:05.0", 0x1234, 0x11e8, 0x00ff00, .group = 9,
                    .driver = "vfio-pci"),
        VH_FAKE_PCI("0000:00:05.1", 0x1234, 0x11e8, 0x00ff00, .group = 9),
    };
    Fixture fx = { 0 };

    fixture_open(&fx, devs, G_N_ELEMENTS(devs));
    g_assert_true(dev_node_exists(&fx, "vfio/vfio"));
    g_assert_true(dev_node_exists(&fx, "vfio/9"));

    write_driver_file(&fx, "vfio-pci", "unbind", "0000:00:05.0");
    assert_driver(&fx, "0000:00:05.0", NULL);
    g_assert_false(dev_node_exists(&fx, "vfio/9"));
    g_assert_true(dev_node_exists(&fx, "vfio/vfio"));
    write_ok(&fx, PROBE, "0000:00:05.0");
    assert_driver(&fx, "0000:00:05.0", "vfio-pci");
    g_assert_true(dev_node_exists(&fx, "vfio/9"));

    /* Its group mate has no native driver: it binds by override only. */
    write_ok(&fx, PROBE, "0000:00:05.1");
    assert_driver(&fx, "0000:00:05.1", NULL);
    fixture_teardown(&fx, NULL);
}

static void
test_detach_libvirt(Fixture *fx, gconstpointer data)
{
    static const char * const expected[] = {
        DEVDIR_A "/driver_override=vfio-pci",
        "bus/pci/drivers/e1000/unbind=" E1000_A,
        PROBE "=" E1000_A,
        NULL,
    };
    g_autofree char *override = NULL;

    load(fx, "vfio-pci");
    g_assert_true(dev_node_exists(fx, "vfio/vfio"));
    g_assert_false(dev_node_exists(fx, "vfio/4"));

    write_override(fx, E1000_A, "vfio-pci");
    override = read_override(fx, E1000_A);
    g_assert_cmpstr(override, ==, "vfio-pci");
    assert_driver(fx, E1000_A, "e1000");    /* an override alone moves nothing */

    write_ok(fx, "bus/pci/devices/" E1000_A "/driver/unbind", E1000_A);
    assert_driver(fx, E1000_A, NULL);
    g_assert_false(dev_node_exists(fx, "vfio/4"));

    write_ok(fx, PROBE, E1000_A);
    assert_driver(fx, E1000_A, "vfio-pci");
    assert_driver(fx, E1000_B, "e1000");
    g_assert_true(dev_node_exists(fx, "vfio/4"));
    g_assert_false(dev_node_exists(fx, "vfio/3"));

    assert_writes(fx, expected);
}

static void
test_reattach_libvirt(Fixture *fx, gconstpointer data)
{
    g_autofree char *override = NULL;

    load(fx, "vfio-pci");
    detach_to(fx, E1000_A, "vfio-pci");
    g_assert_true(dev_node_exists(fx, "vfio/4"));

    write_override(fx, E1000_A, "\n");
    override = read_override(fx, E1000_A);
    g_assert_cmpstr(override, ==, "(null)");
    assert_driver(fx, E1000_A, "vfio-pci");
    g_assert_true(dev_node_exists(fx, "vfio/4"));

    write_ok(fx, "bus/pci/devices/" E1000_A "/driver/unbind", E1000_A);
    assert_driver(fx, E1000_A, NULL);
    g_assert_false(dev_node_exists(fx, "vfio/4"));
    g_assert_true(dev_node_exists(fx, "vfio/vfio"));

    write_ok(fx, PROBE, E1000_A);
    assert_driver(fx, E1000_A, "e1000");
    g_assert_false(dev_node_exists(fx, "vfio/4"));
}

/* The group's node stays while any member is on vfio-pci. */
static void
test_group_node_shared(Fixture *fx, gconstpointer data)
{
    load(fx, "vfio-pci");
    detach_to(fx, E1000_A, "vfio-pci");
    detach_to(fx, E1000_B, "vfio-pci");
    assert_driver(fx, E1000_A, "vfio-pci");
    assert_driver(fx, E1000_B, "vfio-pci");
    g_assert_true(dev_node_exists(fx, "vfio/4"));

    reattach(fx, E1000_A);
    assert_driver(fx, E1000_A, "e1000");
    g_assert_true(dev_node_exists(fx, "vfio/4"));

    reattach(fx, E1000_B);
    assert_driver(fx, E1000_B, "e1000");
    g_assert_false(dev_node_exists(fx, "vfio/4"));
}

/* pci-stub makes no /dev/vfio node. */
static void
test_detach_pci_stub(Fixture *fx, gconstpointer data)
{
    load(fx, "pci-stub");
    g_assert_false(dev_node_exists(fx, "vfio/vfio"));
    detach_to(fx, E1000_A, "pci-stub");
    assert_driver(fx, E1000_A, "pci-stub");
    g_assert_false(dev_node_exists(fx, "vfio/4"));
    reattach(fx, E1000_A);
    assert_driver(fx, E1000_A, "e1000");
}

static void
test_bind_errors(Fixture *fx, gconstpointer data)
{
    g_autofree char *e1000_bind = driver_file("e1000", "bind");
    g_autofree char *vfio_bind = driver_file("vfio-pci", "bind");

    load(fx, "vfio-pci");

    /* Bound already: the driver matches, the device is busy. */
    write_fails(fx, e1000_bind, E1000_A, EBUSY);
    assert_driver(fx, E1000_A, "e1000");
    /* A driver that does not match the device, bound or not. */
    write_fails(fx, vfio_bind, E1000_A, ENODEV);
    assert_driver(fx, E1000_A, "e1000");
    write_fails(fx, e1000_bind, EDU, ENODEV);
    assert_driver(fx, EDU, NULL);
    /* No such device. */
    write_fails(fx, e1000_bind, "0000:09:00.0", ENODEV);

    /* Unbound, without an override: vfio-pci has no id table. */
    write_driver_file(fx, "e1000", "unbind", E1000_A);
    write_fails(fx, vfio_bind, E1000_A, ENODEV);
    assert_driver(fx, E1000_A, NULL);
    g_assert_false(dev_node_exists(fx, "vfio/4"));
}

/* With driver_override set, that driver and no other binds. */
static void
test_bind_override(Fixture *fx, gconstpointer data)
{
    g_autofree char *e1000_bind = driver_file("e1000", "bind");

    load(fx, "vfio-pci");
    write_override(fx, E1000_A, "vfio-pci");
    write_driver_file(fx, "e1000", "unbind", E1000_A);
    write_fails(fx, e1000_bind, E1000_A, ENODEV);
    assert_driver(fx, E1000_A, NULL);

    /* The name may end with a newline, as echo writes it. */
    write_driver_file(fx, "vfio-pci", "bind", E1000_A "\n");
    assert_driver(fx, E1000_A, "vfio-pci");
    g_assert_true(dev_node_exists(fx, "vfio/4"));

    /* A device no driver claims binds by override too. */
    write_override(fx, EDU, "vfio-pci");
    write_driver_file(fx, "vfio-pci", "bind", EDU);
    assert_driver(fx, EDU, "vfio-pci");
    g_assert_true(dev_node_exists(fx, "vfio/3"));
}

static void
test_unbind_errors(Fixture *fx, gconstpointer data)
{
    g_autofree char *e1000_unbind = driver_file("e1000", "unbind");
    g_autofree char *ahci_unbind = driver_file("ahci", "unbind");

    write_fails(fx, e1000_unbind, EDU, ENODEV);         /* unbound */
    write_fails(fx, ahci_unbind, E1000_A, ENODEV);      /* not ahci's */
    write_fails(fx, e1000_unbind, "0000:09:00.0", ENODEV);
    assert_driver(fx, E1000_A, "e1000");
    assert_driver(fx, EDU, NULL);

    write_driver_file(fx, "e1000", "unbind", E1000_A);
    assert_driver(fx, E1000_A, NULL);
    write_fails(fx, e1000_unbind, E1000_A, ENODEV);     /* not twice */
}

/* An override naming a driver that is not loaded keeps the device off
 * every driver, its native one too; loading the module binds it then. */
static void
test_probe_not_loaded(Fixture *fx, gconstpointer data)
{
    write_override(fx, EDU, "vfio-pci");
    write_ok(fx, PROBE, EDU);
    assert_driver(fx, EDU, NULL);

    write_override(fx, E1000_A, "vfio-pci");
    write_driver_file(fx, "e1000", "unbind", E1000_A);
    write_ok(fx, PROBE, E1000_A);
    assert_driver(fx, E1000_A, NULL);
    g_assert_false(driver_loaded(fx, "vfio-pci"));
    g_assert_false(dev_node_exists(fx, "vfio/4"));
    g_assert_false(vh_sysfs_write(fx->sysfs, "bus/pci/drivers/vfio-pci/bind",
                                  E1000_A, NULL));

    /* driver_attach() at module load. */
    load(fx, "vfio-pci");
    assert_driver(fx, EDU, "vfio-pci");
    assert_driver(fx, E1000_A, "vfio-pci");
    assert_driver(fx, E1000_B, "e1000");
    g_assert_true(dev_node_exists(fx, "vfio/3"));
    g_assert_true(dev_node_exists(fx, "vfio/4"));
}

static void
test_probe_bound_and_unknown(Fixture *fx, gconstpointer data)
{
    load(fx, "pci-stub");

    /* A bound device is left where it is, override or not. */
    write_override(fx, E1000_A, "pci-stub");
    write_ok(fx, PROBE, E1000_A);
    assert_driver(fx, E1000_A, "e1000");

    write_fails(fx, PROBE, "0000:09:00.0", ENODEV);
    /* A write of no bytes never reaches store(): no error, no change. */
    write_ok(fx, PROBE, "");

    /* Without an override an unbound device goes back to its own. */
    write_driver_file(fx, "e1000", "unbind", E1000_B);
    assert_driver(fx, E1000_B, NULL);
    write_ok(fx, PROBE, E1000_B "\n");
    assert_driver(fx, E1000_B, "e1000");
}

static void
test_override_store(Fixture *fx, gconstpointer data)
{
    g_autofree char *relpath = override_file(E1000_A);
    g_autofree char *big = g_strnfill(4095, 'x');
    struct {
        const char *written;
        const char *shown;
    } cases[] = {
        { "vfio-pci\n", "vfio-pci" },
        { "pci-stub\nvfio-pci", "pci-stub" },
        { "\n", "(null)" },
        { "vfio-pci", "vfio-pci" },
        /* A write of no bytes never reaches store(): nothing changes. */
        { "", "vfio-pci" },
        { "\nvfio-pci", "(null)" },
    };
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *shown = NULL;

        write_override(fx, E1000_A, cases[i].written);
        shown = read_override(fx, E1000_A);
        g_assert_cmpstr(shown, ==, cases[i].shown);
    }

    /* Through the device's real directory, and too long for a page. */
    write_ok(fx, DEVDIR_A "/driver_override", "pci-stub");
    write_fails(fx, relpath, big, EINVAL);
    {
        g_autofree char *shown = read_override(fx, E1000_A);
        g_assert_cmpstr(shown, ==, "pci-stub");
    }
}

static void
test_load_module(Fixture *fx, gconstpointer data)
{
    static const char * const files[] = {
        "bind", "unbind", "new_id", "remove_id",
    };
    g_autoptr(GError) err = NULL;
    gsize i;

    g_assert_false(vh_fake_kernel_load_module(fx->kernel, "nope", &err));
    g_assert_error(err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    g_assert_cmpstr(err->message, ==, "Module nope not found");
    g_assert_false(driver_loaded(fx, "nope"));
    g_clear_error(&err);

    /* modprobe takes either spelling; the driver is named with a dash. */
    load(fx, "vfio_pci");
    g_assert_true(driver_loaded(fx, "vfio-pci"));
    g_assert_false(driver_loaded(fx, "vfio_pci"));
    for (i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *relpath = driver_file("vfio-pci", files[i]);
        g_assert_true(vh_sysfs_exists(fx->sysfs, relpath));
    }
    g_assert_true(dev_node_exists(fx, "vfio/vfio"));
    load(fx, "vfio-pci");               /* loaded already: fine */

    g_assert_false(driver_loaded(fx, "pci-stub"));
    load(fx, "pci-stub");
    g_assert_true(driver_loaded(fx, "pci-stub"));
    load(fx, "e1000");                  /* a driver of the tree's */
    assert_driver(fx, E1000_A, "e1000");
    g_assert_cmpuint(vh_fake_kernel_writes(fx->kernel)->len, ==, 0);
}

static void
test_fail_write(Fixture *fx, gconstpointer data)
{
    g_autofree char *e1000_bind = driver_file("e1000", "bind");
    g_autofree char *e1000_unbind = driver_file("e1000", "unbind");
    g_autofree char *override = NULL;

    /* The second unbind fails and changes nothing; the third works. */
    vh_fake_kernel_fail_write(fx->kernel, "unbind", 2, EIO);
    write_ok(fx, e1000_unbind, E1000_A);
    write_fails(fx, "bus/pci/devices/" E1000_B "/driver/unbind", E1000_B, EIO);
    assert_driver(fx, E1000_B, "e1000");
    write_ok(fx, e1000_unbind, E1000_B);
    assert_driver(fx, E1000_B, NULL);

    /* "bind" is a file of its own, not the end of "unbind". */
    vh_fake_kernel_fail_write(fx->kernel, "bind", 1, EAGAIN);
    write_driver_file(fx, "ahci", "unbind", "0000:00:1f.2");
    assert_driver(fx, "0000:00:1f.2", NULL);
    write_fails(fx, e1000_bind, E1000_A, EAGAIN);
    assert_driver(fx, E1000_A, NULL);
    write_ok(fx, e1000_bind, E1000_A);
    assert_driver(fx, E1000_A, "e1000");

    /* A failed override store keeps the stored value in the file. */
    vh_fake_kernel_fail_write(fx->kernel, "driver_override", 1, EPERM);
    write_fails(fx, "bus/pci/devices/" E1000_A "/driver_override", "vfio-pci",
                EPERM);
    override = read_override(fx, E1000_A);
    g_assert_cmpstr(override, ==, "(null)");

    vh_fake_kernel_fail_write(fx->kernel, "drivers_probe", 1, ENOMEM);
    write_fails(fx, PROBE, E1000_B, ENOMEM);
    assert_driver(fx, E1000_B, NULL);
    write_ok(fx, PROBE, E1000_B);
    assert_driver(fx, E1000_B, "e1000");
}

/* Every write, failed ones too, resolved through the links. */
static void
test_writes_log(Fixture *fx, gconstpointer data)
{
    static const char * const expected[] = {
        DEVDIR_B "/driver_override=pci-stub\n",
        "bus/pci/drivers/e1000/unbind=" E1000_B,
        "bus/pci/drivers/e1000/bind=" EDU,
        PROBE "=" E1000_B,
        DEVDIR_B "/numa_node=1",
        NULL,
    };
    g_autofree char *numa = NULL;
    g_autoptr(GError) err = NULL;

    write_override(fx, E1000_B, "pci-stub\n");
    write_ok(fx, "bus/pci/devices/" E1000_B "/driver/unbind", E1000_B);
    write_fails(fx, "bus/pci/drivers/e1000/bind", EDU, ENODEV);
    write_ok(fx, PROBE, E1000_B);       /* pci-stub is not loaded */
    assert_driver(fx, E1000_B, NULL);
    /* Attributes the fake does not simulate keep what was written. */
    write_ok(fx, "bus/pci/devices/" E1000_B "/numa_node", "1");
    g_assert_true(vh_sysfs_read(fx->sysfs,
                                "bus/pci/devices/" E1000_B "/numa_node",
                                &numa, &err));
    g_assert_cmpstr(numa, ==, "1");

    assert_writes(fx, expected);
}

/* Freeing the kernel unhooks it and removes its dev root. */
static void
test_free(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhFakeSysfs) fake = NULL;
    g_autoptr(VhSysfs) sysfs = NULL;
    g_autoptr(VhFakeKernel) kernel = NULL;
    g_autofree char *dev_root = NULL;
    g_autofree char *driver = NULL;

    fake = vh_fake_sysfs_new(vh_test_testbed, G_N_ELEMENTS(vh_test_testbed),
                             &err);
    g_assert_no_error(err);
    sysfs = vh_sysfs_new(vh_fake_sysfs_root(fake), &err);
    g_assert_no_error(err);
    kernel = vh_fake_kernel_new(fake, sysfs, &err);
    g_assert_no_error(err);
    g_assert_true(vh_fake_kernel_load_module(kernel, "vfio-pci", &err));
    dev_root = g_strdup(vh_fake_kernel_dev_root(kernel));
    g_assert_true(g_file_test(dev_root, G_FILE_TEST_IS_DIR));

    g_clear_pointer(&kernel, vh_fake_kernel_free);
    g_assert_false(g_file_test(dev_root, G_FILE_TEST_EXISTS));
    g_assert_true(vh_sysfs_write(sysfs, "bus/pci/drivers/e1000/unbind", E1000_A,
                                 &err));
    g_assert_no_error(err);
    g_assert_true(vh_sysfs_read_link_name(sysfs,
                                          "bus/pci/devices/" E1000_A "/driver",
                                          &driver, &err));
    g_assert_cmpstr(driver, ==, "e1000");
}

/* reset_store(): "1" resets, anything else is -EINVAL; a device with no
 * reset method has no reset file to write. */
static void
test_reset_store(void)
{
    static const char *const bad[] = { "0", "2", "1x", " 1", "-1", "yes" };
    const char *reset = "bus/pci/devices/0001:00:02.0/reset";
    g_autoptr(GError) err = NULL;
    Fixture fx = { 0 };
    gsize i;

    fixture_open(&fx, vh_test_sriov, G_N_ELEMENTS(vh_test_sriov));
    write_ok(&fx, reset, "1");
    write_ok(&fx, reset, "1\n");
    write_ok(&fx, reset, "");       /* never reaches store() */
    for (i = 0; i < G_N_ELEMENTS(bad); i++)
        write_fails(&fx, reset, bad[i], EINVAL);
    g_assert_cmpuint(vh_fake_kernel_resets(fx.kernel, "0001:00:02.0"), ==, 2);
    g_assert_cmpuint(vh_fake_kernel_resets(fx.kernel, "0001:00:02.1"), ==, 0);
    fixture_teardown(&fx, NULL);

    /* The test bed's e1000 has no reset_method, hence no reset file. */
    fixture_open(&fx, vh_test_testbed, G_N_ELEMENTS(vh_test_testbed));
    g_assert_false(vh_sysfs_write(fx.sysfs, "bus/pci/devices/" E1000_A "/reset",
                                  "1", &err));
    g_assert_error(err, VH_SYSFS_ERROR, VH_SYSFS_ERROR_NOT_FOUND);
    g_assert_cmpuint(vh_fake_kernel_resets(fx.kernel, E1000_A), ==, 0);
    fixture_teardown(&fx, NULL);
}

#define ADD(path, fn) \
    g_test_add(path, Fixture, NULL, fixture_setup, fn, fixture_teardown)

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_summary("The fake kernel binds, unbinds and probes PCI devices as "
                   "Linux 6.1 does, and makes /dev/vfio nodes for vfio-pci");
    ADD("/fake-kernel/new/initial-state", test_initial_state);
    g_test_add_func("/fake-kernel/new/vfio-loaded", test_initial_vfio);
    g_test_add_func("/fake-kernel/free", test_free);
    ADD("/fake-kernel/detach/libvirt", test_detach_libvirt);
    ADD("/fake-kernel/detach/pci-stub", test_detach_pci_stub);
    ADD("/fake-kernel/reattach/libvirt", test_reattach_libvirt);
    ADD("/fake-kernel/group-node/shared", test_group_node_shared);
    ADD("/fake-kernel/bind/errors", test_bind_errors);
    ADD("/fake-kernel/bind/override", test_bind_override);
    ADD("/fake-kernel/unbind/errors", test_unbind_errors);
    ADD("/fake-kernel/probe/not-loaded", test_probe_not_loaded);
    ADD("/fake-kernel/probe/bound-and-unknown", test_probe_bound_and_unknown);
    ADD("/fake-kernel/driver-override/store", test_override_store);
    g_test_add_func("/fake-kernel/reset/store", test_reset_store);
    ADD("/fake-kernel/load-module", test_load_module);
    ADD("/fake-kernel/fail-write", test_fail_write);
    ADD("/fake-kernel/writes-log", test_writes_log);
    return g_test_run();
}
