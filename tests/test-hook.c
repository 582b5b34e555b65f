/*
 * test-hook.c: `virt-hostdev hook qemu ...` as libvirt calls it, prepare
 * and release from domain XML, and install-hook
 *
 * The argument handling runs the real binary; the operations run the same
 * CLI code in this process over a simulated kernel (VhCliHooks), with the
 * domain XML on standard input as libvirt gives it.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "vh-cli.h"
#include "vh-hostdev.h"
#include "vh-fake-kernel.h"
#include "vh-test-topologies.h"
#include "vh-test-run.h"

#define DOMAIN_XML(name, managed) \
    "<domain type='qemu'>\n" \
    "  <name>" name "</name>\n" \
    "  <memory unit='MiB'>64</memory>\n" \
    "  <os><type arch='x86_64' machine='q35'>hvm</type></os>\n" \
    "  <devices>\n" \
    "    <hostdev mode='subsystem' type='pci' managed='" managed "'>\n" \
    "      <source><address domain='0x0000' bus='0x01' slot='0x01' " \
    "function='0x0'/></source>\n" \
    "    </hostdev>\n" \
    "  </devices>\n" \
    "</domain>\n"

/* ---- the real binary ---------------------------------------------------- */

/* Run virt-hostdev --state-dir @state ARGS... with @input on stdin. */
static void
run_bin(VhTestRun *r, const char *state, const char *input, ...)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_auto(GStrv) envp = g_get_environ();
    const char *arg;
    va_list ap;

    g_ptr_array_add(argv, (char *) g_getenv("VH_CLI"));
    g_ptr_array_add(argv, (char *) "--state-dir");
    g_ptr_array_add(argv, (char *) state);
    va_start(ap, input);
    while ((arg = va_arg(ap, const char *)))
        g_ptr_array_add(argv, (char *) arg);
    va_end(ap);
    g_ptr_array_add(argv, NULL);

    envp = g_environ_unsetenv(envp, "VIRT_HOSTDEV_SYSFS_ROOT");
    vh_test_run(r, (const char *const *) argv->pdata, (const char *const *) envp,
                NULL, input ? input : "");
}

static char *
missing_state_dir(void)
{
    g_autofree char *base = g_dir_make_tmp("vh-hook-XXXXXX", NULL);
    g_autofree char *state = g_build_filename(base, "state", NULL);

    g_assert_nonnull(base);
    g_rmdir(base);
    return g_steal_pointer(&state);
}

/* What is none of ours: exit 0, print nothing, touch no state. */
static void
test_args_ignored(void)
{
    static const char *const ops[][3] = {
        { "vm1", "start", "begin" },
        { "vm1", "started", "begin" },
        { "vm1", "stopped", "end" },
        { "vm1", "prepare", "end" },
        { "vm1", "release", "begin" },
        { "vm1", "migrate", "begin" },
        { "vm1", "restore", "begin" },
        { "vm1", "reconnect", "begin" },
        { "vm1", "attach", "begin" },
        { "--not-an-option", "started", "begin" },
    };
    g_autofree char *state = missing_state_dir();
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(ops); i++) {
        g_auto(VhTestRun) r = { 0 };

        g_test_message("hook qemu %s %s %s -", ops[i][0], ops[i][1], ops[i][2]);
        run_bin(&r, state, DOMAIN_XML("vm1", "yes"), "hook", "qemu",
                ops[i][0], ops[i][1], ops[i][2], "-", NULL);
        g_assert_cmpint(r.status, ==, 0);
        g_assert_cmpstr(r.out, ==, "");
        g_assert_cmpstr(r.err, ==, "");
    }
    /* EXTRA may be left out. */
    {
        g_auto(VhTestRun) r = { 0 };
        run_bin(&r, state, "", "hook", "qemu", "vm1", "stopped", "end", NULL);
        g_assert_cmpint(r.status, ==, 0);
    }
    g_assert_false(g_file_test(state, G_FILE_TEST_EXISTS));
}

