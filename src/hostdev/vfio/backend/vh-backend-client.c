/*
 * vh-backend-client.c: starting the backend and calling it
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "hostdev.vfio.backend"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vh-backend-client.h"
#include "vh-backend-fd.h"

#define VH_BACKEND_DEFAULT_TIMEOUT_MS 10000

struct _VhBackendClient {
    int sock;
    GPid pid;                   /* 0: not ours to reap */
    gboolean reaped;
    int status;
    GString *in;
    guint64 next_id;
    guint timeout_ms;
};

VhBackendClient *
vh_backend_client_new(int sock, GPid pid)
{
    VhBackendClient *c = g_new0(VhBackendClient, 1);

    c->sock = sock;
    c->pid = pid;
    c->in = g_string_new(NULL);
    c->next_id = 1;
    c->timeout_ms = VH_BACKEND_DEFAULT_TIMEOUT_MS;
    return c;
}

GPid
vh_backend_client_get_pid(const VhBackendClient *c)
{
    return c->pid;
}

/* Reap the backend, waiting up to @timeout_ms; TRUE when it is gone. */
static gboolean
vh_backend_client_reap(VhBackendClient *c, guint timeout_ms)
{
    gint64 deadline = g_get_monotonic_time() + timeout_ms * 1000;

    if (c->pid <= 0 || c->reaped)
        return TRUE;
    for (;;) {
        pid_t r = waitpid(c->pid, &c->status, WNOHANG);

        if (r == c->pid || (r < 0 && errno != EINTR)) {
            c->reaped = TRUE;
            return TRUE;
        }
        if (g_get_monotonic_time() >= deadline)
            return FALSE;
        g_usleep(2000);
    }
}

void
vh_backend_client_free(VhBackendClient *c)
{
    if (!c)
        return;
    if (c->sock >= 0)
        close(c->sock);
    /* Without its socket the backend exits by itself; make sure. */
    if (c->pid > 0 && !vh_backend_client_reap(c, 5000)) {
        kill(c->pid, SIGKILL);
        vh_backend_client_reap(c, 5000);
    }
    g_string_free(c->in, TRUE);
    g_free(c);
}

/* "exited with status 1" / "was killed by signal 9" / "is still running" */
static char *
vh_backend_client_describe_exit(VhBackendClient *c)
{
    if (c->pid <= 0)
        return g_strdup("is not ours to wait for");
    if (!vh_backend_client_reap(c, 1000))
        return g_strdup("is still running");
    if (WIFEXITED(c->status))
        return g_strdup_printf("exited with status %d", WEXITSTATUS(c->status));
    if (WIFSIGNALED(c->status))
        return g_strdup_printf("was killed by signal %d (%s)",
                               WTERMSIG(c->status),
                               g_strsignal(WTERMSIG(c->status)));
    return g_strdup("ended");
}

/* One reply line into *ret_line, waiting to the deadline. */
static gboolean
vh_backend_client_read_line(VhBackendClient *c, const char *cmd,
                            char **ret_line, GError **error)
{
    gint64 deadline = g_get_monotonic_time() + c->timeout_ms * 1000;
    char buf[4096];

    for (;;) {
        char *nl = memchr(c->in->str, '\n', c->in->len);
        struct pollfd p = { .fd = c->sock, .events = POLLIN };
        gint64 left;
        ssize_t n;
        int r;

        if (nl) {
            *ret_line = g_strndup(c->in->str, nl - c->in->str);
            g_string_erase(c->in, 0, nl - c->in->str + 1);
            return TRUE;
        }
        left = (deadline - g_get_monotonic_time()) / 1000;
        if (left <= 0) {
            g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_TIMEOUT,
                        "backend (pid %d) did not answer \"%s\" within %u ms",
                        c->pid, cmd, c->timeout_ms);
            return FALSE;
        }
        r = poll(&p, 1, (int) left);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int saved_errno = errno;

            g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_FAILED,
                        "waiting for the backend: %s", g_strerror(saved_errno));
            return FALSE;
        }
        if (r == 0)
            continue;
        n = recv(c->sock, buf, sizeof(buf), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int saved_errno = errno;
            g_autofree char *how = vh_backend_client_describe_exit(c);

            g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_FAILED,
                        "backend (pid %d) %s before answering \"%s\"%s%s; its "
                        "own message, if any, is on standard error above",
                        c->pid, how, cmd, n < 0 ? ": " : "",
                        n < 0 ? g_strerror(saved_errno) : "");
            return FALSE;
        }
        g_string_append_len(c->in, buf, n);
    }
}

