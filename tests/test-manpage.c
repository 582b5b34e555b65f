/*
 * test-manpage.c: the man page (docs/virt-hostdev.rst) against the binary
 *
 * The binary lists its verbs and each verb's options (`help --verbs`,
 * `help --options VERB`); every one of them must have its place in the man
 * page, and the man page must name no verb or option the binary lacks.
 * The page must also build with rst2man without a single warning.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>

#include <glib/gstdio.h>

#include "vh-test-run.h"

/* One verb of the binary: its name, parameters and long options. */
typedef struct {
    char *name;
    char *params;
    GPtrArray *options;         /* "--json", ... */
} Verb;

static void
verb_free(Verb *v)
{
    g_free(v->name);
    g_free(v->params);
    g_ptr_array_unref(v->options);
    g_free(v);
}

/* One item of the man page's VERBS list: the term line and its body. */
typedef struct {
    char *name;
    char *term;
    char *text;                 /* term and body */
} Item;

static void
item_free(Item *it)
{
    g_free(it->name);
    g_free(it->term);
    g_free(it->text);
    g_free(it);
}

static void
run_cli(VhTestRun *r, const char *arg1, const char *arg2, const char *arg3)
{
    const char *bin = g_getenv("VH_CLI");
    const char *argv[] = { bin, arg1, arg2, arg3, NULL };

    g_assert_nonnull(bin);
    vh_test_run(r, argv, NULL, NULL, NULL);
}

/* The "--NAME" of each "--NAME<TAB>ARG" line of `help --options [VERB]`. */
static GPtrArray *
cli_options(const char *verb)
{
    g_auto(VhTestRun) r = { 0 };
    g_auto(GStrv) lines = NULL;
    GPtrArray *opts = g_ptr_array_new_with_free_func(g_free);
    gsize i;

    run_cli(&r, "help", "--options", verb);
    g_assert_cmpstr(r.err, ==, "");
    g_assert_cmpint(r.status, ==, 0);
    lines = g_strsplit(r.out, "\n", -1);
    for (i = 0; lines[i] && *lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit(lines[i], "\t", 2);

        g_assert_true(g_str_has_prefix(f[0], "--"));
        g_assert_nonnull(f[1]);
        g_ptr_array_add(opts, g_strdup(f[0]));
    }
    return opts;
}

static GPtrArray *
cli_verbs(void)
{
    g_auto(VhTestRun) r = { 0 };
    g_auto(GStrv) lines = NULL;
    GPtrArray *verbs = g_ptr_array_new_with_free_func((GDestroyNotify) verb_free);
    gsize i;

    run_cli(&r, "help", "--verbs", NULL);
    g_assert_cmpstr(r.err, ==, "");
    g_assert_cmpint(r.status, ==, 0);
    lines = g_strsplit(r.out, "\n", -1);
    for (i = 0; lines[i] && *lines[i]; i++) {
        g_auto(GStrv) f = g_strsplit(lines[i], "\t", 2);
        Verb *v = g_new0(Verb, 1);

        g_assert_nonnull(f[1]);
        v->name = g_strdup(f[0]);
        v->params = g_strdup(f[1]);
        v->options = cli_options(v->name);
        g_ptr_array_add(verbs, v);
    }
    /* A listing that lost its verbs would pass everything below. */
    g_assert_cmpuint(verbs->len, >=, 17);
    return verbs;
}

static gboolean
strv_has(GPtrArray *a, const char *s)
{
    guint i;

    for (i = 0; i < a->len; i++) {
        if (g_str_equal(g_ptr_array_index(a, i), s))
            return TRUE;
    }
    return FALSE;
}

static char *
manpage_source(void)
{
    g_autofree char *path = g_test_build_filename(G_TEST_DIST, "..", "docs",
                                                  "virt-hostdev.rst", NULL);
    g_autoptr(GError) err = NULL;
    char *text = NULL;

    g_file_get_contents(path, &text, NULL, &err);
    g_assert_no_error(err);
    return text;
}

static gboolean
is_underline(const char *line)
{
    if (!*line)
        return FALSE;
    for (; *line; line++) {
        if (*line != '=')
            return FALSE;
    }
    return TRUE;
}

/* The lines of the section titled @title (without the title), or NULL. */
static GStrv
manpage_section(const char *title)
{
    g_autofree char *text = manpage_source();
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    g_autoptr(GStrvBuilder) b = g_strv_builder_new();
    gsize i;

    for (i = 0; lines[i] && lines[i + 1]; i++) {
        if (g_str_equal(lines[i], title) && is_underline(lines[i + 1]))
            break;
    }
    if (!lines[i] || !lines[i + 1])
        return NULL;
    for (i += 2; lines[i]; i++) {
        if (*lines[i] && lines[i + 1] && is_underline(lines[i + 1]))
            break;
        g_strv_builder_add(b, lines[i]);
    }
    return g_strv_builder_end(b);
}

