/*
 * test-backend-process.c: the backend as a process: fd handover over a
 * socket (SCM_RIGHTS), closing what it was not given, dropping root for
 * good, the serve loop, and virt-hostdev-backend started the way the
 * manager starts it, looked at from outside through /proc
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vh-backend.h"
#include "vh-backend-client.h"
#include "vh-backend-fd.h"
#include "vh-backend-privs.h"

#define NOBODY 65534

static gboolean
same_file(int a, int b)
{
    struct stat sa, sb;

    return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
           sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

static void
test_fds_roundtrip(void)
{
    g_autoptr(GArray) got = g_array_new(FALSE, FALSE, sizeof(int));
    g_autoptr(GError) err = NULL;
    char buf[64] = "";
    int sv[2], p[2], fds[2];
    gssize n;

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    g_assert_cmpint(pipe(p), ==, 0);
    fds[0] = p[0];
    fds[1] = p[1];
    g_assert_true(vh_backend_fds_send(sv[0], "hello\n", 6, fds, 2, &err));
    g_assert_no_error(err);
    n = vh_backend_fds_recv(sv[1], buf, sizeof(buf), got, &err);
    g_assert_no_error(err);
    g_assert_cmpint(n, ==, 6);
    g_assert_cmpmem(buf, 6, "hello\n", 6);
    g_assert_cmpuint(got->len, ==, 2);
    /* New numbers for the same open files, close-on-exec. */
    g_assert_true(same_file(g_array_index(got, int, 0), p[0]));
    g_assert_true(same_file(g_array_index(got, int, 1), p[1]));
    g_assert_cmpint(fcntl(g_array_index(got, int, 0), F_GETFD) & FD_CLOEXEC,
                    ==, FD_CLOEXEC);
    close(g_array_index(got, int, 0));
    close(g_array_index(got, int, 1));
    close(p[0]);
    close(p[1]);
    close(sv[0]);
    close(sv[1]);
}

/* More fds than the backend accepts: refused, and none is left open. */
static void
test_fds_too_many(void)
{
    g_autoptr(GArray) got = g_array_new(FALSE, FALSE, sizeof(int));
    g_autoptr(GError) err = NULL;
    union {
        char buf[CMSG_SPACE(sizeof(int) * 8)];
        struct cmsghdr align;
    } control;
    struct iovec iov = { .iov_base = (void *) "x", .iov_len = 1 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = control.buf,
                          .msg_controllen = sizeof(control.buf) };
    struct cmsghdr *cmsg;
    int sv[2], fds[8], i, before;
    char buf[8];

    memset(&control, 0, sizeof(control));
    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), ==, 0);
    for (i = 0; i < 8; i++)
        fds[i] = sv[0];
    cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(fds));
    memcpy(CMSG_DATA(cmsg), fds, sizeof(fds));
    g_assert_cmpint(sendmsg(sv[0], &msg, 0), ==, 1);
    before = dup(0);
    close(before);
    g_assert_cmpint(vh_backend_fds_recv(sv[1], buf, sizeof(buf), got, &err),
                    ==, -1);
    g_assert_error(err, VH_BACKEND_ERROR, VH_BACKEND_ERROR_PROTOCOL);
    g_assert_cmpuint(got->len, ==, 0);
    /* The lowest free fd is what it was: nothing leaked. */
    i = dup(0);
    g_assert_cmpint(i, ==, before);
    close(i);
    close(sv[0]);
    close(sv[1]);
}

