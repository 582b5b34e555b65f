/*
 * vh-fake-kernel.c: a simulated Linux PCI core behind a fake sysfs tree
 *
 * What the stores do follows Linux 6.1: driver_set_override()
 * (drivers/base/driver.c), bind_store(), unbind_store() and
 * drivers_probe_store() (drivers/base/bus.c), __driver_probe_device()
 * (drivers/base/dd.c) and pci_match_device() (drivers/pci/pci-driver.c).
 *
 * The tree is the state wherever the code under test can see it (driver
 * links, driver directories); the model keeps only what the tree cannot
 * tell: each device's native driver and its driver_override, whose file
 * the write being handled has already overwritten.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "tests.fake-kernel"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "vh-fake-kernel.h"

/* driver_set_override(): the value is shown back with a newline in one
 * page, so it must stay below PAGE_SIZE - 1. */
#define VH_FAKE_PAGE_SIZE 4096

#define VH_FAKE_VFIO_PCI "vfio-pci"

typedef struct {
    char *address;
    char *devdir;       /* resolved, relative to the root */
    char *native;       /* the driver the tree gave it; NULL: none */
    char *override;     /* driver_override; NULL: "(null)" */
    char *group;        /* iommu group name; NULL: none */
    guint resets;       /* "1" written to its reset file */
} VhFakeDevice;

typedef struct {
    char *suffix;
    guint remaining;    /* matching writes until this one fails */
    int err;
} VhFakeFault;

struct _VhFakeKernel {
    VhFakeSysfs *fake;
    VhSysfs *sysfs;
    char *dev_root;
    GPtrArray *devices;     /* VhFakeDevice, sorted by address */
    GHashTable *by_address; /* address -> VhFakeDevice (borrowed) */
    GHashTable *by_devdir;  /* devdir -> VhFakeDevice (borrowed) */
    GPtrArray *faults;      /* VhFakeFault */
    GPtrArray *writes;      /* "RELPATH=VALUE" */
    gboolean hooked;
    GRecMutex lock;         /* writes and module loads from several threads */
};

/* Modules vh_fake_kernel_load_module() knows besides the tree's drivers. */
static const char * const vh_fake_kernel_modules[] = { "vfio-pci", "pci-stub" };

static void
vh_fake_device_free(VhFakeDevice *dev)
{
    if (!dev)
        return;
    g_free(dev->address);
    g_free(dev->devdir);
    g_free(dev->native);
    g_free(dev->override);
    g_free(dev->group);
    g_free(dev);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(VhFakeDevice, vh_fake_device_free)

static void
vh_fake_fault_free(VhFakeFault *fault)
{
    g_free(fault->suffix);
    g_free(fault);
}

/* A store() returning -@err: the kernel's errno text and nothing else, as
 * write(2) reports it; the seam adds the path and the value. */
static gboolean
vh_fake_kernel_errno(int err, GError **error)
{
    g_set_error_literal(error, G_IO_ERROR, g_io_error_from_errno(err),
                        g_strerror(err));
    return FALSE;
}

/* ---- The dev root ------------------------------------------------------- */

const char *
vh_fake_kernel_dev_root(const VhFakeKernel *kernel)
{
    return kernel->dev_root;
}

static int
vh_fake_kernel_remove_one(const char *path, const struct stat *st, int flag,
                          struct FTW *ftw)
{
    /* Best effort: keep removing the rest of the tree. */
    if (remove(path) < 0)
        g_debug("cannot remove %s: %s", path, g_strerror(errno));
    return 0;
}

/* An empty regular file DEV/@relpath standing for a character device. */
static gboolean
vh_fake_kernel_mknod(VhFakeKernel *kernel, const char *relpath,
                     GError **error)
{
    g_autofree char *path = g_build_filename(kernel->dev_root, relpath, NULL);
    g_autofree char *dir = g_path_get_dirname(path);

    if (g_mkdir_with_parents(dir, 0755) < 0) {
        int saved_errno = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                    "cannot create %s: %s", dir, g_strerror(saved_errno));
        return FALSE;
    }
    if (g_file_test(path, G_FILE_TEST_EXISTS))
        return TRUE;
    return g_file_set_contents(path, "", 0, error);
}

