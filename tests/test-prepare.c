/*
 * test-prepare.c: a domain's devices prepared and released as one
 * operation, over a simulated kernel (the test bed's topology: edu 00:03.0
 * alone in group 3; bridge 00:04.0 with e1000s 01:01.0 and 01:02.0 in
 * group 4)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "vh-error.h"
#include "vh-fake-kernel.h"
#include "vh-hostdev.h"
#include "vh-test-host.h"
#include "vh-test-topologies.h"

typedef VhTestHost Host;

static void
host_setup(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    VhFakeSysfs *fake = vh_fake_sysfs_new(vh_test_testbed, G_N_ELEMENTS(vh_test_testbed),
                                          &err);

    g_assert_no_error(err);
    vh_test_host_init(host, fake, "vh-prepare-XXXXXX");
}

static void
host_teardown(Host *host, gconstpointer data)
{
    vh_test_host_clear(host);
}

/* "DRV DRV DRV" for 00:03.0, 01:01.0 and 01:02.0, "-" for none. */
static char *
drivers(Host *host)
{
    static const char *const addrs[] = {
        "0000:00:03.0", "0000:01:01.0", "0000:01:02.0",
    };
    GString *s = g_string_new(NULL);
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(addrs); i++) {
        g_autofree char *drv = vh_fake_kernel_driver_of(host->kernel, addrs[i]);
        g_string_append_printf(s, "%s%s", i ? " " : "", drv ? drv : "-");
    }
    return g_string_free(s, FALSE);
}

#define assert_drivers(host, expected) G_STMT_START { \
    g_autofree char *_d = drivers(host); \
    g_assert_cmpstr(_d, ==, expected); \
} G_STMT_END

/* "ADDR ROLE OWNER DRIVER ORIGINAL;" for every registry entry. */
static char *
registry_text(Host *host)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhRegistry) reg = vh_registry_load(host->state_dir, &err);
    g_autoptr(GPtrArray) entries = NULL;
    GString *s = g_string_new(NULL);
    guint i;

    g_assert_no_error(err);
    entries = vh_registry_entries(reg);
    for (i = 0; i < entries->len; i++) {
        const VhRegistryEntry *e = g_ptr_array_index(entries, i);
        char buf[VH_PCI_ADDRESS_BUFLEN];

        g_string_append_printf(s, "%s %s %s %s %s;",
                               vh_pci_address_format(&e->addr, buf),
                               vh_hostdev_role_string(e->role), e->owner,
                               e->driver ? e->driver : "-",
                               e->original_driver ? e->original_driver : "-");
    }
    return g_string_free(s, FALSE);
}

#define assert_registry(host, expected) G_STMT_START { \
    g_autofree char *_r = registry_text(host); \
    g_assert_cmpstr(_r, ==, expected); \
} G_STMT_END

#define PREPARED_VM1 \
    "0000:00:03.0 assigned vm1 vfio-pci -;" \
    "0000:01:01.0 assigned vm1 vfio-pci e1000;" \
    "0000:01:02.0 held vm1 pci-stub e1000;"

/* edu and 01:01.0, both managed: the domain of most tests. */
static const VhPrepareDevice vm1_devs[2] = {
    { .addr = { 0, 0x00, 0x03, 0 }, .managed = TRUE },
    { .addr = { 0, 0x01, 0x01, 0 }, .managed = TRUE },
};

