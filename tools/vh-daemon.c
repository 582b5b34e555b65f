/*
 * vh-daemon.c: virt-hostdevd, node-device queries answered from memory
 *
 * One thread, one GMainLoop, file descriptors only: the listening socket,
 * one per client, a signalfd for SIGTERM, SIGINT and SIGHUP, the kernel's
 * uevent socket, and one pipe per running child that the child holds open
 * until it ends.  No GLib worker thread is started, so that fork() copies a
 * process with one thread.  A child keeps only what it needs: the client's
 * standard output and error, /dev/null as input, and its end of the pipe.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "tools.virt-hostdevd"

#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

#include "vh-backend-fd.h"
#include "vh-cli.h"
#include "vh-daemon-proto.h"
#include "vh-daemon.h"
#include "vh-error.h"
#include "vh-node-device.h"
#include "vh-pci-names.h"
#include "vh-sysfs.h"

/* A child's exit status for "declined": vh_cli_run() returns 0, 1 or 2. */
#define VH_DAEMON_EXIT_DECLINED 100
#define VH_DAEMON_MAX_STRINGS 4096
/* A client that connects and says nothing is let go after this. */
#define VH_DAEMON_REQUEST_TIMEOUT_S 10
/* A command that runs longer is killed (a reader that stopped reading). */
#define VH_DAEMON_CHILD_TIMEOUT_S 60
/* Clients at once, waiting or running; beyond, the daemon stops accepting
 * until one ends (their clients run the command themselves). */
#define VH_DAEMON_MAX_CLIENTS 64
/* Accepting again after the process ran out of descriptors. */
#define VH_DAEMON_RETRY_MS 1000
/* Events come in bursts (a detach of many devices): the devices are read
 * again once none came for this long, or at the next request. */
#define VH_DAEMON_SETTLE_MS 200
/* What the inventory holds: what nodedev-dumpxml reads (and so
 * nodedev-list, which reads less). */
#define VH_DAEMON_SCAN_FLAGS (VH_NODE_DEVICE_SCAN_NAMES | VH_NODE_DEVICE_SCAN_XML)

struct _VhDaemon {
    char *root;
    char *socket_path;
    gboolean verbose;
    VhSysfs *sysfs;
    VhSysfsEvents *events;      /* NULL: no events here, so nothing is kept */
    VhPciNames *names;
    VhNodeDeviceList *inventory;        /* NULL: to be read */
    /* In a child: whether its command was taken as one that moves
     * devices; the verb the command line reaches must agree. */
    gboolean child_changes;
    /* For the log of the next request: why the inventory was read again
     * since the last one; NULL: kept. */
    const char *reread;
    guint events_watch;
    guint settle_timeout;       /* read again once the events stop */
    int listen_fd;
    int signal_fd;
    GMainLoop *loop;
    guint listen_watch;         /* 0 while not accepting */
    guint retry_timeout;
    guint signal_watch;
    gboolean stopping;          /* SIGTERM: the running children end first */
    guint64 requests;
    guint clients;              /* connected */
    guint children;             /* running */
    guint awaiting;             /* accepted, waiting for the client's go */
};

typedef struct {
    VhDaemon *daemon;
    guint64 number;
    int fd;
    int fds[VH_DAEMON_N_FDS];   /* stdout, stderr, cwd; -1 once closed */
    char **argv;                /* "virt-hostdev" + the client's */
    char **env;
    char *line;                 /* the command, for the log */
    const char *inventory_state;    /* how the inventory was had */
    /* A verb that moves devices (vh_daemon_verb_changes()): it reads
     * sysfs itself, and runs to its end whatever its client does. */
    gboolean changes;
    gboolean awaiting;          /* accepted, waiting for the go */
    gint64 started;
    guint watch;                /* the connection */
    guint timeout;              /* for the request, then for the child */
    pid_t pid;                  /* the child, until reaped; 0: none */
    int life_fd;                /* the child's pipe: hang-up when it ends */
    guint life_watch;
} VhDaemonClient;

static void vh_daemon_resume(VhDaemon *d);
static gboolean vh_daemon_client_go(int fd, GIOCondition cond, gpointer data);
static gboolean vh_daemon_client_silent(gpointer data);

static void
vh_daemon_client_free(VhDaemonClient *c)
{
    VhDaemon *d = c->daemon;
    guint i;

    g_clear_handle_id(&c->watch, g_source_remove);
    g_clear_handle_id(&c->timeout, g_source_remove);
    g_clear_handle_id(&c->life_watch, g_source_remove);
    if (c->pid > 0) {
        /* Not reaped: its number cannot have been reused. */
        (void) kill(c->pid, SIGKILL);
        (void) waitpid(c->pid, NULL, 0);
    }
    if (c->life_fd >= 0) {
        close(c->life_fd);
        d->children--;
    }
    if (c->awaiting)
        d->awaiting--;
    if (c->fd >= 0)
        close(c->fd);
    for (i = 0; i < VH_DAEMON_N_FDS; i++) {
        if (c->fds[i] >= 0)
            close(c->fds[i]);
    }
    g_strfreev(c->argv);
    g_strfreev(c->env);
    g_free(c->line);
    g_free(c);
    d->clients--;
    if (d->stopping && d->children == 0 && d->awaiting == 0)
        g_main_loop_quit(d->loop);
    else
        vh_daemon_resume(d);
}

