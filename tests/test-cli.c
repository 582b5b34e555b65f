/*
 * test-cli.c: the virt-hostdev binary, run as a user runs it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <glib/gstdio.h>

#include "vh-test-topologies.h"
#include "vh-test-run.h"

/*
 * Run virt-hostdev with @args (NULL-terminated) and optional env overrides.
 * The state dir is one that does not exist (no owners), so that the views
 * do not show the registry of the machine running the tests.
 */
static void
run_cli(VhTestRun *r, const char * const *envp_extra, ...)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_auto(GStrv) envp = g_get_environ();
    g_autofree char *state = g_test_build_filename(G_TEST_BUILT,
                                                   "no-such-state-dir", NULL);
    const char *bin = g_getenv("VH_CLI");
    const char *arg;
    va_list ap;
    gsize i;

    g_assert_nonnull(bin);
    g_assert_false(g_file_test(state, G_FILE_TEST_EXISTS));
    g_ptr_array_add(argv, (char *) bin);
    g_ptr_array_add(argv, (char *) "--state-dir");
    g_ptr_array_add(argv, state);
    va_start(ap, envp_extra);
    while ((arg = va_arg(ap, const char *)))
        g_ptr_array_add(argv, (char *) arg);
    va_end(ap);
    g_ptr_array_add(argv, NULL);

    envp = g_environ_unsetenv(envp, "VIRT_HOSTDEV_SYSFS_ROOT");
    for (i = 0; envp_extra && envp_extra[i]; i += 2)
        envp = g_environ_setenv(envp, envp_extra[i], envp_extra[i + 1], TRUE);

    vh_test_run(r, (const char *const *) argv->pdata, (const char *const *) envp,
                NULL, NULL);
}

static void
test_version(void)
{
    g_auto(VhTestRun) r = { 0 };

    run_cli(&r, NULL, "--version", NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_true(g_str_has_prefix(r.out, "virt-hostdev "));
}

static void
test_usage_errors(void)
{
    static const char *const cases[][3] = {
        { NULL },
        { "frobnicate", NULL },
        { "--no-such-option", NULL },
        { "iommu-groups", "--no-such-option", NULL },
        { "iommu-groups", "0000:00:03.0", "0000:00:04.0" },
        { "help", "frobnicate", NULL },
    };
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_auto(VhTestRun) r = { 0 };

        g_test_message("case %zu: %s %s", i, cases[i][0] ? cases[i][0] : "",
                       cases[i][0] && cases[i][1] ? cases[i][1] : "");
        run_cli(&r, NULL, cases[i][0], cases[i][0] ? cases[i][1] : NULL,
                cases[i][0] && cases[i][1] ? cases[i][2] : NULL, NULL);
        g_assert_cmpint(r.status, ==, 2);
        g_assert_cmpuint(vh_test_count_lines(r.err), ==, 1);
        g_assert_true(g_str_has_prefix(r.err, "virt-hostdev: "));
        g_assert_cmpstr(r.out, ==, "");
    }
}

static void
test_help(void)
{
    g_auto(VhTestRun) r = { 0 };
    g_auto(VhTestRun) v = { 0 };
    g_auto(VhTestRun) h = { 0 };

    run_cli(&r, NULL, "help", NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_nonnull(strstr(r.out, "iommu-groups"));

    run_cli(&v, NULL, "iommu-groups", "--help", NULL);
    g_assert_cmpint(v.status, ==, 0);
    g_assert_nonnull(strstr(v.out, "iommu-groups [DEVICE]"));
    g_assert_nonnull(strstr(v.out, "--help-global"));

    run_cli(&h, NULL, "help", "iommu-groups", NULL);
    g_assert_cmpint(h.status, ==, 0);
    g_assert_cmpstr(h.out, ==, v.out);
}

/* The bad forms the issue names, and more: exit 2, one line naming it. */
static void
test_bad_addresses(void)
{
    static const struct {
        const char *input;
        const char *problem;
    } cases[] = {
        { "0000:01:02.8", "function 8 is out of range" },
        { "0000:100:00.0", "bus 100 is out of range" },
        { "../../etc", "not a PCI address" },
        { "pci_0000_01_02", "the function is missing" },
        { "", "empty" },
        { "0000:01:02.0/../../../etc", "trailing characters" },
    };
    g_autoptr(GError) err = NULL;
    g_autoptr(VhFakeSysfs) fake = vh_fake_sysfs_new(vh_test_testbed,
                                                    G_N_ELEMENTS(vh_test_testbed),
                                                    &err);
    gsize i;

    g_assert_no_error(err);
    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_auto(VhTestRun) r = { 0 };

        g_test_message("address '%s'", cases[i].input);
        run_cli(&r, NULL, "--sysfs-root", vh_fake_sysfs_root(fake),
                "iommu-groups", cases[i].input, NULL);
        g_assert_cmpint(r.status, ==, 2);
        g_assert_cmpuint(vh_test_count_lines(r.err), ==, 1);
        g_assert_nonnull(strstr(r.err, cases[i].problem));
        g_assert_cmpstr(r.out, ==, "");
    }
}

