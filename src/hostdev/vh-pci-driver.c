/*
 * vh-pci-driver.c: moving one PCI device from driver to driver
 *
 * The sequence libvirt and the kernel documentation use: driver_override,
 * unbind, drivers_probe.  Never new_id, which makes a driver grab every
 * device with the same ids (a second, identical NIC the host uses).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "hostdev.pci-driver"

#include <stdlib.h>
#include <string.h>

#include "vh-error.h"
#include "vh-hostdev.h"
#include "vh-hostdev-priv.h"
#include "vh-iommu-group.h"

#define VH_PCI_DRIVER_DEFAULT_TIMEOUT_MS 10000

void
vh_hostdev_fault_point(const VhHostdev *h, const char *point)
{
    if (h->fault && g_str_equal(h->fault, point)) {
        g_printerr("virt-hostdev: fault injected at %s\n", point);
        abort();
    }
}

gboolean
vh_hostdev_modprobe(gpointer data, const char *module, GError **error)
{
    const char *argv[] = { "modprobe", "-q", module, NULL };
    g_autofree char *err = NULL;
    int status = 0;

    if (!g_spawn_sync(NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
                      NULL, NULL, &err, &status, error)) {
        g_prefix_error(error, "cannot run modprobe %s: ", module);
        return FALSE;
    }
    if (!g_spawn_check_wait_status(status, NULL)) {
        g_strstrip(err);
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                    "modprobe %s failed%s%s; install the kernel module or "
                    "load it by hand", module, *err ? ": " : "", err);
        return FALSE;
    }
    return TRUE;
}

gboolean
vh_pci_driver_current(const VhHostdev *h, const VhPciAddress *addr,
                      char **ret_driver, GError **error)
{
    g_autofree char *devpath = vh_sysfs_pci_device_relpath(addr, NULL);
    g_autofree char *realdir = NULL;
    g_autofree char *link = NULL;
    char buf[VH_PCI_ADDRESS_BUFLEN];

    if (!vh_sysfs_exists(h->sysfs, devpath)) {
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_NOT_FOUND,
                    "PCI device %s does not exist under %s/bus/pci/devices",
                    vh_pci_address_format(addr, buf), vh_sysfs_get_root(h->sysfs));
        return FALSE;
    }
    /* The driver link is relative to the device's own directory, which
     * bus/pci/devices/ADDR links to. */
    if (!vh_sysfs_resolve_link(h->sysfs, devpath, &realdir, error) ||
        !vh_sysfs_read_link_entry(h->sysfs,
                                  (link = g_build_filename(realdir ? realdir
                                                           : devpath,
                                                           "driver", NULL)),
                                  "bus/pci/drivers", ret_driver, error)) {
        g_prefix_error(error, "%s: ", vh_pci_address_format(addr, buf));
        return FALSE;
    }
    return TRUE;
}

static guint
vh_pci_driver_timeout(const VhHostdev *h)
{
    return h->timeout_ms ? h->timeout_ms : VH_PCI_DRIVER_DEFAULT_TIMEOUT_MS;
}

/*
 * Poll @done until it holds or the deadline passes.  Binding through
 * sysfs is synchronous for most drivers; the wait covers those that probe
 * asynchronously and udev creating /dev nodes, with a short back-off.
 */
static gboolean
vh_pci_driver_wait(const VhHostdev *h, gboolean (*done)(const VhHostdev *h,
                                                         gconstpointer arg),
                   gconstpointer arg)
{
    gint64 deadline = g_get_monotonic_time() +
                      (gint64) vh_pci_driver_timeout(h) * 1000;
    gulong pause = 500;

    for (;;) {
        if (done(h, arg))
            return TRUE;
        if (g_get_monotonic_time() >= deadline)
            return FALSE;
        g_usleep(pause);
        pause = MIN(pause * 2, 50000);
    }
}

typedef struct {
    const VhPciAddress *addr;
    const char *driver;     /* NULL: none */
} VhPciDriverWant;

static gboolean
vh_pci_driver_is_on(const VhHostdev *h, gconstpointer arg)
{
    const VhPciDriverWant *want = arg;
    g_autofree char *current = NULL;

    if (!vh_pci_driver_current(h, want->addr, &current, NULL))
        return FALSE;
    return g_strcmp0(current, want->driver) == 0;
}

