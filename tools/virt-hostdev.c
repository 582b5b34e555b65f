/*
 * virt-hostdev: the command users run
 *
 * A small front that links only libc: the node-device queries (nodedev-list,
 * nodedev-dumpxml) go to virt-hostdevd when one listens, which answers from
 * the devices it keeps in memory; everything else, and every query the
 * daemon declines or cannot take, runs in virt-hostdev-cli, the real
 * command line, exec'd with the same arguments.  Under QEMU's TCG a start
 * of the full program (GLib, libxml2, libpci) costs ten times that of this
 * one (bench/README.rst).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vh-config.h"
#include "vh-daemon-proto.h"

extern char **environ;

/* The global options that take a value (tools/vh-cli.c). */
static const char *const vh_front_valued[] = {
    "--sysfs-root", "--proc-root", "--state-dir",
};

/* The verbs virt-hostdevd answers. */
static const char *const vh_front_served[] = {
    "nodedev-list", "nodedev-dumpxml",
};

static int
vh_front_in(const char *s, const char *const *set, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (strcmp(s, set[i]) == 0)
            return 1;
    }
    return 0;
}

/* 1 when the verb is one the daemon answers; any doubt is a no. */
static int
vh_front_is_query(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        char name[32];

        if (argv[i][0] != '-')
            return vh_front_in(argv[i], vh_front_served,
                               sizeof(vh_front_served) / sizeof(*vh_front_served));
        if (eq && (size_t) (eq - argv[i]) < sizeof(name)) {
            memcpy(name, argv[i], eq - argv[i]);
            name[eq - argv[i]] = '\0';
            if (vh_front_in(name, vh_front_valued, 3))
                continue;
            return 0;
        }
        if (!vh_front_in(argv[i], vh_front_valued, 3))
            return 0;
        i++;                    /* its value */
    }
    return 0;
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

/*
 * Ask the daemon at @path to run the command: its exit status, or -1 when
 * the command is to run here (no daemon, it declined, the request does not
 * fit).  Past the request, a daemon that ends without an answer is an
 * error: the command may have written part of its output.
 */
static int
vh_front_ask(const char *path, int argc, char **argv)
{
    static char buf[VH_DAEMON_REQUEST_MAX];
    VhDaemonRequest req = { .magic = VH_DAEMON_MAGIC };
    VhDaemonReply reply;
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
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
    ssize_t n;
    int sock;
    int cwd;
    int i;

    if (strlen(path) >= sizeof(addr.sun_path))
        return -1;
    strcpy(addr.sun_path, path);
    for (i = 1; i < argc; i++) {
        if (!vh_front_put(buf, &len, argv[i]))
            return -1;
        req.argc++;
    }
    for (env = environ; *env; env++) {
        if (!vh_daemon_env_forwarded(*env) ||
            strncmp(*env, VH_DAEMON_SOCKET_ENV "=",
                    strlen(VH_DAEMON_SOCKET_ENV) + 1) == 0)
            continue;
        if (!vh_front_put(buf, &len, *env))
            return -1;
        req.envc++;
    }
    memcpy(buf, &req, sizeof(req));

    sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (sock < 0)
        return -1;
    if (connect(sock, (struct sockaddr *) &addr, sizeof(addr)) < 0) {
        close(sock);
        return -1;
    }
    cwd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (cwd < 0) {
        close(sock);
        return -1;
    }
    fds[0] = STDOUT_FILENO;
    fds[1] = STDERR_FILENO;
    fds[2] = cwd;
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
    /* A closed standard output or error cannot be sent: run here. */
    if (sendmsg(sock, &msg, MSG_NOSIGNAL) != (ssize_t) len) {
        close(cwd);
        close(sock);
        return -1;
    }
    close(cwd);
    do {
        n = recv(sock, &reply, sizeof(reply), 0);
    } while (n < 0 && errno == EINTR);
    close(sock);
    if (n != (ssize_t) sizeof(reply) ||
        memcmp(reply.magic, VH_DAEMON_MAGIC, VH_DAEMON_MAGIC_LEN) != 0) {
        fprintf(stderr, "virt-hostdev: virt-hostdevd at %s ended without an "
                "answer; run the command again, or without the daemon "
                "(%s= virt-hostdev ...)\n", path, VH_DAEMON_SOCKET_ENV);
        return 1;
    }
    if (reply.status == VH_DAEMON_DECLINED)
        return -1;
    return reply.status;
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
    if (*path && vh_front_is_query(argc, argv) &&
        (status = vh_front_ask(path, argc, argv)) >= 0)
        return status;
    return vh_front_exec(argv);
}
