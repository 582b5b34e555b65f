/*
 * test-holders.c: who holds a device: the registry's owner and the
 * processes with /dev/vfio/N open, in who-holds, nodedev-info and
 * iommu-groups
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <glib/gstdio.h>

#include "vh-error.h"
#include "vh-holders.h"
#include "vh-registry.h"
#include "vh-test-topologies.h"
#include "vh-test-run.h"

/* The test bed after `nodedev-detach 01:01.0`: group 4 held. */
static const VhFakePciDevice testbed_assigned[] = {
    VH_FAKE_PCI("0000:00:00.0", 0x8086, 0x29c0, 0x060000, .group = 0),
    VH_FAKE_PCI("0000:00:03.0", 0x1234, 0x11e8, 0x00ff00, .group = 3),
    VH_FAKE_PCI("0000:00:04.0", 0x1b36, 0x000e, 0x060400, .group = 4),
    VH_FAKE_PCI("0000:01:01.0", 0x8086, 0x100e, 0x020000, .group = 4,
                .parent = "0000:00:04.0", .driver = "vfio-pci"),
    VH_FAKE_PCI("0000:01:02.0", 0x8086, 0x100e, 0x020000, .group = 4,
                .parent = "0000:00:04.0", .driver = "pci-stub"),
};

/* A fake /proc: PID -> fd links and comm. */
typedef struct {
    const char *pid;
    const char *comm;           /* NULL: no comm file */
    const char *fds[4];         /* "FD=TARGET" */
} FakeProcess;

static const FakeProcess processes[] = {
    { "1", "systemd", { "0=/dev/null", "1=socket:[1234]" } },
    /* A dup of the group fd counts once. */
    { "1234", "qemu-system-x86", { "0=/dev/null", "7=/dev/vfio/4",
                                   "8=/dev/vfio/vfio", "9=/dev/vfio/4" } },
    /* Numerically first, lexically last. */
    { "99", "sleep", { "0=/dev/vfio/4" } },
    /* Not group 4: other groups, a path that only ends the same. */
    { "500", "other", { "3=/dev/vfio/40", "4=/tmp/dev/vfio/4", "5=/dev/vfio/3" } },
    /* A name with a newline and a byte that is not ASCII. */
    { "600", "bad\nname\xff", { "3=/dev/vfio/4" } },
    /* No comm. */
    { "700", NULL, { "3=/dev/vfio/4" } },
};

typedef struct {
    VhFakeSysfs *sys;
    VhFakeSysfs *proc;
    char *state_dir;
} Host;

static void
host_clear(Host *h)
{
    if (h->state_dir) {
        g_autofree char *reg = g_build_filename(h->state_dir, "registry.json",
                                                NULL);
        g_unlink(reg);
        g_rmdir(h->state_dir);
        g_free(h->state_dir);
    }
    vh_fake_sysfs_free(h->proc);
    vh_fake_sysfs_free(h->sys);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Host, host_clear)

static void
add_process(VhFakeSysfs *proc, const FakeProcess *p)
{
    g_autoptr(GError) err = NULL;
    gsize i;

    if (p->comm) {
        g_autofree char *path = g_strdup_printf("%s/comm", p->pid);
        g_autofree char *text = g_strdup_printf("%s\n", p->comm);
        g_assert_true(vh_fake_sysfs_add_file(proc, path, text, &err));
    }
    for (i = 0; i < G_N_ELEMENTS(p->fds) && p->fds[i]; i++) {
        g_auto(GStrv) kv = g_strsplit(p->fds[i], "=", 2);
        g_autofree char *path = g_strdup_printf("%s/fd/%s", p->pid, kv[0]);
        g_assert_true(vh_fake_sysfs_add_raw_link(proc, path, kv[1], &err));
    }
    g_assert_no_error(err);
}

static void
registry_add(VhRegistry *reg, const char *addr, VhHostdevRole role,
             const char *driver, const char *original)
{
    VhRegistryEntry e = {
        .role = role, .owner = (char *) "manual", .driver = (char *) driver,
        .original_driver = (char *) original, .group = 4,
    };

    g_assert_true(vh_pci_address_parse(addr, &e.addr, NULL));
    vh_registry_set(reg, &e);
}