/* Send @kind and @value; a client that went away is no error here. */
static void
vh_daemon_reply(VhDaemonClient *c, VhDaemonReplyKind kind, int value)
{
    VhDaemonReply reply = { .magic = VH_DAEMON_MAGIC, .kind = kind,
                            .value = value };

    if (send(c->fd, &reply, sizeof(reply), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
        g_debug("request %" G_GUINT64_FORMAT ": the client is gone: %s",
                c->number, g_strerror(errno));
}

/* ---- the inventory -------------------------------------------------- */

/* Read the devices unless they are kept; FALSE when reading failed (the
 * child then reads them itself and reports what fails). */
static gboolean
vh_daemon_read(VhDaemon *d)
{
    g_autoptr(GError) err = NULL;
    gint64 start = g_get_monotonic_time();

    if (d->inventory)
        return TRUE;
    d->inventory = vh_node_device_list_scan_names(d->sysfs, VH_DAEMON_SCAN_FLAGS,
                                                  d->names, &err);
    if (!d->inventory) {
        g_printerr("virt-hostdevd: warning: cannot read the PCI devices "
                   "below %s: %s\n", d->root, err->message);
        return FALSE;
    }
    if (d->verbose)
        g_printerr("virt-hostdevd: read %u PCI devices below %s in %.1f ms\n",
                   d->inventory->devices->len, d->root,
                   (g_get_monotonic_time() - start) / 1000.0);
    return TRUE;
}

/* Drop the inventory, to be read again for @why. */
static void
vh_daemon_forget(VhDaemon *d, const char *why)
{
    g_clear_pointer(&d->inventory, vh_node_device_list_free);
    d->reread = why;
}

/* Read every queued event; a change to a PCI device drops the inventory.
 * TRUE when it did. */
static gboolean
vh_daemon_drain(VhDaemon *d)
{
    g_autoptr(GError) err = NULL;
    gboolean changed = FALSE;

    if (!vh_sysfs_events_drain(d->events, &changed, &err)) {
        g_printerr("virt-hostdevd: warning: %s; reading the devices again\n",
                   err->message);
        changed = TRUE;
    }
    if (changed)
        vh_daemon_forget(d, "read again after device events");
    return changed;
}

static gboolean
vh_daemon_settled(gpointer data)
{
    VhDaemon *d = data;

    d->settle_timeout = 0;      /* this source ends here */
    (void) vh_daemon_read(d);
    return G_SOURCE_REMOVE;
}

/* Events while idle: read the devices again once they stop coming, so
 * that the next question finds them read. */
static gboolean
vh_daemon_events_ready(int fd, GIOCondition cond, gpointer data)
{
    VhDaemon *d = data;

    if (vh_daemon_drain(d)) {
        g_clear_handle_id(&d->settle_timeout, g_source_remove);
        d->settle_timeout = g_timeout_add(VH_DAEMON_SETTLE_MS,
                                          vh_daemon_settled, d);
    }
    return G_SOURCE_CONTINUE;
}

/*
 * Bring the inventory up to date with the kernel's events before an
 * answer: every change to a PCI device completed before this call is in
 * it afterwards.  Returns how the inventory was had, for the log.
 */
static const char *
vh_daemon_refresh(VhDaemon *d)
{
    const char *state;

    if (!d->events)
        return "not kept (no device events)";
    (void) vh_daemon_drain(d);
    if (!vh_daemon_read(d))
        return "not kept (reading failed)";
    state = d->reread ? d->reread : "kept";
    d->reread = NULL;
    return state;
}

/* VhCliHooks.serve: the verbs served, when the command line reaches the
 * kind of verb the daemon took it for (it looks only at the words before
 * the verb; any disagreement is a decline). */
static gboolean
vh_daemon_serve(gpointer data, const char *verb, const char *sysfs_root)
{
    VhDaemon *d = data;

    return vh_daemon_verb_served(verb) &&
           !vh_daemon_verb_changes(verb) == !d->child_changes;
}

/* VhCliHooks.inventory (in the child): the devices kept, for the root they
 * were read from; any other root the command reads itself. */
static VhNodeDeviceList *
vh_daemon_inventory(gpointer data, const VhSysfs *sysfs,
                    VhNodeDeviceScanFlags flags)
{
    VhDaemon *d = data;

    /* A scan without SCAN_XML or TOPOLOGY_ONLY wants what is not kept. */
    if (!d->inventory ||
        !(flags & (VH_NODE_DEVICE_SCAN_XML | VH_NODE_DEVICE_SCAN_TOPOLOGY_ONLY)) ||
        g_strcmp0(vh_sysfs_get_root(sysfs), d->root) != 0)
        return NULL;
    return vh_node_device_list_ref(d->inventory);
}

/* ---- one request ---------------------------------------------------- */

/* A locale value the child may take: a name such as en_US.UTF-8 (no path:
 * setlocale() and gettext open files by it); LANGUAGE is a list of them. */
static gboolean
vh_daemon_locale_value_ok(const char *name, const char *value)
{
    gboolean list = g_str_equal(name, "LANGUAGE");
    const char *p;

    if (strlen(value) > 128 || strstr(value, ".."))
        return FALSE;
    for (p = value; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("_.@-", *p) && !(list && *p == ':'))
            return FALSE;
    }
    return TRUE;
}

/* Replace the child's VIRT_HOSTDEV_* and locale environment with the
 * client's, and take its locale. */
static void
vh_daemon_child_env(char **env)
{
    g_auto(GStrv) names = g_listenv();
    guint i;

    for (i = 0; names[i]; i++) {
        g_autofree char *var = g_strconcat(names[i], "=", NULL);

        if (vh_daemon_env_forwarded(var))
            g_unsetenv(names[i]);
    }
    for (i = 0; env[i]; i++) {
        const char *eq = strchr(env[i], '=');
        g_autofree char *name = g_strndup(env[i], eq - env[i]);

        g_setenv(name, eq + 1, TRUE);
    }
    setlocale(LC_ALL, "");
}

static void
vh_daemon_child_ignore(int sig)
{
}

/* The child: the command, writing to the client's descriptors.  @life is
 * the write end of the pipe the daemon watches. */
static void G_GNUC_NORETURN
vh_daemon_child(VhDaemon *d, VhDaemonClient *c, int life)
{
    VhCliHooks hooks = {
        .serve = vh_daemon_serve,
        /* What moves devices reads what it moves, under its lock. */
        .inventory = c->changes ? NULL : vh_daemon_inventory,
        .data = d,
    };
    sigset_t none;
    char **argv;
    int out, err, cwd, null_fd;
    int status;
    int argc;

    d->child_changes = c->changes;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    if (c->changes) {
        /* It runs to its end: not stopped by its output going away, nor by
         * the daemon's own stop or a Ctrl-C where the daemon runs.  A
         * handler, not SIG_IGN, so that what it runs (modprobe) gets the
         * default again. */
        struct sigaction sa = { .sa_handler = vh_daemon_child_ignore,
                                .sa_flags = SA_RESTART };
        int sigs[] = { SIGPIPE, SIGTERM, SIGINT, SIGHUP };
        guint i;

        sigemptyset(&sa.sa_mask);
        for (i = 0; i < G_N_ELEMENTS(sigs); i++)
            sigaction(sigs[i], &sa, NULL);
    } else {
        signal(SIGPIPE, SIG_DFL);   /* as for a command run alone */
    }
    /* Above 2 first, whatever numbers they came with. */
    out = fcntl(c->fds[0], F_DUPFD_CLOEXEC, 10);
    err = fcntl(c->fds[1], F_DUPFD_CLOEXEC, 10);
    cwd = fcntl(c->fds[2], F_DUPFD_CLOEXEC, 10);
    life = fcntl(life, F_DUPFD_CLOEXEC, 10);
    null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (out < 0 || err < 0 || cwd < 0 || life < 0 || null_fd < 0 ||
        dup2(null_fd, STDIN_FILENO) < 0 || dup2(out, STDOUT_FILENO) < 0 ||
        dup2(err, STDERR_FILENO) < 0 || dup2(life, 3) < 0 || fchdir(cwd) < 0)
        _exit(VH_DAEMON_EXIT_DECLINED);
    /* Nothing else of the daemon's: its socket, other clients, events. */
    if (close_range(4, ~0U, 0) < 0)
        _exit(VH_DAEMON_EXIT_DECLINED);
    vh_daemon_child_env(c->env);
    g_set_prgname("virt-hostdev");
    /* GOption takes what it parses out of argv; c->argv keeps them all,
     * as the stack keeps a process's own arguments. */
    argc = (int) g_strv_length(c->argv);
    argv = g_memdup2(c->argv, (argc + 1) * sizeof(char *));
    status = vh_cli_run(argc, argv, &hooks);
    fflush(stdout);
    fflush(stderr);
    _exit(status == VH_CLI_DECLINED ? VH_DAEMON_EXIT_DECLINED : status);
}

/* The child closed its pipe: it ended (or is ending). */
static gboolean
vh_daemon_child_done(int fd, GIOCondition cond, gpointer data)
{
    VhDaemonClient *c = data;
    VhDaemonReplyKind kind;
    const char *how;
    int value;
    int wstatus = 0;

    c->life_watch = 0;          /* this source ends here */
    if (waitpid(c->pid, &wstatus, 0) != c->pid) {
        kind = VH_DAEMON_EXITED;
        value = 1;
        how = "lost";
        g_printerr("virt-hostdevd: warning: request %" G_GUINT64_FORMAT
                   " (%s): cannot reap its child: %s\n", c->number, c->line,
                   g_strerror(errno));
    } else if (WIFEXITED(wstatus) &&
               WEXITSTATUS(wstatus) == VH_DAEMON_EXIT_DECLINED) {
        kind = VH_DAEMON_DECLINED;
        value = 0;
        how = "declined: the client runs it";
    } else if (WIFEXITED(wstatus)) {
        kind = VH_DAEMON_EXITED;
        value = WEXITSTATUS(wstatus);
        how = "ran";
    } else {
        kind = VH_DAEMON_SIGNALED;
        value = WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : SIGKILL;
        how = "ended by a signal";
    }
    c->pid = 0;
    /* Logged first: a client that has its answer finds the line. */
    if (c->daemon->verbose)
        g_printerr("virt-hostdevd: request %" G_GUINT64_FORMAT ": %s: %s, "
                   "%s %d, %.1f ms; inventory %s\n", c->number, c->line, how,
                   kind == VH_DAEMON_SIGNALED ? "signal" : "exit",
                   kind == VH_DAEMON_DECLINED ? -1 : value,
                   (g_get_monotonic_time() - c->started) / 1000.0,
                   c->inventory_state);
    vh_daemon_reply(c, kind, value);
    vh_daemon_client_free(c);
    return G_SOURCE_REMOVE;
}

/* While the child runs: the client hung up (Ctrl-C on virt-hostdev), or
 * the child took too long.  Either way a query is killed; its pipe says
 * when it is gone.  A command that moves devices runs to its end (its own
 * deadlines bound it): stopped half-way, it would leave an operation for
 * `recover`. */
static gboolean
vh_daemon_client_gone(int fd, GIOCondition cond, gpointer data)
{
    VhDaemonClient *c = data;

    c->watch = 0;               /* this source ends here */
    if (c->daemon->verbose)
        g_printerr("virt-hostdevd: request %" G_GUINT64_FORMAT ": the client "
                   "went away; its command %s\n", c->number,
                   c->changes ? "runs to its end" : "is stopped");
    if (!c->changes)
        (void) kill(c->pid, SIGKILL);
    return G_SOURCE_REMOVE;
}

static gboolean
vh_daemon_child_late(gpointer data)
{
    VhDaemonClient *c = data;

    c->timeout = 0;             /* this source ends here */
    g_printerr("virt-hostdevd: warning: request %" G_GUINT64_FORMAT " (%s) "
               "ran for %d s; stopped\n", c->number, c->line,
               VH_DAEMON_CHILD_TIMEOUT_S);
    (void) kill(c->pid, SIGKILL);
    return G_SOURCE_REMOVE;
}

/* Split the request in @buf (@len bytes) into @c's argv and env. */
static gboolean
vh_daemon_parse_request(VhDaemonClient *c, const char *buf, gsize len,
                        GError **error)
{
    VhDaemonRequest req;
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) env = g_ptr_array_new_with_free_func(g_free);
    gsize pos = sizeof(req);
    guint i;

    if (len < sizeof(req)) {
        g_set_error(error, VH_DAEMON_ERROR, VH_DAEMON_ERROR_INVALID,
                    "a request of %" G_GSIZE_FORMAT " bytes is too short", len);
        return FALSE;
    }
    memcpy(&req, buf, sizeof(req));
    if (memcmp(req.magic, VH_DAEMON_MAGIC, VH_DAEMON_MAGIC_LEN) != 0 ||
        req.argc > VH_DAEMON_MAX_STRINGS || req.envc > VH_DAEMON_MAX_STRINGS) {
        g_set_error(error, VH_DAEMON_ERROR, VH_DAEMON_ERROR_INVALID,
                    "not a virt-hostdev request (another protocol version?)");
        return FALSE;
    }
    g_ptr_array_add(argv, g_strdup("virt-hostdev"));
    for (i = 0; i < req.argc + req.envc; i++) {
        const char *s = buf + pos;
        const char *end = pos < len ? memchr(s, '\0', len - pos) : NULL;

        if (!end) {
            g_set_error(error, VH_DAEMON_ERROR, VH_DAEMON_ERROR_INVALID,
                        "the request ends inside its string %u", i + 1);
            return FALSE;
        }
        if (i >= req.argc && (!vh_daemon_env_forwarded(s) || !strchr(s, '='))) {
            g_set_error(error, VH_DAEMON_ERROR, VH_DAEMON_ERROR_INVALID,
                        "the request's environment holds more than "
                        VH_DAEMON_ENV_PREFIX "*, LANG, LANGUAGE and LC_* "
                        "variables");
            return FALSE;
        }
        g_ptr_array_add(i < req.argc ? argv : env, g_strndup(s, end - s));
        pos += end - s + 1;
    }
    if (pos != len) {
        g_set_error(error, VH_DAEMON_ERROR, VH_DAEMON_ERROR_INVALID,
                    "the request has %" G_GSIZE_FORMAT " bytes after its "
                    "strings", len - pos);
        return FALSE;
    }
    g_ptr_array_add(argv, NULL);
    g_ptr_array_add(env, NULL);
    c->argv = (char **) g_ptr_array_free(g_steal_pointer(&argv), FALSE);
    c->env = (char **) g_ptr_array_free(g_steal_pointer(&env), FALSE);
    return TRUE;
}