static gboolean
vh_pci_driver_vfio_node(const VhHostdev *h, gconstpointer arg)
{
    return vh_sysfs_exists(h->dev, arg);
}

/* The driver's directory exists, loading its module when it does not. */
static gboolean
vh_pci_driver_ensure_loaded(const VhHostdev *h, const char *driver,
                            GError **error)
{
    g_autofree char *dir = g_strdup_printf("bus/pci/drivers/%s", driver);

    if (vh_sysfs_exists(h->sysfs, dir))
        return TRUE;
    if (!h->load_module(h->load_module_data, driver, error))
        return FALSE;
    if (!vh_sysfs_exists(h->sysfs, dir)) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                    "driver %s is not registered (%s/%s missing) although "
                    "modprobe %s succeeded; check `dmesg`",
                    driver, vh_sysfs_get_root(h->sysfs), dir, driver);
        return FALSE;
    }
    return TRUE;
}

/* One write; @phase ("override", "unbind", "probe", "bind") is the fault
 * point the manager narrows h->fault to for the step under way. */
static gboolean
vh_pci_driver_write(const VhHostdev *h, const VhPciAddress *addr,
                    const char *relpath, const char *value, const char *phase,
                    GError **error)
{
    vh_hostdev_fault_point(h, phase);
    return vh_sysfs_write(h->sysfs, relpath, value, error);
}

/* Unbind from whatever driver @addr has now; no driver: nothing to do. */
static gboolean
vh_pci_driver_unbind(const VhHostdev *h, const VhPciAddress *addr,
                     const char *current, GError **error)
{
    g_autofree char *unbind = NULL;
    char buf[VH_PCI_ADDRESS_BUFLEN];

    if (!current)
        return TRUE;
    unbind = g_strdup_printf("bus/pci/drivers/%s/unbind", current);
    return vh_pci_driver_write(h, addr, unbind,
                               vh_pci_address_format(addr, buf), "unbind",
                               error);
}

gboolean
vh_pci_driver_bind(const VhHostdev *h, const VhPciAddress *addr,
                   const char *driver, GError **error)
{
    g_autofree char *current = NULL;
    g_autofree char *override = vh_sysfs_pci_device_relpath(addr, "driver_override");
    g_autofree char *grouplink = vh_sysfs_pci_device_relpath(addr, "iommu_group");
    g_autofree char *group = NULL;
    VhPciDriverWant want = { addr, driver };
    char buf[VH_PCI_ADDRESS_BUFLEN];

    vh_pci_address_format(addr, buf);
    if (!vh_pci_driver_current(h, addr, &current, error))
        return FALSE;
    if (g_strcmp0(current, driver) != 0) {
        if (!vh_pci_driver_ensure_loaded(h, driver, error) ||
            !vh_pci_driver_write(h, addr, override, driver, "override", error) ||
            !vh_pci_driver_unbind(h, addr, current, error) ||
            !vh_pci_driver_write(h, addr, "bus/pci/drivers_probe", buf,
                                 "probe", error)) {
            g_autofree char *shown = vh_hostdev_driver_shown(current);

            g_prefix_error(error, "%s (%s): cannot bind it to %s: ", buf,
                           shown, driver);
            return FALSE;
        }
        if (!vh_pci_driver_wait(h, vh_pci_driver_is_on, &want)) {
            g_autofree char *now = NULL;
            g_autofree char *shown = NULL;

            vh_pci_driver_current(h, addr, &now, NULL);
            shown = vh_hostdev_driver_shown(now);
            g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_TIMEOUT,
                        "%s: %s did not take it within %u ms (it is on %s); "
                        "check `dmesg` for the driver's probe error",
                        buf, driver, vh_pci_driver_timeout(h), shown);
            return FALSE;
        }
    }
    if (!g_str_equal(driver, "vfio-pci"))
        return TRUE;

    /* vfio-pci is useful only once userspace can open the group. */
    if (!vh_sysfs_read_link_name(h->sysfs, grouplink, &group, error))
        return FALSE;
    if (group) {
        g_autofree char *node = g_strdup_printf("vfio/%s", group);
        if (!vh_pci_driver_wait(h, vh_pci_driver_vfio_node, node)) {
            g_autofree char *path = vh_sysfs_describe(h->dev, node);
            g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_TIMEOUT,
                        "%s is on vfio-pci but %s did not appear within %u ms; "
                        "is udev running?", buf, path, vh_pci_driver_timeout(h));
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
vh_pci_driver_restore(const VhHostdev *h, const VhPciAddress *addr,
                      const char *driver, GError **error)
{
    g_autofree char *current = NULL;
    g_autofree char *override = vh_sysfs_pci_device_relpath(addr, "driver_override");
    g_autofree char *bind = NULL;
    VhPciDriverWant want = { addr, driver };
    char buf[VH_PCI_ADDRESS_BUFLEN];

    vh_pci_address_format(addr, buf);
    if (!vh_pci_driver_current(h, addr, &current, error))
        return FALSE;
    /* The override goes in any case: it would steer the next probe. */
    if (!vh_pci_driver_write(h, addr, override, "\n", "override", error))
        goto failed;
    if (g_strcmp0(current, driver) == 0)
        return TRUE;
    if (!vh_pci_driver_unbind(h, addr, current, error))
        goto failed;
    if (!driver)
        return TRUE;
    /* Bind to exactly the driver it had; drivers_probe could pick another
     * when several match. */
    bind = g_strdup_printf("bus/pci/drivers/%s/bind", driver);
    if (!vh_pci_driver_ensure_loaded(h, driver, error) ||
        !vh_pci_driver_write(h, addr, bind, buf, "bind", error))
        goto failed;
    if (!vh_pci_driver_wait(h, vh_pci_driver_is_on, &want)) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_TIMEOUT,
                    "%s: %s did not take it back within %u ms; check `dmesg`, "
                    "then `virt-hostdev recover`", buf, driver,
                    vh_pci_driver_timeout(h));
        return FALSE;
    }
    return TRUE;

