/*
 * test-hostdev.c: the hostdev manager over a simulated kernel
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <string.h>

#include <glib/gstdio.h>

#include "vh-error.h"
#include "vh-fake-kernel.h"
#include "vh-hostdev.h"
#include "vh-hostdev-priv.h"
#include "vh-test-host.h"
#include "vh-test-topologies.h"

typedef VhTestHost Host;

/* A host on a fake tree of @devs, with a state dir of its own. */
static void
host_setup_devices(Host *host, const VhFakePciDevice *devs, guint n)
{
    g_autoptr(GError) err = NULL;
    VhFakeSysfs *fake = vh_fake_sysfs_new(devs, n, &err);

    g_assert_no_error(err);
    vh_test_host_init(host, fake, "vh-state-XXXXXX");
}

static void
host_setup(Host *host, gconstpointer data)
{
    host_setup_devices(host, vh_test_testbed, G_N_ELEMENTS(vh_test_testbed));
}

static void
host_teardown(Host *host, gconstpointer data)
{
    vh_test_host_clear(host);
}

static void
assert_driver(Host *host, const char *addr, const char *expected)
{
    g_autofree char *driver = vh_fake_kernel_driver_of(host->kernel, addr);

    g_test_message("%s on %s", addr, driver ? driver : "no driver");
    g_assert_cmpstr(driver, ==, expected);
}

static gboolean
node_exists(Host *host, const char *relpath)
{
    return vh_sysfs_exists(host->dev, relpath);
}

static void
test_detach_hold_reattach(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhPlan) plan = NULL;
    g_autoptr(VhPlan) back = NULL;
    g_autoptr(VhRegistry) reg = NULL;
    g_autoptr(VhRegistry) after = NULL;
    g_autofree char *text = NULL;
    VhDetachOptions opts = { .hold = TRUE };
    VhPciAddress nic = vh_test_addr("0000:01:01.0");
    VhPciAddress peer = vh_test_addr("0000:01:02.0");
    const VhRegistryEntry *e;

    g_assert_true(vh_hostdev_detach(&host->h, &nic, &opts, &plan, &err));
    g_assert_no_error(err);
    assert_driver(host, "0000:01:01.0", "vfio-pci");
    assert_driver(host, "0000:01:02.0", "pci-stub");
    assert_driver(host, "0000:00:04.0", NULL);         /* the bridge stays */
    g_assert_true(node_exists(host, "vfio/4"));
    text = vh_plan_format(plan);
    g_assert_cmpstr(text, ==, "0000:01:01.0: e1000 -> vfio-pci (assigned)\n"
                              "0000:01:02.0: e1000 -> pci-stub (held)\n");
    g_assert_false(vh_test_host_state_exists(host, "journal.json"));

    reg = vh_registry_load(host->state_dir, &err);
    g_assert_no_error(err);
    e = vh_registry_lookup(reg, &nic);
    g_assert_nonnull(e);
    g_assert_cmpint(e->role, ==, VH_ROLE_ASSIGNED);
    g_assert_cmpstr(e->owner, ==, "manual");
    g_assert_cmpstr(e->original_driver, ==, "e1000");
    g_assert_cmpuint(e->group, ==, 4);
    e = vh_registry_lookup(reg, &peer);
    g_assert_cmpint(e->role, ==, VH_ROLE_HELD);
    g_assert_cmpstr(e->driver, ==, "pci-stub");

    /* Detaching again is a success that changes nothing. */
    {
        g_autoptr(VhPlan) again = NULL;
        g_assert_true(vh_hostdev_detach(&host->h, &nic, &opts, &again, &err));
        g_assert_cmpuint(again->moves->len, ==, 0);
    }

    g_assert_true(vh_hostdev_reattach(&host->h, &nic, FALSE, &back, &err));
    g_assert_no_error(err);
    assert_driver(host, "0000:01:01.0", "e1000");
    assert_driver(host, "0000:01:02.0", "e1000");
    g_assert_false(node_exists(host, "vfio/4"));
    g_assert_cmpuint(back->moves->len, ==, 2);
    after = vh_registry_load(host->state_dir, &err);
    g_assert_null(vh_registry_lookup(after, &nic));
    g_assert_null(vh_registry_lookup(after, &peer));
}

static void
test_dry_run_and_no_hold(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhPlan) plan = NULL;
    g_autoptr(VhPlan) nohold = NULL;
    g_autofree char *text = NULL;
    VhDetachOptions dry = { .hold = TRUE, .dry_run = TRUE };
    VhDetachOptions alone = { .hold = FALSE };
    VhPciAddress nic = vh_test_addr("0000:01:01.0");
    guint writes = vh_fake_kernel_writes(host->kernel)->len;

    g_assert_true(vh_hostdev_detach(&host->h, &nic, &dry, &plan, &err));
    g_assert_cmpuint(plan->moves->len, ==, 2);
    g_assert_cmpuint(vh_fake_kernel_writes(host->kernel)->len, ==, writes);
    g_assert_false(vh_test_host_state_exists(host, "registry.json"));
    assert_driver(host, "0000:01:01.0", "e1000");

    g_assert_true(vh_hostdev_detach(&host->h, &nic, &alone, &nohold, &err));
    g_assert_no_error(err);
    text = vh_plan_format(nohold);
    g_assert_cmpstr(text, ==, "0000:01:01.0: e1000 -> vfio-pci (detached)\n"
                              "--no-hold: group 4 stays not viable while "
                              "0000:01:02.0 (e1000) is on a host driver\n");
    assert_driver(host, "0000:01:02.0", "e1000");
}