/* The "--NAME" written as ``--NAME...`` in @text. */
static GPtrArray *
literal_options(const char *text)
{
    g_autoptr(GRegex) re = g_regex_new("``(--[a-z0-9][a-z0-9-]*)(?![a-z0-9-])",
                                       0, 0, NULL);
    g_autoptr(GMatchInfo) m = NULL;
    GPtrArray *opts = g_ptr_array_new_with_free_func(g_free);

    g_regex_match(re, text, 0, &m);
    while (g_match_info_matches(m)) {
        g_ptr_array_add(opts, g_match_info_fetch(m, 1));
        g_match_info_next(m, NULL);
    }
    return opts;
}

/* The items of the VERBS section: a term line starts with `` in column 0,
 * its body is indented. */
static GPtrArray *
manpage_verbs(void)
{
    g_auto(GStrv) lines = manpage_section("VERBS");
    GPtrArray *items = g_ptr_array_new_with_free_func((GDestroyNotify) item_free);
    GString *text = NULL;
    Item *it = NULL;
    gsize i;

    g_assert_nonnull(lines);
    for (i = 0; lines[i]; i++) {
        if (g_str_has_prefix(lines[i], "``")) {
            const char *end = strstr(lines[i] + 2, "``");

            g_assert_nonnull(end);
            if (it)
                it->text = g_string_free(text, FALSE);
            it = g_new0(Item, 1);
            it->name = g_strndup(lines[i] + 2, end - lines[i] - 2);
            it->term = g_strdup(lines[i]);
            text = g_string_new(NULL);
            g_ptr_array_add(items, it);
        } else {
            g_assert_true(!*lines[i] || g_ascii_isspace(*lines[i]));
        }
        if (text)
            g_string_append_printf(text, "%s\n", lines[i]);
    }
    if (it)
        it->text = g_string_free(text, FALSE);
    return items;
}

static const Item *
find_item(GPtrArray *items, const char *name)
{
    guint i;

    for (i = 0; i < items->len; i++) {
        const Item *it = g_ptr_array_index(items, i);

        if (g_str_equal(it->name, name))
            return it;
    }
    return NULL;
}

/* Every verb of the binary has an item, and every option of the verb is
 * in it. */
static void
test_verbs_documented(void)
{
    g_autoptr(GPtrArray) verbs = cli_verbs();
    g_autoptr(GPtrArray) items = manpage_verbs();
    guint i, j;

    for (i = 0; i < verbs->len; i++) {
        const Verb *v = g_ptr_array_index(verbs, i);
        const Item *it = find_item(items, v->name);
        g_autoptr(GPtrArray) written = NULL;

        if (!it) {
            g_test_message("verb '%s' has no item in VERBS of virt-hostdev.rst",
                           v->name);
            g_test_fail();
            continue;
        }
        written = literal_options(it->text);
        for (j = 0; j < v->options->len; j++) {
            const char *opt = g_ptr_array_index(v->options, j);

            if (!strv_has(written, opt)) {
                g_test_message("option %s of verb '%s' is not in its item "
                               "of virt-hostdev.rst", opt, v->name);
                g_test_fail();
            }
        }
    }
}

/* The term line of each verb shows the binary's parameters: placeholders
 * (DEVICE, DOMAIN.xml) as *DEVICE*, literal words (qemu-argv) as
 * ``qemu-argv``. */
static void
test_verbs_params(void)
{
    g_autoptr(GPtrArray) verbs = cli_verbs();
    g_autoptr(GPtrArray) items = manpage_verbs();
    guint i, j;

    for (i = 0; i < verbs->len; i++) {
        const Verb *v = g_ptr_array_index(verbs, i);
        const Item *it = find_item(items, v->name);
        g_autofree char *params = g_strdup(v->params);
        g_auto(GStrv) words = NULL;

        if (!it)
            continue;           /* test_verbs_documented() says so */
        g_strdelimit(params, "[]|", ' ');
        words = g_strsplit(params, " ", -1);
        for (j = 0; words[j]; j++) {
            g_autofree char *want = NULL;
            char *w = words[j];

            if (g_str_has_suffix(w, "..."))
                w[strlen(w) - 3] = '\0';
            if (!*w || g_str_has_prefix(w, "-"))
                continue;
            if (g_ascii_isupper(*w))
                want = g_strdup_printf("*%s*", w);
            else
                want = g_strdup_printf("``%s``", w);
            if (!strstr(it->term, want)) {
                g_test_message("the line of verb '%s' in virt-hostdev.rst "
                               "lacks %s (the binary's parameters: %s)",
                               v->name, want, v->params);
                g_test_fail();
            }
        }
    }
}

