/*
 * vh-vfio-ops.c: the real kernel behind the VhVfioOps seam
 *
 * Each function saves errno right after its syscall and returns -errno.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define G_LOG_DOMAIN "hostdev.vfio"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include "vh-vfio.h"

static int
kernel_open(gpointer data, const char *path)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);

    return fd < 0 ? -errno : fd;
}

static int
kernel_close(gpointer data, int fd)
{
    return close(fd) < 0 ? -errno : 0;
}

static int
kernel_ioctl(gpointer data, int fd, unsigned long request, void *arg)
{
    int ret = ioctl(fd, request, arg);

    return ret < 0 ? -errno : ret;
}

static gssize
kernel_pread(gpointer data, int fd, void *buf, gsize count, off_t offset)
{
    gssize ret = pread(fd, buf, count, offset);

    return ret < 0 ? -errno : ret;
}

static gssize
kernel_pwrite(gpointer data, int fd, const void *buf, gsize count,
              off_t offset)
{
    gssize ret = pwrite(fd, buf, count, offset);

    return ret < 0 ? -errno : ret;
}

static int
kernel_mmap(gpointer data, int fd, gsize length, int prot, off_t offset,
            void **ret_addr)
{
    void *addr = mmap(NULL, length, prot, MAP_SHARED, fd, offset);

    if (addr == MAP_FAILED)
        return -errno;
    *ret_addr = addr;
    return 0;
}

static int
kernel_munmap(gpointer data, void *addr, gsize length)
{
    return munmap(addr, length) < 0 ? -errno : 0;
}

static int
kernel_eventfd(gpointer data)
{
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

    return fd < 0 ? -errno : fd;
}

static int
kernel_eventfd_wait(gpointer data, int fd, int timeout_ms,
                    guint64 *ret_count)
{
    struct pollfd pfd = { .fd = fd, .events = POLLIN };
    guint64 count = 0;
    int ret;

    do {
        ret = poll(&pfd, 1, timeout_ms);
    } while (ret < 0 && errno == EINTR);
    if (ret < 0)
        return -errno;
    if (ret == 0)
        return -ETIMEDOUT;
    if (read(fd, &count, sizeof(count)) != sizeof(count))
        return -errno;
    *ret_count = count;
    return 0;
}

static gsize
kernel_page_size(gpointer data)
{
    return (gsize) sysconf(_SC_PAGESIZE);
}

static int
kernel_memlock_limit(gpointer data, guint64 *ret_limit)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_MEMLOCK, &rl) < 0)
        return -errno;
    *ret_limit = rl.rlim_cur == RLIM_INFINITY ? G_MAXUINT64 : rl.rlim_cur;
    return 0;
}

static const VhVfioOps kernel_ops = {
    .open = kernel_open,
    .close = kernel_close,
    .ioctl = kernel_ioctl,
    .pread = kernel_pread,
    .pwrite = kernel_pwrite,
    .mmap = kernel_mmap,
    .munmap = kernel_munmap,
    .eventfd = kernel_eventfd,
    .eventfd_wait = kernel_eventfd_wait,
    .page_size = kernel_page_size,
    .memlock_limit = kernel_memlock_limit,
};

const VhVfioOps *
vh_vfio_ops_kernel(void)
{
    return &kernel_ops;
}