static void
test_conflict_and_refusals(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhPlan) plan = NULL;
    g_autoptr(VhPlan) other = NULL;
    g_autoptr(VhPlan) noop = NULL;
    g_autofree char *text = NULL;
    VhDetachOptions manual = { .hold = TRUE };
    VhDetachOptions vm2 = { .hold = TRUE, .owner = "vm2" };
    VhPciAddress nic = vh_test_addr("0000:01:01.0");
    VhPciAddress peer = vh_test_addr("0000:01:02.0");
    VhPciAddress bridge = vh_test_addr("0000:00:04.0");
    VhPciAddress edu = vh_test_addr("0000:00:03.0");

    g_assert_true(vh_hostdev_detach(&host->h, &nic, &manual, &plan, &err));
    /* Another owner cannot take the group, named in the refusal. */
    g_assert_false(vh_hostdev_detach(&host->h, &peer, &vm2, &other, &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT);
    g_assert_nonnull(strstr(err->message, "IOMMU group 4 belongs to manual"));
    g_assert_null(other);
    g_clear_error(&err);
    /* A held peer is given back through its assigned device only. */
    g_assert_false(vh_hostdev_reattach(&host->h, &peer, FALSE, &other, &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT);
    g_clear_error(&err);

    g_assert_false(vh_hostdev_detach(&host->h, &bridge, &manual, &other, &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "0000:00:04.0 (no driver) is a bridge"));
    g_clear_error(&err);

    /* Reattach of a device we never detached: a no-op that says so. */
    g_assert_true(vh_hostdev_reattach(&host->h, &edu, FALSE, &noop, &err));
    g_assert_cmpuint(noop->moves->len, ==, 0);
    text = vh_plan_format(noop);
    g_assert_cmpstr(text, ==, "0000:00:03.0 (no driver) was not detached by "
                              "virt-hostdev: left alone\n");
}

/* The host's default route on 01:02.0: holding it would cut the host off. */
static void
test_guard(Host *host, gconstpointer data)
{
    static const VhFakeNetDevice eth1 = { .name = "eth1", .parent = "0000:01:02.0" };
    g_autoptr(GError) err = NULL;
    g_autoptr(VhPlan) plan = NULL;
    g_autoptr(VhPlan) forced = NULL;
    VhDetachOptions opts = { .hold = TRUE };
    VhDetachOptions force = { .hold = TRUE, .force = TRUE };
    VhPciAddress nic = vh_test_addr("0000:01:01.0");
    guint writes;

    g_assert_true(vh_fake_sysfs_add_net(host->fake, &eth1, &err));
    g_assert_true(vh_fake_sysfs_add_file(host->fakeproc, "net/route",
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        "eth1\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n", &err));
    g_assert_no_error(err);
    writes = vh_fake_kernel_writes(host->kernel)->len;

    g_assert_false(vh_hostdev_detach(&host->h, &nic, &opts, &plan, &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CRITICAL);
    g_assert_nonnull(strstr(err->message, "0000:01:02.0 (e1000, would be held): "
                                          "default route via eth1"));
    g_assert_nonnull(strstr(err->message, "--force"));
    g_assert_null(strchr(err->message, '\n'));
    /* Nothing changed. */
    g_assert_cmpuint(vh_fake_kernel_writes(host->kernel)->len, ==, writes);
    g_assert_false(vh_test_host_state_exists(host, "registry.json"));
    g_clear_error(&err);

    g_assert_true(vh_hostdev_detach(&host->h, &nic, &force, &forced, &err));
    assert_driver(host, "0000:01:02.0", "pci-stub");
}

/* A write the kernel refuses midway: what ran is undone, nothing recorded. */
static void
test_failed_step_undone(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhPlan) plan = NULL;
    VhDetachOptions opts = { .hold = TRUE };
    VhPciAddress nic = vh_test_addr("0000:01:01.0");

    /* The second drivers_probe (holding 01:02.0) fails. */
    vh_fake_kernel_fail_write(host->kernel, "drivers_probe", 2, EIO);
    g_assert_false(vh_hostdev_detach(&host->h, &nic, &opts, &plan, &err));
    g_assert_nonnull(err);
    g_assert_nonnull(strstr(err->message, "0000:01:02.0 (e1000): cannot bind it to pci-stub"));
    assert_driver(host, "0000:01:01.0", "e1000");
    assert_driver(host, "0000:01:02.0", "e1000");
    g_assert_false(vh_test_host_state_exists(host, "journal.json"));
    g_assert_false(vh_test_host_state_exists(host, "registry.json"));
}

/* A crash after step 0 of a detach: recover puts everything back. */
static void
test_recover(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhJournal) journal = vh_journal_new("detach", "manual");
    g_autoptr(VhPlan) plan = NULL;
    g_autoptr(VhPlan) blocked = NULL;
    g_autoptr(VhPlan) nothing = NULL;
    g_autofree char *text = NULL;
    VhDetachOptions opts = { .hold = TRUE };
    VhPciAddress nic = vh_test_addr("0000:01:01.0");
    VhPciAddress peer = vh_test_addr("0000:01:02.0");

    vh_journal_add_step(journal, &nic, "e1000", "vfio-pci");
    vh_journal_add_step(journal, &peer, "e1000", "pci-stub");
    journal->next = 1;
    g_assert_true(vh_journal_save(journal, host->state_dir, &err));
    g_assert_true(vh_pci_driver_bind(&host->h, &nic, "vfio-pci", &err));
    /* Step 1 began: the override is set, the unbind happened, no probe. */
    g_assert_true(vh_sysfs_write(host->sysfs,
                                 "bus/pci/devices/0000:01:02.0/driver_override",
                                 "pci-stub", &err));
    g_assert_true(vh_sysfs_write(host->sysfs, "bus/pci/drivers/e1000/unbind",
                                 "0000:01:02.0", &err));
    g_assert_no_error(err);

    /* Nothing else runs while the journal waits. */
    g_assert_false(vh_hostdev_detach(&host->h, &nic, &opts, &blocked, &err));
    g_assert_nonnull(strstr(err->message, "run `virt-hostdev recover` first"));
    g_clear_error(&err);

    g_assert_true(vh_hostdev_recover(&host->h, &plan, &err));
    g_assert_no_error(err);
    assert_driver(host, "0000:01:01.0", "e1000");
    assert_driver(host, "0000:01:02.0", "e1000");
    g_assert_false(vh_test_host_state_exists(host, "journal.json"));
    text = vh_plan_format(plan);
    g_assert_nonnull(strstr(text, "0000:01:02.0: no driver -> e1000 (rolled back)"));
    g_assert_nonnull(strstr(text, "0000:01:01.0: vfio-pci -> e1000 (rolled back)"));

    g_assert_true(vh_hostdev_recover(&host->h, &nothing, &err));
    g_assert_cmpuint(nothing->moves->len, ==, 0);
}

