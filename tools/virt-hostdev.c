/*
 * virt-hostdev: the command users run
 *
 * A small front that links only libc: the node-device queries (nodedev-list,
 * nodedev-dumpxml) and the verbs that move devices (nodedev-detach,
 * nodedev-reattach, nodedev-reset) go to virt-hostdevd when one listens,
 * which answers the queries from the devices it keeps in memory and runs
 * the others as libvirtd runs virsh's; everything else, and every command
 * the daemon declines or cannot take, runs in virt-hostdev-cli, the real
 * command line, exec'd with the same arguments.  Under QEMU's TCG a start
 * of the full program (GLib, libxml2, libpci) costs ten times that of this
 * one (bench/README.rst).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vh-config.h"
#include "vh-daemon-proto.h"

extern char **environ;

/* 1 when the verb is one the daemon answers; any doubt is a no. */
static int
vh_front_is_served(int argc, char **argv)
{
    const char *verb = vh_daemon_verb_of(argc, argv);

    return verb && vh_daemon_verb_served(verb);
}

/* Append @s with its NUL to @buf; 0 when it does not fit. */
static int
vh_front_put(char *buf, size_t *len, const char *s)
{
    size_t n = strlen(s) + 1;

    if (n > VH_DAEMON_REQUEST_MAX - *len)
        return 0;
    memcpy(buf + *len, s, n);
    *len += n;
    return 1;
}

/* One reply within @timeout_ms (-1: no limit); 0 when none came. */
static int
vh_front_reply(int sock, int timeout_ms, VhDaemonReply *reply)
{
    struct pollfd pfd = { .fd = sock, .events = POLLIN };
    ssize_t n;
    int rc;

    do {
        rc = poll(&pfd, 1, timeout_ms);
    } while (rc < 0 && errno == EINTR);
    if (rc <= 0)
        return 0;
    do {
        n = recv(sock, reply, sizeof(*reply), MSG_DONTWAIT);
    } while (n < 0 && errno == EINTR);
    return n == (ssize_t) sizeof(*reply) &&
           memcmp(reply->magic, VH_DAEMON_MAGIC, VH_DAEMON_MAGIC_LEN) == 0;
}

/* Send the request; 0 when it cannot be sent. */
static int
vh_front_send(int sock, int argc, char **argv)
{
    static char buf[VH_DAEMON_REQUEST_MAX];
    VhDaemonRequest req = { .magic = VH_DAEMON_MAGIC };
    union {
        struct cmsghdr align;
        char data[CMSG_SPACE(sizeof(int) * VH_DAEMON_N_FDS)];
    } control;
    struct iovec iov;
    struct msghdr msg = { 0 };
    struct cmsghdr *cmsg;
    int fds[VH_DAEMON_N_FDS];
    size_t len = sizeof(req);
    char **env;
    int sent;
    int i;

    for (i = 1; i < argc; i++) {
        if (!vh_front_put(buf, &len, argv[i]))
            return 0;
        req.argc++;
    }
    for (env = environ; *env; env++) {
        if (!vh_daemon_env_forwarded(*env))
            continue;
        if (!vh_front_put(buf, &len, *env))
            return 0;
        req.envc++;
    }
    memcpy(buf, &req, sizeof(req));

    fds[0] = STDOUT_FILENO;
    fds[1] = STDERR_FILENO;
    fds[2] = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fds[2] < 0)
        return 0;
    iov.iov_base = buf;
    iov.iov_len = len;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control.data;
    msg.msg_controllen = sizeof(control.data);
    cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(fds));
    memcpy(CMSG_DATA(cmsg), fds, sizeof(fds));
    sent = sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t) len;
    close(fds[2]);
    return sent;
}

/*
 * Ask the daemon at @path to run the command: its exit status, or -1 when
 * the command is to run here (no daemon, it declined or did not accept in
 * time; nothing was written then).  A daemon that ends without an answer
 * once it accepted is an error: the command may have written part of its
 * output.  A command ended by a signal ends this process by the same.
 */
