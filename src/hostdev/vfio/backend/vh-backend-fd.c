/*
 * vh-backend-fd.c: fd handover (SCM_RIGHTS) and closing what is not ours
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "hostdev.vfio.backend"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vh-backend-fd.h"
#include "vh-backend-proto.h"

gboolean
vh_backend_fds_send(int sock, const void *data, gsize len, const int *fds,
                    guint n_fds, GError **error)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * VH_BACKEND_MAX_FDS)];
        struct cmsghdr align;
    } control;
    struct iovec iov = { .iov_base = (void *) data, .iov_len = len };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
    gsize done = 0;

    g_return_val_if_fail(len > 0 && n_fds <= VH_BACKEND_MAX_FDS, FALSE);
    memset(&control, 0, sizeof(control));
    if (n_fds > 0) {
        struct cmsghdr *cmsg;

        msg.msg_control = control.buf;
        msg.msg_controllen = CMSG_SPACE(sizeof(int) * n_fds);
        cmsg = CMSG_FIRSTHDR(&msg);
        cmsg->cmsg_level = SOL_SOCKET;
        cmsg->cmsg_type = SCM_RIGHTS;
        cmsg->cmsg_len = CMSG_LEN(sizeof(int) * n_fds);
        memcpy(CMSG_DATA(cmsg), fds, sizeof(int) * n_fds);
    }
    /* The fds go with the first chunk; a short write sends the rest plain. */
    while (done < len) {
        ssize_t n = sendmsg(sock, &msg, MSG_NOSIGNAL);

        if (n < 0) {
            int saved_errno = errno;

            if (saved_errno == EINTR)
                continue;
            g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_FAILED,
                        "sending on the backend socket (fd %d): %s", sock,
                        g_strerror(saved_errno));
            return FALSE;
        }
        done += n;
        iov.iov_base = (char *) data + done;
        iov.iov_len = len - done;
        msg.msg_control = NULL;
        msg.msg_controllen = 0;
    }
    return TRUE;
}

gssize
vh_backend_fds_recv(int sock, void *buf, gsize len, GArray *fds,
                    GError **error)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * VH_BACKEND_MAX_FDS)];
        struct cmsghdr align;
    } control;
    struct iovec iov = { .iov_base = buf, .iov_len = len };
    struct msghdr msg = {
        .msg_iov = &iov, .msg_iovlen = 1,
        .msg_control = control.buf, .msg_controllen = sizeof(control.buf),
    };
    struct cmsghdr *cmsg;
    ssize_t n;

    do {
        n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        int saved_errno = errno;

        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_FAILED,
                    "reading the backend socket (fd %d): %s", sock,
                    g_strerror(saved_errno));
        return -1;
    }
    for (cmsg = CMSG_FIRSTHDR(&msg); cmsg; cmsg = CMSG_NXTHDR(&msg, cmsg)) {
        gsize count, i;

        if (cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS)
            continue;
        count = (cmsg->cmsg_len - CMSG_LEN(0)) / sizeof(int);
        for (i = 0; i < count; i++) {
            int fd;

            memcpy(&fd, CMSG_DATA(cmsg) + i * sizeof(int), sizeof(int));
            g_array_append_val(fds, fd);
        }
    }
    if (msg.msg_flags & MSG_CTRUNC) {
        guint i;

        for (i = 0; i < fds->len; i++)
            close(g_array_index(fds, int, i));
        g_array_set_size(fds, 0);
        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_PROTOCOL,
                    "a message on the backend socket carried more than %d "
                    "fds; refused", VH_BACKEND_MAX_FDS);
        return -1;
    }
    return n;
}

gboolean
vh_backend_fd_is_open(int fd)
{
    return fcntl(fd, F_GETFD) >= 0;
}

static int
vh_backend_int_cmp(gconstpointer a, gconstpointer b)
{
    int x = *(const int *) a;
    int y = *(const int *) b;

    return (x > y) - (x < y);
}

static gboolean
vh_backend_close_range(unsigned int first, unsigned int last, GError **error)
{
    if (first > last)
        return TRUE;
    if (close_range(first, last, 0) < 0) {
        int saved_errno = errno;

        g_set_error(error, VH_BACKEND_ERROR, VH_BACKEND_ERROR_FAILED,
                    "closing fds %u to %u: %s", first, last,
                    g_strerror(saved_errno));
        return FALSE;
    }
    return TRUE;
}

gboolean
vh_backend_fds_close_others(const int *keep, guint n_keep, GError **error)
{
    g_autoptr(GArray) sorted = g_array_new(FALSE, FALSE, sizeof(int));
    unsigned int next = 3;
    guint i;

    for (i = 0; i < n_keep; i++) {
        if (keep[i] >= 3)
            g_array_append_val(sorted, keep[i]);
    }
    g_array_sort(sorted, vh_backend_int_cmp);
    for (i = 0; i < sorted->len; i++) {
        unsigned int fd = g_array_index(sorted, int, i);

        if (fd > next && !vh_backend_close_range(next, fd - 1, error))
            return FALSE;
        next = MAX(next, fd + 1);
    }
    return vh_backend_close_range(next, ~0U, error);
}
