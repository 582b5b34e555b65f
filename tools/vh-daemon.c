/*
 * vh-daemon.c: virt-hostdevd, node-device queries answered from memory
 *
 * One thread, one GMainLoop, file descriptors only: the listening socket,
 * one per client until its request is read, a signalfd for SIGTERM, SIGINT
 * and SIGHUP, and a pidfd per running child.  No GLib worker thread is
 * started, so that fork() copies a process with one thread.
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
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib/gstdio.h>

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
/* Beyond this many children at once, requests are declined: their
 * clients run the command themselves. */
#define VH_DAEMON_MAX_CHILDREN 32
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
    /* For the log of the next request: why the inventory was read again
     * since the last one; NULL: kept. */
    const char *reread;
    guint events_watch;
    guint settle_timeout;       /* read again once the events stop */
    int listen_fd;
    int signal_fd;
    GMainLoop *loop;
    guint listen_watch;
    guint signal_watch;
    guint64 requests;
    guint children;             /* running */
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
    gint64 started;
    guint watch;                /* the connection, until the request */
    guint timeout;
    int pidfd;
    pid_t pid;
} VhDaemonClient;

static void
vh_daemon_client_free(VhDaemonClient *c)
{
    guint i;

    if (c->fd >= 0)
        close(c->fd);
    for (i = 0; i < VH_DAEMON_N_FDS; i++) {
        if (c->fds[i] >= 0)
            close(c->fds[i]);
    }
    if (c->watch)
        g_source_remove(c->watch);
    if (c->timeout)
        g_source_remove(c->timeout);
    if (c->pidfd >= 0) {
        close(c->pidfd);
        c->daemon->children--;
    }
    g_strfreev(c->argv);
    g_strfreev(c->env);
    g_free(c->line);
    g_free(c);
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

/* VhCliHooks.serve: the read-only queries, for this root only. */
static gboolean
vh_daemon_serve(gpointer data, const char *verb, const char *sysfs_root)
{
    VhDaemon *d = data;

    return (g_str_equal(verb, "nodedev-list") ||
            g_str_equal(verb, "nodedev-dumpxml")) &&
           g_strcmp0(sysfs_root, d->root) == 0;
}

/* VhCliHooks.inventory (in the child). */
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

/* Replace the child's VIRT_HOSTDEV_* and locale environment with the
 * client's, and take its locale. */
static void
vh_daemon_child_env(char **env)
{
    g_auto(GStrv) names = g_listenv();
    guint i;

    for (i = 0; names[i]; i++) {
        if (vh_daemon_env_forwarded(names[i]))
            g_unsetenv(names[i]);
    }
    for (i = 0; env[i]; i++) {
        const char *eq = strchr(env[i], '=');
        g_autofree char *name = g_strndup(env[i], eq - env[i]);

        g_setenv(name, eq + 1, TRUE);
    }
    setlocale(LC_ALL, "");
}

/* The child: the command, writing to the client's descriptors. */
static void G_GNUC_NORETURN
vh_daemon_child(VhDaemon *d, VhDaemonClient *c)
{
    VhCliHooks hooks = {
        .serve = vh_daemon_serve,
        .inventory = vh_daemon_inventory,
        .data = d,
    };
    sigset_t all;
    char **argv;
    int null_fd;
    int status;
    int argc;

    sigemptyset(&all);
    sigprocmask(SIG_SETMASK, &all, NULL);
    null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0 ||
        dup2(c->fds[0], STDOUT_FILENO) < 0 ||
        dup2(c->fds[1], STDERR_FILENO) < 0 || fchdir(c->fds[2]) < 0)
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

static gboolean
vh_daemon_child_done(int fd, GIOCondition cond, gpointer data)
{
    VhDaemonClient *c = data;
    VhDaemonReply reply = { .magic = VH_DAEMON_MAGIC };
    const char *how;
    int wstatus;

    if (waitpid(c->pid, &wstatus, WNOHANG) != c->pid)
        return G_SOURCE_CONTINUE;       /* not yet */
    if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == VH_DAEMON_EXIT_DECLINED) {
        reply.status = VH_DAEMON_DECLINED;
        how = "declined: the client runs it";
    } else if (WIFEXITED(wstatus)) {
        reply.status = WEXITSTATUS(wstatus);
        how = "ran";
    } else {
        reply.status = 1;
        how = "killed by a signal";
        g_printerr("virt-hostdevd: warning: request %" G_GUINT64_FORMAT
                   " (%s): the child was killed by signal %d\n", c->number,
                   c->line, WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) : 0);
    }
    /* Logged first: a client that has its answer finds the line. */
    if (c->daemon->verbose)
        g_printerr("virt-hostdevd: request %" G_GUINT64_FORMAT ": %s: %s, "
                   "exit %d, %.1f ms; inventory %s\n", c->number, c->line, how,
                   reply.status, (g_get_monotonic_time() - c->started) / 1000.0,
                   c->inventory_state);
    if (send(c->fd, &reply, sizeof(reply), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
        g_debug("request %" G_GUINT64_FORMAT ": the client is gone: %s",
                c->number, g_strerror(errno));
    vh_daemon_client_free(c);
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
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_INVALID,
                    "a request of %" G_GSIZE_FORMAT " bytes is too short", len);
        return FALSE;
    }
    memcpy(&req, buf, sizeof(req));
    if (memcmp(req.magic, VH_DAEMON_MAGIC, VH_DAEMON_MAGIC_LEN) != 0 ||
        req.argc > VH_DAEMON_MAX_STRINGS || req.envc > VH_DAEMON_MAX_STRINGS) {
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_INVALID,
                    "not a virt-hostdev request (another protocol version?)");
        return FALSE;
    }
    g_ptr_array_add(argv, g_strdup("virt-hostdev"));
    for (i = 0; i < req.argc + req.envc; i++) {
        const char *s = buf + pos;
        const char *end = pos < len ? memchr(s, '\0', len - pos) : NULL;

        if (!end) {
            g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_INVALID,
                        "the request ends inside its string %u", i + 1);
            return FALSE;
        }
        if (i >= req.argc && (!vh_daemon_env_forwarded(s) || !strchr(s, '='))) {
            g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_INVALID,
                        "the request's environment holds more than "
                        VH_DAEMON_ENV_PREFIX "*, LANG, LANGUAGE and LC_* "
                        "variables");
            return FALSE;
        }
        g_ptr_array_add(i < req.argc ? argv : env, g_strndup(s, end - s));
        pos += end - s + 1;
    }
    if (pos != len) {
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_INVALID,
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

/* Read one request from @c; FALSE (with the fds closed) when it is not
 * one, and the client gets no answer. */
static gboolean
vh_daemon_read_request(VhDaemonClient *c, GError **error)
{
    g_autofree char *buf = g_malloc(VH_DAEMON_REQUEST_MAX);
    union {
        struct cmsghdr align;
        char data[CMSG_SPACE(sizeof(int) * VH_DAEMON_N_FDS)];
    } control;
    struct iovec iov = { .iov_base = buf, .iov_len = VH_DAEMON_REQUEST_MAX };
    struct msghdr msg = {
        .msg_iov = &iov,
        .msg_iovlen = 1,
        .msg_control = control.data,
        .msg_controllen = sizeof(control.data),
    };
    struct cmsghdr *cmsg;
    ssize_t n;
    guint n_fds = 0;
    g_autofree char *line = NULL;

    do {
        n = recvmsg(c->fd, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED,
                    "cannot read a request: %s", g_strerror(errno));
        return FALSE;
    }
    for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        if (cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
            guint k = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            int fds[VH_DAEMON_N_FDS];
            guint j;

            memcpy(fds, CMSG_DATA(cmsg), MIN(k, VH_DAEMON_N_FDS) * sizeof(int));
            for (j = 0; j < MIN(k, VH_DAEMON_N_FDS); j++) {
                if (n_fds < VH_DAEMON_N_FDS)
                    c->fds[n_fds++] = fds[j];
                else
                    close(fds[j]);
            }
        }
    }
    if (n == 0) {
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_INVALID,
                    "the client closed the connection without a request");
        return FALSE;
    }
    if ((msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) || n_fds != VH_DAEMON_N_FDS) {
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_INVALID,
                    "a request must fit in %d bytes and carry %d descriptors",
                    VH_DAEMON_REQUEST_MAX, VH_DAEMON_N_FDS);
        return FALSE;
    }
    if (!vh_daemon_parse_request(c, buf, (gsize) n, error))
        return FALSE;
    line = g_strjoinv(" ", c->argv + 1);
    c->line = g_strescape(line, NULL);
    if (strlen(c->line) > 200)
        strcpy(c->line + 190, "...");
    return TRUE;
}