/* Bad calls: exit 2 and one line saying what is wrong. */
static void
test_args_bad(void)
{
    static const struct {
        const char *args[6];
        const char *input;
        const char *message;
    } cases[] = {
        { { "hook", NULL }, "", "expected qemu DOMAIN OPERATION SUBOPERATION" },
        { { "hook", "qemu", "vm1", "prepare", NULL }, "", "got 3 arguments" },
        { { "hook", "qemu", "vm1", "prepare", "begin", "-" }, NULL,
          "expected qemu DOMAIN OPERATION SUBOPERATION [EXTRA]" },
        { { "hook", "lxc", "vm1", "prepare", "begin", "-" }, "",
          "only libvirt's qemu hook is handled, not 'lxc'" },
        { { "hook", "qemu", "vm1", "prepare", "begin", "-" }, "<domain",
          "hook: the domain XML on standard input: " },
        { { "hook", "qemu", "vm2", "prepare", "begin", "-" },
          DOMAIN_XML("vm1", "yes"),
          "the domain XML on standard input is for 'vm1', not 'vm2'" },
        { { "prepare", NULL }, "", "prepare: expected DOMAIN.xml" },
        { { "prepare", "/nonexistent/vm1.xml", NULL }, "",
          "prepare: cannot read the domain XML" },
        { { "prepare", "-", NULL }, "<domain",
          "-: domain XML line 1: not well-formed XML" },
        { { "release", "-", NULL }, "<domain",
          "-: domain XML line 1: not well-formed XML" },
        { { "install-hook", "--binary", "relative/virt-hostdev", NULL }, "",
          "--binary must be an absolute path" },
    };
    g_autofree char *state = missing_state_dir();
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_auto(VhTestRun) r = { 0 };
        const char *const *a = cases[i].args;

        g_test_message("case %zu: %s", i, cases[i].message);
        if (!cases[i].input) {
            /* Seven arguments: one too many. */
            run_bin(&r, state, "", a[0], a[1], a[2], a[3], a[4], a[5], "x",
                    NULL);
        } else {
            run_bin(&r, state, cases[i].input, a[0], a[1], a[2], a[3], a[4],
                    a[5], NULL);
        }
        g_test_message("%s", r.err);
        g_assert_cmpint(r.status, ==, 2);
        g_assert_cmpuint(vh_test_count_lines(r.err), ==, 1);
        g_assert_nonnull(strstr(r.err, cases[i].message));
        g_assert_cmpstr(r.out, ==, "");
    }
    g_assert_false(g_file_test(state, G_FILE_TEST_EXISTS));
}

/* release end with nothing recorded: libvirt calls it after a failed start
 * too; it succeeds quietly. */
static void
test_args_release_nothing(void)
{
    g_autofree char *base = g_dir_make_tmp("vh-hook-XXXXXX", NULL);
    g_autofree char *lock = g_build_filename(base, "lock", NULL);
    g_auto(VhTestRun) r = { 0 };

    run_bin(&r, base, "not even XML", "hook", "qemu", "vm1", "release", "end",
            "-", NULL);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_cmpstr(r.out, ==, "");
    g_assert_cmpstr(r.err, ==, "");
    g_unlink(lock);
    g_rmdir(base);
}