static void
test_iommu_groups(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhFakeSysfs) fake = vh_fake_sysfs_new(vh_test_testbed,
                                                    G_N_ELEMENTS(vh_test_testbed),
                                                    &err);
    const char *env[] = { "VIRT_HOSTDEV_SYSFS_ROOT", NULL, NULL };
    g_auto(VhTestRun) all = { 0 };
    g_auto(VhTestRun) one = { 0 };
    g_auto(VhTestRun) late = { 0 };
    g_auto(VhTestRun) byname = { 0 };

    g_assert_no_error(err);
    env[1] = vh_fake_sysfs_root(fake);

    /* Root from the environment. */
    run_cli(&all, env, "iommu-groups", NULL);
    g_assert_cmpint(all.status, ==, 0);
    g_assert_nonnull(strstr(all.out,
                            "group 4: not viable, blocked by 0000:01:01.0 "
                            "(e1000), 0000:01:02.0 (e1000)\n"
                            "  0000:00:04.0  bridge         bridge    1b36:000e  "
                            "(no driver) "));
    g_assert_nonnull(strstr(all.out,
                            "\n  0000:01:02.0  needs-group    endpoint  8086:100e  "
                            "e1000 "));
    g_assert_nonnull(strstr(all.out, "  <- blocks\n"));
    g_assert_nonnull(strstr(all.out, "group 3: viable\n  0000:00:03.0  no-reset       "
                                     "endpoint  1234:11e8  (no driver) "));

    /* One device: only its group; global option after the verb. */
    run_cli(&one, NULL, "iommu-groups", "01:02.0", "--sysfs-root",
            vh_fake_sysfs_root(fake), NULL);
    g_assert_cmpint(one.status, ==, 0);
    g_assert_true(g_str_has_prefix(one.out, "group 4: not viable"));
    g_assert_cmpuint(vh_test_count_lines(one.out), ==, 4);

    run_cli(&byname, NULL, "--sysfs-root", vh_fake_sysfs_root(fake),
            "iommu-groups", "pci_0000_01_02_0", NULL);
    g_assert_cmpstr(byname.out, ==, one.out);

    /* The command line wins over the environment. */
    run_cli(&late, (const char *[]) { "VIRT_HOSTDEV_SYSFS_ROOT", "/nonexistent", NULL },
            "iommu-groups", "--sysfs-root", vh_fake_sysfs_root(fake), NULL);
    g_assert_cmpint(late.status, ==, 0);
    g_assert_cmpstr(late.out, ==, all.out);
}