/* Tell the client to run the command itself, and let it go. */
static void
vh_daemon_decline(VhDaemonClient *c)
{
    VhDaemonReply reply = { .magic = VH_DAEMON_MAGIC,
                            .status = VH_DAEMON_DECLINED };

    if (send(c->fd, &reply, sizeof(reply), MSG_NOSIGNAL | MSG_DONTWAIT) < 0)
        g_debug("request %" G_GUINT64_FORMAT ": the client is gone: %s",
                c->number, g_strerror(errno));
    vh_daemon_client_free(c);
}

static gboolean
vh_daemon_client_readable(int fd, GIOCondition cond, gpointer data)
{
    VhDaemonClient *c = data;
    VhDaemon *d = c->daemon;
    g_autoptr(GError) err = NULL;
    guint i;

    c->watch = 0;               /* this source ends here */
    g_clear_handle_id(&c->timeout, g_source_remove);
    if (!vh_daemon_read_request(c, &err)) {
        g_printerr("virt-hostdevd: request %" G_GUINT64_FORMAT " refused: "
                   "%s\n", c->number, err->message);
        vh_daemon_client_free(c);
        return G_SOURCE_REMOVE;
    }
    if (d->children >= VH_DAEMON_MAX_CHILDREN) {
        if (d->verbose)
            g_printerr("virt-hostdevd: request %" G_GUINT64_FORMAT ": %s: "
                       "declined: %u requests run already\n", c->number,
                       c->line, d->children);
        vh_daemon_decline(c);
        return G_SOURCE_REMOVE;
    }
    c->inventory_state = vh_daemon_refresh(d);
    fflush(NULL);
    c->pid = fork();
    if (c->pid == 0)
        vh_daemon_child(d, c);
    if (c->pid < 0 ||
        (c->pidfd = (int) syscall(SYS_pidfd_open, c->pid, 0)) < 0) {
        g_printerr("virt-hostdevd: warning: request %" G_GUINT64_FORMAT
                   ": cannot start a child: %s\n", c->number,
                   g_strerror(errno));
        if (c->pid > 0)
            (void) waitpid(c->pid, NULL, 0);
        vh_daemon_decline(c);   /* nothing was written */
        return G_SOURCE_REMOVE;
    }
    d->children++;
    for (i = 0; i < VH_DAEMON_N_FDS; i++) {
        close(c->fds[i]);
        c->fds[i] = -1;
    }
    g_unix_fd_add(c->pidfd, G_IO_IN, vh_daemon_child_done, c);
    return G_SOURCE_REMOVE;
}