/* The man page names no verb the binary lacks, and the term line of each
 * verb only options it has (or the global ones). */
static void
test_verbs_known(void)
{
    g_autoptr(GPtrArray) verbs = cli_verbs();
    g_autoptr(GPtrArray) items = manpage_verbs();
    g_autoptr(GPtrArray) globals = cli_options(NULL);
    guint i, j;

    g_assert_cmpuint(items->len, >=, 17);
    for (i = 0; i < items->len; i++) {
        const Item *it = g_ptr_array_index(items, i);
        g_autoptr(GPtrArray) written = literal_options(it->term);
        const Verb *v = NULL;

        for (j = 0; j < verbs->len && !v; j++) {
            if (g_str_equal(((Verb *) g_ptr_array_index(verbs, j))->name,
                            it->name))
                v = g_ptr_array_index(verbs, j);
        }
        if (!v) {
            g_test_message("virt-hostdev.rst documents verb '%s', which "
                           "`virt-hostdev help --verbs` does not list",
                           it->name);
            g_test_fail();
            continue;
        }
        for (j = 0; j < written->len; j++) {
            const char *opt = g_ptr_array_index(written, j);

            if (!strv_has(v->options, opt) && !strv_has(globals, opt)) {
                g_test_message("virt-hostdev.rst gives verb '%s' option %s, "
                               "which `virt-hostdev help --options %s` does "
                               "not list", v->name, opt, v->name);
                g_test_fail();
            }
        }
    }
}

/* GLOBAL OPTIONS lists exactly the options taken before the verb. */
static void
test_global_options(void)
{
    g_autoptr(GPtrArray) globals = cli_options(NULL);
    g_auto(GStrv) lines = manpage_section("GLOBAL OPTIONS");
    g_autofree char *text = NULL;
    g_autoptr(GPtrArray) written = NULL;
    guint i;

    g_assert_nonnull(lines);
    g_assert_cmpuint(globals->len, >=, 4);
    text = g_strjoinv("\n", lines);
    written = literal_options(text);
    for (i = 0; i < globals->len; i++) {
        const char *opt = g_ptr_array_index(globals, i);

        if (!strv_has(written, opt)) {
            g_test_message("global option %s is not in GLOBAL OPTIONS", opt);
            g_test_fail();
        }
    }
    for (i = 0; i < written->len; i++) {
        const char *opt = g_ptr_array_index(written, i);

        if (!strv_has(globals, opt)) {
            g_test_message("GLOBAL OPTIONS names %s, which `virt-hostdev "
                           "help --options` does not list", opt);
            g_test_fail();
        }
    }
}

/* The sections a man page of a command has, and the exit statuses. */
static void
test_sections(void)
{
    static const char *const titles[] = {
        "SYNOPSIS", "DESCRIPTION", "GLOBAL OPTIONS", "VERBS", "EXIT STATUS",
        "ENVIRONMENT", "FILES", "EXAMPLES", "SEE ALSO",
    };
    g_auto(GStrv) status = manpage_section("EXIT STATUS");
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(titles); i++) {
        g_auto(GStrv) lines = manpage_section(titles[i]);

        if (!lines) {
            g_test_message("virt-hostdev.rst has no section %s", titles[i]);
            g_test_fail();
        }
    }
    g_assert_nonnull(status);
    g_assert_true(g_strv_contains((const char *const *) status, "0"));
    g_assert_true(g_strv_contains((const char *const *) status, "1"));
    g_assert_true(g_strv_contains((const char *const *) status, "2"));
}

