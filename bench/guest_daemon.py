"""virt-hostdevd started by a benchmark inside the test bed (bench/nodedev,
bench/assign): the daemon on the guest's /sys with its log, one line per
request (what its child ran, how it ended, how long it took)."""

import os
import re
import subprocess
import time


class GuestDaemon:
    def __init__(self, build_dir, socket_path, log_path, error=RuntimeError):
        self.socket_path = socket_path
        self.log_path = log_path
        self.error = error
        self.log = open(log_path, 'w')
        exe = os.path.join(build_dir, 'tools', 'virt-hostdevd')
        self.proc = subprocess.Popen([exe, '--socket', socket_path,
                                      '--verbose'],
                                     stdout=subprocess.DEVNULL,
                                     stderr=self.log)
        deadline = time.monotonic() + 120
        while 'listening on' not in self.text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise error(f'virt-hostdevd did not start: {self.text()}')
            time.sleep(0.05)

    def text(self):
        self.log.flush()
        with open(self.log_path) as f:
            return f.read()

    def request_ms(self, verb=None, inventory='kept'):
        """The daemon's own time per request that ran and exited 0, from
        its log: of @verb (any when None), with its inventory @inventory
        ("kept"; "not used" for the verbs that move devices)."""
        return [float(m.group(1)) for m in re.finditer(
            r'^virt-hostdevd: request \d+: '
            + (r'(?:.* )?' + re.escape(verb) + r' .*' if verb else r'.*')
            + r': ran, exit 0, ([0-9.]+) ms; inventory '
            + re.escape(inventory) + '$', self.text(), re.M)]

    def stop(self):
        self.proc.terminate()
        rc = self.proc.wait(timeout=60)
        self.log.close()
        if rc != 0:
            raise self.error(f'virt-hostdevd exited {rc}')
