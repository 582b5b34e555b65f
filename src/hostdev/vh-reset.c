/*
 * vh-reset.c: resetting a device through the kernel's reset attribute
 *
 * Writing "1" to bus/pci/devices/ADDR/reset runs pci_reset_function(): the
 * kernel saves the config space, tries the methods reset_method lists in
 * that order (flr, af_flr, pm, bus, ...) until one works, and restores the
 * config space; the bound driver is told before and after.  That is what
 * `virsh nodedev-reset` does for a device on a host driver.  A device on
 * vfio-pci is reset by its user through VFIO_DEVICE_RESET instead, and a
 * device someone owns is not ours to touch; nor is a device that a bus
 * reset, or the reset of a bridge above it, would reach.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "hostdev.reset"

#include "vh-error.h"
#include "vh-hostdev-priv.h"
#include "vh-hostdev.h"
#include "vh-pci-config.h"

/* The standard capabilities, all vh_pci_config_has_function_reset() reads. */
#define VH_RESET_CONFIG_MAX 256

void
vh_reset_result_free(VhResetResult *result)
{
    if (!result)
        return;
    g_free(result->driver);
    g_strfreev(result->methods);
    if (result->also_reset)
        g_ptr_array_unref(result->also_reset);
    g_free(result);
}

/* "assigned to vm1", "held for vm1", "detached for vm1", or that it is
 * none of ours. */
static char *
vh_reset_owner(const VhRegistryEntry *entry)
{
    if (!entry)
        return g_strdup("not detached by virt-hostdev");
    return g_strdup_printf("%s %s %s", vh_hostdev_role_string(entry->role),
                           entry->role == VH_ROLE_ASSIGNED ? "to" : "for",
                           entry->owner);
}

/* Somebody's: on vfio-pci (a VFIO user's) or in the registry. */
static gboolean
vh_reset_is_taken(const VhHostdevState *st, const VhNodeDevice *dev)
{
    return g_strcmp0(dev->driver, "vfio-pci") == 0 ||
           vh_registry_lookup(st->registry, &dev->addr) != NULL;
}

/* Step 1: @dev itself is nobody's. */
static gboolean
vh_reset_check_device(const VhHostdevState *st, const VhNodeDevice *dev,
                      GError **error)
{
    const VhRegistryEntry *entry = vh_registry_lookup(st->registry, &dev->addr);
    g_autofree char *owner = vh_reset_owner(entry);
    g_autofree char *shown = vh_hostdev_driver_shown(dev->driver);
    char buf[VH_PCI_ADDRESS_BUFLEN];
    char name[VH_PCI_ADDRESS_BUFLEN];

    vh_pci_address_format(&dev->addr, buf);
    vh_pci_address_nodedev_name(&dev->addr, name);
    if (g_strcmp0(dev->driver, "vfio-pci") == 0 && entry) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT,
                    "%s is bound to vfio-pci (%s): its user resets it through "
                    "VFIO (VFIO_DEVICE_RESET); reattach it first "
                    "(`virt-hostdev nodedev-reattach %s`)", buf, owner, name);
        return FALSE;
    }
    if (g_strcmp0(dev->driver, "vfio-pci") == 0) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT,
                    "%s is bound to vfio-pci (%s): its user resets it through "
                    "VFIO (VFIO_DEVICE_RESET); reattach it to a host driver "
                    "first", buf, owner);
        return FALSE;
    }
    if (entry && entry->role == VH_ROLE_HELD) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT,
                    "%s (%s) is %s as a peer of an assigned device of IOMMU "
                    "group %u: not ours to reset; reattach the assigned "
                    "device first, which gives it back", buf,
                    shown, owner, entry->group);
        return FALSE;
    }
    if (entry) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT,
                    "%s (%s) is %s: its owner resets it; reattach it first "
                    "(`virt-hostdev nodedev-reattach %s`)", buf,
                    shown, owner, name);
        return FALSE;
    }
    return TRUE;
}

/* reset_method holds only bus resets (bus; cxl_bus, a bus reset too). */
static gboolean
vh_reset_methods_bus_only(char **methods)
{
    guint i;

    for (i = 0; methods[i]; i++) {
        if (!g_str_equal(methods[i], "bus") && !g_str_equal(methods[i], "cxl_bus"))
            return FALSE;
    }
    return i > 0;
}

/* A kernel before reset_method: does config space show FLR or PM reset? */
static gboolean
vh_reset_has_function_reset(const VhHostdev *h, const VhNodeDevice *dev)
{
    g_autofree char *relpath = vh_sysfs_pci_device_relpath(&dev->addr, "config");
    g_autoptr(GBytes) config = NULL;
    g_autoptr(GError) err = NULL;
    char buf[VH_PCI_ADDRESS_BUFLEN];
    const guint8 *cfg;
    gsize len = 0;

    if (!vh_sysfs_read_bytes(h->sysfs, relpath, VH_RESET_CONFIG_MAX, &config,
                             &err) || !config) {
        g_debug("%s: no config space (%s): assuming a bus reset",
                vh_pci_address_format(&dev->addr, buf),
                err ? err->message : "absent");
        return FALSE;
    }
    cfg = g_bytes_get_data(config, &len);
    return vh_pci_config_has_function_reset(cfg, len);
}

