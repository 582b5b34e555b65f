/*
 * test-hostdevxml2argv.c: golden files for `virt-hostdev domxml-to-native`
 *
 * For every tests/hostdevxml2argv/NAME.xml the real binary runs as a user
 * runs it.  Either it succeeds (exit 0, nothing on stderr) and prints
 * NAME.args (JSON, as libvirt 9.0 emits it) and, with --legacy,
 * NAME.legacy.args; or it refuses the XML with exit status 2, prints
 * nothing on stdout and the one line of NAME.err on stderr.  Then the
 * command's own usage: stdin, unknown format, wrong arguments.
 *
 * VIRT_HOSTDEV_REGENERATE_OUTPUT=1 rewrites the expected files from the
 * output instead of comparing; review every diff (docs/hacking.rst).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "vh-test-run.h"

static gboolean
regenerate(void)
{
    const char *v = g_getenv("VIRT_HOSTDEV_REGENERATE_OUTPUT");

    return v && *v && !g_str_equal(v, "0");
}

static char *
data_dir(void)
{
    return g_test_build_filename(G_TEST_DIST, "hostdevxml2argv", NULL);
}

/* Run virt-hostdev domxml-to-native in the data directory, so that the
 * messages quote the file name as the user gave it. */
static void
run_case(VhTestRun *r, const char *file, gboolean legacy)
{
    g_autofree char *dir = data_dir();
    const char *bin = g_getenv("VH_CLI");
    const char *argv[] = {
        bin, "domxml-to-native", "qemu-argv", file,
        legacy ? "--legacy" : NULL, NULL
    };

    g_assert_nonnull(bin);
    vh_test_run(r, argv, NULL, dir, NULL);
}

/* Compare @actual with the file @name, or write it when regenerating. */
static void
check_file(const char *name, const char *actual)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = data_dir();
    g_autofree char *path = g_build_filename(dir, name, NULL);
    g_autofree char *expected = NULL;

    if (regenerate()) {
        g_assert_true(g_file_set_contents(path, actual, -1, &err));
        g_assert_no_error(err);
        return;
    }
    if (!g_file_get_contents(path, &expected, NULL, &err)) {
        g_test_message("%s is missing; its output would be:\n%s", name,
                       actual);
        g_assert_no_error(err);
    }
    if (!g_str_equal(expected, actual))
        g_test_message("%s differs; expected:\n%sgot:\n%s", name, expected,
                       actual);
    g_assert_cmpstr(actual, ==, expected);
}

/* When regenerating, drop the expected file of the other outcome. */
static void
remove_stale(const char *name)
{
    g_autofree char *dir = data_dir();
    g_autofree char *path = g_build_filename(dir, name, NULL);

    if (regenerate())
        g_unlink(path);
    else
        g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS));
}

static void
test_case(gconstpointer data)
{
    const char *name = data;
    g_autofree char *xml = g_strconcat(name, ".xml", NULL);
    g_autofree char *args = g_strconcat(name, ".args", NULL);
    g_autofree char *legacy = g_strconcat(name, ".legacy.args", NULL);
    g_autofree char *errf = g_strconcat(name, ".err", NULL);
    g_auto(VhTestRun) r = { 0 };

    run_case(&r, xml, FALSE);
    if (r.status == 0) {
        g_auto(VhTestRun) rl = { 0 };

        g_assert_cmpstr(r.err, ==, "");
        check_file(args, r.out);
        remove_stale(errf);

        run_case(&rl, xml, TRUE);
        g_assert_cmpint(rl.status, ==, 0);
        g_assert_cmpstr(rl.err, ==, "");
        check_file(legacy, rl.out);
        return;
    }

    /* Refused: bad input is exit 2 with one line, nothing printed. */
    g_test_message("stderr: %s", r.err);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_cmpstr(r.out, ==, "");
    g_assert_true(g_str_has_suffix(r.err, "\n"));
    g_assert_true(strchr(r.err, '\n') == r.err + strlen(r.err) - 1);
    check_file(errf, r.err);
    remove_stale(args);
    remove_stale(legacy);
}

/* Run virt-hostdev with @args in the data directory, @input on stdin. */
static void
run_cli(VhTestRun *r, const char *input, const char * const *args)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new();
    g_autofree char *dir = data_dir();
    gsize i;

    g_ptr_array_add(argv, (char *) g_getenv("VH_CLI"));
    for (i = 0; args[i]; i++)
        g_ptr_array_add(argv, (char *) args[i]);
    g_ptr_array_add(argv, NULL);
    vh_test_run(r, (const char *const *) argv->pdata, NULL, dir, input);
}

/* "-" reads the domain from stdin, as libvirt's hooks get it. */
static void
test_stdin(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = data_dir();
    g_autofree char *xmlpath = g_build_filename(dir, "basic.xml", NULL);
    g_autofree char *argspath = g_build_filename(dir, "basic.args", NULL);
    g_autofree char *xml = NULL;
    g_autofree char *expected = NULL;
    const char *args[] = { "domxml-to-native", "qemu-argv", "-", NULL };
    g_auto(VhTestRun) r = { 0 };

    g_assert_true(g_file_get_contents(xmlpath, &xml, NULL, &err));
    g_assert_true(g_file_get_contents(argspath, &expected, NULL, &err));
    g_assert_no_error(err);
    run_cli(&r, xml, args);
    g_assert_cmpint(r.status, ==, 0);
    g_assert_cmpstr(r.out, ==, expected);
    g_assert_cmpstr(r.err, ==, "");
}

