/*
 * vh-daemon-proto.h: what virt-hostdev and virt-hostdevd say to each other
 *
 * Plain C without GLib: the client side is virt-hostdev's small front
 * (virt-hostdev.c), which links nothing but libc.
 *
 * One connection per command, on a SOCK_SEQPACKET Unix socket that only
 * the daemon's own user (root) may open:
 *
 *   request  VhDaemonRequest, then argc + envc strings, each ended by a
 *            NUL: the command line after argv[0], then the client's
 *            environment that vh_daemon_env_forwarded() names, as
 *            NAME=VALUE.  Three descriptors ride along (SCM_RIGHTS): the
 *            client's standard output, its standard error and its working
 *            directory (O_PATH).
 *   replies  VhDaemonReply, one or two:
 *            ACCEPTED   the daemon takes the command.  The client answers
 *                       VH_DAEMON_GO (4 bytes) when it still waits for it;
 *                       only then does the daemon run it, and a second
 *                       reply follows when it ends.  A client that gave up
 *                       waiting (and runs the command itself) closes the
 *                       connection instead: the command never runs twice.
 *                       Nothing has been written before it.
 *            DECLINED   the client runs the command itself: nothing was
 *                       written (another verb, a locale the daemon does not
 *                       take, the daemon busy; or, after ACCEPTED, a
 *                       command line that does not reach a verb it serves).
 *            EXITED     after ACCEPTED: the command's exit status, @value.
 *            SIGNALED   after ACCEPTED: the signal, @value, that ended it
 *                       (SIGPIPE when the client's output went away).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <stdint.h>
#include <string.h>

#define VH_DAEMON_MAGIC "VHD3"
/* The client's answer to ACCEPTED: run it. */
#define VH_DAEMON_GO "VHGO"
#define VH_DAEMON_MAGIC_LEN 4
/* The largest request, header included. */
#define VH_DAEMON_REQUEST_MAX 65536
#define VH_DAEMON_N_FDS 3
/* How long the client waits for ACCEPTED or DECLINED before it runs the
 * command itself (a daemon that hangs). */
#define VH_DAEMON_ACCEPT_TIMEOUT_MS 10000
/* Where the client finds the daemon (unset: VH_DEFAULT_SOCKET; set but
 * empty: never ask a daemon). */
#define VH_DAEMON_SOCKET_ENV "VIRT_HOSTDEV_SOCKET"
#define VH_DAEMON_ENV_PREFIX "VIRT_HOSTDEV_"

typedef enum {
    VH_DAEMON_ACCEPTED = 1,
    VH_DAEMON_DECLINED = 2,
    VH_DAEMON_EXITED = 3,
    VH_DAEMON_SIGNALED = 4,
} VhDaemonReplyKind;

typedef struct {
    char magic[VH_DAEMON_MAGIC_LEN];
    uint32_t argc;
    uint32_t envc;
} VhDaemonRequest;

typedef struct {
    char magic[VH_DAEMON_MAGIC_LEN];
    int32_t kind;               /* VhDaemonReplyKind */
    int32_t value;
} VhDaemonReply;

/* The verbs that change devices the daemon runs too, as libvirtd runs
 * virsh's: started from the daemon instead of exec'd, they run the same
 * code.  Once started, such a command runs to its end even when its
 * client goes away (a Ctrl-C does not cut an operation in two). */
static inline int
vh_daemon_verb_changes(const char *verb)
{
    return strcmp(verb, "nodedev-detach") == 0 ||
           strcmp(verb, "nodedev-reattach") == 0 ||
           strcmp(verb, "nodedev-reset") == 0;
}

/* The verbs the daemon answers; the client asks only about these. */
static inline int
vh_daemon_verb_served(const char *verb)
{
    return strcmp(verb, "nodedev-list") == 0 ||
           strcmp(verb, "nodedev-dumpxml") == 0 ||
           vh_daemon_verb_changes(verb);
}

/* The global options that take a value (tools/vh-cli.c). */
static inline int
vh_daemon_valued_option(const char *name, size_t len)
{
    static const char *const valued[] = {
        "--sysfs-root", "--proc-root", "--state-dir",
    };
    size_t i;

    for (i = 0; i < sizeof(valued) / sizeof(valued[0]); i++) {
        if (strlen(valued[i]) == len && strncmp(name, valued[i], len) == 0)
            return 1;
    }
    return 0;
}

/*
 * The verb of the command line @argv (@argv[0] the program): the first
 * word after the global options, or NULL when anything else comes first
 * (an option that is not one of them, a missing value): any doubt is no
 * verb.
 */
static inline const char *
vh_daemon_verb_of(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');

        if (argv[i][0] != '-')
            return argv[i];
        if (eq && vh_daemon_valued_option(argv[i], (size_t) (eq - argv[i])))
            continue;
        if (eq || !vh_daemon_valued_option(argv[i], strlen(argv[i])))
            return NULL;
        i++;                    /* its value */
    }
    return NULL;
}

/* 1 when the client sends its variable @var (NAME=VALUE): the
 * VIRT_HOSTDEV_* ones but the socket's, and the locale's (LANG, LANGUAGE,
 * LC_*: GOption's messages follow it). */
static inline int
vh_daemon_env_forwarded(const char *var)
{
    size_t n = strcspn(var, "=");

    if (n == strlen(VH_DAEMON_SOCKET_ENV) &&
        strncmp(var, VH_DAEMON_SOCKET_ENV, n) == 0)
        return 0;
    return (n == strlen("LANG") && strncmp(var, "LANG", n) == 0) ||
           (n == strlen("LANGUAGE") && strncmp(var, "LANGUAGE", n) == 0) ||
           (n > strlen("LC_") && strncmp(var, "LC_", strlen("LC_")) == 0) ||
           (n > strlen(VH_DAEMON_ENV_PREFIX) &&
            strncmp(var, VH_DAEMON_ENV_PREFIX,
                    strlen(VH_DAEMON_ENV_PREFIX)) == 0);
}