/*
 * The bridge whose secondary bus holds @dev, or NULL on a root bus (the
 * host bridge's, or one behind an Intel VMD, whose parent is the VMD
 * endpoint): there is no bridge to reset.
 */
static const VhNodeDevice *
vh_reset_parent_bridge(const VhHostdevState *st, const VhNodeDevice *dev)
{
    const VhNodeDevice *parent;

    if (!dev->has_parent_addr)
        return NULL;
    parent = vh_node_device_list_lookup(st->list, &dev->parent_addr);
    return parent && vh_node_device_is_bridge(parent) ? parent : NULL;
}

/*
 * Step 2: how the kernel will reset @dev.  Sets result->methods and, when
 * only a bus reset is left, result->bus_reset and result->bridge.  The
 * kernel shows reset and reset_method (since 5.15) only when it has a
 * method; a root bus has no bridge for the "bus" method.
 */
static gboolean
vh_reset_plan(const VhHostdev *h, const VhHostdevState *st,
              const VhNodeDevice *dev, VhResetResult *result, GError **error)
{
    g_autofree char *reset = vh_sysfs_pci_device_relpath(&dev->addr, "reset");
    const VhNodeDevice *bridge = vh_reset_parent_bridge(st, dev);
    g_autofree char *shown = vh_hostdev_driver_shown(dev->driver);
    gboolean bus_only;
    char buf[VH_PCI_ADDRESS_BUFLEN];

    vh_pci_address_format(&dev->addr, buf);
    if (dev->has_reset_method ? !dev->reset_methods[0]
                              : !vh_sysfs_exists(h->sysfs, reset)) {
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                    "%s (%s) has no reset method (no FLR, PM or bus reset): "
                    "the kernel cannot reset it; only a host reboot clears "
                    "its state", buf, shown);
        return FALSE;
    }
    if (dev->has_reset_method) {
        result->methods = g_strdupv(dev->reset_methods);
        bus_only = vh_reset_methods_bus_only(dev->reset_methods);
    } else {
        bus_only = !vh_reset_has_function_reset(h, dev);
    }
    if (bus_only && !bridge) {
        if (!dev->has_reset_method)
            return TRUE;    /* resettable by a method this kernel does not name */
        g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED,
                    "%s (%s) has no reset method (no FLR, PM or bus reset): "
                    "the kernel lists only a bus reset, and on a root bus "
                    "there is no bridge to reset; only a host reboot clears "
                    "its state", buf, shown);
        return FALSE;
    }
    if (bus_only) {
        result->bus_reset = TRUE;
        result->bridge = bridge->addr;
    }
    return TRUE;
}

/* TRUE when @dev sits below the bridge @top, at any depth. */
static gboolean
vh_reset_is_below(const VhNodeDeviceList *list, const VhNodeDevice *dev,
                  const VhPciAddress *top)
{
    guint hops;

    /* Bounded: a tree read from a changing sysfs must not loop us. */
    for (hops = 0; dev && dev->has_parent_addr && hops < list->devices->len;
         hops++) {
        if (vh_pci_address_equal(&dev->parent_addr, top))
            return TRUE;
        dev = vh_node_device_list_lookup(list, &dev->parent_addr);
    }
    return FALSE;
}

/*
 * Step 3: the other devices the reset reaches, below @top: into @taken
 * ("0000:01:02.0 (vfio-pci, assigned to vm1)") those that are somebody's,
 * into @others ("0000:01:02.0 (e1000)") the rest.
 */
static void
vh_reset_reach(const VhHostdevState *st, const VhNodeDevice *dev,
               const VhPciAddress *top, GPtrArray *taken, GPtrArray *others)
{
    guint i;

    for (i = 0; i < st->list->devices->len; i++) {
        const VhNodeDevice *d = g_ptr_array_index(st->list->devices, i);
        g_autofree char *shown = NULL;
        char buf[VH_PCI_ADDRESS_BUFLEN];

        if (d == dev || !vh_reset_is_below(st->list, d, top))
            continue;
        shown = vh_hostdev_driver_shown(d->driver);
        vh_pci_address_format(&d->addr, buf);
        if (vh_reset_is_taken(st, d)) {
            g_autofree char *owner =
                vh_reset_owner(vh_registry_lookup(st->registry, &d->addr));
            g_ptr_array_add(taken, g_strdup_printf("%s (%s, %s)", buf,
                                                   shown, owner));
        } else {
            g_ptr_array_add(others, g_strdup_printf("%s (%s)", buf,
                                                    shown));
        }
    }
}

static char *
vh_reset_join(const GPtrArray *items)
{
    GString *s = g_string_new(NULL);
    guint i;

    for (i = 0; i < items->len; i++)
        g_string_append_printf(s, "%s%s", i ? ", " : "",
                               (const char *) g_ptr_array_index(items, i));
    return g_string_free(s, FALSE);
}