/* Read one request from @c: FALSE when it is not one (the client gets no
 * answer and runs the command itself). */
static gboolean
vh_daemon_read_request(VhDaemonClient *c, GError **error)
{
    /* One byte more than a request may have: a longer one is seen. */
    g_autofree char *buf = g_malloc(VH_DAEMON_REQUEST_MAX + 1);
    g_autoptr(GArray) fds = g_array_new(FALSE, FALSE, sizeof(int));
    g_autofree char *line = NULL;
    const char *verb;
    gssize n;
    guint i;

    /* Every descriptor received is kept or closed here; the helper closes
     * them all when more came than VH_BACKEND_MAX_FDS. */
    n = vh_backend_fds_recv(c->fd, buf, VH_DAEMON_REQUEST_MAX + 1, fds, error);
    if (fds->len == VH_DAEMON_N_FDS)
        memcpy(c->fds, fds->data, sizeof(c->fds));
    else
        for (i = 0; i < fds->len; i++)
            close(g_array_index(fds, int, i));
    if (n < 0) {
        g_prefix_error(error, "reading a request: ");
        return FALSE;
    }
    if (n == 0) {
        g_set_error(error, VH_DAEMON_ERROR, VH_DAEMON_ERROR_INVALID,
                    "the client closed the connection without a request");
        return FALSE;
    }
    if (n > VH_DAEMON_REQUEST_MAX || fds->len != VH_DAEMON_N_FDS) {
        g_set_error(error, VH_DAEMON_ERROR, VH_DAEMON_ERROR_INVALID,
                    "a request must fit in %d bytes and carry %d descriptors, "
                    "not %u", VH_DAEMON_REQUEST_MAX, VH_DAEMON_N_FDS, fds->len);
        return FALSE;
    }
    if (!vh_daemon_parse_request(c, buf, (gsize) n, error))
        return FALSE;
    verb = vh_daemon_verb_of((int) g_strv_length(c->argv), c->argv);
    c->changes = verb && vh_daemon_verb_changes(verb);
    line = g_strjoinv(" ", c->argv + 1);
    c->line = g_strescape(line, NULL);
    if (strlen(c->line) > 200)
        strcpy(c->line + 190, "...");
    return TRUE;
}