static gboolean
vh_fake_kernel_rmnod(VhFakeKernel *kernel, const char *relpath,
                     GError **error)
{
    g_autofree char *path = g_build_filename(kernel->dev_root, relpath, NULL);

    if (g_unlink(path) < 0 && errno != ENOENT) {
        int saved_errno = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                    "cannot remove %s: %s", path, g_strerror(saved_errno));
        return FALSE;
    }
    return TRUE;
}

/* ---- Reading the tree --------------------------------------------------- */

/* A name that stays one directory entry below bus/pci/drivers. */
static gboolean
vh_fake_kernel_driver_name_ok(const char *name)
{
    return *name && !strchr(name, '/') && !g_str_equal(name, ".") &&
           !g_str_equal(name, "..");
}

static gboolean
vh_fake_kernel_is_loaded(VhFakeKernel *kernel, const char *driver)
{
    g_autofree char *relpath = NULL;

    if (!vh_fake_kernel_driver_name_ok(driver))
        return FALSE;
    relpath = g_strdup_printf("bus/pci/drivers/%s", driver);
    return vh_sysfs_exists(kernel->sysfs, relpath);
}

/* The driver @dev is bound to as its driver link says; NULL: unbound. */
static gboolean
vh_fake_kernel_bound(VhFakeKernel *kernel, const VhFakeDevice *dev,
                     char **ret_driver, GError **error)
{
    g_autofree char *relpath = g_strdup_printf("%s/driver", dev->devdir);

    return vh_sysfs_read_link_name(kernel->sysfs, relpath, ret_driver, error);
}

char *
vh_fake_kernel_driver_of(VhFakeKernel *kernel, const char *address)
{
    g_autoptr(GError) err = NULL;
    VhFakeDevice *dev = g_hash_table_lookup(kernel->by_address, address);
    char *driver = NULL;

    if (!dev)
        return NULL;
    if (!vh_fake_kernel_bound(kernel, dev, &driver, &err)) {
        g_debug("%s: cannot read its driver link: %s", address, err->message);
        return NULL;
    }
    return driver;
}

/* bus_find_device_by_name(): the name may end with one newline
 * (sysfs_streq). */
static VhFakeDevice *
vh_fake_kernel_find_device(VhFakeKernel *kernel, const char *value)
{
    gsize len = strlen(value);
    g_autofree char *name = NULL;

    if (len > 0 && value[len - 1] == '\n')
        len--;
    name = g_strndup(value, len);
    return g_hash_table_lookup(kernel->by_address, name);
}

/* pci_match_device(): with an override only the driver it names matches
 * (vfio-pci and pci-stub have no id table, so that is the only way to
 * them); without one, the device's native driver stands for the id
 * tables. */
static gboolean
vh_fake_kernel_matches(const VhFakeDevice *dev, const char *driver)
{
    if (dev->override)
        return g_str_equal(dev->override, driver);
    return dev->native && g_str_equal(dev->native, driver);
}

/* ---- Changing the tree -------------------------------------------------- */

static gboolean
vh_fake_kernel_group_node(VhFakeKernel *kernel, const VhFakeDevice *dev,
                          GError **error)
{
    g_autofree char *node = NULL;

    if (!dev->group)
        return TRUE;
    node = g_strdup_printf("vfio/%s", dev->group);
    return vh_fake_kernel_mknod(kernel, node, error);
}

/* The group's node goes when no member of it is left on vfio-pci. */
static gboolean
vh_fake_kernel_group_node_put(VhFakeKernel *kernel, const VhFakeDevice *dev,
                              GError **error)
{
    g_autofree char *node = NULL;
    guint i;

    if (!dev->group)
        return TRUE;
    for (i = 0; i < kernel->devices->len; i++) {
        VhFakeDevice *other = g_ptr_array_index(kernel->devices, i);
        g_autofree char *driver = NULL;

        if (!other->group || !g_str_equal(other->group, dev->group))
            continue;
        if (!vh_fake_kernel_bound(kernel, other, &driver, error))
            return FALSE;
        if (g_strcmp0(driver, VH_FAKE_VFIO_PCI) == 0)
            return TRUE;
    }
    node = g_strdup_printf("vfio/%s", dev->group);
    return vh_fake_kernel_rmnod(kernel, node, error);
}