static int
vh_front_ask(const char *path, int argc, char **argv)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    VhDaemonReply reply;
    int sock;

    /* Only the daemon's user may connect (its socket is 0600: EACCES for
     * others); a closed standard output or error would be the socket's own
     * number. */
    if (strlen(path) >= sizeof(addr.sun_path) ||
        fcntl(STDOUT_FILENO, F_GETFD) < 0 || fcntl(STDERR_FILENO, F_GETFD) < 0)
        return -1;
    strcpy(addr.sun_path, path);
    /* Non-blocking: a daemon whose backlog is full is not waited for. */
    sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (sock < 0)
        return -1;
    /* Past the deadline the command runs here, and the daemon, which
     * waits for the go, drops it when the connection closes. */
    if (connect(sock, (struct sockaddr *) &addr, sizeof(addr)) < 0 ||
        !vh_front_send(sock, argc, argv) ||
        !vh_front_reply(sock, VH_DAEMON_ACCEPT_TIMEOUT_MS, &reply) ||
        reply.kind != VH_DAEMON_ACCEPTED ||
        send(sock, VH_DAEMON_GO, strlen(VH_DAEMON_GO), MSG_NOSIGNAL) !=
        (ssize_t) strlen(VH_DAEMON_GO)) {
        close(sock);
        return -1;
    }
    if (!vh_front_reply(sock, -1, &reply) ||
        (reply.kind != VH_DAEMON_EXITED && reply.kind != VH_DAEMON_SIGNALED &&
         reply.kind != VH_DAEMON_DECLINED)) {
        const char *verb = vh_daemon_verb_of(argc, argv);

        close(sock);
        if (verb && vh_daemon_verb_changes(verb))
            fprintf(stderr, "virt-hostdev: virt-hostdevd at %s ended without "
                    "an answer; the %s may have run, in whole or in part, or "
                    "may still run: see `virt-hostdev who-holds DEVICE`, and "
                    "`virt-hostdev recover` once it is over\n", path, verb);
        else
            fprintf(stderr, "virt-hostdev: virt-hostdevd at %s ended without "
                    "an answer; run the command again, or without the daemon "
                    "(%s= virt-hostdev ...)\n", path, VH_DAEMON_SOCKET_ENV);
        return 1;
    }
    close(sock);
    if (reply.kind == VH_DAEMON_DECLINED)
        return -1;
    if (reply.kind == VH_DAEMON_SIGNALED) {
        signal(reply.value, SIG_DFL);
        raise(reply.value);
        return 128 + reply.value;
    }
    return reply.value;
}
/* The full command line: next to this program (a build tree), else where
 * it is installed. */
static int
vh_front_exec(char **argv)
{
    char self[PATH_MAX];
    char sibling[PATH_MAX + sizeof("/virt-hostdev-cli")];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    char *slash;

    if (n > 0) {
        self[n] = '\0';
        if ((slash = strrchr(self, '/'))) {
            *slash = '\0';
            snprintf(sibling, sizeof(sibling), "%s/virt-hostdev-cli", self);
            if (access(sibling, X_OK) == 0)
                execv(sibling, argv);
        }
    }
    execv(VH_CLI_INSTALLED, argv);
    fprintf(stderr, "virt-hostdev: cannot run %s: %s; reinstall virt-hostdev\n",
            VH_CLI_INSTALLED, strerror(errno));
    return 1;
}

int
main(int argc, char **argv)
{
    const char *path = getenv(VH_DAEMON_SOCKET_ENV);
    int status;

    if (!path)
        path = VH_DEFAULT_SOCKET;
    if (*path && vh_front_is_served(argc, argv) &&
        (status = vh_front_ask(path, argc, argv)) >= 0)
        return status;
    return vh_front_exec(argv);
}