static gboolean
vh_daemon_client_silent(gpointer data)
{
    VhDaemonClient *c = data;

    c->timeout = 0;             /* this source ends here */
    if (c->daemon->verbose)
        g_printerr("virt-hostdevd: request %" G_GUINT64_FORMAT ": no request "
                   "after %d s; connection closed\n", c->number,
                   VH_DAEMON_REQUEST_TIMEOUT_S);
    vh_daemon_client_free(c);
    return G_SOURCE_REMOVE;
}

static gboolean
vh_daemon_accept(int fd, GIOCondition cond, gpointer data)
{
    VhDaemon *d = data;
    int conn;

    while ((conn = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
        VhDaemonClient *c = g_new0(VhDaemonClient, 1);

        c->daemon = d;
        c->number = ++d->requests;
        c->fd = conn;
        c->pidfd = -1;
        memset(c->fds, -1, sizeof(c->fds));
        c->started = g_get_monotonic_time();
        c->watch = g_unix_fd_add(conn, G_IO_IN | G_IO_HUP | G_IO_ERR,
                                 vh_daemon_client_readable, c);
        c->timeout = g_timeout_add_seconds(VH_DAEMON_REQUEST_TIMEOUT_S,
                                           vh_daemon_client_silent, c);
    }
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        g_printerr("virt-hostdevd: warning: cannot accept a client on %s: "
                   "%s\n", d->socket_path, g_strerror(errno));
    return G_SOURCE_CONTINUE;
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
    g_main_loop_quit(d->loop);
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
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_INVALID,
                    "socket path '%s' is longer than a Unix socket allows "
                    "(%" G_GSIZE_FORMAT " bytes)", d->socket_path,
                    sizeof(addr.sun_path) - 1);
        return FALSE;
    }
    strcpy(addr.sun_path, d->socket_path);
    if (g_mkdir_with_parents(dir, 0755) < 0) {
        saved_errno = errno;
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED,
                    "cannot create %s for the socket: %s", dir,
                    g_strerror(saved_errno));
        return FALSE;
    }
    if (lstat(d->socket_path, &st) == 0) {
        if (!S_ISSOCK(st.st_mode)) {
            g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_INVALID,
                        "%s exists and is not a socket; remove it or give "
                        "another --socket", d->socket_path);
            return FALSE;
        }
        if (vh_daemon_socket_alive(&addr)) {
            g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED,
                        "another virt-hostdevd listens on %s; stop it first",
                        d->socket_path);
            return FALSE;
        }
        (void) unlink(d->socket_path);          /* left by a daemon that died */
    }
    d->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (d->listen_fd < 0 ||
        bind(d->listen_fd, (struct sockaddr *) &addr, sizeof(addr)) < 0 ||
        chmod(d->socket_path, 0666) < 0 || listen(d->listen_fd, 64) < 0) {
        saved_errno = errno;
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED,
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
        g_set_error(error, VH_SYSFS_ERROR, VH_SYSFS_ERROR_FAILED,
                    "cannot take signals: %s", g_strerror(errno));
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

gboolean
vh_daemon_run(VhDaemon *d, GError **error)
{
    /* A client that goes away mid-answer must not end the daemon; its
     * children inherit this and get EPIPE. */
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
    d->listen_watch = g_unix_fd_add(d->listen_fd, G_IO_IN, vh_daemon_accept, d);
    d->signal_watch = g_unix_fd_add(d->signal_fd, G_IO_IN, vh_daemon_signal, d);
    g_main_loop_run(d->loop);
    g_source_remove(d->listen_watch);
    g_source_remove(d->signal_watch);
    g_clear_handle_id(&d->events_watch, g_source_remove);
    g_clear_handle_id(&d->settle_timeout, g_source_remove);
    return TRUE;
}
