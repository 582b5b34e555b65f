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
# ran the queries it should and declined the rest, and how it behaves when
# it is gone, busy or sent garbage.  A fake tree has no device events, so
# the daemon keeps nothing there; the test bed (testbed-nodedev-daemon)
# checks the kept inventory against the real kernel.  Output is TAP.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
import argparse
import os
import re
import shutil
import signal
import socket
import stat
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
        check(stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o666,
              'the socket is created with its directory, mode 0666',
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

        # Declined: another root (relative, or another tree), bad usage.
        before = len(d.requests())
        parent, base = os.path.split(root)
        same(front, sock, ['--sysfs-root', base, 'nodedev-list'],
             'a relative root', cwd=parent)
        same(front, sock, ['--sysfs-root', trees['sriov'], 'nodedev-dumpxml',
                           '--all'], 'another tree')
        same(front, sock, ['--sysfs-root', root, '--bogus', 'nodedev-list'],
             'an unknown option before the verb')
        reqs = d.requests()[before:]
        # The front does not ask about --bogus: it is not a query it knows.
        check(len(reqs) == 2 and all(': declined: the client runs it' in r
                                     for r in reqs),
              'another root is declined and run by the client',
              '\n'.join(reqs))

        # Not queries: the front runs them without asking.
        before = len(d.requests())
        for args in (['nodedev-info', '01:01.0'], ['iommu-groups'],
                     ['nodedev-detach', '--dry-run', '01:01.0'], ['help'],
                     ['--version'], []):
            state = os.path.join(tmp, 'state')
            same(front, sock, ['--sysfs-root', root, '--state-dir', state,
                               '--proc-root', root] + args,
                 ' '.join(args) or 'no verb')
        check(len(d.requests()) == before,
              'other verbs do not reach the daemon',
              '\n'.join(d.requests()[before:]))

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
            s.send(b'VHD1junk')
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