/* really_probe(): the driver link, the driver's back link, and what the
 * driver's probe makes (vfio-pci: the group's node). */
static gboolean
vh_fake_kernel_attach(VhFakeKernel *kernel, VhFakeDevice *dev,
                      const char *driver, GError **error)
{
    g_autofree char *drvdir = g_strdup_printf("bus/pci/drivers/%s", driver);
    g_autofree char *link = g_strdup_printf("%s/driver", dev->devdir);
    g_autofree char *backlink = g_strdup_printf("%s/%s", drvdir, dev->address);

    g_debug("%s: bound to %s", dev->address, driver);
    if (!vh_fake_sysfs_add_link(kernel->fake, link, drvdir, error) ||
        !vh_fake_sysfs_add_link(kernel->fake, backlink, dev->devdir, error))
        return FALSE;
    if (g_str_equal(driver, VH_FAKE_VFIO_PCI))
        return vh_fake_kernel_group_node(kernel, dev, error);
    return TRUE;
}

static gboolean
vh_fake_kernel_unlink(VhFakeKernel *kernel, const char *relpath,
                      GError **error)
{
    g_autofree char *path = vh_fake_sysfs_path(kernel->fake, relpath);

    if (g_unlink(path) < 0) {
        int saved_errno = errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(saved_errno),
                    "cannot remove %s: %s", path, g_strerror(saved_errno));
        return FALSE;
    }
    return TRUE;
}

/* device_driver_detach(). */
static gboolean
vh_fake_kernel_detach(VhFakeKernel *kernel, VhFakeDevice *dev,
                      const char *driver, GError **error)
{
    g_autofree char *link = g_strdup_printf("%s/driver", dev->devdir);
    g_autofree char *backlink = g_strdup_printf("bus/pci/drivers/%s/%s",
                                                driver, dev->address);

    g_debug("%s: unbound from %s", dev->address, driver);
    if (!vh_fake_kernel_unlink(kernel, link, error) ||
        !vh_fake_kernel_unlink(kernel, backlink, error))
        return FALSE;
    if (g_str_equal(driver, VH_FAKE_VFIO_PCI))
        return vh_fake_kernel_group_node_put(kernel, dev, error);
    return TRUE;
}

/* driver_attach(): a newly registered driver takes every unbound device it
 * matches. */
static gboolean
vh_fake_kernel_driver_attach(VhFakeKernel *kernel, const char *driver,
                             GError **error)
{
    guint i;

    for (i = 0; i < kernel->devices->len; i++) {
        VhFakeDevice *dev = g_ptr_array_index(kernel->devices, i);
        g_autofree char *bound = NULL;

        if (!vh_fake_kernel_matches(dev, driver))
            continue;
        if (!vh_fake_kernel_bound(kernel, dev, &bound, error))
            return FALSE;
        if (!bound && !vh_fake_kernel_attach(kernel, dev, driver, error))
            return FALSE;
    }
    return TRUE;
}

/* ---- The stores --------------------------------------------------------- */

/* driver_set_override(): up to the first newline; "\n" clears it. */
static int
vh_fake_kernel_set_override(VhFakeDevice *dev, const char *value)
{
    const char *nl;

    if (strlen(value) >= VH_FAKE_PAGE_SIZE - 1)
        return EINVAL;
    g_clear_pointer(&dev->override, g_free);
    nl = strchr(value, '\n');
    if (nl)
        dev->override = g_strndup(value, (gsize) (nl - value));
    else
        dev->override = g_strdup(value);
    if (!*dev->override)
        g_clear_pointer(&dev->override, g_free);
    return 0;
}

/* The file shows the stored value whatever was written, failed or not.
 * An empty write never reaches store() (sysfs_kf_write() returns 0 for a
 * count of 0), so it changes nothing: clearing takes "\n". */