/* All steps ran, the commit was cut short: recover completes it. */
static void
test_recover_commit(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhJournal) journal = vh_journal_new("detach", "manual");
    g_autoptr(VhPlan) plan = NULL;
    g_autoptr(VhRegistry) reg = NULL;
    g_autofree char *text = NULL;
    VhPciAddress nic = vh_test_addr("0000:01:01.0");
    VhRegistryEntry entry = {
        .addr = nic, .role = VH_ROLE_DETACHED, .owner = "manual",
        .driver = "vfio-pci", .original_driver = "e1000", .group = 4,
    };

    vh_journal_add_step(journal, &nic, "e1000", "vfio-pci");
    vh_registry_set(journal->after, &entry);
    g_assert_true(vh_pci_driver_bind(&host->h, &nic, "vfio-pci", &err));
    journal->next = 1;
    g_assert_true(vh_journal_save(journal, host->state_dir, &err));

    g_assert_true(vh_hostdev_recover(&host->h, &plan, &err));
    g_assert_no_error(err);
    assert_driver(host, "0000:01:01.0", "vfio-pci");
    reg = vh_registry_load(host->state_dir, &err);
    g_assert_nonnull(vh_registry_lookup(reg, &nic));
    g_assert_false(vh_test_host_state_exists(host, "journal.json"));
    text = vh_plan_format(plan);
    g_assert_cmpstr(text, ==, "completed the interrupted detach for manual: "
                              "all its steps had run\n");
}

/* A corrupt registry with no journal: recover refuses, names the file and
 * what to do, and changes nothing; with a finished journal it rebuilds
 * the registry from the journal. */
