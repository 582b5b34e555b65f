/*
 * vh-test-host.c: a host for the hostdev manager's tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <glib/gstdio.h>

#include "vh-test-host.h"

static gboolean
vh_test_host_load_module(gpointer data, const char *module, GError **error)
{
    return vh_fake_kernel_load_module(data, module, error);
}

void
vh_test_host_init(VhTestHost *host, VhFakeSysfs *fake, const char *tmp_template)
{
    g_autoptr(GError) err = NULL;

    host->fake = fake;
    host->fakeproc = vh_fake_sysfs_new(NULL, 0, &err);
    g_assert_no_error(err);
    host->sysfs = vh_sysfs_new(vh_fake_sysfs_root(host->fake), &err);
    g_assert_no_error(err);
    host->proc = vh_sysfs_new(vh_fake_sysfs_root(host->fakeproc), &err);
    g_assert_no_error(err);
    host->kernel = vh_fake_kernel_new(host->fake, host->sysfs, &err);
    g_assert_no_error(err);
    host->dev = vh_sysfs_new(vh_fake_kernel_dev_root(host->kernel), &err);
    g_assert_no_error(err);
    host->state_dir = g_dir_make_tmp(tmp_template, &err);
    g_assert_no_error(err);
    host->h = (VhHostdev) {
        .sysfs = host->sysfs, .proc = host->proc, .dev = host->dev,
        .state_dir = host->state_dir, .load_module = vh_test_host_load_module,
        .load_module_data = host->kernel, .timeout_ms = 200,
    };
}

void
vh_test_host_clear(VhTestHost *host)
{
    static const char *const files[] = { "registry.json", "journal.json", "lock" };
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *path = g_build_filename(host->state_dir, files[i], NULL);
        g_unlink(path);
    }
    g_rmdir(host->state_dir);
    g_free(host->state_dir);
    vh_fake_kernel_free(host->kernel);
    vh_sysfs_free(host->dev);
    vh_sysfs_free(host->proc);
    vh_sysfs_free(host->sysfs);
    vh_fake_sysfs_free(host->fakeproc);
    vh_fake_sysfs_free(host->fake);
}

gboolean
vh_test_host_state_exists(const VhTestHost *host, const char *name)
{
    g_autofree char *path = g_build_filename(host->state_dir, name, NULL);

    return g_file_test(path, G_FILE_TEST_EXISTS);
}

VhPciAddress
vh_test_addr(const char *s)
{
    VhPciAddress a;

    g_assert_true(vh_pci_address_parse(s, &a, NULL));
    return a;
}