static gboolean
vh_fake_kernel_override_store(VhFakeKernel *kernel, VhFakeDevice *dev,
                              const char *resolved, const char *value,
                              int injected, GError **error)
{
    g_autofree char *shown = NULL;
    int err = injected;

    if (!err && *value)
        err = vh_fake_kernel_set_override(dev, value);
    shown = g_strdup_printf("%s\n", dev->override ? dev->override : "(null)");
    if (!vh_fake_sysfs_add_file(kernel->fake, resolved, shown, error))
        return FALSE;
    if (err)
        return vh_fake_kernel_errno(err, error);
    return TRUE;
}

/* bind_store(): no such device or no match is -ENODEV, then a bound
 * device -EBUSY (__driver_probe_device()). */
static gboolean
vh_fake_kernel_bind_store(VhFakeKernel *kernel, const char *driver,
                          const char *value, GError **error)
{
    VhFakeDevice *dev = vh_fake_kernel_find_device(kernel, value);
    g_autofree char *bound = NULL;

    if (!dev || !vh_fake_kernel_matches(dev, driver))
        return vh_fake_kernel_errno(ENODEV, error);
    if (!vh_fake_kernel_bound(kernel, dev, &bound, error))
        return FALSE;
    if (bound)
        return vh_fake_kernel_errno(EBUSY, error);
    return vh_fake_kernel_attach(kernel, dev, driver, error);
}

/* unbind_store(): -ENODEV unless the device is bound to this driver. */
static gboolean
vh_fake_kernel_unbind_store(VhFakeKernel *kernel, const char *driver,
                            const char *value, GError **error)
{
    VhFakeDevice *dev = vh_fake_kernel_find_device(kernel, value);
    g_autofree char *bound = NULL;

    if (!dev)
        return vh_fake_kernel_errno(ENODEV, error);
    if (!vh_fake_kernel_bound(kernel, dev, &bound, error))
        return FALSE;
    if (g_strcmp0(bound, driver) != 0)
        return vh_fake_kernel_errno(ENODEV, error);
    return vh_fake_kernel_detach(kernel, dev, driver, error);
}

/* drivers_probe_store(): -ENODEV for no such device; a bound device is
 * left alone; an unbound one gets the first loaded driver that matches,
 * or stays unbound, which is no error. */
static gboolean
vh_fake_kernel_probe_store(VhFakeKernel *kernel, const char *value,
                           GError **error)
{
    VhFakeDevice *dev = vh_fake_kernel_find_device(kernel, value);
    g_autofree char *bound = NULL;
    const char *driver;

    if (!dev)
        return vh_fake_kernel_errno(ENODEV, error);
    if (!vh_fake_kernel_bound(kernel, dev, &bound, error))
        return FALSE;
    if (bound)
        return TRUE;
    driver = dev->override ? dev->override : dev->native;
    if (!driver || !vh_fake_kernel_is_loaded(kernel, driver)) {
        g_debug("%s: no loaded driver matches; left unbound", dev->address);
        return TRUE;
    }
    return vh_fake_kernel_attach(kernel, dev, driver, error);
}

/* reset_store(): kstrtoul(buf, 0) must give 1, else -EINVAL; then
 * pci_reset_function(), which the model only counts.  A device without a
 * method has no reset file, so the write never gets here (ENOENT). */
static gboolean
vh_fake_kernel_reset_store(VhFakeKernel *kernel, VhFakeDevice *dev,
                           const char *resolved, const char *value,
                           int injected, GError **error)
{
    g_autofree char *text = g_strdup(value);
    gsize len = strlen(text);
    guint64 n = 0;
    char *end = NULL;

    /* Write-only (0200): nothing of the value stays. */
    if (!vh_fake_sysfs_add_file(kernel->fake, resolved, "", error))
        return FALSE;
    if (injected)
        return vh_fake_kernel_errno(injected, error);
    if (len == 0)
        return TRUE;    /* a zero-byte write never reaches store() */
    if (text[len - 1] == '\n')
        text[len - 1] = '\0';
    /* kstrtoul() takes a '+' but no space and no '-'. */
    if (*text && !g_ascii_isspace(*text) && *text != '-')
        n = g_ascii_strtoull(text, &end, 0);
    if (!end || *end || n != 1)
        return vh_fake_kernel_errno(EINVAL, error);
    dev->resets++;
    g_debug("%s: reset (%u)", dev->address, dev->resets);
    return TRUE;
}