static void
test_recover_corrupt_registry(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhPlan) plan = NULL;
    g_autoptr(VhJournal) journal = vh_journal_new("detach", "manual");
    g_autoptr(VhRegistry) reg = NULL;
    g_autofree char *path = g_build_filename(host->state_dir, "registry.json",
                                             NULL);
    g_autofree char *after = NULL;
    const char *broken = "{\"version\": 1, \"devices\": [{\"addr";
    VhPciAddress nic = vh_test_addr("0000:01:01.0");
    VhRegistryEntry entry = {
        .addr = nic, .role = VH_ROLE_DETACHED, .owner = "manual",
        .driver = "vfio-pci", .original_driver = "e1000", .group = 4,
    };

    g_assert_true(g_file_set_contents(path, broken, -1, &err));
    g_assert_false(vh_hostdev_recover(&host->h, &plan, &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT);
    g_assert_null(plan);
    g_assert_nonnull(strstr(err->message, path));
    g_assert_nonnull(strstr(err->message, "is corrupt: it is not valid JSON"));
    g_assert_nonnull(strstr(err->message, "recover cannot rebuild it"));
    g_assert_nonnull(strstr(err->message, "`virt-hostdev nodedev-reattach --force`"));
    /* Not the other verbs' advice, which sends the user back here. */
    g_assert_null(strstr(err->message, "run `virt-hostdev recover`"));
    g_assert_null(strchr(err->message, '\n'));
    g_assert_true(g_file_get_contents(path, &after, NULL, NULL));
    g_assert_cmpstr(after, ==, broken);
    g_assert_false(vh_test_host_state_exists(host, "journal.json"));
    g_clear_error(&err);

    /* The other verbs keep sending a corrupt registry to recover... */
    g_assert_null(vh_registry_load(host->state_dir, &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CORRUPT);
    g_assert_nonnull(strstr(err->message, "; run `virt-hostdev recover` or remove it"));
    g_clear_error(&err);

    /* ...which replaces it when a finished operation's journal waits. */
    vh_journal_add_step(journal, &nic, "e1000", "vfio-pci");
    vh_registry_set(journal->after, &entry);
    g_assert_true(vh_pci_driver_bind(&host->h, &nic, "vfio-pci", &err));
    journal->next = 1;
    g_assert_true(vh_journal_save(journal, host->state_dir, &err));
    g_assert_true(vh_hostdev_recover(&host->h, &plan, &err));
    g_assert_no_error(err);
    reg = vh_registry_load(host->state_dir, &err);
    g_assert_no_error(err);
    g_assert_nonnull(vh_registry_lookup(reg, &nic));
    g_assert_false(vh_test_host_state_exists(host, "journal.json"));
}

/* Peers can be held on vfio-pci instead, by option. */
static void
test_hold_driver(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhPlan) plan = NULL;
    g_autoptr(VhPlan) bad = NULL;
    g_autoptr(VhPlan) back = NULL;
    VhDetachOptions vfio = { .hold = TRUE, .hold_driver = "vfio-pci" };
    VhDetachOptions wrong = { .hold = TRUE, .hold_driver = "e1000" };
    VhPciAddress nic = vh_test_addr("0000:01:01.0");

    g_assert_false(vh_hostdev_detach(&host->h, &nic, &wrong, &bad, &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_INVALID);
    g_clear_error(&err);

    g_assert_true(vh_hostdev_detach(&host->h, &nic, &vfio, &plan, &err));
    g_assert_no_error(err);
    assert_driver(host, "0000:01:01.0", "vfio-pci");
    assert_driver(host, "0000:01:02.0", "vfio-pci");
    g_assert_true(vh_hostdev_reattach(&host->h, &nic, FALSE, &back, &err));
    assert_driver(host, "0000:01:02.0", "e1000");
}

/* Put @addr on @driver behind the manager's back (no registry entry), as
 * a raw sysfs write sequence or another tool would. */
static void
bind_behind_our_back(Host *host, const char *addr, const char *driver)
{
    g_autoptr(GError) err = NULL;
    VhPciAddress a = vh_test_addr(addr);

    g_assert_true(vh_pci_driver_bind(&host->h, &a, driver, &err));
    g_assert_no_error(err);
    assert_driver(host, addr, driver);
}

/* A write since the @from'th whose resolved "PATH=VALUE" ends with @write. */
static gboolean
writes_contain(Host *host, guint from, const char *write)
{
    const GPtrArray *writes = vh_fake_kernel_writes(host->kernel);
    guint i;

    for (i = from; i < writes->len; i++) {
        if (g_str_has_suffix(g_ptr_array_index(writes, i), write))
            return TRUE;
    }
    return FALSE;
}

/* --force gives a device we did not detach to the driver that claims it. */
static void
test_reattach_force(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhPlan) plain = NULL;
    g_autoptr(VhPlan) dry = NULL;
    g_autoptr(VhPlan) plan = NULL;
    g_autoptr(VhPlan) edu = NULL;
    g_autoptr(VhPlan) host_driver = NULL;
    g_autofree char *text = NULL;
    g_autofree char *dry_text = NULL;
    g_autofree char *edu_text = NULL;
    g_autofree char *host_text = NULL;
    VhPciAddress nic = vh_test_addr("0000:01:01.0");
    VhPciAddress edu_addr = vh_test_addr("0000:00:03.0");
    guint writes;

    bind_behind_our_back(host, "0000:01:01.0", "vfio-pci");
    g_assert_true(node_exists(host, "vfio/4"));

    /* Without --force it is left alone. */
    g_assert_true(vh_hostdev_reattach(&host->h, &nic, FALSE, &plain, &err));
    g_assert_cmpuint(plain->moves->len, ==, 0);
    assert_driver(host, "0000:01:01.0", "vfio-pci");

    /* --dry-run says what would happen and writes nothing. */
    writes = vh_fake_kernel_writes(host->kernel)->len;
    g_assert_true(vh_hostdev_reattach_force(&host->h, &nic, TRUE, &dry, &err));
    g_assert_no_error(err);
    dry_text = vh_plan_format(dry);
    g_assert_cmpstr(dry_text, ==, "0000:01:01.0: vfio-pci -> the host driver "
                    "that claims it (forced): clear driver_override, unbind, "
                    "drivers_probe\n");
    g_assert_cmpuint(vh_fake_kernel_writes(host->kernel)->len, ==, writes);

    g_assert_true(vh_hostdev_reattach_force(&host->h, &nic, FALSE, &plan, &err));
    g_assert_no_error(err);
    assert_driver(host, "0000:01:01.0", "e1000");
    g_assert_false(node_exists(host, "vfio/4"));
    text = vh_plan_format(plan);
    g_assert_cmpstr(text, ==, "0000:01:01.0: vfio-pci -> e1000 (forced)\n");
    /* The documented sequence: override cleared, unbind, drivers_probe. */
    g_assert_true(writes_contain(host, writes,
                  "/0000:01:01.0/driver_override=\n"));
    g_assert_true(writes_contain(host, writes,
                  "/vfio-pci/unbind=0000:01:01.0"));
    g_assert_true(writes_contain(host, writes,
                  "/drivers_probe=0000:01:01.0"));
    g_assert_false(vh_test_host_state_exists(host, "journal.json"));
    {
        g_autoptr(VhRegistry) reg = vh_registry_load(host->state_dir, &err);
        g_autoptr(GPtrArray) entries = vh_registry_entries(reg);
        g_assert_cmpuint(entries->len, ==, 0);      /* nothing recorded */
    }

    /* No host driver claims edu: it ends on no driver, and the plan says so. */
    bind_behind_our_back(host, "0000:00:03.0", "pci-stub");
    g_assert_true(vh_hostdev_reattach_force(&host->h, &edu_addr, FALSE, &edu,
                                            &err));
    g_assert_no_error(err);
    assert_driver(host, "0000:00:03.0", NULL);
    edu_text = vh_plan_format(edu);
    g_assert_cmpstr(edu_text, ==, "0000:00:03.0: pci-stub -> no driver (forced)\n"
                    "no host driver claims 0000:00:03.0: it stays on no driver "
                    "(load its driver's module and run this again)\n");

    /* A device on a host driver: nothing to give back, nothing written. */
    writes = vh_fake_kernel_writes(host->kernel)->len;
    g_assert_true(vh_hostdev_reattach_force(&host->h, &nic, FALSE,
                                            &host_driver, &err));
    g_assert_cmpuint(host_driver->moves->len, ==, 0);
    host_text = vh_plan_format(host_driver);
    g_assert_cmpstr(host_text, ==, "0000:01:01.0 is on e1000, a host driver: "
                    "nothing to give back\n");
    g_assert_cmpuint(vh_fake_kernel_writes(host->kernel)->len, ==, writes);
}