/* Refuse when the reset reaches a device that is somebody's. */
static gboolean
vh_reset_check_reach(const VhHostdevState *st, const VhNodeDevice *dev,
                     VhResetResult *result, GError **error)
{
    g_autoptr(GPtrArray) taken = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *shown = vh_hostdev_driver_shown(dev->driver);
    g_autofree char *names = NULL;
    g_autofree char *how = NULL;
    char buf[VH_PCI_ADDRESS_BUFLEN];
    char bbuf[VH_PCI_ADDRESS_BUFLEN];

    if (result->bus_reset)
        vh_reset_reach(st, dev, &result->bridge, taken, result->also_reset);
    if (vh_node_device_is_bridge(dev))
        vh_reset_reach(st, dev, &dev->addr, taken, result->also_reset);
    if (taken->len == 0)
        return TRUE;

    vh_pci_address_format(&dev->addr, buf);
    names = vh_reset_join(taken);
    if (result->bus_reset) {
        g_autofree char *methods = result->methods ?
            g_strjoinv(" ", result->methods) : NULL;
        how = g_strdup_printf("can be reset only by a secondary bus reset of "
                              "%s (%s%s)", vh_pci_address_format(&result->bridge,
                                                                 bbuf),
                              methods ? "reset_method: " : "no FLR or PM reset",
                              methods ? methods : "");
    } else {
        how = g_strdup("is a bridge: resetting it resets the devices below it");
    }
    g_set_error(error, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT,
                "%s (%s) %s, which would also reset %s; give %s back first "
                "(`virt-hostdev nodedev-reattach` of the assigned devices)",
                buf, shown, how, names,
                taken->len == 1 ? "it" : "them");
    return FALSE;
}

gboolean
vh_hostdev_reset(const VhHostdev *h, const VhPciAddress *addr,
                 VhResetResult **ret_result, GError **error)
{
    g_auto(VhHostdevState) st = { 0 };
    g_autoptr(VhResetResult) result = g_new0(VhResetResult, 1);
    g_autofree char *reset = vh_sysfs_pci_device_relpath(addr, "reset");
    g_autofree char *shown = NULL;
    const VhNodeDevice *dev;
    char buf[VH_PCI_ADDRESS_BUFLEN];

    if (!vh_hostdev_begin(h, &st, NULL, 0, error))
        return FALSE;
    if (!(dev = vh_node_device_list_find(st.list, addr, error)))
        return FALSE;
    result->addr = *addr;
    result->driver = g_strdup(dev->driver);
    result->also_reset = g_ptr_array_new_with_free_func(g_free);
    shown = vh_hostdev_driver_shown(dev->driver);

    /* Step 1: the device is nobody's; step 2: the kernel can reset it;
     * step 3: what else the reset reaches is nobody's either. */
    if (!vh_reset_check_device(&st, dev, error) ||
        !vh_reset_plan(h, &st, dev, result, error) ||
        !vh_reset_check_reach(&st, dev, result, error))
        return FALSE;

    /* Step 4: pci_reset_function(). */
    vh_pci_address_format(addr, buf);
    g_debug("%s: resetting (%s)%s", buf, shown,
            result->bus_reset ? " by a bus reset" : "");
    if (!vh_sysfs_write(h->sysfs, reset, "1", error)) {
        g_prefix_error(error, "%s (%s): the kernel did not reset it; see "
                       "`dmesg`: ", buf, shown);
        return FALSE;
    }
    *ret_result = g_steal_pointer(&result);
    return TRUE;
}

gboolean
vh_hostdev_reset_probe(const VhSysfs *sysfs, const VhRegistry *registry,
                       const VhNodeDeviceList *list, const VhPciAddress *addr,
                       VhResetResult **ret_result, GError **error)
{
    /* Borrowed, not owned: no lock, nothing to clear. */
    const VhHostdevState st = {
        .registry = (VhRegistry *) registry,
        .list = (VhNodeDeviceList *) list,
    };
    const VhHostdev h = { .sysfs = sysfs };
    g_autoptr(VhResetResult) result = g_new0(VhResetResult, 1);
    g_autoptr(GPtrArray) taken = g_ptr_array_new_with_free_func(g_free);
    const VhNodeDevice *dev;
    guint i;

    if (!(dev = vh_node_device_list_find(list, addr, error)))
        return FALSE;
    result->addr = *addr;
    result->driver = g_strdup(dev->driver);
    result->also_reset = g_ptr_array_new_with_free_func(g_free);
    if (!vh_reset_plan(&h, &st, dev, result, error))
        return FALSE;
    if (result->bus_reset)
        vh_reset_reach(&st, dev, &result->bridge, taken, result->also_reset);
    for (i = 0; i < taken->len; i++)
        g_ptr_array_add(result->also_reset,
                        g_strdup(g_ptr_array_index(taken, i)));
    *ret_result = g_steal_pointer(&result);
    return TRUE;
}