/* ---- The write hook ----------------------------------------------------- */

/* @path is @suffix or ends with "/" @suffix: "unbind" is not a "bind". */
static gboolean
vh_fake_kernel_path_ends_with(const char *path, const char *suffix)
{
    gsize plen = strlen(path);
    gsize slen = strlen(suffix);

    if (slen > plen || strcmp(path + plen - slen, suffix) != 0)
        return FALSE;
    return slen == plen || path[plen - slen - 1] == '/' || suffix[0] == '/';
}

/* The errno an injected fault gives this write; 0: none. */
static int
vh_fake_kernel_take_fault(VhFakeKernel *kernel, const char *resolved)
{
    int err = 0;
    guint i = 0;

    while (i < kernel->faults->len) {
        VhFakeFault *fault = g_ptr_array_index(kernel->faults, i);

        if (!vh_fake_kernel_path_ends_with(resolved, fault->suffix) ||
            --fault->remaining > 0) {
            i++;
            continue;
        }
        if (!err)
            err = fault->err;
        g_ptr_array_remove_index(kernel->faults, i);
    }
    return err;
}

/* bus/pci/drivers/DRV/bind or unbind: DRV and which of the two. */
static gboolean
vh_fake_kernel_parse_driver_file(const char *resolved, char **ret_driver,
                                 gboolean *ret_bind)
{
    g_auto(GStrv) parts = g_strsplit(resolved, "/", -1);

    if (g_strv_length(parts) != 5 || !g_str_equal(parts[0], "bus") ||
        !g_str_equal(parts[1], "pci") || !g_str_equal(parts[2], "drivers"))
        return FALSE;
    if (!g_str_equal(parts[4], "bind") && !g_str_equal(parts[4], "unbind"))
        return FALSE;
    *ret_driver = g_strdup(parts[3]);
    *ret_bind = g_str_equal(parts[4], "bind");
    return TRUE;
}

/* DEVDIR/@attr: the device. */
static VhFakeDevice *
vh_fake_kernel_attr_device(VhFakeKernel *kernel, const char *resolved,
                           const char *attr)
{
    g_autofree char *dir = NULL;
    g_autofree char *base = g_path_get_basename(resolved);

    if (!g_str_equal(base, attr))
        return NULL;
    dir = g_path_get_dirname(resolved);
    return g_hash_table_lookup(kernel->by_devdir, dir);
}

static gboolean vh_fake_kernel_write_locked(VhFakeKernel *kernel,
                                            const char *relpath,
                                            const char *value, GError **error);

/* The manager may write from several threads (one per IOMMU group), as
 * the kernel takes them; the model changes one write at a time. */
static gboolean
vh_fake_kernel_write_hook(gpointer data, const char *relpath,
                          const char *value, GError **error)
{
    VhFakeKernel *kernel = data;
    gboolean ok;

    g_rec_mutex_lock(&kernel->lock);
    ok = vh_fake_kernel_write_locked(kernel, relpath, value, error);
    g_rec_mutex_unlock(&kernel->lock);
    return ok;
}

static gboolean
vh_fake_kernel_write_locked(VhFakeKernel *kernel, const char *relpath,
                            const char *value, GError **error)
{
    g_autofree char *resolved = NULL;
    g_autofree char *driver = NULL;
    VhFakeDevice *dev;
    gboolean bind = FALSE;
    int injected;

    if (!vh_sysfs_resolve_path(kernel->sysfs, relpath, &resolved, error))
        return FALSE;
    if (!resolved)
        resolved = g_strdup(relpath);
    g_ptr_array_add(kernel->writes, g_strdup_printf("%s=%s", resolved, value));
    injected = vh_fake_kernel_take_fault(kernel, resolved);

    if ((dev = vh_fake_kernel_attr_device(kernel, resolved, "driver_override")))
        return vh_fake_kernel_override_store(kernel, dev, resolved, value,
                                             injected, error);
    if ((dev = vh_fake_kernel_attr_device(kernel, resolved, "reset")))
        return vh_fake_kernel_reset_store(kernel, dev, resolved, value,
                                          injected, error);

    if (g_str_equal(resolved, "bus/pci/drivers_probe") ||
        vh_fake_kernel_parse_driver_file(resolved, &driver, &bind)) {
        /* Write-only attributes: nothing of the value stays. */
        if (!vh_fake_sysfs_add_file(kernel->fake, resolved, "", error))
            return FALSE;
        if (injected)
            return vh_fake_kernel_errno(injected, error);
        if (!*value)
            return TRUE;
        if (!driver)
            return vh_fake_kernel_probe_store(kernel, value, error);
        if (bind)
            return vh_fake_kernel_bind_store(kernel, driver, value, error);
        return vh_fake_kernel_unbind_store(kernel, driver, value, error);
    }

    /* Not simulated: the value stays as written. */
    if (injected)
        return vh_fake_kernel_errno(injected, error);
    return TRUE;
}