/* In a child: everything but the kept fds (and 0-2) is closed. */
static void
test_close_others(void)
{
    if (g_test_subprocess()) {
        g_autoptr(GError) err = NULL;
        int keep[2], a = open("/dev/null", O_RDONLY), b = dup(a), c = dup(a);
        int high = dup2(a, 200);

        keep[0] = c;
        keep[1] = c;    /* duplicates do not matter */
        g_assert_true(vh_backend_fds_close_others(keep, 2, &err));
        g_assert_no_error(err);
        g_assert_false(vh_backend_fd_is_open(a));
        g_assert_false(vh_backend_fd_is_open(b));
        g_assert_false(vh_backend_fd_is_open(high));
        g_assert_true(vh_backend_fd_is_open(c));
        g_assert_true(vh_backend_fd_is_open(2));
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
}

static void
test_drop_privileges(void)
{
    if (geteuid() != 0) {
        g_test_skip("needs root: the drop from root to nobody is tested");
        return;
    }
    if (g_test_subprocess()) {
        g_autoptr(GError) err = NULL;
        VhBackendCreds c;

        g_assert_true(vh_backend_drop_privileges(NOBODY, NOBODY, &err));
        g_assert_no_error(err);
        g_assert_true(vh_backend_creds_get(&c, &err));
        g_assert_cmpuint(c.ruid, ==, NOBODY);
        g_assert_cmpuint(c.euid, ==, NOBODY);
        g_assert_cmpuint(c.suid, ==, NOBODY);
        g_assert_cmpuint(c.rgid, ==, NOBODY);
        g_assert_cmpuint(c.sgid, ==, NOBODY);
        g_assert_cmpuint(c.n_groups, ==, 0);
        g_assert_cmpuint(c.cap_effective, ==, 0);
        g_assert_cmpuint(c.cap_permitted, ==, 0);
        g_assert_cmpint(c.no_new_privs, ==, 1);
        g_assert_cmpint(setuid(0), ==, -1);
        g_assert_cmpint(seteuid(0), ==, -1);
        return;
    }
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
    g_test_trap_assert_passed();
}

static void
test_drop_to_root_refused(void)
{
    g_autoptr(GError) err = NULL;

    g_assert_false(vh_backend_drop_privileges(0, 0, &err));
    g_assert_error(err, VH_BACKEND_ERROR, VH_BACKEND_ERROR_INVALID);
    g_assert_nonnull(strstr(err->message, "uid 0 would keep root"));
    g_assert_cmpint(geteuid(), ==, getuid());
}

/* ---- the serve loop, over a socketpair, in a child ---------------------- */

/* A backend serving one end of a socketpair in a child; the other end in
 * *ret_sock, the child's pid returned.  @null_error: the child passes no
 * GError (the GLib contract allows it). */
static pid_t
serve_in_child(int *ret_sock, gboolean null_error)
{
    int sv[2];
    pid_t pid;

    g_assert_cmpint(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv),
                    ==, 0);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        g_autoptr(GError) err = NULL;
        VhBackend *b;

        close(sv[0]);
        b = vh_backend_new(vh_vfio_ops_kernel(), NULL, sv[1], "0000:00:03.0");
        _exit(vh_backend_serve(b, null_error ? NULL : &err) ? 0 : 1);
    }
    close(sv[1]);
    *ret_sock = sv[0];
    return pid;
}