static void
test_prepare_release(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhPlan) dry = NULL;
    g_autoptr(VhPlan) plan = NULL;
    g_autoptr(VhPlan) again = NULL;
    g_autoptr(VhPlan) back = NULL;
    g_autoptr(VhPlan) none = NULL;
    g_autofree char *text = NULL;
    g_autofree char *backtext = NULL;
    guint writes = vh_fake_kernel_writes(host->kernel)->len;

    g_assert_true(vh_hostdev_prepare(&host->h, "vm1", vm1_devs, 2,
                                     VH_PREPARE_DRY_RUN, &dry, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(dry->moves->len, ==, 3);
    g_assert_cmpuint(vh_fake_kernel_writes(host->kernel)->len, ==, writes);
    g_assert_false(vh_test_host_state_exists(host, "registry.json"));
    assert_drivers(host, "- e1000 e1000");

    g_assert_true(vh_hostdev_prepare(&host->h, "vm1", vm1_devs, 2, 0, &plan,
                                     &err));
    g_assert_no_error(err);
    text = vh_plan_format(plan);
    g_assert_cmpstr(text, ==, "0000:00:03.0: no driver -> vfio-pci (assigned)\n"
                              "0000:01:01.0: e1000 -> vfio-pci (assigned)\n"
                              "0000:01:02.0: e1000 -> pci-stub (held)\n");
    assert_drivers(host, "vfio-pci vfio-pci pci-stub");
    assert_registry(host, PREPARED_VM1);
    g_assert_false(vh_test_host_state_exists(host, "journal.json"));

    /* Preparing again changes nothing. */
    g_assert_true(vh_hostdev_prepare(&host->h, "vm1", vm1_devs, 2, 0, &again,
                                     &err));
    g_assert_no_error(err);
    g_assert_cmpuint(again->moves->len, ==, 0);
    assert_registry(host, PREPARED_VM1);

    /* Release gives back exactly that, assigned devices first. */
    g_assert_true(vh_hostdev_release(&host->h, "vm1", 0, &back, &err));
    g_assert_no_error(err);
    backtext = vh_plan_format(back);
    g_assert_cmpstr(backtext, ==, "0000:00:03.0: vfio-pci -> no driver (assigned)\n"
                                  "0000:01:01.0: vfio-pci -> e1000 (assigned)\n"
                                  "0000:01:02.0: pci-stub -> e1000 (held)\n");
    assert_drivers(host, "- e1000 e1000");
    assert_registry(host, "");

    /* Nothing recorded: a success that says so. */
    g_assert_true(vh_hostdev_release(&host->h, "vm1", 0, &none, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(none->moves->len, ==, 0);
    g_assert_cmpuint(none->notes->len, ==, 1);
}

/* The kernel refuses the 2nd device: the 1st is given back, nothing kept. */
static void
test_all_or_nothing(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    VhPlan *plan = NULL;

    vh_fake_kernel_fail_write(host->kernel, "drivers_probe", 2, EIO);
    g_assert_false(vh_hostdev_prepare(&host->h, "vm1", vm1_devs, 2, 0, &plan,
                                      &err));
    g_assert_nonnull(err);
    g_test_message("%s", err->message);
    g_assert_true(g_str_has_prefix(err->message, "preparing vm1: "));
    g_assert_nonnull(strstr(err->message,
                            "0000:01:01.0 (e1000): cannot bind it to vfio-pci"));
    g_assert_null(strchr(err->message, '\n'));
    g_assert_null(plan);        /* ret_plan untouched on failure */
    assert_drivers(host, "- e1000 e1000");
    g_assert_false(vh_test_host_state_exists(host, "journal.json"));
    assert_registry(host, "");
}

static void
test_conflicts(Host *host, gconstpointer data)
{
    static const VhPrepareDevice peer[] = {
        { .addr = { 0, 0x01, 0x02, 0 }, .managed = TRUE },
    };
    static const VhPrepareDevice edu[] = {
        { .addr = { 0, 0x00, 0x03, 0 }, .managed = TRUE },
    };
    static const VhPrepareDevice twice[] = {
        { .addr = { 0, 0x00, 0x03, 0 }, .managed = TRUE },
        { .addr = { 0, 0x00, 0x03, 0 }, .managed = FALSE },
    };
    static const VhPrepareDevice bridge[] = {
        { .addr = { 0, 0x00, 0x04, 0 }, .managed = TRUE },
    };
    g_autoptr(GError) err = NULL;
    g_autoptr(VhPlan) plan = NULL;
    VhPlan *refused = NULL;
    guint writes;

    g_assert_true(vh_hostdev_prepare(&host->h, "vm1", vm1_devs, 2, 0, &plan,
                                     &err));
    g_assert_no_error(err);
    writes = vh_fake_kernel_writes(host->kernel)->len;

    /* vm2 wants a device of vm1's group: refused, naming vm1. */
    g_assert_false(vh_hostdev_prepare(&host->h, "vm2", peer, 1, 0, &refused,
                                      &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT);
    g_test_message("%s", err->message);
    g_assert_nonnull(strstr(err->message, "0000:01:02.0 (pci-stub): IOMMU group "
                                          "4 belongs to vm1; vm2 cannot use it"));
    g_clear_error(&err);
    g_assert_false(vh_hostdev_prepare(&host->h, "vm2", edu, 1, 0, &refused,
                                      &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT);
    g_assert_nonnull(strstr(err->message, "belongs to vm1"));
    g_clear_error(&err);
    g_assert_null(refused);
    g_assert_cmpuint(vh_fake_kernel_writes(host->kernel)->len, ==, writes);
    assert_registry(host, PREPARED_VM1);

    /* A release by vm2 gives back nothing of vm1's. */
    {
        g_autoptr(VhPlan) none = NULL;
        g_assert_true(vh_hostdev_release(&host->h, "vm2", 0, &none, &err));
        g_assert_cmpuint(none->moves->len, ==, 0);
        assert_registry(host, PREPARED_VM1);
    }

    /* Bad requests: exit status 2 in the CLI, nothing changed. */
    g_assert_false(vh_hostdev_prepare(&host->h, "vm2", twice, 2, 0, &refused,
                                      &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "0000:00:03.0 is given twice for vm2"));
    g_clear_error(&err);
    g_assert_false(vh_hostdev_prepare(&host->h, "vm2", bridge, 1, 0, &refused,
                                      &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "0000:00:04.0 (no driver) is a bridge"));
    g_clear_error(&err);
    g_assert_false(vh_hostdev_prepare(&host->h, "bad\nname", edu, 1, 0,
                                      &refused, &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_INVALID);
    g_clear_error(&err);
    g_assert_cmpuint(vh_fake_kernel_writes(host->kernel)->len, ==, writes);
}

/* Unmanaged devices: on vfio-pci with a viable group, or refused. */
static void
test_unmanaged(Host *host, gconstpointer data)
{
    static const VhPrepareDevice nic[] = {
        { .addr = { 0, 0x01, 0x01, 0 }, .managed = FALSE },
    };
    static const VhPrepareDevice mixed[] = {
        { .addr = { 0, 0x01, 0x01, 0 }, .managed = TRUE },
        { .addr = { 0, 0x01, 0x02, 0 }, .managed = FALSE },
    };
    g_autoptr(GError) err = NULL;
    g_autoptr(VhPlan) detached = NULL;
    g_autoptr(VhPlan) plan = NULL;
    g_autoptr(VhPlan) back = NULL;
    g_autoptr(VhPlan) ok = NULL;
    VhPlan *refused = NULL;
    VhDetachOptions alone = { .hold = FALSE };
    VhDetachOptions held = { .hold = TRUE };
    VhPciAddress nicaddr = vh_test_addr("0000:01:01.0");
    g_autofree char *text = NULL;

    g_assert_false(vh_hostdev_prepare(&host->h, "vm1", nic, 1, 0, &refused,
                                      &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED);
    g_assert_nonnull(strstr(err->message, "0000:01:01.0 (e1000) is unmanaged "
                                          "(managed='no') in vm1 but not on "
                                          "vfio-pci"));
    g_clear_error(&err);

    /* On vfio-pci, but its peer keeps the group from being viable. */
    g_assert_true(vh_hostdev_detach(&host->h, &nicaddr, &alone, &detached, &err));
    g_assert_false(vh_hostdev_prepare(&host->h, "vm1", nic, 1, 0, &refused,
                                      &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_FAILED);
    g_test_message("%s", err->message);
    g_assert_nonnull(strstr(err->message, "IOMMU group 4 of 0000:01:01.0 "
                                          "(unmanaged, vfio-pci) is not viable: "
                                          "0000:01:02.0 (e1000) is still bound"));
    g_clear_error(&err);

    /* With the group held (by `manual`), the domain may use it. */
    g_assert_true(vh_hostdev_reattach(&host->h, &nicaddr, FALSE, &back, &err));
    g_assert_true(vh_hostdev_detach(&host->h, &nicaddr, &held, &plan, &err));
    g_assert_true(vh_hostdev_prepare(&host->h, "vm1", nic, 1, 0, &ok, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(ok->moves->len, ==, 0);
    text = vh_plan_format(ok);
    g_assert_cmpstr(text, ==, "0000:01:01.0: unmanaged, on vfio-pci; IOMMU "
                              "group 4 is viable\n");
    g_assert_null(refused);
    g_clear_pointer(&ok, vh_plan_free);
    g_clear_pointer(&back, vh_plan_free);
    g_assert_true(vh_hostdev_reattach(&host->h, &nicaddr, FALSE, &back, &err));
    g_assert_no_error(err);

    /* A managed device holds the group of an unmanaged one beside it...
     * which must still be on vfio-pci itself. */
    g_assert_false(vh_hostdev_prepare(&host->h, "vm1", mixed, 2, 0, &refused,
                                      &err));
    g_assert_nonnull(strstr(err->message, "0000:01:02.0 (e1000) is unmanaged"));
    g_clear_error(&err);
    assert_drivers(host, "- e1000 e1000");
}

/* libvirt's hook: hold and record, libvirt binds; release after libvirt. */
static void
test_hook(Host *host, gconstpointer data)
{
    static const VhPrepareDevice nic[] = {
        { .addr = { 0, 0x01, 0x01, 0 }, .managed = TRUE },
    };
    g_autoptr(GError) err = NULL;
    g_autoptr(VhPlan) plan = NULL;
    g_autoptr(VhPlan) kept = NULL;
    g_autoptr(VhPlan) back = NULL;
    g_autofree char *text = NULL;
    g_autofree char *kepttext = NULL;
    VhPciAddress nicaddr = vh_test_addr("0000:01:01.0");
    VhPlan *refused = NULL;

    g_assert_true(vh_hostdev_prepare(&host->h, "vm1", nic, 1, VH_PREPARE_HOOK,
                                     &plan, &err));
    g_assert_no_error(err);
    text = vh_plan_format(plan);
    g_assert_cmpstr(text, ==, "0000:01:02.0: e1000 -> pci-stub (held)\n"
                              "0000:01:01.0 (e1000): assigned to vm1; libvirt "
                              "binds it to vfio-pci\n");
    /* The assigned device is libvirt's to bind. */
    assert_drivers(host, "- e1000 pci-stub");
    assert_registry(host, "0000:01:01.0 assigned vm1 vfio-pci e1000;"
                          "0000:01:02.0 held vm1 pci-stub e1000;");
    /* The group is vm1's from now on. */
    {
        static const VhPrepareDevice peer[] = {
            { .addr = { 0, 0x01, 0x02, 0 }, .managed = TRUE },
        };
        g_assert_false(vh_hostdev_prepare(&host->h, "vm2", peer, 1,
                                          VH_PREPARE_HOOK, &refused, &err));
        g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT);
        g_clear_error(&err);
    }

    /* libvirt binds it, runs the guest... and fails to give it back. */
    g_assert_true(vh_pci_driver_bind(&host->h, &nicaddr, "vfio-pci", &err));
    g_assert_true(vh_hostdev_release(&host->h, "vm1", VH_PREPARE_HOOK, &kept,
                                     &err));
    g_assert_no_error(err);
    kepttext = vh_plan_format(kept);
    g_assert_nonnull(strstr(kepttext, "0000:01:01.0 is still on vfio-pci: "
                                      "libvirt did not give it back"));
    assert_drivers(host, "- vfio-pci pci-stub");
    assert_registry(host, "0000:01:01.0 assigned vm1 vfio-pci e1000;"
                          "0000:01:02.0 held vm1 pci-stub e1000;");

    /* Once libvirt has given it back, release end gives the peer back. */
    g_assert_true(vh_pci_driver_restore(&host->h, &nicaddr, "e1000", &err));
    g_assert_true(vh_hostdev_release(&host->h, "vm1", VH_PREPARE_HOOK, &back,
                                     &err));
    g_assert_no_error(err);
    assert_drivers(host, "- e1000 e1000");
    assert_registry(host, "");
}

/* The host's default route on 01:02.0: the hold is refused, also in the
 * hook, and so is the device libvirt would take. */
static void
test_guard(Host *host, gconstpointer data)
{
    static const VhFakeNetDevice eth1 = { .name = "eth1", .parent = "0000:01:02.0" };
    static const VhPrepareDevice peer[] = {
        { .addr = { 0, 0x01, 0x02, 0 }, .managed = TRUE },
    };
    g_autoptr(GError) err = NULL;
    VhPlan *plan = NULL;

    g_assert_true(vh_fake_sysfs_add_net(host->fake, &eth1, &err));
    g_assert_true(vh_fake_sysfs_add_file(host->fakeproc, "net/route",
        "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
        "eth1\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n", &err));
    g_assert_no_error(err);

    g_assert_false(vh_hostdev_prepare(&host->h, "vm1", vm1_devs, 2, 0, &plan,
                                      &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CRITICAL);
    g_assert_nonnull(strstr(err->message, "0000:01:02.0 (e1000, would be held)"));
    g_clear_error(&err);
    g_assert_false(vh_hostdev_prepare(&host->h, "vm1", peer, 1,
                                      VH_PREPARE_HOOK, &plan, &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CRITICAL);
    g_assert_nonnull(strstr(err->message, "0000:01:02.0 (e1000, would be assigned)"));
    g_clear_error(&err);
    assert_drivers(host, "- e1000 e1000");
    assert_registry(host, "");
}

/* QEMU still has the group open: release refuses, naming it, and moves
 * nothing (an unbind from vfio-pci would wait for QEMU to let go). */
static void
test_release_in_use(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhPlan) plan = NULL;
    VhPlan *refused = NULL;
    guint writes;

    g_assert_true(vh_hostdev_prepare(&host->h, "vm1", vm1_devs, 2, 0, &plan,
                                     &err));
    g_assert_no_error(err);
    g_assert_true(vh_fake_sysfs_add_file(host->fakeproc, "4242/comm",
                                         "qemu-system-x86\n", &err));
    g_assert_true(vh_fake_sysfs_add_raw_link(host->fakeproc, "4242/fd/17",
                                             "/dev/vfio/4", &err));
    g_assert_no_error(err);
    writes = vh_fake_kernel_writes(host->kernel)->len;

    g_assert_false(vh_hostdev_release(&host->h, "vm1", 0, &refused, &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT);
    g_assert_cmpstr(err->message, ==, "cannot release vm1: /dev/vfio/4 is "
                                      "open by pid 4242 (qemu-system-x86); "
                                      "stop the guest first");
    g_assert_null(refused);
    g_assert_cmpuint(vh_fake_kernel_writes(host->kernel)->len, ==, writes);
    assert_drivers(host, "vfio-pci vfio-pci pci-stub");
    assert_registry(host, PREPARED_VM1);
}

/*
 * Run prepare (or release) in a child with @fault set; the child aborts
 * there, as a crash would.  Returns TRUE when it died of SIGABRT, FALSE
 * when the operation never reached the point and finished.
 */
static gboolean
crash_at(Host *host, gboolean release, const char *fault)
{
    pid_t pid;
    int status = 0;

    fflush(NULL);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        struct rlimit nocore = { 0, 0 };
        VhHostdev h = host->h;
        VhPlan *plan = NULL;
        gboolean ok;

        setrlimit(RLIMIT_CORE, &nocore);
        h.fault = fault;
        ok = release ? vh_hostdev_release(&h, "vm1", 0, &plan, NULL)
                     : vh_hostdev_prepare(&h, "vm1", vm1_devs, 2, 0, &plan, NULL);
        _exit(ok ? 0 : 1);
    }
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    if (WIFSIGNALED(status)) {
        g_assert_cmpint(WTERMSIG(status), ==, SIGABRT);
        return TRUE;
    }
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
    return FALSE;
}

/* A crash at every step and phase of prepare and release, then recover:
 * every device ends where it started (or, past the last step, where the
 * operation puts it), and the registry says so. */
static void
test_crash_recover(Host *host, gconstpointer data)
{
    static const char *const points[] = {
        "0", "0:override", "0:unbind", "0:probe", "0:bind",
        "1", "1:override", "1:unbind", "1:probe", "1:bind",
        "2", "2:override", "2:unbind", "2:probe", "2:bind",
        "commit",
    };
    const char *const start = "- e1000 e1000";
    const char *const prepared = "vfio-pci vfio-pci pci-stub";
    guint crashes = 0;
    gsize i;
    int op;

    for (op = 0; op < 2; op++) {
        gboolean release = op == 1;

        for (i = 0; i < G_N_ELEMENTS(points); i++) {
            g_autoptr(GError) err = NULL;
            g_autoptr(VhPlan) setup = NULL;
            g_autoptr(VhPlan) recovered = NULL;
            g_autoptr(VhPlan) reset = NULL;
            g_autofree char *fault = g_strdup_printf("%s:%s",
                                                     release ? "release" : "prepare",
                                                     points[i]);
            gboolean crashed;
            gboolean done;

            if (release)
                g_assert_true(vh_hostdev_prepare(&host->h, "vm1", vm1_devs, 2,
                                                 0, &setup, &err));
            g_assert_no_error(err);
            crashed = crash_at(host, release, fault);
            g_test_message("%s: %s", fault, crashed ? "crashed" : "not reached");
            crashes += crashed;
            if (crashed)
                g_assert_true(vh_test_host_state_exists(host, "journal.json"));
            g_assert_true(vh_hostdev_recover(&host->h, &recovered, &err));
            g_assert_no_error(err);
            g_assert_false(vh_test_host_state_exists(host, "journal.json"));

            /* Completed when every step ran, else rolled back. */
            done = !crashed || g_str_equal(points[i], "commit");
            if (release == done) {
                assert_drivers(host, start);
                assert_registry(host, "");
            } else {
                assert_drivers(host, prepared);
                assert_registry(host, PREPARED_VM1);
                g_assert_true(vh_hostdev_release(&host->h, "vm1", 0, &reset,
                                                 &err));
                g_assert_no_error(err);
            }
            assert_drivers(host, start);
        }
    }
    /*
     * Prepare: step 0 (edu, no driver) has no unbind; steps 1 and 2 have
     * override, unbind and probe; none has bind: 1+2 + 2*4 + commit = 12.
     * Release: step 0 (back to no driver) override and unbind; steps 1
     * and 2 override, unbind and bind: 3 + 2*4 + commit = 12.
     */
    g_assert_cmpuint(crashes, ==, 24);
}

/* The planner alone (for doctor): the plan of a dry run, with no lock
 * taken and the same refusal for a group another domain owns. */
static void
test_prepare_plan(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhRegistry) empty = vh_registry_new();
    g_autoptr(VhRegistry) reg = NULL;
    g_autoptr(VhNodeDeviceList) list = vh_node_device_list_scan(host->sysfs, 0,
                                                                &err);
    g_autoptr(VhPlan) plan = NULL;
    g_autoptr(VhPlan) prepared = NULL;
    g_autoptr(VhPlan) refused = NULL;
    g_autofree char *text = NULL;
    guint writes = vh_fake_kernel_writes(host->kernel)->len;

    g_assert_no_error(err);
    g_assert_true(vh_hostdev_prepare_plan(empty, list, "vm1", vm1_devs, 2,
                                          &plan, &err));
    g_assert_no_error(err);
    text = vh_plan_format(plan);
    g_assert_cmpstr(text, ==, "0000:00:03.0: no driver -> vfio-pci (assigned)\n"
                              "0000:01:01.0: e1000 -> vfio-pci (assigned)\n"
                              "0000:01:02.0: e1000 -> pci-stub (held)\n");
    g_assert_cmpuint(vh_fake_kernel_writes(host->kernel)->len, ==, writes);
    g_assert_false(vh_test_host_state_exists(host, "lock"));

    g_assert_true(vh_hostdev_prepare(&host->h, "vm2", vm1_devs + 1, 1, 0,
                                     &prepared, &err));
    g_assert_no_error(err);
    reg = vh_registry_load(host->state_dir, &err);
    g_assert_no_error(err);
    g_assert_false(vh_hostdev_prepare_plan(reg, list, "vm1", vm1_devs, 2,
                                           &refused, &err));
    g_assert_error(err, VH_HOSTDEV_ERROR, VH_HOSTDEV_ERROR_CONFLICT);
    g_assert_nonnull(strstr(err->message, "IOMMU group 4 belongs to vm2"));
    g_assert_null(refused);
}

#define ADD(path, fn) \
    g_test_add(path, Host, NULL, host_setup, fn, host_teardown)

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_summary("A domain's devices are prepared all or nothing for one "
                   "owner, given back exactly, and recovered after a crash "
                   "at any step");
    ADD("/hostdev/prepare/release", test_prepare_release);
    ADD("/hostdev/prepare/all-or-nothing", test_all_or_nothing);
    ADD("/hostdev/prepare/conflicts", test_conflicts);
    ADD("/hostdev/prepare/unmanaged", test_unmanaged);
    ADD("/hostdev/prepare/hook", test_hook);
    ADD("/hostdev/prepare/guard", test_guard);
    ADD("/hostdev/prepare/release-in-use", test_release_in_use);
    ADD("/hostdev/prepare/crash-recover", test_crash_recover);
    ADD("/hostdev/prepare/plan", test_prepare_plan);
    return g_test_run();
}