failed:
    {
        g_autofree char *shown = vh_hostdev_driver_shown(current);
        g_autofree char *to = vh_hostdev_driver_shown(driver);

        g_prefix_error(error, "%s (%s): cannot give it back to %s: ", buf,
                       shown, to);
    }
    return FALSE;
}

/*
 * The kernel probes synchronously on a drivers_probe write (device_attach()
 * does not use asynchronous probing), so the driver link is final once the
 * write returns: one read verifies it.  When nothing took the device, its
 * module may not be loaded: load it by the device's modalias, as udev does
 * when a device appears, and probe again.
 */
gboolean
vh_pci_driver_release(const VhHostdev *h, const VhPciAddress *addr,
                      char **ret_driver, GError **error)
{
    g_autofree char *current = NULL;
    g_autofree char *now = NULL;
    g_autofree char *override = vh_sysfs_pci_device_relpath(addr, "driver_override");
    g_autofree char *aliaspath = vh_sysfs_pci_device_relpath(addr, "modalias");
    g_autofree char *modalias = NULL;
    char buf[VH_PCI_ADDRESS_BUFLEN];

    vh_pci_address_format(addr, buf);
    if (!vh_pci_driver_current(h, addr, &current, error))
        return FALSE;
    if (!vh_pci_driver_write(h, addr, override, "\n", "override", error) ||
        !vh_pci_driver_unbind(h, addr, current, error) ||
        !vh_pci_driver_write(h, addr, "bus/pci/drivers_probe", buf, "probe",
                             error) ||
        !vh_pci_driver_current(h, addr, &now, error))
        goto failed;
    if (!now && h->load_module &&
        vh_sysfs_read(h->sysfs, aliaspath, &modalias, NULL) && modalias) {
        g_autoptr(GError) err = NULL;

        if (h->load_module(h->load_module_data, modalias, &err)) {
            if (!vh_pci_driver_write(h, addr, "bus/pci/drivers_probe", buf,
                                     "probe", error) ||
                !vh_pci_driver_current(h, addr, &now, error))
                goto failed;
        } else {
            g_debug("%s: no module for %s: %s", buf, modalias, err->message);
        }
    }
    if (now && vh_iommu_group_driver_is_safe(now)) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                    "%s: %s took it again after driver_override was cleared: "
                    "a dynamic id (new_id, or pci-stub's ids= option) "
                    "matches it; remove that id, then try again", buf, now);
        return FALSE;
    }
    if (ret_driver)
        *ret_driver = g_steal_pointer(&now);
    return TRUE;

failed:
    {
        g_autofree char *shown = vh_hostdev_driver_shown(current);

        g_prefix_error(error, "%s (%s): cannot give it back to a host "
                       "driver: ", buf, shown);
    }
    return FALSE;
}