static void
test_serve(void)
{
    g_autoptr(VhBackendClient) c = NULL;
    g_autoptr(GError) err = NULL;
    g_auto(VhJson) reply = NULL;
    guint64 pid = 0;
    int status = -1;
    int p[2], sock;
    pid_t child = serve_in_child(&sock, FALSE);

    c = vh_backend_client_new(sock, child);
    g_assert_true(vh_backend_client_call(c, "status", NULL, NULL, 0, &reply,
                                         &err));
    g_assert_no_error(err);
    g_assert_true(vh_backend_reply_get_uint(reply, "pid", &pid, &err));
    g_assert_cmpuint(pid, ==, vh_backend_client_get_pid(c));

    /* A bad request gets an error, and the backend carries on. */
    g_assert_false(vh_backend_client_call(c, "config-read",
                                          "\"offset\":0", NULL, 0, NULL,
                                          &err));
    g_assert_error(err, VH_BACKEND_ERROR, VH_BACKEND_ERROR_FAILED);
    g_assert_nonnull(strstr(err->message, "no device open yet"));
    g_clear_error(&err);

    /* A handover whose "group" fd is a pipe: the library refuses it. */
    g_assert_cmpint(pipe(p), ==, 0);
    g_assert_false(vh_backend_client_call(c, "handover", "\"group\":3", p, 1,
                                          NULL, &err));
    g_assert_error(err, VH_BACKEND_ERROR, VH_BACKEND_ERROR_FAILED);
    g_test_message("handover of a pipe: %s", err->message);
    g_clear_error(&err);
    close(p[0]);
    close(p[1]);

    g_assert_true(vh_backend_client_quit(c, &status, &err));
    g_assert_no_error(err);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

/* Raw lines: garbage, an empty line, one longer than the limit. */
static void
test_serve_raw(void)
{
    g_autofree char *huge = g_malloc(VH_BACKEND_MAX_LINE + 100);
    GString *in = g_string_new(NULL);
    char buf[4096];
    int sock, status = -1;
    pid_t child = serve_in_child(&sock, FALSE);
    gssize n;

    memset(huge, 'x', VH_BACKEND_MAX_LINE + 99);
    huge[VH_BACKEND_MAX_LINE + 99] = '\n';
    g_assert_cmpint(write(sock, "not json\n\n", 10), ==, 10);
    g_assert_cmpint(write(sock, huge, VH_BACKEND_MAX_LINE + 100), ==,
                    VH_BACKEND_MAX_LINE + 100);
    g_assert_cmpint(write(sock, "{\"id\":5,\"cmd\":\"quit\"}\n", 22), ==, 22);
    while ((n = read(sock, buf, sizeof(buf))) > 0)
        g_string_append_len(in, buf, n);
    g_assert_cmpstr(in->str, ==,
                    "{\"id\":null,\"ok\":false,\"error\":\"request is not JSON: "
                    "lexical error: invalid string in json text.\"}\n"
                    "{\"id\":null,\"ok\":false,\"error\":\"request line longer "
                    "than 65536 bytes; skipped\"}\n"
                    "{\"id\":5,\"ok\":true}\n");
    g_string_free(in, TRUE);
    close(sock);
    g_assert_cmpint(waitpid(child, &status, 0), ==, child);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

/* A message with more fds than the backend accepts, to a serve loop given
 * no GError: an error reply, then the loop goes on to the next request. */
static void
test_serve_too_many_fds(void)
{
    union {
        char buf[CMSG_SPACE(sizeof(int) * (VH_BACKEND_MAX_FDS + 1))];
        struct cmsghdr align;
    } control;
    struct iovec iov = { .iov_base = (void *) "\n", .iov_len = 1 };
    struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
                          .msg_control = control.buf,
                          .msg_controllen = sizeof(control.buf) };
    int fds[VH_BACKEND_MAX_FDS + 1];
    struct cmsghdr *cmsg;
    GString *in = g_string_new(NULL);
    char buf[4096];
    int sock, status = -1;
    pid_t child = serve_in_child(&sock, TRUE);
    gssize n;
    guint i;

    memset(&control, 0, sizeof(control));
    for (i = 0; i < G_N_ELEMENTS(fds); i++)
        fds[i] = sock;
    cmsg = CMSG_FIRSTHDR(&msg);
    cmsg->cmsg_level = SOL_SOCKET;
    cmsg->cmsg_type = SCM_RIGHTS;
    cmsg->cmsg_len = CMSG_LEN(sizeof(fds));
    memcpy(CMSG_DATA(cmsg), fds, sizeof(fds));
    g_assert_cmpint(sendmsg(sock, &msg, 0), ==, 1);
    g_assert_cmpint(write(sock, "{\"id\":5,\"cmd\":\"quit\"}\n", 22), ==, 22);
    while ((n = read(sock, buf, sizeof(buf))) > 0)
        g_string_append_len(in, buf, n);
    g_assert_cmpstr(in->str, ==,
                    "{\"id\":null,\"ok\":false,\"error\":\"a message on the "
                    "backend socket carried more than " G_STRINGIFY(VH_BACKEND_MAX_FDS)
                    " fds; refused\"}\n"
                    "{\"id\":5,\"ok\":true}\n");
    g_string_free(in, TRUE);
    close(sock);
    g_assert_cmpint(waitpid(child, &status, 0), ==, child);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 0);
}

/* ---- virt-hostdev-backend itself ----------------------------------------- */

static const char *
backend_program(void)
{
    const char *p = g_getenv("VH_BACKEND");

    if (!p)
        g_test_skip("VH_BACKEND (the built virt-hostdev-backend) not set");
    return p;
}