/* ---- Life cycle --------------------------------------------------------- */

static gboolean
vh_fake_kernel_add_device(VhFakeKernel *kernel, const char *address,
                          GError **error)
{
    g_autoptr(VhFakeDevice) dev = g_new0(VhFakeDevice, 1);
    g_autofree char *buslink = g_strdup_printf("bus/pci/devices/%s", address);
    g_autofree char *group = NULL;
    g_autofree char *override = NULL;

    dev->address = g_strdup(address);
    if (!vh_sysfs_resolve_path(kernel->sysfs, buslink, &dev->devdir, error))
        return FALSE;
    if (!dev->devdir) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "fake kernel: %s leads nowhere in the tree", buslink);
        return FALSE;
    }
    group = g_strdup_printf("%s/iommu_group", dev->devdir);
    override = g_strdup_printf("%s/driver_override", dev->devdir);
    if (!vh_fake_kernel_bound(kernel, dev, &dev->native, error) ||
        !vh_sysfs_read_link_name(kernel->sysfs, group, &dev->group, error) ||
        !vh_sysfs_read(kernel->sysfs, override, &dev->override, error))
        return FALSE;
    if (g_strcmp0(dev->override, "(null)") == 0 ||
        g_strcmp0(dev->override, "") == 0)
        g_clear_pointer(&dev->override, g_free);

    g_hash_table_insert(kernel->by_address, dev->address, dev);
    g_hash_table_insert(kernel->by_devdir, dev->devdir, dev);
    g_ptr_array_add(kernel->devices, g_steal_pointer(&dev));
    return TRUE;
}

/* What a loaded vfio-pci shows in /dev: its container node and a node for
 * each group with a member on it. */
static gboolean
vh_fake_kernel_vfio_nodes(VhFakeKernel *kernel, GError **error)
{
    guint i;

    if (!vh_fake_kernel_mknod(kernel, "vfio/vfio", error))
        return FALSE;
    for (i = 0; i < kernel->devices->len; i++) {
        VhFakeDevice *dev = g_ptr_array_index(kernel->devices, i);
        g_autofree char *driver = NULL;

        if (!vh_fake_kernel_bound(kernel, dev, &driver, error))
            return FALSE;
        if (g_strcmp0(driver, VH_FAKE_VFIO_PCI) == 0 &&
            !vh_fake_kernel_group_node(kernel, dev, error))
            return FALSE;
    }
    return TRUE;
}

VhFakeKernel *
vh_fake_kernel_new(VhFakeSysfs *fake, VhSysfs *sysfs, GError **error)
{
    g_autoptr(VhFakeKernel) kernel = g_new0(VhFakeKernel, 1);
    g_autoptr(GPtrArray) addresses = NULL;
    guint i;

    g_rec_mutex_init(&kernel->lock);
    kernel->fake = fake;
    kernel->sysfs = sysfs;
    kernel->devices = g_ptr_array_new_with_free_func(
        (GDestroyNotify) vh_fake_device_free);
    kernel->by_address = g_hash_table_new(g_str_hash, g_str_equal);
    kernel->by_devdir = g_hash_table_new(g_str_hash, g_str_equal);
    kernel->faults = g_ptr_array_new_with_free_func(
        (GDestroyNotify) vh_fake_fault_free);
    kernel->writes = g_ptr_array_new_with_free_func(g_free);
    if (!(kernel->dev_root = g_dir_make_tmp("vh-fake-dev-XXXXXX", error)))
        return NULL;

    if (!vh_sysfs_list(sysfs, "bus/pci/devices", &addresses, error))
        return NULL;
    for (i = 0; addresses && i < addresses->len; i++) {
        if (!vh_fake_kernel_add_device(kernel, g_ptr_array_index(addresses, i),
                                       error))
            return NULL;
    }
    if (vh_fake_kernel_is_loaded(kernel, VH_FAKE_VFIO_PCI) &&
        !vh_fake_kernel_vfio_nodes(kernel, error))
        return NULL;

    vh_sysfs_set_write_hook(sysfs, vh_fake_kernel_write_hook, kernel);
    kernel->hooked = TRUE;
    return g_steal_pointer(&kernel);
}