static void
test_operation_failures(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhFakeSysfs) fake = vh_fake_sysfs_new(vh_test_testbed,
                                                    G_N_ELEMENTS(vh_test_testbed),
                                                    &err);
    g_autoptr(VhFakeSysfs) noiommu = vh_fake_sysfs_new(vh_test_no_iommu,
                                                       G_N_ELEMENTS(vh_test_no_iommu),
                                                       &err);
    g_auto(VhTestRun) missing = { 0 };
    g_auto(VhTestRun) nogroups = { 0 };
    g_auto(VhTestRun) nogroup = { 0 };
    g_auto(VhTestRun) badroot = { 0 };

    g_assert_no_error(err);
    run_cli(&missing, NULL, "--sysfs-root", vh_fake_sysfs_root(fake),
            "iommu-groups", "0000:05:00.0", NULL);
    g_assert_cmpint(missing.status, ==, 1);
    g_assert_nonnull(strstr(missing.err, "0000:05:00.0 does not exist"));
    g_assert_cmpuint(vh_test_count_lines(missing.err), ==, 1);

    run_cli(&nogroups, NULL, "--sysfs-root", vh_fake_sysfs_root(noiommu),
            "iommu-groups", NULL);
    g_assert_cmpint(nogroups.status, ==, 1);
    g_assert_nonnull(strstr(nogroups.err, "no IOMMU groups"));
    g_assert_nonnull(strstr(nogroups.err, "intel_iommu=on"));

    /* A device the IOMMU does not cover while others are covered. */
    {
        g_autofree char *link = vh_fake_sysfs_path(fake,
            "bus/pci/devices/0000:00:03.0/iommu_group");
        g_assert_cmpint(g_unlink(link), ==, 0);
    }
    run_cli(&nogroup, NULL, "--sysfs-root", vh_fake_sysfs_root(fake),
            "iommu-groups", "0000:00:03.0", NULL);
    g_assert_cmpint(nogroup.status, ==, 1);
    g_assert_nonnull(strstr(nogroup.err, "0000:00:03.0 is in no IOMMU group"));

    run_cli(&badroot, NULL, "--sysfs-root", "/nonexistent/root", "iommu-groups",
            NULL);
    g_assert_cmpint(badroot.status, ==, 2);
    g_assert_nonnull(strstr(badroot.err, "/nonexistent/root"));
}

static void
test_nodedev_verbs(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhFakeSysfs) fake = vh_fake_sysfs_new(vh_test_testbed,
                                                    G_N_ELEMENTS(vh_test_testbed),
                                                    &err);
    const char *root;
    g_auto(VhTestRun) list = { 0 };
    g_auto(VhTestRun) tree = { 0 };
    g_auto(VhTestRun) json = { 0 };
    g_auto(VhTestRun) badcap = { 0 };
    g_auto(VhTestRun) xml = { 0 };
    g_auto(VhTestRun) all = { 0 };
    g_auto(VhTestRun) neither = { 0 };
    g_auto(VhTestRun) gjson = { 0 };

    g_assert_no_error(err);
    root = vh_fake_sysfs_root(fake);

    run_cli(&list, NULL, "--sysfs-root", root, "nodedev-list", "--cap", "pci", NULL);
    g_assert_cmpint(list.status, ==, 0);
    g_assert_cmpstr(list.out, ==,
                    "pci_0000_00_00_0\npci_0000_00_03_0\npci_0000_00_04_0\n"
                    "pci_0000_00_1f_0\npci_0000_00_1f_2\npci_0000_00_1f_3\n"
                    "pci_0000_01_01_0\npci_0000_01_02_0\n");

    run_cli(&tree, NULL, "--sysfs-root", root, "nodedev-list", "--tree", NULL);
    g_assert_cmpint(tree.status, ==, 0);
    g_assert_nonnull(strstr(tree.out, "  +- pci_0000_00_04_0\n"
                                      "  |  +- pci_0000_01_01_0\n"
                                      "  |  +- pci_0000_01_02_0\n"
                                      "  +- pci_0000_00_1f_0\n"));

    run_cli(&json, NULL, "--sysfs-root", root, "nodedev-list", "--json", NULL);
    g_assert_cmpint(json.status, ==, 0);
    g_assert_true(g_str_has_prefix(json.out, "[\"pci_0000_00_00_0\",\"pci_0000_00_03_0\","));

    run_cli(&badcap, NULL, "--sysfs-root", root, "nodedev-list", "--cap", "usb", NULL);
    g_assert_cmpint(badcap.status, ==, 2);
    g_assert_nonnull(strstr(badcap.err, "unknown capability 'usb'"));

    run_cli(&xml, NULL, "--sysfs-root", root, "nodedev-dumpxml", "pci_0000_01_02_0", NULL);
    g_assert_cmpint(xml.status, ==, 0);
    g_assert_true(g_str_has_prefix(xml.out, "<device>\n  <name>pci_0000_01_02_0</name>\n"));
    g_assert_nonnull(strstr(xml.out, "<iommuGroup number='4'>"));

    run_cli(&all, NULL, "--sysfs-root", root, "nodedev-dumpxml", "--all", NULL);
    g_assert_cmpint(all.status, ==, 0);
    g_assert_true(g_str_has_prefix(all.out, "<devices>\n  <device>\n"));

    run_cli(&neither, NULL, "--sysfs-root", root, "nodedev-dumpxml", NULL);
    g_assert_cmpint(neither.status, ==, 2);

    run_cli(&gjson, NULL, "--sysfs-root", root, "iommu-groups", "--json", "01:02.0", NULL);
    g_assert_cmpint(gjson.status, ==, 0);
    g_assert_true(g_str_has_prefix(gjson.out, "[{\"number\":4,\"viable\":false,"));
    g_assert_nonnull(strstr(gjson.out, "\"blockers\":[{\"address\":\"0000:01:01.0\","
                                       "\"driver\":\"e1000\"},"));
}