/* The fake trees; with @registered, 01:01.0 assigned and 01:02.0 held. */
static void
host_build(Host *h, gboolean registered)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhRegistry) reg = vh_registry_new();
    gsize i;

    h->sys = vh_fake_sysfs_new(testbed_assigned,
                               G_N_ELEMENTS(testbed_assigned), &err);
    g_assert_no_error(err);
    h->proc = vh_fake_sysfs_new(NULL, 0, &err);
    g_assert_no_error(err);
    for (i = 0; i < G_N_ELEMENTS(processes); i++)
        add_process(h->proc, &processes[i]);
    /* What /proc has besides processes. */
    g_assert_true(vh_fake_sysfs_add_raw_link(h->proc, "self", "1234", &err));
    g_assert_true(vh_fake_sysfs_add_file(h->proc, "net/route", "", &err));
    g_assert_no_error(err);

    h->state_dir = g_dir_make_tmp("vh-holders-XXXXXX", &err);
    g_assert_no_error(err);
    if (registered) {
        registry_add(reg, "0000:01:01.0", VH_ROLE_ASSIGNED, "vfio-pci", "e1000");
        registry_add(reg, "0000:01:02.0", VH_ROLE_HELD, "pci-stub", "e1000");
        g_assert_true(vh_registry_save(reg, h->state_dir, &err));
        g_assert_no_error(err);
    }
}

/* ---- the scan ----------------------------------------------------------- */