void
vh_fake_kernel_free(VhFakeKernel *kernel)
{
    if (!kernel)
        return;
    if (kernel->hooked)
        vh_sysfs_set_write_hook(kernel->sysfs, NULL, NULL);
    if (kernel->dev_root && !g_getenv("VH_FAKE_SYSFS_KEEP"))
        nftw(kernel->dev_root, vh_fake_kernel_remove_one, 16,
             FTW_DEPTH | FTW_PHYS);
    g_clear_pointer(&kernel->by_address, g_hash_table_unref);
    g_clear_pointer(&kernel->by_devdir, g_hash_table_unref);
    g_clear_pointer(&kernel->devices, g_ptr_array_unref);
    g_clear_pointer(&kernel->faults, g_ptr_array_unref);
    g_clear_pointer(&kernel->writes, g_ptr_array_unref);
    g_free(kernel->dev_root);
    g_rec_mutex_clear(&kernel->lock);
    g_free(kernel);
}

/* ---- Test controls ------------------------------------------------------ */

static gboolean vh_fake_kernel_load_locked(VhFakeKernel *kernel,
                                           const char *module, GError **error);

gboolean
vh_fake_kernel_load_module(VhFakeKernel *kernel, const char *module,
                           GError **error)
{
    gboolean ok;

    g_rec_mutex_lock(&kernel->lock);
    ok = vh_fake_kernel_load_locked(kernel, module, error);
    g_rec_mutex_unlock(&kernel->lock);
    return ok;
}

static gboolean
vh_fake_kernel_load_locked(VhFakeKernel *kernel, const char *module,
                           GError **error)
{
    g_autofree char *driver = g_strdelimit(g_strdup(module), "_", '-');
    gboolean known = g_strv_contains(vh_fake_kernel_modules, driver);
    guint i;

    for (i = 0; !known && i < kernel->devices->len; i++) {
        VhFakeDevice *dev = g_ptr_array_index(kernel->devices, i);
        known = g_strcmp0(dev->native, driver) == 0;
    }
    if (!known || !vh_fake_kernel_driver_name_ok(driver)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                    "Module %s not found", module);
        return FALSE;
    }
    if (vh_fake_kernel_is_loaded(kernel, driver))
        return TRUE;

    g_debug("loading %s", driver);
    if (!vh_fake_sysfs_add_driver(kernel->fake, driver, error))
        return FALSE;
    if (g_str_equal(driver, VH_FAKE_VFIO_PCI) &&
        !vh_fake_kernel_mknod(kernel, "vfio/vfio", error))
        return FALSE;
    return vh_fake_kernel_driver_attach(kernel, driver, error);
}

void
vh_fake_kernel_fail_write(VhFakeKernel *kernel, const char *suffix, guint nth,
                          int err)
{
    VhFakeFault *fault;

    g_return_if_fail(nth > 0 && err != 0);
    fault = g_new0(VhFakeFault, 1);
    fault->suffix = g_strdup(suffix);
    fault->remaining = nth;
    fault->err = ABS(err);
    g_ptr_array_add(kernel->faults, fault);
}

const GPtrArray *
vh_fake_kernel_writes(const VhFakeKernel *kernel)
{
    return kernel->writes;
}

guint
vh_fake_kernel_resets(const VhFakeKernel *kernel, const char *address)
{
    VhFakeDevice *dev = g_hash_table_lookup(kernel->by_address, address);

    return dev ? dev->resets : 0;
}