/* Standard input is read up to 16 MiB, and refused past that. */
static void
test_stdin_too_large(void)
{
    const char *args[] = { "domxml-to-native", "qemu-argv", "-", NULL };
    gsize size = 16 * 1024 * 1024 + 1;
    g_autofree char *xml = g_malloc(size + 1);
    g_auto(VhTestRun) r = { 0 };

    memset(xml, ' ', size);
    xml[size] = '\0';
    run_cli(&r, xml, args);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_nonnull(strstr(r.err, "domxml-to-native: the domain XML on "
                            "standard input is larger than 16777216 bytes"));
    g_assert_cmpstr(r.out, ==, "");
}

typedef struct {
    const char *name;
    const char *args[6];
    const char *message;
} UsageCase;

static const UsageCase usage_cases[] = {
    { "unknown-format", { "domxml-to-native", "xen-xm", "basic.xml" },
      "unknown format 'xen-xm'; the only format is qemu-argv" },
    { "no-file", { "domxml-to-native", "qemu-argv", "missing.xml" },
      "cannot read the domain XML" },
    { "too-few", { "domxml-to-native", "qemu-argv" },
      "expected qemu-argv DOMAIN.xml, got 1 argument" },
    { "too-many", { "domxml-to-native", "qemu-argv", "basic.xml", "x" },
      "expected qemu-argv DOMAIN.xml, got 3 arguments" },
    { "bad-option", { "domxml-to-native", "qemu-argv", "basic.xml",
                      "--json" }, "Unknown option --json" },
};

/* Bad usage: exit 2, one line naming the problem, nothing on stdout. */
static void
test_usage(gconstpointer data)
{
    const UsageCase *c = data;
    g_auto(VhTestRun) r = { 0 };

    run_cli(&r, "", c->args);
    g_test_message("stderr: %s", r.err);
    g_assert_cmpint(r.status, ==, 2);
    g_assert_cmpstr(r.out, ==, "");
    g_assert_nonnull(strstr(r.err, c->message));
    g_assert_true(strchr(r.err, '\n') == r.err + strlen(r.err) - 1);
}

/* Every expected file belongs to a NAME.xml. */
static void
test_no_orphans(void)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = data_dir();
    g_autoptr(GDir) d = g_dir_open(dir, 0, &err);
    const char *f;

    g_assert_no_error(err);
    while ((f = g_dir_read_name(d))) {
        g_autofree char *base = NULL;
        g_autofree char *xml = NULL;
        g_autofree char *path = NULL;

        if (g_str_has_suffix(f, ".legacy.args"))
            base = g_strndup(f, strlen(f) - strlen(".legacy.args"));
        else if (g_str_has_suffix(f, ".args"))
            base = g_strndup(f, strlen(f) - strlen(".args"));
        else if (g_str_has_suffix(f, ".err"))
            base = g_strndup(f, strlen(f) - strlen(".err"));
        else
            continue;
        xml = g_strconcat(base, ".xml", NULL);
        path = g_build_filename(dir, xml, NULL);
        g_test_message("%s", f);
        g_assert_true(g_file_test(path, G_FILE_TEST_EXISTS));
    }
}

/* g_ptr_array_sort passes pointers to the elements. */
static gint
compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char * const *) a, *(const char * const *) b);
}

int
main(int argc, char **argv)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) d = NULL;
    g_autofree char *dir = NULL;
    const char *f;
    guint i;

    g_test_init(&argc, &argv, NULL);
    g_test_summary("domxml-to-native qemu-argv prints, for each golden "
                   "domain XML, the -device arguments libvirt 9.0 emits, "
                   "or refuses it with one line and exit status 2");

    dir = data_dir();
    d = g_dir_open(dir, 0, &err);
    g_assert_no_error(err);
    while ((f = g_dir_read_name(d))) {
        if (g_str_has_suffix(f, ".xml"))
            g_ptr_array_add(names, g_strndup(f, strlen(f) - strlen(".xml")));
    }
    g_ptr_array_sort(names, compare_names);
    for (i = 0; i < names->len; i++) {
        const char *name = g_ptr_array_index(names, i);
        g_autofree char *path = g_strdup_printf("/hostdevxml2argv/%s", name);

        g_test_add_data_func(path, name, test_case);
    }
    g_test_add_func("/hostdevxml2argv/no-orphans", test_no_orphans);
    g_test_add_func("/hostdevxml2argv/cli/stdin", test_stdin);
    g_test_add_func("/hostdevxml2argv/cli/stdin-too-large",
                    test_stdin_too_large);
    for (i = 0; i < G_N_ELEMENTS(usage_cases); i++) {
        g_autofree char *path = g_strdup_printf("/hostdevxml2argv/cli/%s",
                                                usage_cases[i].name);

        g_test_add_data_func(path, &usage_cases[i], test_usage);
    }
    return g_test_run();
}