/* Why @c is not for the daemon, or NULL: it is. */
static const char *
vh_daemon_declines(VhDaemonClient *c)
{
    VhDaemon *d = c->daemon;
    guint i;

    for (i = 0; c->env[i]; i++) {
        const char *eq = strchr(c->env[i], '=');
        g_autofree char *name = g_strndup(c->env[i], eq - c->env[i]);

        if (!g_str_has_prefix(name, VH_DAEMON_ENV_PREFIX) &&
            !vh_daemon_locale_value_ok(name, eq + 1))
            return "a locale that is not a plain name";
    }
    if (d->stopping)
        return "stopping";
    if (d->children + d->awaiting >= VH_DAEMON_MAX_CLIENTS / 2)
        return "busy";
    return NULL;
}

static gboolean
vh_daemon_client_readable(int fd, GIOCondition cond, gpointer data)
{
    VhDaemonClient *c = data;
    VhDaemon *d = c->daemon;
    g_autoptr(GError) err = NULL;
    const char *why;

    c->watch = 0;               /* this source ends here */
    g_clear_handle_id(&c->timeout, g_source_remove);
    if (!vh_daemon_read_request(c, &err)) {
        if (d->verbose)
            g_printerr("virt-hostdevd: request %" G_GUINT64_FORMAT " refused: "
                       "%s\n", c->number, err->message);
        vh_daemon_client_free(c);
        return G_SOURCE_REMOVE;
    }
    if ((why = vh_daemon_declines(c))) {
        if (d->verbose)
            g_printerr("virt-hostdevd: request %" G_GUINT64_FORMAT ": %s: "
                       "declined (%s)\n", c->number, c->line, why);
        vh_daemon_reply(c, VH_DAEMON_DECLINED, 0);
        vh_daemon_client_free(c);
        return G_SOURCE_REMOVE;
    }
    /* Taken; it runs once the client says it still waits for it. */
    vh_daemon_reply(c, VH_DAEMON_ACCEPTED, 0);
    c->awaiting = TRUE;
    d->awaiting++;
    c->watch = g_unix_fd_add(c->fd, G_IO_IN | G_IO_HUP | G_IO_ERR,
                             vh_daemon_client_go, c);
    c->timeout = g_timeout_add_seconds(VH_DAEMON_REQUEST_TIMEOUT_S,
                                       vh_daemon_client_silent, c);
    return G_SOURCE_REMOVE;
}

