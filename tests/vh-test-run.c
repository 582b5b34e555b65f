/*
 * vh-test-run.c: run a program as a user runs it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <gio/gio.h>

#include "vh-test-run.h"

void
vh_test_run_clear(VhTestRun *r)
{
    g_free(r->out);
    g_free(r->err);
}

void
vh_test_run(VhTestRun *r, const char *const *argv, const char *const *envp,
            const char *cwd, const char *input)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(GSubprocessLauncher) launcher = NULL;
    g_autoptr(GSubprocess) proc = NULL;
    GSubprocessFlags flags = G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                             G_SUBPROCESS_FLAGS_STDERR_PIPE;

    g_assert_nonnull(argv[0]);
    if (input)
        flags |= G_SUBPROCESS_FLAGS_STDIN_PIPE;
    launcher = g_subprocess_launcher_new(flags);
    if (envp)
        g_subprocess_launcher_set_environ(launcher, (char **) envp);
    if (cwd)
        g_subprocess_launcher_set_cwd(launcher, cwd);
    proc = g_subprocess_launcher_spawnv(launcher, argv, &err);
    g_assert_no_error(err);
    g_assert_true(g_subprocess_communicate_utf8(proc, input, NULL,
                                                &r->out, &r->err, &err));
    g_assert_no_error(err);
    g_assert_true(g_subprocess_get_if_exited(proc));
    r->status = g_subprocess_get_exit_status(proc);
}

guint
vh_test_count_lines(const char *s)
{
    guint n = 0;

    for (; *s; s++)
        n += *s == '\n';
    return n;
}