static void
test_install_hook(void)
{
    g_autofree char *dir = g_dir_make_tmp("vh-hooks-XXXXXX", NULL);
    g_autofree char *qemu_d = g_build_filename(dir, "qemu.d", NULL);
    g_autofree char *path = g_build_filename(qemu_d, "virt-hostdev", NULL);
    g_autofree char *text = NULL;
    g_autofree char *expected = NULL;
    g_autoptr(GDir) d = NULL;
    g_auto(VhTestRun) r1 = { 0 };
    g_auto(VhTestRun) r2 = { 0 };
    g_auto(VhTestRun) r3 = { 0 };
    g_auto(VhTestRun) r4 = { 0 };
    GStatBuf st;
    guint entries = 0;

    run_bin(&r1, "/run/virt-hostdev", "", "install-hook", "--dir", dir,
            "--binary", "/usr/bin/virt-hostdev", NULL);
    g_assert_cmpint(r1.status, ==, 0);
    g_assert_true(g_str_has_prefix(r1.out, "installed "));
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    expected = g_strdup("#!/bin/sh\n"
                        "# virt-hostdev: libvirt qemu hook (written by "
                        "`virt-hostdev install-hook`; docs/libvirt-hook.rst).\n"
                        "# libvirt runs it as: virt-hostdev DOMAIN OPERATION "
                        "SUBOPERATION EXTRA, the domain XML on stdin.\n"
                        "exec '/usr/bin/virt-hostdev' hook qemu \"$@\"\n");
    g_assert_cmpstr(text, ==, expected);
    g_assert_cmpint(g_stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_mode & 0777, ==, 0755);

    /* Again: nothing to do. */
    run_bin(&r2, "/run/virt-hostdev", "", "install-hook", "--dir", dir,
            "--binary", "/usr/bin/virt-hostdev", NULL);
    g_assert_cmpint(r2.status, ==, 0);
    g_assert_true(g_str_has_prefix(r2.out, "already installed: "));

    /* No temp file left anywhere. */
    d = g_dir_open(dir, 0, NULL);
    while (g_dir_read_name(d))
        entries++;
    g_assert_cmpuint(entries, ==, 1);

    /* A file we did not write is never overwritten. */
    g_assert_true(g_file_set_contents(path, "#!/bin/sh\necho mine\n", -1, NULL));
    run_bin(&r3, "/run/virt-hostdev", "", "install-hook", "--dir", dir, NULL);
    g_assert_cmpint(r3.status, ==, 1);
    g_assert_nonnull(strstr(r3.err, "exists and is not a hook virt-hostdev wrote"));
    g_clear_pointer(&text, g_free);
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_cmpstr(text, ==, "#!/bin/sh\necho mine\n");

    /* Ours with another binary or state dir: updated. */
    g_assert_true(g_file_set_contents(path, expected, -1, NULL));
    run_bin(&r4, "/tmp/other-state", "", "install-hook", "--dir", dir,
            "--binary", "/opt/virt-hostdev", NULL);
    g_assert_cmpint(r4.status, ==, 0);
    g_assert_true(g_str_has_prefix(r4.out, "updated "));
    g_clear_pointer(&text, g_free);
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    g_assert_nonnull(strstr(text, "exec '/opt/virt-hostdev' --state-dir "
                                  "'/tmp/other-state' hook qemu \"$@\"\n"));

    g_unlink(path);
    g_rmdir(qemu_d);
    g_rmdir(dir);
}

/* ---- in this process, over a simulated kernel ---------------------------- */

typedef struct {
    VhFakeSysfs *fake;
    VhFakeSysfs *fakeproc;
    VhSysfs *sysfs;         /* the one the fake kernel watches */
    VhFakeKernel *kernel;
    char *state_dir;
    char *tmp;
    VhCliHooks hooks;
} Host;

/* Writes through the CLI's own VhSysfs reach the simulated kernel too. */
static gboolean
host_forward_write(gpointer data, const char *relpath, const char *value,
                   GError **error)
{
    Host *host = data;

    return vh_sysfs_write(host->sysfs, relpath, value, error);
}

static void
host_sysfs_opened(gpointer data, VhSysfs *sysfs)
{
    vh_sysfs_set_write_hook(sysfs, host_forward_write, data);
}

static gboolean
host_load_module(gpointer data, const char *module, GError **error)
{
    Host *host = data;

    return vh_fake_kernel_load_module(host->kernel, module, error);
}

static void
host_setup(Host *host, gconstpointer data)
{
    g_autoptr(GError) err = NULL;

    host->fake = vh_fake_sysfs_new(vh_test_testbed, G_N_ELEMENTS(vh_test_testbed),
                                   &err);
    g_assert_no_error(err);
    host->fakeproc = vh_fake_sysfs_new(NULL, 0, &err);
    g_assert_no_error(err);
    host->sysfs = vh_sysfs_new(vh_fake_sysfs_root(host->fake), &err);
    g_assert_no_error(err);
    host->kernel = vh_fake_kernel_new(host->fake, host->sysfs, &err);
    g_assert_no_error(err);
    host->tmp = g_dir_make_tmp("vh-hook-XXXXXX", &err);
    g_assert_no_error(err);
    host->state_dir = g_build_filename(host->tmp, "state", NULL);
    host->hooks = (VhCliHooks) {
        .sysfs_opened = host_sysfs_opened,
        .load_module = host_load_module,
        .dev_root = vh_fake_kernel_dev_root(host->kernel),
        .data = host,
    };
}