static void
test_scan(void)
{
    g_autoptr(GError) err = NULL;
    g_auto(Host) h = { 0 };
    g_autoptr(VhSysfs) proc = NULL;
    g_autoptr(GPtrArray) holders = NULL;
    g_autoptr(GPtrArray) none = NULL;
    static const struct {
        guint pid;
        const char *comm;
    } expected[] = {
        { 99, "sleep" }, { 600, "bad?name?" }, { 700, NULL },
        { 1234, "qemu-system-x86" },
    };
    guint unreadable = 42;
    gsize i;

    host_build(&h, FALSE);
    proc = vh_sysfs_new(vh_fake_sysfs_root(h.proc), &err);
    g_assert_no_error(err);

    g_assert_true(vh_holders_scan(proc, 4, &holders, &unreadable, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(unreadable, ==, 0);
    g_assert_cmpuint(holders->len, ==, G_N_ELEMENTS(expected));
    for (i = 0; i < G_N_ELEMENTS(expected); i++) {
        const VhHolder *holder = g_ptr_array_index(holders, i);

        g_assert_cmpuint(holder->pid, ==, expected[i].pid);
        g_assert_cmpstr(holder->comm, ==, expected[i].comm);
    }

    /* Group 40 is not group 4. */
    g_assert_true(vh_holders_scan(proc, 5, &none, &unreadable, &err));
    g_assert_cmpuint(none->len, ==, 0);
    g_clear_pointer(&none, g_ptr_array_unref);
    g_assert_true(vh_holders_scan(proc, 40, &none, &unreadable, &err));
    g_assert_cmpuint(none->len, ==, 1);
    g_assert_cmpuint(((VhHolder *) g_ptr_array_index(none, 0))->pid, ==, 500);
}

/* A process that exited is skipped; one whose fds cannot be read is
 * skipped and counted. */
static void
test_scan_unreadable(void)
{
    g_autoptr(GError) err = NULL;
    g_auto(Host) h = { 0 };
    g_autoptr(VhSysfs) proc = NULL;
    g_autoptr(GPtrArray) holders = NULL;
    guint unreadable = 0;

    host_build(&h, FALSE);
    /* Gone: the directory is there, its fd directory is not. */
    g_assert_true(vh_fake_sysfs_add_file(h.proc, "800/comm", "gone\n", &err));
    /* Unreadable: "fd" cannot be opened as a directory (as root, EACCES
     * cannot be simulated by permissions). */
    g_assert_true(vh_fake_sysfs_add_file(h.proc, "900/fd", "", &err));
    /* An fd link that leaves the tree is only read, never followed. */
    g_assert_true(vh_fake_sysfs_add_raw_link(h.proc, "901/fd/3", "../../..",
                                             &err));
    g_assert_no_error(err);
    proc = vh_sysfs_new(vh_fake_sysfs_root(h.proc), &err);
    g_assert_no_error(err);

    g_assert_true(vh_holders_scan(proc, 4, &holders, &unreadable, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(holders->len, ==, 4);
    g_assert_cmpuint(unreadable, ==, 1);
}

/* The real /proc: magic fd links are read, not followed.  (Even root may
 * be refused some processes' fds, by ptrace rules in a container.) */
static void
test_scan_real_proc(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhSysfs) proc = vh_sysfs_new("/proc", &err);
    g_autoptr(GPtrArray) holders = NULL;
    guint unreadable = 0;

    if (!proc) {
        g_test_skip("no /proc");
        return;
    }
    /* No group has this number. */
    g_assert_true(vh_holders_scan(proc, G_MAXUINT, &holders, &unreadable, &err));
    g_assert_no_error(err);
    g_assert_cmpuint(holders->len, ==, 0);
    g_test_message("%u processes could not be inspected", unreadable);
}

/* ---- the verbs ---------------------------------------------------------- */

/* virt-hostdev --sysfs-root, --proc-root and --state-dir of @h, then the
 * NULL-terminated arguments. */
static void
run_cli(VhTestRun *r, const Host *h, ...)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_auto(GStrv) envp = g_get_environ();
    const char *bin = g_getenv("VH_CLI");
    const char *arg;
    va_list ap;

    g_assert_nonnull(bin);
    g_ptr_array_add(argv, (char *) bin);
    g_ptr_array_add(argv, (char *) "--sysfs-root");
    g_ptr_array_add(argv, (char *) vh_fake_sysfs_root(h->sys));
    g_ptr_array_add(argv, (char *) "--proc-root");
    g_ptr_array_add(argv, (char *) vh_fake_sysfs_root(h->proc));
    g_ptr_array_add(argv, (char *) "--state-dir");
    g_ptr_array_add(argv, h->state_dir);
    va_start(ap, h);
    while ((arg = va_arg(ap, const char *)))
        g_ptr_array_add(argv, (char *) arg);
    va_end(ap);
    g_ptr_array_add(argv, NULL);

    envp = g_environ_unsetenv(envp, "VIRT_HOSTDEV_SYSFS_ROOT");
    envp = g_environ_unsetenv(envp, "VIRT_HOSTDEV_PROC_ROOT");
    vh_test_run(r, (const char *const *) argv->pdata, (const char *const *) envp,
                NULL, NULL);
    g_test_message("exit %d, out: %s, err: %s", r->status, r->out, r->err);
}

static const char holders_text[] =
    "  /dev/vfio/4 open by pid 99 (sleep)\n"
    "  /dev/vfio/4 open by pid 600 (bad?name?)\n"
    "  /dev/vfio/4 open by pid 700 (name unreadable)\n"
    "  /dev/vfio/4 open by pid 1234 (qemu-system-x86)\n";

static void
test_who_holds_text(void)
{
    g_auto(Host) h = { 0 };
    g_auto(VhTestRun) nic = { 0 };
    g_auto(VhTestRun) peer = { 0 };
    g_auto(VhTestRun) bridge = { 0 };
    g_auto(VhTestRun) edu = { 0 };
    g_auto(VhTestRun) host = { 0 };
    g_autofree char *want = NULL;

    host_build(&h, TRUE);
    run_cli(&nic, &h, "who-holds", "01:01.0", NULL);
    g_assert_cmpint(nic.status, ==, 0);
    want = g_strconcat("0000:01:01.0: assigned to manual (vfio-pci, was e1000), "
                       "IOMMU group 4\n", holders_text, NULL);
    g_assert_cmpstr(nic.out, ==, want);
    g_assert_cmpstr(nic.err, ==, "");
    g_clear_pointer(&want, g_free);

    run_cli(&peer, &h, "who-holds", "pci_0000_01_02_0", NULL);
    g_assert_cmpint(peer.status, ==, 0);
    want = g_strconcat("0000:01:02.0: held for manual (pci-stub, was e1000), "
                       "IOMMU group 4\n", holders_text, NULL);
    g_assert_cmpstr(peer.out, ==, want);
    g_clear_pointer(&want, g_free);

    /* Not recorded, but its group has an owner. */
    run_cli(&bridge, &h, "who-holds", "00:04.0", NULL);
    g_assert_cmpint(bridge.status, ==, 0);
    want = g_strconcat("0000:00:04.0 (no driver): not held by virt-hostdev; "
                       "IOMMU group 4 belongs to manual\n", holders_text, NULL);
    g_assert_cmpstr(bridge.out, ==, want);

    /* Nobody's, but a process has its group open (say, libvirt's). */
    run_cli(&edu, &h, "who-holds", "0000:00:03.0", NULL);
    g_assert_cmpint(edu.status, ==, 0);
    g_assert_cmpstr(edu.out, ==, "0000:00:03.0 (no driver): not held by "
                    "virt-hostdev; IOMMU group 3\n"
                    "  /dev/vfio/3 open by pid 500 (other)\n");

    /* Nobody's, and nobody has its group open: one line. */
    run_cli(&host, &h, "who-holds", "0000:00:00.0", NULL);
    g_assert_cmpint(host.status, ==, 0);
    g_assert_cmpstr(host.out, ==, "0000:00:00.0 (no driver): not held by "
                    "virt-hostdev; /dev/vfio/0 not open\n");
}

static void
test_who_holds_json(void)
{
    g_auto(Host) h = { 0 };
    g_auto(VhTestRun) nic = { 0 };
    g_auto(VhTestRun) edu = { 0 };

    host_build(&h, TRUE);
    run_cli(&nic, &h, "who-holds", "--json", "01:01.0", NULL);
    g_assert_cmpint(nic.status, ==, 0);
    g_assert_cmpstr(nic.out, ==,
                    "{\"address\":\"0000:01:01.0\",\"owner\":\"manual\","
                    "\"role\":\"assigned\",\"driver\":\"vfio-pci\","
                    "\"original_driver\":\"e1000\",\"group\":4,\"holders\":["
                    "{\"pid\":99,\"comm\":\"sleep\"},"
                    "{\"pid\":600,\"comm\":\"bad?name?\"},"
                    "{\"pid\":700,\"comm\":null},"
                    "{\"pid\":1234,\"comm\":\"qemu-system-x86\"}],"
                    "\"unreadable_processes\":0}\n");

    run_cli(&edu, &h, "who-holds", "00:00.0", "--json", NULL);
    g_assert_cmpint(edu.status, ==, 0);
    g_assert_cmpstr(edu.out, ==,
                    "{\"address\":\"0000:00:00.0\",\"owner\":null,"
                    "\"role\":null,\"driver\":null,\"original_driver\":null,"
                    "\"group\":0,\"holders\":[],\"unreadable_processes\":0}\n");
}

/* Processes that could not be inspected are said, not hidden. */
static void
test_who_holds_unreadable(void)
{
    g_autoptr(GError) err = NULL;
    g_auto(Host) h = { 0 };
    g_auto(VhTestRun) edu = { 0 };

    host_build(&h, FALSE);
    g_assert_true(vh_fake_sysfs_add_file(h.proc, "900/fd", "", &err));
    g_assert_no_error(err);
    run_cli(&edu, &h, "who-holds", "00:00.0", NULL);
    g_assert_cmpint(edu.status, ==, 0);
    g_assert_cmpstr(edu.out, ==,
                    "0000:00:00.0 (no driver): not held by virt-hostdev; "
                    "IOMMU group 0\n"
                    "  /dev/vfio/0 not open by any process that could be "
                    "inspected\n"
                    "  1 process could not be inspected; run as root to see "
                    "every holder\n");
}

static void
test_who_holds_errors(void)
{
    g_autoptr(GError) err = NULL;
    g_auto(Host) h = { 0 };
    g_auto(VhTestRun) missing = { 0 };
    g_auto(VhTestRun) bad = { 0 };
    g_auto(VhTestRun) noarg = { 0 };
    g_auto(VhTestRun) corrupt = { 0 };
    g_autofree char *reg = NULL;

    host_build(&h, TRUE);
    run_cli(&missing, &h, "who-holds", "0000:05:00.0", NULL);
    g_assert_cmpint(missing.status, ==, 1);
    g_assert_nonnull(strstr(missing.err, "0000:05:00.0 does not exist"));

    run_cli(&bad, &h, "who-holds", "0000:01:02.8", NULL);
    g_assert_cmpint(bad.status, ==, 2);
    g_assert_cmpstr(bad.out, ==, "");

    run_cli(&noarg, &h, "who-holds", NULL);
    g_assert_cmpint(noarg.status, ==, 2);

    /* who-holds is about the registry: a corrupt one fails it. */
    reg = g_build_filename(h.state_dir, "registry.json", NULL);
    g_assert_true(g_file_set_contents(reg, "{", -1, &err));
    run_cli(&corrupt, &h, "who-holds", "01:01.0", NULL);
    g_assert_cmpint(corrupt.status, ==, 1);
    g_assert_nonnull(strstr(corrupt.err, "is corrupt"));
    g_assert_cmpstr(corrupt.out, ==, "");
}

/* nodedev-info: the Owner line, the in-use verdict, the JSON keys. */
static void
test_nodedev_info_owner(void)
{
    g_auto(Host) h = { 0 };
    g_auto(VhTestRun) nic = { 0 };
    g_auto(VhTestRun) peer = { 0 };
    g_auto(VhTestRun) bridge = { 0 };
    g_auto(VhTestRun) edu = { 0 };
    g_auto(VhTestRun) json = { 0 };
    g_auto(VhTestRun) ejson = { 0 };

    host_build(&h, TRUE);
    run_cli(&nic, &h, "nodedev-info", "01:01.0", NULL);
    g_assert_cmpint(nic.status, ==, 0);
    g_assert_nonnull(strstr(nic.out, "Driver:       vfio-pci\n"
                                     "Owner:        manual (assigned)\n"));
    g_assert_nonnull(strstr(nic.out, "Verdict:      in-use (not assignable)\n"
                                     "  in-use: 0000:01:01.0 is assigned to "
                                     "manual (vfio-pci); `virt-hostdev "
                                     "nodedev-reattach` it first\n"));

    run_cli(&peer, &h, "nodedev-info", "01:02.0", NULL);
    g_assert_nonnull(strstr(peer.out, "Owner:        manual (held)\n"));
    g_assert_nonnull(strstr(peer.out, "  in-use: 0000:01:02.0 is held on "
                                      "pci-stub for manual as a peer of "
                                      "0000:01:01.0 (assigned); "));

    run_cli(&bridge, &h, "nodedev-info", "00:04.0", NULL);
    g_assert_nonnull(strstr(bridge.out, "Owner:        manual (owns IOMMU group 4)\n"));
    g_assert_nonnull(strstr(bridge.out, "Verdict:      bridge (not assignable)\n"));
    g_assert_nonnull(strstr(bridge.out, "\n  in-use: 0000:00:04.0 is in IOMMU "
                                        "group 4, which belongs to manual"));

    run_cli(&edu, &h, "nodedev-info", "00:03.0", NULL);
    g_assert_nonnull(strstr(edu.out, "Owner:        (none)\n"));
    g_assert_null(strstr(edu.out, "in-use"));

    run_cli(&json, &h, "nodedev-info", "--json", "01:01.0", NULL);
    g_assert_cmpint(json.status, ==, 0);
    g_assert_nonnull(strstr(json.out, "\"group\":4,\"owner\":\"manual\","
                                      "\"role\":\"assigned\","));
    g_assert_nonnull(strstr(json.out, "\"verdict\":\"in-use\",\"assignable\":false,"
                                      "\"reasons\":[{\"code\":\"in-use\",\"blocks\":true,"));

    run_cli(&ejson, &h, "nodedev-info", "--json", "00:03.0", NULL);
    g_assert_nonnull(strstr(ejson.out, "\"group\":3,\"owner\":null,\"role\":null,"));
}

/* A registry the views cannot read: they still work, and say so. */
static void
test_nodedev_info_unknown_owner(void)
{
    g_autoptr(GError) err = NULL;
    g_auto(Host) h = { 0 };
    g_auto(VhTestRun) info = { 0 };
    g_auto(VhTestRun) groups = { 0 };
    g_autofree char *reg = NULL;

    host_build(&h, FALSE);
    reg = g_build_filename(h.state_dir, "registry.json", NULL);
    g_assert_true(g_file_set_contents(reg, "{\"version\": 1}", -1, &err));
    run_cli(&info, &h, "nodedev-info", "01:01.0", NULL);
    g_assert_cmpint(info.status, ==, 0);
    g_assert_nonnull(strstr(info.out, "Owner:        (unknown)\n"));
    g_assert_true(g_str_has_prefix(info.err, "virt-hostdev: warning: owners not "
                                   "shown: state file "));
    g_assert_nonnull(strstr(info.err, "is corrupt"));

    run_cli(&groups, &h, "iommu-groups", "01:01.0", NULL);
    g_assert_cmpint(groups.status, ==, 0);
    g_assert_true(g_str_has_prefix(groups.out, "group 4: viable\n"));
}

static void
test_iommu_groups_owner(void)
{
    g_auto(Host) h = { 0 };
    g_auto(VhTestRun) text = { 0 };
    g_auto(VhTestRun) json = { 0 };

    host_build(&h, TRUE);
    run_cli(&text, &h, "iommu-groups", NULL);
    g_assert_cmpint(text.status, ==, 0);
    g_assert_nonnull(strstr(text.out, "group 4: viable, owned by manual\n"
                                      "  0000:00:04.0  bridge         bridge    "));
    g_assert_nonnull(strstr(text.out, "\n  0000:01:01.0  in-use         endpoint  "
                                      "8086:100e  vfio-pci "));
    g_assert_nonnull(strstr(text.out, "\n  0000:01:02.0  in-use         endpoint  "
                                      "8086:100e  pci-stub "));
    g_assert_nonnull(strstr(text.out, "group 3: viable\n"));

    run_cli(&json, &h, "iommu-groups", "--json", NULL);
    g_assert_cmpint(json.status, ==, 0);
    g_assert_nonnull(strstr(json.out, "{\"number\":4,\"viable\":true,"
                                      "\"owner\":\"manual\",\"members\":["));
    g_assert_nonnull(strstr(json.out, "{\"number\":3,\"viable\":true,"
                                      "\"owner\":null,\"members\":["));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_summary("Who holds a device: registry owners in the verdict and "
                   "the views, and the processes with /dev/vfio/N open");
    g_test_add_func("/hostdev/holders/scan", test_scan);
    g_test_add_func("/hostdev/holders/scan-unreadable", test_scan_unreadable);
    g_test_add_func("/hostdev/holders/scan-real-proc", test_scan_real_proc);
    g_test_add_func("/hostdev/holders/who-holds/text", test_who_holds_text);
    g_test_add_func("/hostdev/holders/who-holds/json", test_who_holds_json);
    g_test_add_func("/hostdev/holders/who-holds/unreadable",
                    test_who_holds_unreadable);
    g_test_add_func("/hostdev/holders/who-holds/errors", test_who_holds_errors);
    g_test_add_func("/hostdev/holders/nodedev-info", test_nodedev_info_owner);
    g_test_add_func("/hostdev/holders/nodedev-info-unknown",
                    test_nodedev_info_unknown_owner);
    g_test_add_func("/hostdev/holders/iommu-groups", test_iommu_groups_owner);
    return g_test_run();
}