/* The client's go after ACCEPTED: run the command in a child.  A client
 * that closed instead gave up waiting and runs it itself. */
static gboolean
vh_daemon_client_go(int fd, GIOCondition cond, gpointer data)
{
    VhDaemonClient *c = data;
    VhDaemon *d = c->daemon;
    char go[sizeof(VH_DAEMON_GO)] = "";
    int life[2];
    gssize n;
    guint i;

    c->watch = 0;               /* this source ends here */
    g_clear_handle_id(&c->timeout, g_source_remove);
    c->awaiting = FALSE;
    d->awaiting--;
    do {
        n = recv(c->fd, go, sizeof(go), MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n != (gssize) strlen(VH_DAEMON_GO) ||
        memcmp(go, VH_DAEMON_GO, strlen(VH_DAEMON_GO)) != 0) {
        if (d->verbose)
            g_printerr("virt-hostdevd: request %" G_GUINT64_FORMAT ": %s: "
                       "the client did not say go; not run\n", c->number,
                       c->line);
        vh_daemon_client_free(c);
        return G_SOURCE_REMOVE;
    }
    if (pipe2(life, O_CLOEXEC) < 0) {
        g_printerr("virt-hostdevd: warning: request %" G_GUINT64_FORMAT
                   ": cannot make a pipe: %s\n", c->number, g_strerror(errno));
        vh_daemon_reply(c, VH_DAEMON_DECLINED, 0);
        vh_daemon_client_free(c);
        return G_SOURCE_REMOVE;
    }
    /* From here on the client waits for the end of the command. */
    c->inventory_state = c->changes ? "not used" : vh_daemon_refresh(d);
    fflush(NULL);
    c->pid = fork();
    if (c->pid == 0)
        vh_daemon_child(d, c, life[1]);
    close(life[1]);
    if (c->pid < 0) {
        int saved_errno = errno;

        c->pid = 0;
        close(life[0]);
        g_printerr("virt-hostdevd: warning: request %" G_GUINT64_FORMAT
                   ": cannot start a child: %s\n", c->number,
                   g_strerror(saved_errno));
        vh_daemon_reply(c, VH_DAEMON_DECLINED, 0);     /* nothing was written */
        vh_daemon_client_free(c);
        return G_SOURCE_REMOVE;
    }
    c->life_fd = life[0];
    d->children++;
    for (i = 0; i < VH_DAEMON_N_FDS; i++) {
        close(c->fds[i]);
        c->fds[i] = -1;
    }
    c->life_watch = g_unix_fd_add(c->life_fd, G_IO_HUP | G_IO_ERR | G_IO_IN,
                                  vh_daemon_child_done, c);
    c->watch = g_unix_fd_add(c->fd, G_IO_HUP | G_IO_ERR | G_IO_IN,
                             vh_daemon_client_gone, c);
    if (!c->changes)
        c->timeout = g_timeout_add_seconds(VH_DAEMON_CHILD_TIMEOUT_S,
                                           vh_daemon_child_late, c);
    return G_SOURCE_REMOVE;
}

static gboolean
vh_daemon_client_silent(gpointer data)
{
    VhDaemonClient *c = data;

    c->timeout = 0;             /* this source ends here */
    if (c->daemon->verbose)
        g_printerr("virt-hostdevd: request %" G_GUINT64_FORMAT ": nothing "
                   "from the client for %d s; connection closed\n", c->number,
                   VH_DAEMON_REQUEST_TIMEOUT_S);
    vh_daemon_client_free(c);
    return G_SOURCE_REMOVE;
}

static gboolean vh_daemon_accept(int fd, GIOCondition cond, gpointer data);

static gboolean
vh_daemon_retry(gpointer data)
{
    VhDaemon *d = data;

    d->retry_timeout = 0;       /* this source ends here */
    vh_daemon_resume(d);
    return G_SOURCE_REMOVE;
}

/* Accept again, unless stopping, full or already accepting. */
static void
vh_daemon_resume(VhDaemon *d)
{
    if (d->stopping || d->listen_watch || d->retry_timeout ||
        d->clients >= VH_DAEMON_MAX_CLIENTS)
        return;
    d->listen_watch = g_unix_fd_add(d->listen_fd, G_IO_IN, vh_daemon_accept, d);
}

/* Only the daemon's own user (root) is served; the socket's mode says so
 * too. */
static gboolean
vh_daemon_peer_ok(int fd)
{
    struct ucred cred;
    socklen_t len = sizeof(cred);

    return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 &&
           cred.uid == geteuid();
}

static gboolean
vh_daemon_accept(int fd, GIOCondition cond, gpointer data)
{
    VhDaemon *d = data;
    int conn;

    while (d->clients < VH_DAEMON_MAX_CLIENTS &&
           (conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
        VhDaemonClient *c;

        if (!vh_daemon_peer_ok(conn)) {
            close(conn);        /* it runs the command itself */
            continue;
        }
        c = g_new0(VhDaemonClient, 1);
        c->daemon = d;
        c->number = ++d->requests;
        c->fd = conn;
        c->life_fd = -1;
        memset(c->fds, -1, sizeof(c->fds));
        c->started = g_get_monotonic_time();
        d->clients++;
        c->watch = g_unix_fd_add(conn, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                 vh_daemon_client_readable, c);
        c->timeout = g_timeout_add_seconds(VH_DAEMON_REQUEST_TIMEOUT_S,
                                           vh_daemon_client_silent, c);
    }
    if (d->clients >= VH_DAEMON_MAX_CLIENTS) {
        d->listen_watch = 0;    /* until a client ends */
        return G_SOURCE_REMOVE;
    }
    if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
        errno == ENOMEM) {
        /* Out of descriptors or memory: pause instead of spinning. */
        g_printerr("virt-hostdevd: warning: cannot accept a client on %s: %s; "
                   "pausing %d ms\n", d->socket_path, g_strerror(errno),
                   VH_DAEMON_RETRY_MS);
        d->listen_watch = 0;
        d->retry_timeout = g_timeout_add(VH_DAEMON_RETRY_MS, vh_daemon_retry, d);
        return G_SOURCE_REMOVE;
    }
    return G_SOURCE_CONTINUE;
}

/* Stop listening; quit once the running children have answered (and the
 * clients accepted before have said go, or gone). */
static void
vh_daemon_stop(VhDaemon *d)
{
    d->stopping = TRUE;
    g_clear_handle_id(&d->listen_watch, g_source_remove);
    g_clear_handle_id(&d->retry_timeout, g_source_remove);
    if (d->listen_fd >= 0) {
        close(d->listen_fd);
        d->listen_fd = -1;
        (void) unlink(d->socket_path);
    }
    if (d->children == 0 && d->awaiting == 0)
        g_main_loop_quit(d->loop);
}

static gboolean
vh_daemon_signal(int fd, GIOCondition cond, gpointer data)
{
    VhDaemon *d = data;
    struct signalfd_siginfo si;

    if (read(fd, &si, sizeof(si)) != sizeof(si))
        return G_SOURCE_CONTINUE;
    if (si.ssi_signo == SIGHUP) {
        /* pci.ids may have changed (a package upgrade). */
        g_printerr("virt-hostdevd: SIGHUP: opening the PCI ID database "
                   "again\n");
        vh_pci_names_free(d->names);
        d->names = vh_pci_names_new();
        if (d->events) {
            vh_daemon_forget(d, "read again after SIGHUP");
            (void) vh_daemon_read(d);
        }
        return G_SOURCE_CONTINUE;
    }
    vh_daemon_stop(d);
    return G_SOURCE_CONTINUE;
}

/* ---- the socket ----------------------------------------------------- */

/* A socket at @path that accepts a connection belongs to a live daemon. */
static gboolean
vh_daemon_socket_alive(const struct sockaddr_un *addr)
{
    int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    gboolean alive;

    if (fd < 0)
        return FALSE;
    alive = connect(fd, (const struct sockaddr *) addr, sizeof(*addr)) == 0;
    close(fd);
    return alive;
}

static gboolean
vh_daemon_listen(VhDaemon *d, GError **error)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    g_autofree char *dir = g_path_get_dirname(d->socket_path);
    struct stat st;
    int saved_errno;

    if (strlen(d->socket_path) >= sizeof(addr.sun_path)) {
        g_set_error(error, VH_DAEMON_ERROR, VH_DAEMON_ERROR_INVALID,
                    "socket path '%s' is longer than a Unix socket allows "
                    "(%" G_GSIZE_FORMAT " bytes)", d->socket_path,
                    sizeof(addr.sun_path) - 1);
        return FALSE;
    }
    strcpy(addr.sun_path, d->socket_path);
    if (g_mkdir_with_parents(dir, 0755) < 0) {
        saved_errno = errno;
        g_set_error(error, VH_DAEMON_ERROR, VH_DAEMON_ERROR_FAILED,
                    "cannot create %s for the socket: %s", dir,
                    g_strerror(saved_errno));
        return FALSE;
    }
    if (lstat(d->socket_path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            g_set_error(error, VH_DAEMON_ERROR, VH_DAEMON_ERROR_INVALID,
                        "%s exists and is not a socket; remove it or give "
                        "another --socket", d->socket_path);
            return FALSE;
        }
        if (vh_daemon_socket_alive(&addr)) {
            g_set_error(error, VH_DAEMON_ERROR, VH_DAEMON_ERROR_FAILED,
                        "another virt-hostdevd listens on %s; stop it first",
                        d->socket_path);
            return FALSE;
        }
        (void) unlink(d->socket_path);          /* left by a daemon that died */
    }
    d->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (d->listen_fd < 0 ||
        bind(d->listen_fd, (struct sockaddr *) &addr, sizeof(addr)) < 0 ||
        chmod(d->socket_path, 0600) < 0 || listen(d->listen_fd, 64) < 0) {
        saved_errno = errno;
        g_set_error(error, VH_DAEMON_ERROR, VH_DAEMON_ERROR_FAILED,
                    "cannot listen on %s: %s", d->socket_path,
                    g_strerror(saved_errno));
        return FALSE;
    }
    return TRUE;
}