static void
host_teardown(Host *host, gconstpointer data)
{
    static const char *const files[] = {
        "state/registry.json", "state/journal.json", "state/lock", "state",
        "in", "out", "err", "vm1.xml",
    };
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autofree char *path = g_build_filename(host->tmp, files[i], NULL);
        g_remove(path);
    }
    g_rmdir(host->tmp);
    g_free(host->tmp);
    g_free(host->state_dir);
    vh_fake_kernel_free(host->kernel);
    vh_sysfs_free(host->sysfs);
    vh_fake_sysfs_free(host->fakeproc);
    vh_fake_sysfs_free(host->fake);
}

/* @fd now reads from (or writes to) @path; returns the saved original. */
static int
redirect(int fd, const char *path, int flags)
{
    int saved = dup(fd);
    int f = open(path, flags | O_CLOEXEC, 0600);

    g_assert_cmpint(saved, >=, 0);
    g_assert_cmpint(f, >=, 0);
    g_assert_cmpint(dup2(f, fd), ==, fd);
    close(f);
    return saved;
}

static void
restore(int fd, int saved)
{
    g_assert_cmpint(dup2(saved, fd), ==, fd);
    close(saved);
}

/* The text the CLI wrote, without the lines GTest adds for g_debug()
 * (they start with "# "). */
static char *
read_output(const char *path)
{
    g_autofree char *text = NULL;
    g_auto(GStrv) lines = NULL;
    GString *s = g_string_new(NULL);
    guint i;

    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    lines = g_strsplit(text, "\n", -1);
    for (i = 0; lines[i]; i++) {
        if (g_str_has_prefix(lines[i], "# ") || (!lines[i + 1] && !*lines[i]))
            continue;
        g_string_append_printf(s, "%s\n", lines[i]);
    }
    return g_string_free(s, FALSE);
}

/* virt-hostdev --sysfs-root FAKE --proc-root FAKE --state-dir STATE ARGS...
 * in this process, with @input on stdin. */
static void
run_here(Host *host, VhTestRun *r, const char *input, ...)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autofree char *in = g_build_filename(host->tmp, "in", NULL);
    g_autofree char *out = g_build_filename(host->tmp, "out", NULL);
    g_autofree char *err = g_build_filename(host->tmp, "err", NULL);
    const char *arg;
    va_list ap;
    int s0;
    int s1;
    int s2;

    g_ptr_array_add(argv, (char *) "virt-hostdev");
    g_ptr_array_add(argv, (char *) "--sysfs-root");
    g_ptr_array_add(argv, (char *) vh_fake_sysfs_root(host->fake));
    g_ptr_array_add(argv, (char *) "--proc-root");
    g_ptr_array_add(argv, (char *) vh_fake_sysfs_root(host->fakeproc));
    g_ptr_array_add(argv, (char *) "--state-dir");
    g_ptr_array_add(argv, host->state_dir);
    va_start(ap, input);
    while ((arg = va_arg(ap, const char *)))
        g_ptr_array_add(argv, (char *) arg);
    va_end(ap);
    g_ptr_array_add(argv, NULL);

    g_assert_true(g_file_set_contents(in, input, -1, NULL));
    fflush(stdout);
    fflush(stderr);
    s0 = redirect(STDIN_FILENO, in, O_RDONLY);
    s1 = redirect(STDOUT_FILENO, out, O_WRONLY | O_CREAT | O_TRUNC);
    s2 = redirect(STDERR_FILENO, err, O_WRONLY | O_CREAT | O_TRUNC);
    r->status = vh_cli_run((int) argv->len - 1, (char **) argv->pdata,
                           &host->hooks);
    fflush(stdout);
    fflush(stderr);
    restore(STDIN_FILENO, s0);
    restore(STDOUT_FILENO, s1);
    restore(STDERR_FILENO, s2);
    r->out = read_output(out);
    r->err = read_output(err);
    g_test_message("exit %d\nstdout:\n%sstderr:\n%s", r->status, r->out, r->err);
}

static char *
drivers(Host *host)
{
    g_autofree char *a = vh_fake_kernel_driver_of(host->kernel, "0000:01:01.0");
    g_autofree char *b = vh_fake_kernel_driver_of(host->kernel, "0000:01:02.0");

    return g_strdup_printf("%s %s", a ? a : "-", b ? b : "-");
}

#define assert_drivers(host, expected) G_STMT_START { \
    g_autofree char *_d = drivers(host); \
    g_assert_cmpstr(_d, ==, expected); \
} G_STMT_END