/* What is someone's is refused with --force: the normal path owns it. */
static void
test_reattach_force_refusals(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhPlan) plan = NULL;
    g_autoptr(VhPlan) refused = NULL;
    VhDetachOptions opts = { .hold = TRUE };
    VhPciAddress nic = vh_test_addr("0000:01:01.0");
    VhPciAddress peer = vh_test_addr("0000:01:02.0");
    guint writes;

    /* 01:02.0 is on pci-stub already: the detach leaves it unrecorded,
     * but the group is manual's. */
    bind_behind_our_back(host, "0000:01:02.0", "pci-stub");
    g_assert_true(vh_hostdev_detach(&host->h, &nic, &opts, &plan, &err));
    g_assert_no_error(err);
    writes = vh_fake_kernel_writes(host->kernel)->len;

    g_assert_false(vh_hostdev_reattach_force(&host->h, &nic, FALSE, &refused,
                                             &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT);
    g_assert_cmpstr(err->message, ==, "0000:01:01.0 belongs to manual "
                    "(assigned, on vfio-pci, was e1000): --force is for devices "
                    "virt-hostdev did not detach; give it back with "
                    "`virt-hostdev nodedev-reattach 0000:01:01.0` without "
                    "--force");
    g_assert_null(refused);
    g_clear_error(&err);

    g_assert_false(vh_hostdev_reattach_force(&host->h, &peer, FALSE, &refused,
                                             &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT);
    g_assert_cmpstr(err->message, ==, "0000:01:02.0 (pci-stub): IOMMU group 4 "
                    "belongs to manual, and a host driver on 0000:01:02.0 "
                    "would make it not viable; release the group first "
                    "(`virt-hostdev nodedev-reattach` of its devices)");
    g_clear_error(&err);
    g_assert_cmpuint(vh_fake_kernel_writes(host->kernel)->len, ==, writes);
    assert_driver(host, "0000:01:01.0", "vfio-pci");
    assert_driver(host, "0000:01:02.0", "pci-stub");
}

/* A process with the group's node open: the unbind would wait for it. */
static void
test_reattach_force_in_use(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhPlan) plan = NULL;
    VhPciAddress edu = vh_test_addr("0000:00:03.0");
    guint writes;

    bind_behind_our_back(host, "0000:00:03.0", "vfio-pci");
    g_assert_true(vh_fake_sysfs_add_file(host->fakeproc, "4242/comm",
                                         "qemu-system-x86\n", &err));
    g_assert_true(vh_fake_sysfs_add_raw_link(host->fakeproc, "4242/fd/17",
                                             "/dev/vfio/3", &err));
    g_assert_no_error(err);
    writes = vh_fake_kernel_writes(host->kernel)->len;

    g_assert_false(vh_hostdev_reattach_force(&host->h, &edu, FALSE, &plan,
                                             &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT);
    g_assert_cmpstr(err->message, ==, "0000:00:03.0 (vfio-pci): /dev/vfio/3 is "
                    "open by pid 4242 (qemu-system-x86); a guest or program "
                    "uses its group: stop it first (`virt-hostdev who-holds "
                    "0000:00:03.0`)");
    g_assert_null(plan);
    g_assert_cmpuint(vh_fake_kernel_writes(host->kernel)->len, ==, writes);
    assert_driver(host, "0000:00:03.0", "vfio-pci");
}

/* A failed write is undone; a crash is rolled back by recover. */
static void
test_reattach_force_undo_recover(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhPlan) failed = NULL;
    g_autoptr(VhPlan) recovered = NULL;
    g_autoptr(VhJournal) journal = vh_journal_new("force-reattach", "manual");
    g_autofree char *text = NULL;
    VhPciAddress nic = vh_test_addr("0000:01:01.0");

    bind_behind_our_back(host, "0000:01:01.0", "vfio-pci");
    vh_fake_kernel_fail_write(host->kernel, "drivers_probe", 1, EIO);
    g_assert_false(vh_hostdev_reattach_force(&host->h, &nic, FALSE, &failed,
                                             &err));
    g_assert_nonnull(strstr(err->message, "0000:01:01.0 (vfio-pci): cannot "
                            "give it back to a host driver: "));
    g_clear_error(&err);
    assert_driver(host, "0000:01:01.0", "vfio-pci");
    g_assert_false(vh_test_host_state_exists(host, "journal.json"));

    /* A crash inside the step, after the unbind: the journal says
     * vfio-pci -> (the kernel's choice), next 0. */
    vh_journal_add_step(journal, &nic, "vfio-pci", NULL);
    g_assert_true(vh_journal_save(journal, host->state_dir, &err));
    g_assert_true(vh_sysfs_write(host->sysfs,
                                 "bus/pci/devices/0000:01:01.0/driver_override",
                                 "\n", &err));
    g_assert_true(vh_sysfs_write(host->sysfs, "bus/pci/drivers/vfio-pci/unbind",
                                 "0000:01:01.0", &err));
    g_assert_no_error(err);
    assert_driver(host, "0000:01:01.0", NULL);

    g_assert_true(vh_hostdev_recover(&host->h, &recovered, &err));
    g_assert_no_error(err);
    assert_driver(host, "0000:01:01.0", "vfio-pci");
    g_assert_false(vh_test_host_state_exists(host, "journal.json"));
    text = vh_plan_format(recovered);
    g_assert_cmpstr(text, ==, "0000:01:01.0: no driver -> vfio-pci (rolled back)\n"
                    "rolled back the interrupted force-reattach for manual\n");
}

