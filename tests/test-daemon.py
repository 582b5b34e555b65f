#!/usr/bin/env python3
# test-daemon.py: virt-hostdevd and virt-hostdev's front, on fake trees
#
#   test-daemon.py --front build/tools/virt-hostdev
#                  --daemon build/tools/virt-hostdevd
#                  --tree build/tests/bad-input/vh-bad-input-tree
#
# Starts virt-hostdevd on a fake sysfs tree (and once on this machine's
# /sys, which it only reads) and checks, command by command, that what the
# front prints through the daemon is byte for byte what virt-hostdev-cli
# prints alone (stdout, stderr, exit status), that the daemon's log says it
# ran the queries and the verbs that move devices it should and declined
# the rest, that a detach whose client goes away runs to its end, and how
# it behaves when it is gone, busy or sent garbage.  A fake tree has no
# device events and binds nothing, so
# the daemon keeps nothing there; the test bed (testbed-nodedev-daemon)
# checks the kept inventory against the real kernel.  Output is TAP.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
import argparse
import fcntl
import os
import re
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time

RESULTS = []


def check(ok, name, detail=''):
    RESULTS.append((bool(ok), name, detail))


class Daemon:
    def __init__(self, exe, sock, root, tmp):
        self.sock = sock
        self.log_path = os.path.join(tmp, 'daemon-%d.log' % len(RESULTS))
        self.log = open(self.log_path, 'w')
        self.proc = subprocess.Popen(
            [exe, '--socket', sock, '--sysfs-root', root, '--verbose'],
            stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.monotonic() + 20
        while not os.path.exists(sock):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError('virt-hostdevd did not start: ' +
                                   self.text())
            time.sleep(0.02)

    def text(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def requests(self):
        return [l for l in self.text().splitlines()
                if l.startswith('virt-hostdevd: request ')]

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        return self.proc.wait(timeout=20)


def run(front, args, env_extra=None, cwd=None, sock=None, stdout=None):
    env = dict(os.environ)
    env.pop('VIRT_HOSTDEV_SYSFS_ROOT', None)
    env['VIRT_HOSTDEV_SOCKET'] = sock if sock is not None else ''
    env.update(env_extra or {})
    p = subprocess.run([front] + args, env=env, cwd=cwd,
                       stdout=stdout if stdout is not None else subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stdout, p.stderr


def same(front, sock, args, name, env_extra=None, cwd=None):
    """The command through the daemon and alone: the same answer."""
    via = run(front, args, env_extra, cwd, sock)
    alone = run(front, args, env_extra, cwd, '')
    check(via == alone, name + ': same output, errors and status as alone',
          'through the daemon %r\nalone %r' % (via[0:3:2], alone[0:3:2])
          if via != alone else '')
    return via


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--front', required=True)
    ap.add_argument('--daemon', required=True)
    ap.add_argument('--tree', required=True)
    ap.add_argument('--man', required=True)
    opts = ap.parse_args()

    # The man page's OPTIONS are the program's.
    with open(opts.man) as f:
        man = f.read()
    section = man.split('\nOPTIONS\n', 1)[1].split('\nSIGNALS\n', 1)[0]
    in_man = set(re.findall(r'^``(--[a-z-]+)``', section, re.M))
    in_man |= set(re.findall(r'^``-[a-zA-Z]``, ``(--[a-z-]+)``', section,
                             re.M))
    helptext = subprocess.run([opts.daemon, '--help'], stdout=subprocess.PIPE,
                              text=True, check=True).stdout
    in_help = set(re.findall(r'^  (?:-[a-zA-Z], )?(--[a-z-]+)', helptext,
                             re.M)) - {'--help'}
    check(in_man == in_help and in_man,
          'virt-hostdevd.rst OPTIONS name the options of --help',
          'man page: %s\n--help: %s' % (sorted(in_man), sorted(in_help)))

    tmp = tempfile.mkdtemp(prefix='vh-daemon-')
    env = dict(os.environ, TMPDIR=tmp)
    trees = {}
    for topo in ('testbed', 'sriov'):
        trees[topo] = subprocess.run([opts.tree, topo], env=env, check=True,
                                     stdout=subprocess.PIPE,
                                     text=True).stdout.strip()
    root = trees['testbed']
    sock = os.path.join(tmp, 'run', 'virt-hostdevd-sock')
    front = opts.front
    try:
        d = Daemon(opts.daemon, sock, root, tmp)
        st = os.stat(sock)
        check(stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600,
              'the socket is created with its directory, mode 0600',
              oct(st.st_mode))

        # Served: the queries, for the daemon's root, in every form.
        served = [
            ['nodedev-list'],
            ['nodedev-list', '--tree'],
            ['nodedev-list', '--json'],
            ['nodedev-list', '--cap', 'pci'],
            ['nodedev-dumpxml', '--all'],
            ['nodedev-dumpxml', 'pci_0000_01_01_0'],
            ['nodedev-dumpxml', '01:02.0'],
            # Errors of the verb are the verb's, written by the daemon's
            # child to the client's standard error.
            ['nodedev-dumpxml', '0000:07:00.0'],
            ['nodedev-dumpxml', 'nope'],
            ['nodedev-dumpxml'],
            ['nodedev-list', '--cap', 'usb'],
            ['nodedev-list', '--tree', '--json'],
            ['nodedev-dumpxml', '--help'],
        ]
        for args in served:
            before = len(d.requests())
            rc, out, err = same(front, sock, ['--sysfs-root', root] + args,
                                ' '.join(args))
            reqs = d.requests()
            check(len(reqs) == before + 1 and ': ran, exit %d,' % rc
                  in reqs[-1], ' '.join(args) + ': the daemon ran it',
                  '\n'.join(reqs[before:]))
        check(run(front, ['--sysfs-root', root, 'nodedev-list'],
                  sock=sock)[1].decode().count('pci_') >= 5,
              'nodedev-list through the daemon lists the tree\'s devices')

        # The root from the environment, and --sysfs-root=DIR.
        before = len(d.requests())
        same(front, sock, ['nodedev-dumpxml', '--all'],
             'VIRT_HOSTDEV_SYSFS_ROOT', {'VIRT_HOSTDEV_SYSFS_ROOT': root})
        same(front, sock, ['--sysfs-root=' + root, 'nodedev-list'],
             '--sysfs-root=DIR')
        reqs = d.requests()[before:]
        check(len(reqs) == 2 and all(': ran, exit 0,' in r for r in reqs),
              'the environment\'s root and --sysfs-root=DIR are served',
              '\n'.join(reqs))

        # Another root (relative, another tree, given after the verb): the
        # child reads it itself; the inventory is for the daemon's root.
        before = len(d.requests())
        parent, base = os.path.split(root)
        same(front, sock, ['--sysfs-root', base, 'nodedev-list'],
             'a relative root', cwd=parent)
        same(front, sock, ['--sysfs-root', trees['sriov'], 'nodedev-dumpxml',
                           '--all'], 'another tree')
        same(front, sock, ['nodedev-dumpxml', '--all', '--sysfs-root',
                           trees['sriov']], 'another tree after the verb')
        same(front, sock, ['nodedev-list', '--sysfs-root', root],
             'the root after the verb')
        reqs = d.requests()[before:]
        check(len(reqs) == 4 and all(': ran, exit 0,' in r for r in reqs),
              'other roots and roots after the verb are run by the child',
              '\n'.join(reqs))
        same(front, sock, ['--sysfs-root', root, '--bogus', 'nodedev-list'],
             'an unknown option before the verb')
        check(len(d.requests()) == before + 4,
              'the front does not ask about an option it does not know',
              '\n'.join(d.requests()[before:]))

        # A locale that names a path is declined; the client runs it.
        before = len(d.text().splitlines())
        for env in ({'LANGUAGE': '../../../tmp/x'}, {'LC_ALL': '/tmp/x'},
                    {'LANG': 'C..UTF-8'}):
            same(front, sock, ['--sysfs-root', root, 'nodedev-list'],
                 'locale %r' % env, env)
        lines = d.text().splitlines()[before:]
        check(len(lines) == 3 and all(l.endswith('declined (a locale that is '
                                                 'not a plain name)')
                                      for l in lines),
              'a locale naming a path is declined', '\n'.join(lines))
        same(front, sock, ['--sysfs-root', root, 'nodedev-list'],
             'a plain locale', {'LANG': 'C.UTF-8', 'LANGUAGE': 'en:de'})
        check(': ran, exit 0,' in d.requests()[-1],
              'a plain locale is served', d.requests()[-1])

        # A command killed by a signal kills the client by the same: an
        # output whose reader is gone is SIGPIPE, as alone.
        results = []
        for sk in (sock, ''):
            r, w = os.pipe()
            os.close(r)
            p = subprocess.run([front, '--sysfs-root', root, 'nodedev-dumpxml',
                                '--all'], stdout=w, stderr=subprocess.PIPE,
                               env=dict(os.environ, VIRT_HOSTDEV_SOCKET=sk),
                               timeout=60)
            os.close(w)
            results.append((p.returncode, p.stderr))
        check(results[0] == results[1] and results[0][0] == -signal.SIGPIPE,
              'SIGPIPE ends the client through the daemon as alone',
              repr(results))

        # A client that sends more descriptors than a request carries: none
        # of them stays open in the daemon.
        def daemon_fds():
            return len(os.listdir('/proc/%d/fd' % d.proc.pid))
        fds_before = daemon_fds()
        for _ in range(20):
            with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
                s.connect(sock)
                extra = [os.open('/dev/null', os.O_RDONLY) for _ in range(5)]
                socket.send_fds(s, [b'VHD3' + bytes(8)], extra)
                for fd in extra:
                    os.close(fd)
                s.settimeout(10)
                s.recv(64)
        time.sleep(0.2)
        check(daemon_fds() == fds_before,
              'descriptors beyond a request\'s three are closed',
              '%d open before, %d after' % (fds_before, daemon_fds()))

        # A client that goes away while its command runs: the command is
        # stopped, and the daemon serves on.  Its output is a pipe nobody
        # reads, small enough to block it.
        def request(args, go=True):
            """A request by hand, its output a small pipe; after ACCEPTED,
            the go (or not).  Returns the pipe's read end, the socket and
            the first reply."""
            r, w = os.pipe()
            fcntl.fcntl(w, 1031, 4096)          # F_SETPIPE_SZ
            s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            s.connect(sock)
            body = b''.join(a.encode() + b'\0' for a in args)
            head = b'VHD3' + struct.pack('=II', len(args), 0)
            cwd = os.open('.', os.O_PATH)
            socket.send_fds(s, [head + body], [w, w, cwd])
            os.close(w)
            os.close(cwd)
            s.settimeout(30)
            first = struct.unpack('=4sii', s.recv(64))
            if go and first[1] == 1:
                s.send(b'VHGO')
            return r, s, first
        # 5.8 kB: more than the pipe holds.
        big = ['--sysfs-root', root, 'nodedev-dumpxml', '--all']
        r, s, accepted = request(big)
        s.close()
        os.close(r)
        deadline = time.monotonic() + 30
        while 'the client went away' not in d.text() and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        rc, out, err = run(front, ['--sysfs-root', root, 'nodedev-list'],
                           sock=sock)
        check(accepted[1] == 1 and 'the client went away' in d.text() and
              rc == 0 and 'ended by a signal, signal 9' in d.text(),
              'a client gone mid-answer: its command is killed, the daemon '
              'serves on', d.text()[-600:])

        # A client that gave up before ACCEPTED came (and runs the command
        # itself) never says go: the daemon does not run it.
        before = len(d.text())
        r, s, accepted = request(['--sysfs-root', root, 'nodedev-list'],
                                 go=False)
        s.close()
        deadline = time.monotonic() + 30
        while 'not run' not in d.text()[before:] and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        out = os.read(r, 65536)
        os.close(r)
        check(accepted[1] == 1 and out == b'' and
              'the client did not say go; not run' in d.text()[before:] and
              ': ran,' not in d.text()[before:],
              'an accepted request without the go is not run',
              'output %r, log:\n%s' % (out, d.text()[before:]))

        # The daemon takes a request by the words before its verb; a
        # command line the CLI reads as a verb of another kind ("--" ends
        # the options: the daemon saw no verb, so not one that moves
        # devices) is declined, and the client runs it.
        state2 = os.path.join(tmp, 'state2')
        r, s, accepted = request(['--sysfs-root=' + root, '--state-dir=' +
                                  state2, '--', 'nodedev-reattach', '01:01.0'])
        final = struct.unpack('=4sii', s.recv(64))
        s.close()
        out = os.read(r, 65536)
        os.close(r)
        check(accepted[1] == 1 and final[1] == 2 and out == b'' and
              not os.path.exists(state2),
              'a verb of another kind than the daemon took: declined, '
              'nothing run', 'replies %r %r, output %r, log:\n%s'
              % (accepted, final, out, d.text()[-400:]))

        # A verb that moves devices outlives its output: where alone a
        # closed pipe is SIGPIPE, the daemon's child goes on to its end.
        results = []
        for sk in (sock, ''):
            r, w = os.pipe()
            os.close(r)
            p = subprocess.run([front, '--sysfs-root', root, '--state-dir',
                                os.path.join(tmp, 'state3'), '--proc-root',
                                root, 'nodedev-reattach', '01:01.0'], stdout=w,
                               stderr=subprocess.PIPE,
                               env=dict(os.environ, VIRT_HOSTDEV_SOCKET=sk),
                               timeout=60)
            os.close(w)
            results.append(p.returncode)
        check(results == [0, -signal.SIGPIPE] and
              'nodedev-reattach 01:01.0: ran, exit 0,' in d.requests()[-1],
              'a reattach through the daemon is not stopped by SIGPIPE '
              '(alone it is)', '%r %s' % (results, d.requests()[-1]))

        # SIGTERM while a command runs: the socket goes at once, the command
        # finishes and answers, then the daemon exits 0.
        r, s, accepted = request(big)
        d.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        while os.path.exists(sock) and time.monotonic() < deadline:
            time.sleep(0.02)
        gone = not os.path.exists(sock)
        running = d.proc.poll() is None
        out = b''
        while True:
            chunk = os.read(r, 65536)
            if not chunk:
                break
            out += chunk
        os.close(r)
        final = struct.unpack('=4sii', s.recv(64))
        s.close()
        rc = d.proc.wait(timeout=30)
        alone = run(front, big, sock='')[1]
        check(gone and running and final[1:] == (3, 0) and out == alone and
              rc == 0,
              'SIGTERM: no new clients, the running command answers, exit 0',
              'socket gone %s, running %s, final %r, output same %s, exit %r'
              % (gone, running, final, out == alone, rc))
        d = Daemon(opts.daemon, sock, root, tmp)

        # Not served: the front runs them without asking.
        before = len(d.requests())
        state = os.path.join(tmp, 'state')
        for args in (['nodedev-info', '01:01.0'], ['iommu-groups'],
                     ['who-holds', '01:01.0'], ['recover'], ['help'],
                     ['--version'], []):
            same(front, sock, ['--sysfs-root', root, '--state-dir', state,
                               '--proc-root', root] + args,
                 ' '.join(args) or 'no verb')
        check(len(d.requests()) == before,
              'other verbs do not reach the daemon',
              '\n'.join(d.requests()[before:]))

        # The verbs that move devices are run by the daemon's child, as
        # alone: plans, refusals and errors alike.  (On a fake tree nothing
        # binds; the test bed's testbed-nodedev-daemon moves real devices.)
        moving = [
            ['nodedev-detach', '--dry-run', '01:01.0'],
            ['nodedev-detach', '--dry-run', '--no-hold', 'pci_0000_01_01_0'],
            ['nodedev-detach', '--dry-run', '00:04.0'],
            ['nodedev-detach', '--dry-run', '01:01.0', '--driver', 'nope'],
            ['nodedev-detach', '--dry-run', '0000:07:00.0'],
            ['nodedev-reattach', '01:01.0'],
            ['nodedev-reattach', '--dry-run', '01:01.0', '01:02.0'],
            ['nodedev-reset', '00:04.0'],
            ['nodedev-reset'],
        ]
        for args in moving:
            before = len(d.requests())
            rc, out, err = same(front, sock,
                                ['--sysfs-root', root, '--state-dir', state,
                                 '--proc-root', root] + args, ' '.join(args))
            reqs = d.requests()
            check(len(reqs) == before + 1 and ': ran, exit %d,' % rc
                  in reqs[-1] and reqs[-1].endswith('inventory not used'),
                  ' '.join(args) + ': the daemon ran it, from sysfs',
                  '\n'.join(reqs[before:]))
        check(not os.path.exists(os.path.join(state, 'journal.json')),
              'no operation left pending by the served commands')

        # A detach whose client goes away (Ctrl-C) runs to its end: held
        # on the state lock until its client is gone, it then runs, fails
        # (nothing binds in a fake tree) and undoes what it wrote, leaving
        # no operation for `recover`.  Alone, the same kill would.
        override = os.path.join(root, 'bus', 'pci', 'devices', '0000:01:01.0',
                                'driver_override')
        with open(override) as f:
            override_before = f.read()
        lock = open(os.path.join(state, 'lock'), 'a')
        fcntl.flock(lock, fcntl.LOCK_EX)
        before = len(d.text())
        p = subprocess.Popen(
            [front, '--sysfs-root', root, '--state-dir', state,
             '--proc-root', root, 'nodedev-detach', '01:01.0'],
            env=dict(os.environ, VIRT_HOSTDEV_SOCKET=sock,
                     VIRT_HOSTDEV_TIMEOUT_MS='4000'),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def daemon_children():
            kids = []
            for pid in filter(str.isdigit, os.listdir('/proc')):
                try:
                    with open('/proc/%s/stat' % pid) as f:
                        fields = f.read().rsplit(')', 1)[1].split()
                except OSError:
                    continue
                if int(fields[1]) == d.proc.pid:
                    kids.append(int(pid))
            return kids
        deadline = time.monotonic() + 20
        while not daemon_children() and time.monotonic() < deadline:
            time.sleep(0.02)
        started = bool(daemon_children())
        p.kill()
        p.wait()
        while 'the client went away' not in d.text()[before:] and \
                time.monotonic() < deadline:
            time.sleep(0.02)
        left_running = bool(daemon_children())
        fcntl.flock(lock, fcntl.LOCK_UN)
        lock.close()
        deadline = time.monotonic() + 30
        while ': ran, exit' not in d.text()[before:] and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        log = d.text()[before:]
        with open(override) as f:
            override_after = f.read()
        check(started and left_running and
              'the client went away; its command runs to its end' in log and
              'nodedev-detach 01:01.0: ran, exit 1,' in log and
              not os.path.exists(os.path.join(state, 'journal.json')) and
              # cleared again: "(null)" is what the kernel shows then
              override_before.strip() == '(null)' and
              override_after.strip() in ('', '(null)'),
              'a detach whose client is killed runs to its end and leaves '
              'nothing pending',
              'child seen %s, still running after the kill %s, override %r '
              '-> %r, journal %s, log:\n%s'
              % (started, left_running, override_before, override_after,
                 os.path.exists(os.path.join(state, 'journal.json')), log))

        # Another user than the daemon's is not served: it runs the command
        # itself and sees sysfs as that user does.
        if os.geteuid() == 0:
            os.chmod(tmp, 0o755)
            os.chmod(root, 0o755)
            before = len(d.requests())

            def as_nobody(sk):
                return subprocess.run(
                    [front, '--sysfs-root', root, 'nodedev-dumpxml', '--all'],
                    env=dict(os.environ, VIRT_HOSTDEV_SOCKET=sk),
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    preexec_fn=lambda: (os.setgid(65534), os.setuid(65534)),
                    timeout=60)
            a, b = as_nobody(sock), as_nobody('')
            check((a.returncode, a.stdout, a.stderr) ==
                  (b.returncode, b.stdout, b.stderr) and a.returncode == 0 and
                  len(d.requests()) == before,
                  'another user runs the command itself',
                  '%r %r; %s' % (a.returncode, a.stderr,
                                 '\n'.join(d.requests()[before:])))

        # A closed standard output cannot be passed: the client runs it.
        p = subprocess.run([front, '--sysfs-root', root, 'nodedev-list'],
                           env=dict(os.environ, VIRT_HOSTDEV_SOCKET=sock),
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           timeout=60)
        check(p.returncode == 0 and p.stderr == b'',
              'stdout on /dev/null is served', p.stderr)

        # Garbage on the socket: refused, and the daemon serves on.
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
            s.connect(sock)
            s.send(b'VHD3junk')
            s.settimeout(10)
            check(s.recv(64) == b'', 'a malformed request gets no answer')
        with socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET) as s:
            s.connect(sock)         # and hangs up without a word
        rc, out, err = run(front, ['--sysfs-root', root, 'nodedev-list'],
                           sock=sock)
        check(rc == 0 and b'pci_0000_01_01_0' in out and
              'refused' in d.text(),
              'after garbage the daemon still answers', d.text()[-400:])

        # A second daemon on a live socket: one line, exit 1.
        p = subprocess.run([opts.daemon, '--socket', sock, '--sysfs-root',
                            root], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        check(p.returncode == 1 and
              p.stderr.startswith('virt-hostdevd: another virt-hostdevd '
                                  'listens on ') and
              p.stderr.count('\n') == 1,
              'a second daemon on the same socket refuses', p.stderr)
        p = subprocess.run([opts.daemon, '--bogus'], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=30)
        check(p.returncode == 2 and p.stderr.count('\n') == 1 and
              p.stderr.startswith('virt-hostdevd: '),
              'bad usage of the daemon: one line, exit 2', p.stderr)

        # A daemon killed leaves its socket: the client runs it itself.
        d.stop(signal.SIGKILL)
        check(os.path.exists(sock), 'a killed daemon leaves its socket')
        same(front, sock, ['--sysfs-root', root, 'nodedev-dumpxml', '--all'],
             'a dead daemon\'s socket')
        rc, out, err = run(front, ['--sysfs-root', root, 'nodedev-list'],
                           sock=sock)
        check(rc == 0 and err == b'', 'a dead daemon is not an error', err)

        # Its successor replaces the stale socket; SIGTERM removes it.
        d = Daemon(opts.daemon, sock, root, tmp)
        same(front, sock, ['--sysfs-root', root, 'nodedev-list'],
             'a new daemon on a stale socket')
        rc = d.stop()
        check(rc == 0 and not os.path.exists(sock),
              'SIGTERM: exit 0 and the socket is gone',
              'exit %d, socket there: %s; log:\n%s'
              % (rc, os.path.exists(sock), d.text()))

        # This machine's /sys, read only: kept between requests when the
        # kernel's device events can be had.
        d = Daemon(opts.daemon, sock, '/sys', tmp)
        for i in range(3):
            same(front, sock, ['nodedev-dumpxml', '--all'],
                 '/sys, request %d' % (i + 1))
        reqs = d.requests()
        if 'no device events' in d.text():
            check(all(': ran, exit 0,' in r for r in reqs),
                  '/sys without device events here: every request ran',
                  '\n'.join(reqs))
        else:
            check(len(reqs) == 3 and all(r.endswith('inventory kept')
                                         for r in reqs),
                  '/sys: the inventory is kept between requests',
                  d.text())
        d.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print('1..%d' % len(RESULTS))
    for i, (ok, name, detail) in enumerate(RESULTS, 1):
        print('%s %d %s' % ('ok' if ok else 'not ok', i, name))
        if not ok and detail:
            for line in str(detail).splitlines():
                print('# ' + line)
    return 0 if all(ok for ok, _, _ in RESULTS) else 1


if __name__ == '__main__':
    sys.exit(main())