VhDaemon *
vh_daemon_new(const char *sysfs_root, const char *socket_path,
              gboolean verbose, GError **error)
{
    g_autoptr(VhDaemon) d = g_new0(VhDaemon, 1);
    g_autoptr(GError) err = NULL;
    sigset_t mask;

    d->listen_fd = -1;
    d->signal_fd = -1;
    d->root = g_strdup(sysfs_root);
    d->socket_path = g_strdup(socket_path);
    d->verbose = verbose;
    if (!(d->sysfs = vh_sysfs_new(sysfs_root, error)))
        return NULL;
    if (!(d->events = vh_sysfs_events_new(d->sysfs, &err))) {
        /* A fake tree, or a sandbox without netlink: still correct, as
         * fast as virt-hostdev-cli alone. */
        if (verbose)
            g_printerr("virt-hostdevd: %s: every request reads the devices "
                       "itself\n", err->message);
    }
    d->names = vh_pci_names_new();

    sigemptyset(&mask);
    sigaddset(&mask, SIGTERM);
    sigaddset(&mask, SIGINT);
    sigaddset(&mask, SIGHUP);
    if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 ||
        (d->signal_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0) {
        int saved_errno = errno;

        g_set_error(error, VH_DAEMON_ERROR, VH_DAEMON_ERROR_FAILED,
                    "cannot take signals: %s", g_strerror(saved_errno));
        return NULL;
    }
    if (!vh_daemon_listen(d, error))
        return NULL;
    return g_steal_pointer(&d);
}