/* Several devices are one operation: all of them, or none. */
static void
test_detach_many(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhPlan) plan = NULL;
    g_autoptr(VhPlan) both = NULL;
    g_autoptr(VhPlan) refused = NULL;
    g_autoptr(VhPlan) back = NULL;
    g_autoptr(VhPlan) back2 = NULL;
    g_autoptr(VhRegistry) reg = NULL;
    g_autofree char *text = NULL;
    g_autofree char *both_text = NULL;
    g_autofree char *back_text = NULL;
    VhDetachOptions opts = { .hold = TRUE };
    const VhPciAddress two[] = { vh_test_addr("0000:01:01.0"), vh_test_addr("0000:00:03.0") };
    const VhPciAddress group4[] = { vh_test_addr("0000:01:01.0"), vh_test_addr("0000:01:02.0") };
    const VhPciAddress with_bridge[] = { vh_test_addr("0000:00:03.0"), vh_test_addr("0000:00:04.0") };
    guint writes = vh_fake_kernel_writes(host->kernel)->len;

    /* With threads, groups 4 and 3 run side by side: same outcome. */
    host->h.threads = GPOINTER_TO_UINT(data);
    /* A bridge in the list: refused before anything moves. */
    g_assert_false(vh_hostdev_detach_many(&host->h, with_bridge, 2, &opts,
                                          &refused, &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_null(refused);
    g_assert_cmpuint(vh_fake_kernel_writes(host->kernel)->len, ==, writes);
    assert_driver(host, "0000:00:03.0", NULL);

    g_assert_true(vh_hostdev_detach_many(&host->h, two, 2, &opts, &plan, &err));
    g_assert_no_error(err);
    text = vh_plan_format(plan);
    g_assert_cmpstr(text, ==, "0000:01:01.0: e1000 -> vfio-pci (assigned)\n"
                              "0000:01:02.0: e1000 -> pci-stub (held)\n"
                              "0000:00:03.0: no driver -> vfio-pci (assigned)\n");
    assert_driver(host, "0000:00:03.0", "vfio-pci");
    assert_driver(host, "0000:01:02.0", "pci-stub");
    reg = vh_registry_load(host->state_dir, &err);
    g_assert_cmpint(vh_registry_lookup(reg, &two[1])->role, ==, VH_ROLE_ASSIGNED);
    g_assert_null(vh_registry_lookup(reg, &two[1])->original_driver);

    /* Both reattached in one operation: the group's peer goes back too. */
    g_assert_true(vh_hostdev_reattach_many(&host->h, two, 2, FALSE, &back, &err));
    g_assert_no_error(err);
    back_text = vh_plan_format(back);
    g_assert_cmpstr(back_text, ==, "0000:01:01.0: vfio-pci -> e1000 (assigned)\n"
                                   "0000:01:02.0: pci-stub -> e1000 (held)\n"
                                   "0000:00:03.0: vfio-pci -> no driver (assigned)\n");
    assert_driver(host, "0000:01:02.0", "e1000");
    assert_driver(host, "0000:00:03.0", NULL);

    /* Both endpoints of group 4 named: the second is assigned, not held. */
    g_assert_true(vh_hostdev_detach_many(&host->h, group4, 2, &opts, &both, &err));
    g_assert_no_error(err);
    both_text = vh_plan_format(both);
    g_assert_cmpstr(both_text, ==, "0000:01:01.0: e1000 -> vfio-pci (assigned)\n"
                                   "0000:01:02.0: e1000 -> vfio-pci (assigned)\n");
    assert_driver(host, "0000:01:02.0", "vfio-pci");
    g_assert_true(vh_hostdev_reattach_many(&host->h, group4, 2, FALSE, &back2, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(back2->moves->len, ==, 2);
    g_assert_cmpuint(back2->notes->len, ==, 0);
    assert_driver(host, "0000:01:01.0", "e1000");
    assert_driver(host, "0000:01:02.0", "e1000");
}

/* A step that fails in one lane: every lane's steps are undone. */
static void
test_detach_many_failure(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhPlan) plan = NULL;
    VhDetachOptions opts = { .hold = TRUE };
    const VhPciAddress two[] = { vh_test_addr("0000:01:01.0"), vh_test_addr("0000:00:03.0") };

    host->h.threads = GPOINTER_TO_UINT(data);
    /* The second drivers_probe fails, in whichever lane it falls. */
    vh_fake_kernel_fail_write(host->kernel, "drivers_probe", 2, EIO);
    g_assert_false(vh_hostdev_detach_many(&host->h, two, 2, &opts, &plan, &err));
    g_assert_nonnull(err);
    g_test_message("%s", err->message);
    g_assert_null(plan);
    assert_driver(host, "0000:01:01.0", "e1000");
    assert_driver(host, "0000:01:02.0", "e1000");
    assert_driver(host, "0000:00:03.0", NULL);
    g_assert_false(node_exists(host, "vfio/3"));
    g_assert_false(node_exists(host, "vfio/4"));
    g_assert_false(vh_test_host_state_exists(host, "journal.json"));
    g_assert_false(vh_test_host_state_exists(host, "registry.json"));
}

/* "0,1|2": the lanes' step indexes, lanes apart by '|'. */
static char *
lanes_text(const VhHostdev *h, const VhJournal *journal)
{
    g_autoptr(GPtrArray) lanes = vh_hostdev_lanes(h, journal);
    GString *s = g_string_new(NULL);
    guint i;
    guint j;

    for (i = 0; i < lanes->len; i++) {
        GArray *lane = g_ptr_array_index(lanes, i);

        for (j = 0; j < lane->len; j++)
            g_string_append_printf(s, "%s%u", i && !j ? "|" : j ? "," : "",
                                   g_array_index(lane, guint, j));
    }
    return g_string_free(s, FALSE);
}

/* Taking devices: each its own lane, the two of group 4 too; giving back:
 * one lane per group, in order. */
static void
test_lanes(Host *host, gconstpointer data)
{
    const VhPciAddress nic = vh_test_addr("0000:01:01.0");
    const VhPciAddress peer = vh_test_addr("0000:01:02.0");
    const VhPciAddress other = vh_test_addr("0000:00:03.0");
    g_autoptr(VhJournal) take = vh_journal_new("detach", "manual");
    g_autoptr(VhJournal) give = vh_journal_new("reattach", "manual");
    g_autoptr(VhJournal) mixed = vh_journal_new("recover", "manual");
    g_autoptr(VhJournal) twice = vh_journal_new("detach", "manual");
    g_autofree char *twice_text = NULL;
    g_autofree char *take_text = NULL;
    g_autofree char *give_text = NULL;
    g_autofree char *mixed_text = NULL;

    vh_journal_add_step(take, &nic, "e1000", "vfio-pci");
    vh_journal_add_step(take, &peer, "e1000", "pci-stub");
    vh_journal_add_step(take, &other, NULL, "vfio-pci");
    take_text = lanes_text(&host->h, take);
    g_assert_cmpstr(take_text, ==, "0|1|2");

    vh_journal_add_step(give, &nic, "vfio-pci", "e1000");
    vh_journal_add_step(give, &other, "vfio-pci", NULL);
    vh_journal_add_step(give, &peer, "pci-stub", "e1000");
    give_text = lanes_text(&host->h, give);
    g_assert_cmpstr(give_text, ==, "0,2|1");

    /* A group that takes one device and gives another back keeps order. */
    vh_journal_add_step(mixed, &peer, "pci-stub", "e1000");
    vh_journal_add_step(mixed, &other, NULL, "vfio-pci");
    vh_journal_add_step(mixed, &nic, "e1000", "vfio-pci");
    mixed_text = lanes_text(&host->h, mixed);
    g_assert_cmpstr(mixed_text, ==, "0,2|1");

    /* One device twice in a group that takes: one lane, in order. */
    vh_journal_add_step(twice, &nic, "e1000", "pci-stub");
    vh_journal_add_step(twice, &peer, "e1000", "pci-stub");
    vh_journal_add_step(twice, &nic, "pci-stub", "vfio-pci");
    twice_text = lanes_text(&host->h, twice);
    g_assert_cmpstr(twice_text, ==, "0,2|1");
}

static void
host_setup_sriov(Host *host, gconstpointer data)
{
    host_setup_devices(host, vh_test_sriov, G_N_ELEMENTS(vh_test_sriov));
}

/* A PF and its VFs, each alone in its group, still one lane: unbinding
 * the PF's driver removes the VFs. */
static void
test_lanes_sriov(Host *host, gconstpointer data)
{
    const VhPciAddress pf = vh_test_addr("0001:00:00.0");
    const VhPciAddress vf0 = vh_test_addr("0001:00:02.0");
    const VhPciAddress vf1 = vh_test_addr("0001:00:02.1");
    g_autoptr(VhJournal) take = vh_journal_new("detach", "manual");
    g_autofree char *take_text = NULL;

    vh_journal_add_step(take, &vf0, "iavf", "vfio-pci");
    vh_journal_add_step(take, &pf, "i40e", "vfio-pci");
    vh_journal_add_step(take, &vf1, NULL, "vfio-pci");
    take_text = lanes_text(&host->h, take);
    g_assert_cmpstr(take_text, ==, "0,1,2");
}

#define ADD(path, fn) \
    g_test_add(path, Host, NULL, host_setup, fn, host_teardown)

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_summary("The hostdev manager moves whole groups, records owners, "
                   "refuses what the host uses and undoes what it cannot finish");
    ADD("/hostdev/detach/hold-reattach", test_detach_hold_reattach);
    ADD("/hostdev/detach/dry-run-no-hold", test_dry_run_and_no_hold);
    ADD("/hostdev/detach/conflict-refusals", test_conflict_and_refusals);
    ADD("/hostdev/detach/guard", test_guard);
    ADD("/hostdev/detach/failed-step-undone", test_failed_step_undone);
    ADD("/hostdev/detach/hold-driver", test_hold_driver);
    ADD("/hostdev/detach/many", test_detach_many);
    ADD("/hostdev/lanes", test_lanes);
    g_test_add("/hostdev/lanes-sriov", Host, NULL, host_setup_sriov,
               test_lanes_sriov, host_teardown);
    g_test_add("/hostdev/detach/many-threads", Host, GUINT_TO_POINTER(4),
               host_setup, test_detach_many, host_teardown);
    ADD("/hostdev/detach/many-failure", test_detach_many_failure);
    g_test_add("/hostdev/detach/many-failure-threads", Host,
               GUINT_TO_POINTER(4), host_setup, test_detach_many_failure,
               host_teardown);
    ADD("/hostdev/reattach/force", test_reattach_force);
    ADD("/hostdev/reattach/force-refusals", test_reattach_force_refusals);
    ADD("/hostdev/reattach/force-in-use", test_reattach_force_in_use);
    ADD("/hostdev/reattach/force-undo-recover", test_reattach_force_undo_recover);
    ADD("/hostdev/recover", test_recover);
    ADD("/hostdev/recover/commit", test_recover_commit);
    ADD("/hostdev/recover/corrupt-registry", test_recover_corrupt_registry);
    return g_test_run();
}