gboolean
vh_backend_client_call(VhBackendClient *c, const char *cmd,
                       const char *fields, const int *fds, guint n_fds,
                       VhJson *ret_reply, GError **error)
{
    g_autofree char *line = NULL;
    g_autofree char *req = vh_backend_request_format(c->next_id, cmd, fields);
    g_auto(VhJson) reply = NULL;
    char errbuf[256] = "";
    guint64 id;
    yajl_val v;

    c->next_id++;
    if (!vh_backend_fds_send(c->sock, req, strlen(req), fds, n_fds, error)) {
        g_autofree char *how = vh_backend_client_describe_exit(c);

        /* Most likely it is gone: say how it ended. */
        g_prefix_error(error, "backend (pid %d) %s before answering \"%s\"; "
                       "its own message, if any, is on standard error above: ",
                       c->pid, how, cmd);
        return FALSE;
    }
    if (!vh_backend_client_read_line(c, cmd, &line, error))
        return FALSE;
    if (!(reply = yajl_tree_parse(line, errbuf, sizeof(errbuf))) ||
        !YAJL_IS_OBJECT(reply)) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_PROTOCOL,
                    "backend answered \"%s\" with something not a JSON "
                    "object: %.200s", cmd, line);
        return FALSE;
    }
    if (!vh_backend_reply_get_uint(reply, "id", &id, NULL) ||
        id != c->next_id - 1) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_PROTOCOL,
                    "backend answered \"%s\" with a reply to another request: "
                    "%.200s", cmd, line);
        return FALSE;
    }
    {
        const char *path[] = { "ok", NULL };

        v = yajl_tree_get(reply, path, yajl_t_any);
    }
    if (!v || !(YAJL_IS_TRUE(v) || YAJL_IS_FALSE(v))) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_PROTOCOL,
                    "backend's reply to \"%s\" has no \"ok\": %.200s", cmd,
                    line);
        return FALSE;
    }
    if (YAJL_IS_FALSE(v)) {
        const char *msg = vh_backend_reply_get_string(reply, "error");

        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_FAILED, "%s",
                    msg ? msg : "the backend gave no reason");
        return FALSE;
    }
    if (ret_reply)
        *ret_reply = g_steal_pointer(&reply);
    return TRUE;
}

gboolean
vh_backend_client_quit(VhBackendClient *c, int *ret_status, GError **error)
{
    if (!vh_backend_client_call(c, "quit", NULL, NULL, 0, NULL, error))
        return FALSE;
    if (!vh_backend_client_reap(c, 5000)) {
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_TIMEOUT,
                    "backend (pid %d) answered \"quit\" but did not exit "
                    "within 5 s", c->pid);
        return FALSE;
    }
    if (ret_status)
        *ret_status = c->status;
    return TRUE;
}

static yajl_val
vh_backend_reply_field(yajl_val reply, const char *key)
{
    const char *path[] = { key, NULL };

    return yajl_tree_get(reply, path, yajl_t_any);
}

gboolean
vh_backend_reply_get_uint(yajl_val reply, const char *key,
                          guint64 *ret_value, GError **error)
{
    yajl_val v = vh_backend_reply_field(reply, key);
    guint64 value;

    if (v && YAJL_IS_INTEGER(v) && YAJL_GET_INTEGER(v) >= 0) {
        *ret_value = YAJL_GET_INTEGER(v);
        return TRUE;
    }
    /* Past 2^63 yajl keeps the digits only as text. */
    if (v && YAJL_IS_NUMBER(v) &&
        g_ascii_string_to_unsigned(YAJL_GET_NUMBER(v), 10, 0, G_MAXUINT64,
                                   &value, NULL)) {
        *ret_value = value;
        return TRUE;
    }
    g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_PROTOCOL,
                "backend reply has no unsigned integer \"%s\"", key);
    return FALSE;
}

const char *
vh_backend_reply_get_string(yajl_val reply, const char *key)
{
    yajl_val v = vh_backend_reply_field(reply, key);

    return v && YAJL_IS_STRING(v) ? YAJL_GET_STRING(v) : NULL;
}