void
vh_daemon_free(VhDaemon *d)
{
    if (!d)
        return;
    if (d->listen_fd >= 0) {
        close(d->listen_fd);
        (void) unlink(d->socket_path);
    }
    if (d->signal_fd >= 0)
        close(d->signal_fd);
    g_clear_pointer(&d->inventory, vh_node_device_list_free);
    g_clear_pointer(&d->names, vh_pci_names_free);
    g_clear_pointer(&d->events, vh_sysfs_events_free);
    g_clear_pointer(&d->sysfs, vh_sysfs_free);
    g_clear_pointer(&d->loop, g_main_loop_unref);
    g_free(d->root);
    g_free(d->socket_path);
    g_free(d);
}

void
vh_daemon_run(VhDaemon *d)
{
    /* A client that goes away mid-answer must not end the daemon; its
     * children set SIGPIPE back to the default. */
    signal(SIGPIPE, SIG_IGN);
    d->loop = g_main_loop_new(NULL, FALSE);
    if (d->events) {
        (void) vh_daemon_read(d);       /* the first query is answered warm */
        d->events_watch = g_unix_fd_add(vh_sysfs_events_get_fd(d->events),
                                        G_IO_IN, vh_daemon_events_ready, d);
    }
    if (d->verbose)
        g_printerr("virt-hostdevd: listening on %s for %s\n", d->socket_path,
                   d->root);
    vh_daemon_resume(d);
    d->signal_watch = g_unix_fd_add(d->signal_fd, G_IO_IN, vh_daemon_signal, d);
    g_main_loop_run(d->loop);
    g_clear_handle_id(&d->listen_watch, g_source_remove);
    g_clear_handle_id(&d->retry_timeout, g_source_remove);
    g_clear_handle_id(&d->signal_watch, g_source_remove);
    g_clear_handle_id(&d->events_watch, g_source_remove);
    g_clear_handle_id(&d->settle_timeout, g_source_remove);
}