static void
test_program_usage(void)
{
    static const char *const cases[][6] = {
        { "--device=0000:00:03.0", NULL },
        { "--device=00:03.0", "--socket-fd=3", "--uid=65534", "--gid=65534", NULL },
        { "--device=zz", "--socket-fd=2", "--uid=65534", "--gid=65534", NULL },
        { "--device=00:03.0", "--socket-fd=0", "--uid=65534", "--gid=65534", NULL },
        { "--bogus", NULL },
    };
    static const char *const messages[] = {
        "are required", "--socket-fd 3 is not an open fd", "not a PCI address",
        "--socket-fd 0 is not an open fd", "Unknown option",
    };
    const char *prog = backend_program();
    gsize i;

    if (!prog)
        return;
    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autoptr(GError) err = NULL;
        g_autofree char *out = NULL;
        g_autofree char *errout = NULL;
        int status, j;

        g_ptr_array_add(argv, (char *) prog);
        for (j = 0; cases[i][j]; j++)
            g_ptr_array_add(argv, (char *) cases[i][j]);
        g_ptr_array_add(argv, NULL);
        g_assert_true(g_spawn_sync(NULL, (char **) argv->pdata, NULL,
                                   G_SPAWN_DEFAULT, NULL, NULL, &out, &errout,
                                   &status, &err));
        g_test_message("%s", errout);
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 2);
        g_assert_nonnull(strstr(errout, messages[i]));
        /* One line. */
        g_assert_cmpint(strchr(errout, '\n') - errout, ==, strlen(errout) - 1);
    }
}

/* Started as the manager starts it, looked at from outside. */
static void
test_program_spawn(void)
{
    const char *prog = backend_program();
    g_autoptr(VhBackendClient) c = NULL;
    g_autoptr(GError) err = NULL;
    g_autofree char *status_path = NULL;
    g_autofree char *status = NULL;
    g_autofree char *fd_dir = NULL;
    g_autoptr(GDir) dir = NULL;
    VhBackendLaunch l = {
        .device = "0000:00:03.0",
        .group_id = 3,
        .group_fd = -1,
        .container_fd = -1,
        .uid = NOBODY,
        .gid = NOBODY,
        .memlock = 4 << 20,
    };
    const char *name;
    int leak, exit_status = -1;
    guint n_fds = 0;

    if (!prog)
        return;
    if (geteuid() != 0) {
        g_test_skip("needs root to start the backend as nobody");
        return;
    }
    l.program = prog;
    /* Not close-on-exec: the spawn must not let it through. */
    leak = open("/dev/null", O_RDONLY);
    c = vh_backend_client_spawn(&l, &err);
    g_assert_no_error(err);
    close(leak);

    status_path = g_strdup_printf("/proc/%d/status",
                                  vh_backend_client_get_pid(c));
    g_assert_true(g_file_get_contents(status_path, &status, NULL, NULL));
    g_assert_nonnull(strstr(status, "\nUid:\t65534\t65534\t65534\t65534\n"));
    g_assert_nonnull(strstr(status, "\nGid:\t65534\t65534\t65534\t65534\n"));
    /* "Groups:\t \n" or "Groups:\t\n", depending on the kernel. */
    g_assert_true(g_regex_match_simple("^Groups:\\s*$", status,
                                       G_REGEX_MULTILINE, 0));
    g_assert_nonnull(strstr(status, "\nNoNewPrivs:\t1\n"));
    g_assert_nonnull(strstr(status, "\nCapEff:\t0000000000000000\n"));
    {
        g_autofree char *limits = NULL;
        g_autofree char *lp = g_strdup_printf("/proc/%d/limits",
                                              vh_backend_client_get_pid(c));

        g_assert_true(g_file_get_contents(lp, &limits, NULL, NULL));
        g_assert_nonnull(strstr(limits, "Max locked memory         4194304              4194304"));
    }
    /* fds 0-3 only: /dev/null twice, stderr, the socket. */
    fd_dir = g_strdup_printf("/proc/%d/fd", vh_backend_client_get_pid(c));
    dir = g_dir_open(fd_dir, 0, &err);
    g_assert_no_error(err);
    while ((name = g_dir_read_name(dir))) {
        g_autofree char *path = g_build_filename(fd_dir, name, NULL);
        g_autofree char *target = g_file_read_link(path, NULL);
        int fd = atoi(name);

        g_test_message("fd %d -> %s", fd, target);
        n_fds++;
        g_assert_cmpint(fd, <=, 3);
        if (fd <= 1)
            g_assert_cmpstr(target, ==, "/dev/null");
        if (fd == 3)
            g_assert_true(g_str_has_prefix(target, "socket:["));
    }
    g_assert_cmpuint(n_fds, ==, 4);
    g_assert_true(vh_backend_client_quit(c, &exit_status, &err));
    g_assert_no_error(err);
    g_assert_cmpint(exit_status, ==, 0);
}

/* A backend that cannot open its device says why, and the manager says
 * how it ended. */