/* Every VIRT_HOSTDEV_* variable the program reads is in ENVIRONMENT. */
static void
test_environment(void)
{
    g_autofree char *path = g_test_build_filename(G_TEST_DIST, "..", "tools",
                                                  "vh-cli.c", NULL);
    g_autofree char *src = NULL;
    g_auto(GStrv) lines = manpage_section("ENVIRONMENT");
    g_autofree char *env = NULL;
    g_autoptr(GRegex) re = g_regex_new("g_getenv\\(\"(VIRT_HOSTDEV_[A-Z0-9_]+)\"\\)",
                                       0, 0, NULL);
    g_autoptr(GMatchInfo) m = NULL;
    g_autoptr(GError) err = NULL;
    guint n = 0;

    g_file_get_contents(path, &src, NULL, &err);
    g_assert_no_error(err);
    g_assert_nonnull(lines);
    env = g_strjoinv("\n", lines);
    g_regex_match(re, src, 0, &m);
    while (g_match_info_matches(m)) {
        g_autofree char *name = g_match_info_fetch(m, 1);
        g_autofree char *lit = g_strdup_printf("``%s``", name);

        if (!strstr(env, lit)) {
            g_test_message("%s is read by tools/vh-cli.c but not in "
                           "ENVIRONMENT", name);
            g_test_fail();
        }
        n++;
        g_match_info_next(m, NULL);
    }
    g_assert_cmpuint(n, >=, 6);
}

/* rst2man builds the page without a system message on stderr. */
static void
test_rst2man(void)
{
    const char *rst2man = g_getenv("VH_RST2MAN");
    g_autofree char *found = NULL;
    g_autofree char *src = g_test_build_filename(G_TEST_DIST, "..", "docs",
                                                 "virt-hostdev.rst", NULL);
    g_autofree char *tmp = NULL;
    g_autofree char *out = NULL;
    g_autofree char *man = NULL;
    g_autoptr(GPtrArray) verbs = NULL;
    g_autoptr(GError) err = NULL;
    g_auto(VhTestRun) r = { 0 };
    const char *argv[] = { NULL, "--halt=warning", src, NULL, NULL };
    guint i;

    if (!rst2man || !*rst2man)
        rst2man = found = g_find_program_in_path("rst2man");
    if (!rst2man) {
        g_test_skip("rst2man not found (Debian: python3-docutils, installed "
                    "by tools/install-deps)");
        return;
    }
    tmp = g_dir_make_tmp("vh-manpage-XXXXXX", &err);
    g_assert_no_error(err);
    out = g_build_filename(tmp, "virt-hostdev.1", NULL);
    argv[0] = rst2man;
    argv[3] = out;
    vh_test_run(&r, argv, NULL, NULL, NULL);
    g_assert_cmpstr(r.err, ==, "");
    g_assert_cmpint(r.status, ==, 0);

    g_file_get_contents(out, &man, NULL, &err);
    g_assert_no_error(err);
    g_assert_nonnull(strstr(man, "\n.TH \"VIRT-HOSTDEV\" 1 "));
    /* Each verb made it into the troff as an item, hyphens escaped. */
    verbs = cli_verbs();
    for (i = 0; i < verbs->len; i++) {
        const Verb *v = g_ptr_array_index(verbs, i);
        g_auto(GStrv) parts = g_strsplit(v->name, "-", -1);
        g_autofree char *escaped = g_strjoinv("\\-", parts);
        g_autofree char *term = g_strdup_printf("\n.B \\fB%s\\fP", escaped);

        if (!strstr(man, term)) {
            g_test_message("verb '%s' has no item in the built man page",
                           v->name);
            g_test_fail();
        }
    }
    g_unlink(out);
    g_rmdir(tmp);
}

/* The listings refuse what they do not know, on one line, status 2. */
static void
test_listing_errors(void)
{
    static const char *const cases[][3] = {
        { "help", "--options", "frobnicate" },
        { "help", "--verbs", "help" },
        { "help", "--verbs", "--options" },
        { "help", "--options", "--bogus" },
    };
    gsize i;

    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_auto(VhTestRun) r = { 0 };

        g_test_message("case %zu: %s %s %s", i, cases[i][0], cases[i][1],
                       cases[i][2]);
        run_cli(&r, cases[i][0], cases[i][1], cases[i][2]);
        g_assert_cmpint(r.status, ==, 2);
        g_assert_cmpstr(r.out, ==, "");
        g_assert_cmpuint(vh_test_count_lines(r.err), ==, 1);
        g_assert_true(g_str_has_prefix(r.err, "virt-hostdev: "));
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/manpage/verbs/documented", test_verbs_documented);
    g_test_add_func("/manpage/verbs/known", test_verbs_known);
    g_test_add_func("/manpage/verbs/params", test_verbs_params);
    g_test_add_func("/manpage/global-options", test_global_options);
    g_test_add_func("/manpage/sections", test_sections);
    g_test_add_func("/manpage/environment", test_environment);
    g_test_add_func("/manpage/rst2man", test_rst2man);
    g_test_add_func("/manpage/listing-errors", test_listing_errors);
    return g_test_run();
}