gboolean
vh_backend_reply_get_bool(yajl_val reply, const char *key)
{
    yajl_val v = vh_backend_reply_field(reply, key);

    return v && YAJL_IS_TRUE(v);
}

/* ---- spawning ----------------------------------------------------------- */

/*
 * In the child, before exec, while it is still root: a prlimit() from the
 * parent afterwards would race with the backend's drop to another uid
 * (and needs CAP_SYS_RESOURCE, which root may lack in a container).  Only
 * async-signal-safe calls here.
 */
static void
vh_backend_child_memlock(gpointer data)
{
    static const char msg[] = "virt-hostdev-backend: setting RLIMIT_MEMLOCK "
                              "before exec failed; is the manager root?\n";
    const guint64 *bytes = data;
    struct rlimit lim = { .rlim_cur = *bytes, .rlim_max = *bytes };

    if (setrlimit(RLIMIT_MEMLOCK, &lim) < 0) {
        if (write(2, msg, sizeof(msg) - 1) < 0) {
            /* nothing more to say */
        }
        _exit(126);
    }
}

VhBackendClient *
vh_backend_client_spawn(const VhBackendLaunch *l, GError **error)
{
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(VhBackendClient) c = NULL;
    const char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C",
                           NULL };
    int source[3], target[3];
    gsize n_fds = 0;
    int sv[2];
    GPid pid;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        int saved_errno = errno;

        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_FAILED,
                    "socketpair for the backend: %s", g_strerror(saved_errno));
        return NULL;
    }
    g_ptr_array_add(argv, g_strdup(l->program));
    g_ptr_array_add(argv, g_strdup("--socket-fd=3"));
    g_ptr_array_add(argv, g_strdup_printf("--device=%s", l->device));
    g_ptr_array_add(argv, g_strdup_printf("--uid=%u", l->uid));
    g_ptr_array_add(argv, g_strdup_printf("--gid=%u", l->gid));
    source[n_fds] = sv[1];
    target[n_fds++] = 3;
    if (l->group_fd >= 0 && l->pass == VH_BACKEND_PASS_INHERIT) {
        g_ptr_array_add(argv, g_strdup("--group-fd=4"));
        g_ptr_array_add(argv, g_strdup_printf("--group=%d", l->group_id));
        source[n_fds] = l->group_fd;
        target[n_fds++] = 4;
        if (l->container_fd >= 0) {
            g_ptr_array_add(argv, g_strdup("--container-fd=5"));
            source[n_fds] = l->container_fd;
            target[n_fds++] = 5;
        }
    }
    g_ptr_array_add(argv, NULL);

    /* Every other fd is closed in the child: GLib does that unless told
     * G_SPAWN_LEAVE_DESCRIPTORS_OPEN. */
    if (!g_spawn_async_with_pipes_and_fds(NULL,
                                          (const char *const *) argv->pdata,
                                          envp,
                                          G_SPAWN_DO_NOT_REAP_CHILD |
                                          G_SPAWN_STDIN_FROM_DEV_NULL |
                                          G_SPAWN_STDOUT_TO_DEV_NULL,
                                          l->memlock ? vh_backend_child_memlock
                                                     : NULL,
                                          (gpointer) &l->memlock, -1, -1, -1,
                                          source, target, n_fds, &pid,
                                          NULL, NULL, NULL, error)) {
        close(sv[0]);
        close(sv[1]);
        g_prefix_error(error, "starting the backend %s: ", l->program);
        return NULL;
    }
    close(sv[1]);
    c = vh_backend_client_new(sv[0], pid);
    if (l->timeout_ms)
        c->timeout_ms = l->timeout_ms;
    if (l->group_fd >= 0 && l->pass == VH_BACKEND_PASS_SOCKET) {
        g_autofree char *fields = g_strdup_printf("\"group\":%d", l->group_id);
        int fds[2] = { l->group_fd, l->container_fd };

        if (!vh_backend_client_call(c, "handover", fields, fds,
                                    l->container_fd >= 0 ? 2 : 1, NULL,
                                    error)) {
            g_prefix_error(error, "handing %s's group over to the backend: ",
                           l->device);
            return NULL;
        }
    }
    if (!vh_backend_client_call(c, "status", NULL, NULL, 0, NULL, error))
        return NULL;
    return g_steal_pointer(&c);
}