static char *
registry(Host *host)
{
    g_autofree char *path = g_build_filename(host->state_dir, "registry.json",
                                             NULL);
    char *text = NULL;

    if (!g_file_get_contents(path, &text, NULL, NULL))
        return g_strdup("");
    return text;
}

/* What libvirt does between its prepare and release hooks. */
static void
libvirt_binds(Host *host, const char *driver)
{
    g_autoptr(GError) err = NULL;
    VhHostdev h = {
        .sysfs = host->sysfs, .load_module = host_load_module,
        .load_module_data = host, .timeout_ms = 200,
    };
    VhPciAddress nic = { 0, 0x01, 0x01, 0 };
    g_autoptr(VhSysfs) dev = vh_sysfs_new(vh_fake_kernel_dev_root(host->kernel),
                                          &err);

    h.dev = dev;
    if (g_str_equal(driver, "vfio-pci"))
        g_assert_true(vh_pci_driver_bind(&h, &nic, driver, &err));
    else
        g_assert_true(vh_pci_driver_restore(&h, &nic, driver, &err));
    g_assert_no_error(err);
}

static void
test_hook_cycle(Host *host, gconstpointer data)
{
    g_auto(VhTestRun) prep = { 0 };
    g_auto(VhTestRun) rel = { 0 };
    g_auto(VhTestRun) other = { 0 };
    g_autofree char *reg = NULL;
    g_autofree char *after = NULL;

    run_here(host, &prep, DOMAIN_XML("vm1", "yes"), "hook", "qemu", "vm1",
             "prepare", "begin", "-", NULL);
    g_assert_cmpint(prep.status, ==, 0);
    g_assert_cmpstr(prep.out, ==, "");
    g_assert_cmpstr(prep.err, ==, "");
    /* The peer is held; the device is left for libvirt to bind. */
    assert_drivers(host, "e1000 pci-stub");
    reg = registry(host);
    g_assert_nonnull(strstr(reg, "\"address\": \"0000:01:01.0\",\n"
                                 "      \"role\": \"assigned\",\n"
                                 "      \"owner\": \"vm1\""));
    g_assert_nonnull(strstr(reg, "\"role\": \"held\""));

    /* Another domain wanting the group is refused in one line, by name. */
    run_here(host, &other,
             DOMAIN_XML("vm2", "yes"), "hook", "qemu", "vm2", "prepare",
             "begin", "-", NULL);
    g_assert_cmpint(other.status, ==, 1);
    g_assert_cmpuint(vh_test_count_lines(other.err), ==, 1);
    g_assert_true(g_str_has_prefix(other.err, "virt-hostdev: "));
    g_assert_nonnull(strstr(other.err, "IOMMU group 4 belongs to vm1"));
    assert_drivers(host, "e1000 pci-stub");

    libvirt_binds(host, "vfio-pci");
    libvirt_binds(host, "e1000");
    run_here(host, &rel, DOMAIN_XML("vm1", "yes"), "hook", "qemu", "vm1",
             "release", "end", "-", NULL);
    g_assert_cmpint(rel.status, ==, 0);
    g_assert_cmpstr(rel.err, ==, "");
    assert_drivers(host, "e1000 e1000");
    after = registry(host);
    g_assert_null(strstr(after, "0000:01:0"));
}

static void
test_prepare_release_cli(Host *host, gconstpointer data)
{
    g_autofree char *xml = g_build_filename(host->tmp, "vm1.xml", NULL);
    g_auto(VhTestRun) dry = { 0 };
    g_auto(VhTestRun) prep = { 0 };
    g_auto(VhTestRun) rel = { 0 };

    g_assert_true(g_file_set_contents(xml, DOMAIN_XML("vm1", "yes"), -1, NULL));
    run_here(host, &dry, "", "prepare", xml, "--dry-run", NULL);
    g_assert_cmpint(dry.status, ==, 0);
    g_assert_cmpstr(dry.out, ==,
                    "Plan to prepare domain vm1 (nothing changed):\n"
                    "  0000:01:01.0: e1000 -> vfio-pci (assigned)\n"
                    "  0000:01:02.0: e1000 -> pci-stub (held)\n"
                    /* 64 MiB + 1 GiB */
                    "locked memory: 1140850688 bytes (RLIMIT_MEMLOCK for the "
                    "QEMU process)\n");
    assert_drivers(host, "e1000 e1000");

    run_here(host, &prep, "", "prepare", xml, NULL);
    g_assert_cmpint(prep.status, ==, 0);
    g_assert_true(g_str_has_prefix(prep.out, "Domain vm1 prepared\n"));
    assert_drivers(host, "vfio-pci pci-stub");

    run_here(host, &rel, "", "release", xml, NULL);
    g_assert_cmpint(rel.status, ==, 0);
    g_assert_cmpstr(rel.out, ==, "Domain vm1 released\n"
                                 "  0000:01:01.0: vfio-pci -> e1000 (assigned)\n"
                                 "  0000:01:02.0: pci-stub -> e1000 (held)\n");
    assert_drivers(host, "e1000 e1000");
}