static void
test_nodedev_info(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhFakeSysfs) fake = vh_fake_sysfs_new(vh_test_testbed,
                                                    G_N_ELEMENTS(vh_test_testbed),
                                                    &err);
    g_autoptr(VhFakeSysfs) proc = vh_fake_sysfs_new(NULL, 0, &err);
    const char *env[] = { "VIRT_HOSTDEV_PROC_ROOT", NULL, NULL };
    g_auto(VhTestRun) text = { 0 };
    g_auto(VhTestRun) json = { 0 };
    g_auto(VhTestRun) bad = { 0 };
    g_auto(VhTestRun) badproc = { 0 };
    g_auto(VhTestRun) groups = { 0 };

    g_assert_no_error(err);
    env[1] = vh_fake_sysfs_root(proc);
    run_cli(&text, env, "--sysfs-root", vh_fake_sysfs_root(fake),
            "nodedev-info", "01:01.0", NULL);
    g_assert_cmpint(text.status, ==, 0);
    g_assert_nonnull(strstr(text.out, "Name:         pci_0000_01_01_0\n"));
    g_assert_nonnull(strstr(text.out, "Driver:       e1000\n"
                                      "Owner:        (none)\n"));
    g_assert_nonnull(strstr(text.out, "IOMMU group:  4 (0000:00:04.0 0000:01:01.0 "
                                      "0000:01:02.0): not viable"));
    g_assert_nonnull(strstr(text.out, "Verdict:      needs-group (assignable)\n"
                                      "  needs-group: 0000:01:01.0 shares IOMMU "
                                      "group 4 with 0000:01:02.0 (e1000)"));

    run_cli(&json, NULL, "--sysfs-root", vh_fake_sysfs_root(fake), "--proc-root",
            vh_fake_sysfs_root(proc), "nodedev-info", "--json", "pci_0000_00_04_0",
            NULL);
    g_assert_cmpint(json.status, ==, 0);
    g_assert_nonnull(strstr(json.out, "\"verdict\":\"bridge\",\"assignable\":false,"));
    g_assert_nonnull(strstr(json.out, "\"group\":4,\"owner\":null,\"role\":null,"));

    run_cli(&bad, env, "--sysfs-root", vh_fake_sysfs_root(fake), "nodedev-info",
            "0000:01:02.8", NULL);
    g_assert_cmpint(bad.status, ==, 2);
    g_assert_cmpuint(vh_test_count_lines(bad.err), ==, 1);

    run_cli(&badproc, NULL, "--sysfs-root", vh_fake_sysfs_root(fake),
            "--proc-root", "/nonexistent/proc", "nodedev-info", "01:01.0", NULL);
    g_assert_cmpint(badproc.status, ==, 2);
    g_assert_nonnull(strstr(badproc.err, "--proc-root: "));

    /* iommu-groups shows each member's verdict. */
    run_cli(&groups, env, "--sysfs-root", vh_fake_sysfs_root(fake),
            "iommu-groups", "01:01.0", NULL);
    g_assert_cmpint(groups.status, ==, 0);
    g_assert_nonnull(strstr(groups.out, "  0000:00:04.0  bridge         bridge    "));
    g_assert_nonnull(strstr(groups.out, "  0000:01:01.0  needs-group    endpoint  "));
}