static void
test_program_bad_group_fd(void)
{
    const char *prog = backend_program();
    g_autoptr(GError) err = NULL;
    VhBackendClient *c;
    VhBackendLaunch l = {
        .device = "0000:00:03.0", .group_id = 3, .container_fd = -1,
        .uid = NOBODY, .gid = NOBODY, .pass = VH_BACKEND_PASS_INHERIT,
    };
    int p[2];

    if (!prog)
        return;
    if (geteuid() != 0) {
        g_test_skip("needs root to start the backend as nobody");
        return;
    }
    l.program = prog;
    g_assert_cmpint(pipe(p), ==, 0);
    l.group_fd = p[0];
    c = vh_backend_client_spawn(&l, &err);
    g_assert_null(c);
    g_assert_error(err, VH_BACKEND_ERROR, VH_BACKEND_ERROR_FAILED);
    g_test_message("%s", err->message);
    g_assert_nonnull(strstr(err->message, "exited with status 1 before "
                            "answering \"status\""));
    g_clear_error(&err);

    l.pass = VH_BACKEND_PASS_SOCKET;
    c = vh_backend_client_spawn(&l, &err);
    g_assert_null(c);
    g_assert_error(err, VH_BACKEND_ERROR, VH_BACKEND_ERROR_FAILED);
    g_test_message("%s", err->message);
    g_assert_true(g_str_has_prefix(err->message, "handing 0000:00:03.0's "
                                   "group over to the backend: "));
    close(p[0]);
    close(p[1]);
}

/* device-selftest refuses bad options with status 2 before it touches
 * anything. */
static void
test_cli_usage(void)
{
    static const char *const cases[][4] = {
        { "00:03.0", "--uid=0", NULL },
        { "00:03.0", "--pass=carrier-pigeon", NULL },
        { "00:03.0", "--gid=-1", NULL },
        { "00:03.0", "--memlock=-5", NULL },
        { "0000:00:03.9", NULL },
        { NULL },
    };
    static const char *const messages[] = {
        "--uid 0 would leave the backend root",
        "unknown --pass 'carrier-pigeon': use inherit or socket",
        "--gid 0 to 4294967294",
        "--memlock at least 0",
        "invalid PCI address",
        "expected DEVICE, got 0 arguments",
    };
    const char *cli = g_getenv("VH_CLI");
    gsize i;

    if (!cli) {
        g_test_skip("VH_CLI (the built virt-hostdev) not set");
        return;
    }
    for (i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GPtrArray) argv = g_ptr_array_new();
        g_autoptr(GError) err = NULL;
        g_autofree char *out = NULL;
        g_autofree char *errout = NULL;
        int status, j;

        g_ptr_array_add(argv, (char *) cli);
        g_ptr_array_add(argv, (char *) "--sysfs-root=/nonexistent");
        g_ptr_array_add(argv, (char *) "device-selftest");
        for (j = 0; cases[i][j]; j++)
            g_ptr_array_add(argv, (char *) cases[i][j]);
        g_ptr_array_add(argv, NULL);
        g_assert_true(g_spawn_sync(NULL, (char **) argv->pdata, NULL,
                                   G_SPAWN_DEFAULT, NULL, NULL, &out, &errout,
                                   &status, &err));
        g_test_message("%s", errout);
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, 2);
        g_assert_cmpstr(out, ==, "");
        g_assert_nonnull(strstr(errout, messages[i]));
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_summary("The backend process: fd handover, closing the rest, "
                   "dropping root, the serve loop, and the program started "
                   "the way the manager starts it");
    g_test_add_func("/backend/fds/roundtrip", test_fds_roundtrip);
    g_test_add_func("/backend/fds/too-many", test_fds_too_many);
    g_test_add_func("/backend/fds/close-others", test_close_others);
    g_test_add_func("/backend/privs/drop", test_drop_privileges);
    g_test_add_func("/backend/privs/refuse-root", test_drop_to_root_refused);
    g_test_add_func("/backend/serve/requests", test_serve);
    g_test_add_func("/backend/serve/raw-lines", test_serve_raw);
    g_test_add_func("/backend/serve/too-many-fds", test_serve_too_many_fds);
    g_test_add_func("/backend/program/usage", test_program_usage);
    g_test_add_func("/backend/program/spawn", test_program_spawn);
    g_test_add_func("/backend/program/bad-group-fd", test_program_bad_group_fd);
    g_test_add_func("/backend/cli/usage", test_cli_usage);
    return g_test_run();
}