static guint
count_open_fds(void)
{
    g_autoptr(GDir) d = g_dir_open("/proc/self/fd", 0, NULL);
    guint n = 0;

    g_assert_nonnull(d);
    while (g_dir_read_name(d))
        n++;
    return n;
}

/* A hook file that cannot be written whole (RLIMIT_FSIZE below its size):
 * exit 1 with the reason, no hook and no temp file left, no descriptor
 * left open in the process that ran the verb. */
static void
test_install_hook_write_fails(Host *host, gconstpointer data)
{
    /* The script install-hook writes for this --binary and the default
     * state dir (as test_install_hook checks). */
    static const char script[] =
        "#!/bin/sh\n"
        "# virt-hostdev: libvirt qemu hook (written by "
        "`virt-hostdev install-hook`; docs/libvirt-hook.rst).\n"
        "# libvirt runs it as: virt-hostdev DOMAIN OPERATION "
        "SUBOPERATION EXTRA, the domain XML on stdin.\n"
        "exec '/usr/bin/virt-hostdev' hook qemu \"$@\"\n";
    g_autofree char *dir = g_build_filename(host->tmp, "hooks", NULL);
    g_autofree char *qemu_d = g_build_filename(dir, "qemu.d", NULL);
    g_autoptr(GDir) d = NULL;
    g_auto(VhTestRun) r = { 0 };
    struct rlimit saved;
    struct rlimit small;
    void (*old_handler)(int);
    guint fds;

    g_assert_cmpint(g_mkdir(dir, 0700), ==, 0);
    g_assert_cmpint(getrlimit(RLIMIT_FSIZE, &saved), ==, 0);
    small = saved;
    small.rlim_cur = sizeof(script) - 2;    /* one byte short */
    old_handler = signal(SIGXFSZ, SIG_IGN);
    fds = count_open_fds();
    g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &small), ==, 0);
    run_here(host, &r, "", "--state-dir", "/run/virt-hostdev", "install-hook",
             "--dir", dir, "--binary", "/usr/bin/virt-hostdev", NULL);
    g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &saved), ==, 0);
    signal(SIGXFSZ, old_handler);

    g_assert_cmpint(r.status, ==, 1);
    g_assert_cmpstr(r.out, ==, "");
    g_assert_nonnull(strstr(r.err, "install-hook: cannot write "));
    g_assert_nonnull(strstr(r.err, g_strerror(EIO)));
    g_assert_cmpuint(count_open_fds(), ==, fds);
    /* qemu.d was made; nothing is in it or beside it. */
    d = g_dir_open(qemu_d, 0, NULL);
    g_assert_nonnull(d);
    g_assert_null(g_dir_read_name(d));
    g_clear_pointer(&d, g_dir_close);
    g_assert_cmpint(g_rmdir(qemu_d), ==, 0);
    g_assert_cmpint(g_rmdir(dir), ==, 0);
}

#define ADD(path, fn) \
    g_test_add(path, Host, NULL, host_setup, fn, host_teardown)

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_summary("libvirt's qemu hook: its arguments, what each operation "
                   "does, prepare/release from domain XML, install-hook");
    g_test_add_func("/cli/hook/args/ignored", test_args_ignored);
    g_test_add_func("/cli/hook/args/bad", test_args_bad);
    g_test_add_func("/cli/hook/args/release-nothing", test_args_release_nothing);
    g_test_add_func("/cli/install-hook", test_install_hook);
    ADD("/cli/hook/cycle", test_hook_cycle);
    ADD("/cli/prepare-release", test_prepare_release_cli);
    ADD("/cli/install-hook/write-fails", test_install_hook_write_fails);
    return g_test_run();
}
