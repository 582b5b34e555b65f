/*
 * vh-test-run.h: run a program as a user runs it and keep its exit status,
 * standard output and standard error
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

typedef struct {
    int status;
    char *out;
    char *err;
} VhTestRun;

void vh_test_run_clear(VhTestRun *r);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(VhTestRun, vh_test_run_clear)

/*
 * Runs @argv (NULL-terminated, argv[0] a path) in @cwd (NULL: ours) with
 * the environment @envp (NULL: ours), @input on its standard input (NULL:
 * /dev/null), and fills @r; asserts that it ran, exited (was not killed)
 * and wrote UTF-8.  Free @r's strings with vh_test_run_clear().
 */
void vh_test_run(VhTestRun *r, const char *const *argv, const char *const *envp,
                 const char *cwd, const char *input);

/* How many newlines @s holds (the lines a program printed). */
guint vh_test_count_lines(const char *s);