/* virsh's "Device NAME reset", the kernel's methods, and the exit codes. */
static void
test_nodedev_reset(void)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(VhFakeSysfs) sriov = vh_fake_sysfs_new(vh_test_sriov,
                                                     G_N_ELEMENTS(vh_test_sriov),
                                                     &err);
    g_autoptr(VhFakeSysfs) testbed = vh_fake_sysfs_new(vh_test_testbed,
                                                       G_N_ELEMENTS(vh_test_testbed),
                                                       &err);
    g_autoptr(VhFakeSysfs) proc = vh_fake_sysfs_new(NULL, 0, &err);
    g_autofree char *state = g_dir_make_tmp("vh-cli-state-XXXXXX", &err);
    g_autofree char *lock = NULL;
    g_autofree char *reset = NULL;
    g_autofree char *written = NULL;
    const char *env[] = { "VIRT_HOSTDEV_PROC_ROOT", NULL, NULL };
    g_auto(VhTestRun) ok = { 0 };
    g_auto(VhTestRun) none = { 0 };
    g_auto(VhTestRun) bad = { 0 };

    g_assert_no_error(err);
    env[1] = vh_fake_sysfs_root(proc);
    /* Verb options go after the verb: this --state-dir wins. */
    run_cli(&ok, env, "--sysfs-root", vh_fake_sysfs_root(sriov),
            "nodedev-reset", "pci_0001_00_00_0", "--state-dir", state, NULL);
    g_assert_cmpstr(ok.err, ==, "");
    g_assert_cmpint(ok.status, ==, 0);
    g_assert_cmpstr(ok.out, ==, "Device pci_0001_00_00_0 reset\n"
                                "  methods tried in order: flr bus\n");
    reset = vh_fake_sysfs_path(sriov, "bus/pci/devices/0001:00:00.0/reset");
    g_assert_true(g_file_get_contents(reset, &written, NULL, &err));
    g_assert_cmpstr(written, ==, "1");

    /* The test bed's 01:02.0: no reset method, a failure (1). */
    run_cli(&none, env, "--sysfs-root", vh_fake_sysfs_root(testbed),
            "nodedev-reset", "0000:01:02.0", "--state-dir", state, NULL);
    g_assert_cmpint(none.status, ==, 1);
    g_assert_cmpstr(none.out, ==, "");
    g_assert_cmpuint(vh_test_count_lines(none.err), ==, 1);
    g_assert_nonnull(strstr(none.err, "virt-hostdev: 0000:01:02.0 (e1000) has "
                                      "no reset method"));

    run_cli(&bad, env, "--sysfs-root", vh_fake_sysfs_root(testbed),
            "nodedev-reset", "0000:01:02.8", "--state-dir", state, NULL);
    g_assert_cmpint(bad.status, ==, 2);
    g_assert_cmpuint(vh_test_count_lines(bad.err), ==, 1);

    lock = g_build_filename(state, "lock", NULL);
    g_unlink(lock);
    g_assert_cmpint(g_rmdir(state), ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_summary("virt-hostdev exits 0/1/2 with one clear line on failure");
    g_test_add_func("/cli/version", test_version);
    g_test_add_func("/cli/usage-errors", test_usage_errors);
    g_test_add_func("/cli/help", test_help);
    g_test_add_func("/cli/bad-addresses", test_bad_addresses);
    g_test_add_func("/cli/iommu-groups", test_iommu_groups);
    g_test_add_func("/cli/operation-failures", test_operation_failures);
    g_test_add_func("/cli/nodedev-verbs", test_nodedev_verbs);
    g_test_add_func("/cli/nodedev-info", test_nodedev_info);
    g_test_add_func("/cli/nodedev-reset", test_nodedev_reset);
    return g_test_run();
}
