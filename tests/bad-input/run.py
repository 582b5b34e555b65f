#!/usr/bin/env python3
# run.py: the bad-input corpus (tests/bad-input/cases/*.json)
#
#   run.py --cli build/tools/virt-hostdev --tree build/tests/bad-input/vh-bad-input-tree
#          [--cases DIR] [-k SUBSTRING] [-v]
#
# Each case runs the real binary once, on a fresh fake sysfs tree (built
# by vh-bad-input-tree from one of the tests' device tables, then bent as
# the case says), a fresh proc root and a fresh state dir, with
# --sysfs-root, --proc-root and --state-dir before the verb.  It asserts:
#   - the exit status;
#   - standard error is exactly one line ("virt-hostdev: ...") matching
#     the case's regex (no GLib warning, no sanitizer report) -- or empty
#     when the case expects exit 0 and gives no stderr regex;
#   - on error standard output is empty; on success it matches the case's
#     "stdout" regex;
#   - the tree, proc root, state dir and the case's scratch dir are
#     unchanged: every entry's type, mode, size, content hash, link target
#     (but what the case's "may_change" names; never for a refusal); the one
#     thing allowed to appear is the state dir's empty "lock" file (0600)
#     that every operation of the manager flock()s;
#   - it ends within the case's timeout (a FIFO must not hang it).
# Output is TAP, one line per case.
#
# SPDX-License-Identifier: LGPL-2.1-or-later
import argparse
import concurrent.futures
import glob
import hashlib
import json
import os
import re
import resource
import shutil
import stat
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_TIMEOUT = 20
UNPRIVILEGED = 65534            # nobody
BIG = 16 << 20                  # not hashed above this
EMPTY_LOCK = ("file", 0o600, 0, hashlib.sha256(b"").hexdigest())


def snapshot(root):
    """Every entry below @root: type, mode, size, sha256, link target."""
    snap = {}
    if root is None or not os.path.lexists(root):
        return snap
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        for name in sorted(dirnames + filenames):
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            st = os.lstat(path)
            mode = stat.S_IMODE(st.st_mode)
            if stat.S_ISLNK(st.st_mode):
                snap[rel] = ("link", os.readlink(path))
            elif stat.S_ISDIR(st.st_mode):
                snap[rel] = ("dir", mode)
            elif stat.S_ISREG(st.st_mode) and st.st_size > BIG:
                # Giant attribute files: size and modification time say
                # whether anything wrote them.
                snap[rel] = ("file", mode, st.st_size, st.st_mtime_ns)
            elif stat.S_ISREG(st.st_mode):
                h = hashlib.sha256()
                # Root reads mode 000 files; the runner runs as root.
                with open(path, "rb") as f:
                    for chunk in iter(lambda: f.read(1 << 20), b""):
                        h.update(chunk)
                snap[rel] = ("file", mode, st.st_size, h.hexdigest())
            elif stat.S_ISFIFO(st.st_mode):
                snap[rel] = ("fifo", mode)
            else:
                snap[rel] = ("other", st.st_mode)
    return snap


def diff(before, after):
    out = []
    for k in sorted(set(before) | set(after)):
        if before.get(k) != after.get(k):
            out.append("%s: %r -> %r" % (k, before.get(k), after.get(k)))
    return out


class Case:
    def __init__(self, data, source):
        self.data = data
        self.name = data["name"]
        self.source = source


def expand(value, subst):
    if isinstance(value, str):
        for k, v in subst.items():
            if isinstance(v, list):
                v = " ".join(v)
            value = value.replace("{" + k + "}", v)
        return value
    if isinstance(value, list):
        # An element that is exactly "{KEY}" with a list value splices it.
        out = []
        for v in value:
            if (isinstance(v, str) and v.startswith("{") and v.endswith("}")
                    and isinstance(subst.get(v[1:-1]), list)):
                out += subst[v[1:-1]]
            else:
                out.append(expand(v, subst))
        return out
    if isinstance(value, dict):
        return {k: expand(v, subst) for k, v in value.items()}
    return value


def load_cases(case_dir):
    """Cases from every cases/*.json (a list of objects).  A case with a
    "matrix" {"KEY": [values], ...} becomes one case per combination, with
    {KEY} replaced everywhere (in "name" too)."""
    cases = []
    for path in sorted(glob.glob(os.path.join(case_dir, "*.json"))):
        with open(path) as f:
            items = json.load(f)
        for item in items:
            matrix = item.pop("matrix", None)
            combos = [{}]
            for key, values in (matrix or {}).items():
                combos = [dict(c, **{key: v}) for c in combos for v in values]
            for combo in combos:
                data = expand(json.loads(json.dumps(item)), combo)
                data["name"] = re.sub(r"[^A-Za-z0-9_.:/-]+", "-",
                                      data["name"]).strip("-")
                cases.append(Case(data, os.path.basename(path)))
    names = [c.name for c in cases]
    dups = {n for n in names if names.count(n) > 1}
    if dups:
        raise SystemExit("run.py: duplicate case names: %s" % sorted(dups))
    return cases


def apply_ops(root, ops, subst):
    """Bend a tree: each op is [verb, relpath, ...]."""
    for op in ops:
        op = expand(op, subst)
        verb, rel = op[0], op[1]
        path = os.path.join(root, rel)
        parent = os.path.dirname(path)
        if verb != "chmod":
            os.makedirs(parent, exist_ok=True)
        if verb in ("file", "bytes", "big", "sparse", "dir", "link", "fifo",
                    "copy"):
            # Replace what is there, whatever it is.
            if os.path.islink(path) or os.path.isfile(path):
                os.unlink(path)
            elif os.path.isdir(path):
                shutil.rmtree(path)
        if verb == "file":              # ["file", rel, "text"]
            with open(path, "w") as f:
                f.write(op[2])
        elif verb == "bytes":           # ["bytes", rel, "hex"]
            with open(path, "wb") as f:
                f.write(bytes.fromhex(op[2]))
        elif verb == "big":             # ["big", rel, size, "fill"]
            fill = op[3].encode() if len(op) > 3 else b"0"
            with open(path, "wb") as f:
                left = op[2]
                block = (fill * (1 << 20))[:1 << 20]
                while left > 0:
                    n = min(left, len(block))
                    f.write(block[:n])
                    left -= n
        elif verb == "sparse":          # ["sparse", rel, size]: all zeros
            with open(path, "wb") as f:
                f.truncate(op[2])
        elif verb == "copy":            # ["copy", rel, "inputs/NAME"]
            shutil.copyfile(os.path.join(HERE, op[2]), path)
        elif verb == "dir":
            os.makedirs(path)
        elif verb == "rm":
            if os.path.islink(path) or os.path.isfile(path):
                os.unlink(path)
            elif os.path.isdir(path):
                shutil.rmtree(path)
        elif verb == "link":            # ["link", rel, "target verbatim"]
            os.symlink(op[2], path)
        elif verb == "fifo":
            os.mkfifo(path)
        elif verb == "chmod":           # ["chmod", rel, "0000"]
            os.chmod(path, int(op[2], 8), follow_symlinks=False)
        else:
            raise SystemExit("run.py: unknown op %r" % (op,))


def make_stdin(spec, subst, scratch):
    """A file to give as standard input: None (/dev/null), {"file":
    "inputs/x"}, {"text": "..."}, {"repeat": "...", "size": N,
    "head": "...", "tail": "..."}."""
    if spec is None:
        return os.devnull
    spec = expand(spec, subst)
    if "file" in spec:
        return os.path.join(HERE, spec["file"])
    path = os.path.join(scratch, ".stdin")
    with open(path, "wb") as f:
        if "text" in spec:
            f.write(spec["text"].encode("utf-8", "surrogateescape"))
        else:
            f.write(spec.get("head", "").encode())
            unit = spec["repeat"].encode()
            left = spec["size"]
            block = unit * max(1, (1 << 20) // len(unit))
            while left > 0:
                n = min(left, len(block))
                f.write(block[:n])
                left -= n
            f.write(spec.get("tail", "").encode())
    return path


def run_case(case, opts):
    d = case.data
    problems = []
    work = tempfile.mkdtemp(prefix="vh-bad-input-", dir=opts.tmpdir)
    tree = None
    try:
        topology = d.get("tree", "testbed")
        if topology == "empty":
            tree = os.path.join(work, "sys")
            os.mkdir(tree)
        else:
            env = dict(os.environ, TMPDIR=opts.tmpdir or tempfile.gettempdir())
            out = subprocess.run([opts.tree, topology], check=True,
                                 capture_output=True, text=True, env=env)
            tree = out.stdout.strip()
        proc = os.path.join(work, "proc")
        state = os.path.join(work, "state")
        scratch = os.path.join(work, "scratch")
        for p in (proc, state, scratch):
            os.mkdir(p)
        subst = {"sysfs": tree, "proc": proc, "state": state,
                 "scratch": scratch, "inputs": os.path.join(HERE, "inputs")}
        apply_ops(tree, d.get("sysfs", []), subst)
        apply_ops(proc, d.get("proc", []), subst)
        apply_ops(scratch, d.get("scratch", []), subst)
        apply_ops(state, d.get("state", []), subst)
        stdin_path = make_stdin(d.get("stdin"), subst, work)

        user = d.get("user")
        pre = []
        if user == "nobody":
            if os.geteuid() != 0:
                return ("skip", "runs as nobody: the runner is not root")
            # Let nobody in: the temp dirs are 0700.
            for p in (work, tree, proc, state, scratch):
                os.chmod(p, 0o755)
            pre = ["setpriv", "--reuid=%d" % UNPRIVILEGED,
                   "--regid=%d" % UNPRIVILEGED, "--clear-groups", "--"]
        elif d.get("root_only") and os.geteuid() != 0:
            return ("skip", "needs root")

        state_dir = expand(d.get("state_dir", "{state}"), subst)
        argv = pre + [opts.cli, "--sysfs-root=" + tree,
                      "--proc-root=" + proc, "--state-dir=" + state_dir]
        argv += expand(d["args"], subst)
        watched = {"sysfs": tree, "proc": proc, "state": state,
                   "scratch": scratch}
        before = {k: snapshot(v) for k, v in watched.items()}

        env = dict(os.environ)
        env.update(d.get("env", {}))
        env.setdefault("LC_ALL", "C")
        timeout = d.get("timeout", DEFAULT_TIMEOUT)
        # A bound on the address space proves that a giant file is read
        # in bounded pieces, not slurped; not under ASan, whose shadow
        # memory needs terabytes of address space.
        limit = d.get("address_space_mib")
        preexec = None
        if limit and not os.environ.get("VH_BAD_INPUT_SANITIZED"):
            def preexec():
                resource.setrlimit(resource.RLIMIT_AS,
                                   (limit << 20, limit << 20))
        with open(stdin_path, "rb") as stdin:
            try:
                r = subprocess.run(argv, stdin=stdin, capture_output=True,
                                   timeout=timeout, env=env,
                                   preexec_fn=preexec)
            except subprocess.TimeoutExpired:
                return ("fail", "did not end within %d s" % timeout)
        stdout = r.stdout.decode("utf-8", "backslashreplace")
        stderr = r.stderr.decode("utf-8", "backslashreplace")

        want = d["exit"]
        if r.returncode != want:
            problems.append("exit status %d, expected %d"
                            % (r.returncode, want))
        lines = stderr.splitlines()
        if "stderr" in d:
            if len(lines) != 1 or not stderr.endswith("\n"):
                problems.append("standard error is %d lines, expected one"
                                % len(lines))
            elif not lines[0].startswith("virt-hostdev: "):
                problems.append("standard error does not start with "
                                "'virt-hostdev: '")
            if not any(re.search(d["stderr"], ln) for ln in lines[:1]):
                problems.append("standard error does not match /%s/"
                                % d["stderr"])
        elif stderr:
            problems.append("standard error not empty")
        if want != 0:
            if stdout:
                problems.append("standard output not empty on error")
        elif "stdout" in d:
            if not re.search(d["stdout"], stdout, re.M | re.S):
                problems.append("standard output does not match /%s/"
                                % d["stdout"])
        for rx in d.get("stdout_not", []):
            if re.search(rx, stdout, re.M):
                problems.append("standard output matches /%s/" % rx)

        after = {k: snapshot(v) for k, v in watched.items()}
        # The only thing a refused operation may leave: the empty lock
        # file every operation flock()s (created 0600 on first use).
        if after["state"].get("lock") == EMPTY_LOCK and "lock" not in before["state"]:
            del after["state"]["lock"]
        # "may_change": ["state/journal.json"] names what a case lets
        # change (a journal kept for recover when an undo failed too).
        for entry in d.get("may_change", []):
            k, _, rel = entry.partition("/")
            before[k].pop(rel, None)
            after[k].pop(rel, None)
        for k in watched:
            for line in diff(before[k], after[k])[:5]:
                problems.append("%s changed: %s" % (k, line))
        if opts.verbose:
            problems += ["out| " + ln for ln in stdout.splitlines()]
            problems += ["err| " + ln for ln in lines]
            if not [p for p in problems if not p.startswith(("out|", "err|"))]:
                return ("ok", problems)
        if problems:
            problems.append("argv: %s" % " ".join(argv))
            problems += ["stderr| " + ln for ln in lines[:20]]
            problems += ["stdout| " + ln for ln in stdout.splitlines()[:5]]
            return ("fail", problems)
        return ("ok", None)
    finally:
        # Give back what a case took away, then remove everything.
        for root in (tree, work):
            if root and os.path.isdir(root):
                for dirpath, dirnames, filenames in os.walk(root):
                    for n in dirnames + filenames:
                        p = os.path.join(dirpath, n)
                        if not os.path.islink(p):
                            try:
                                os.chmod(p, 0o700)
                            except OSError:
                                pass
                shutil.rmtree(root, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--tree", required=True)
    ap.add_argument("--cases", default=os.path.join(HERE, "cases"))
    ap.add_argument("-k", dest="only", help="run cases whose name has this")
    ap.add_argument("-v", dest="verbose", action="store_true",
                    help="show every case's output")
    ap.add_argument("-j", dest="jobs", type=int, default=os.cpu_count() or 1,
                    help="cases run side by side")
    ap.add_argument("--tmpdir", help="where trees are made (default: "
                    "/dev/shm when writable, else $TMPDIR): a case makes "
                    "and removes hundreds of files")
    opts = ap.parse_args()
    if not opts.tmpdir and os.access("/dev/shm", os.W_OK | os.X_OK):
        opts.tmpdir = "/dev/shm"

    cases = load_cases(opts.cases)
    if opts.only:
        cases = [c for c in cases if opts.only in c.name]
    print("1..%d" % len(cases))
    sys.stdout.flush()

    def one(case):
        try:
            return run_case(case, opts)
        except Exception as e:          # a broken case is a failure
            return "fail", ["runner: %r" % e]

    failed = 0
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=opts.jobs)
    for i, (case, (status, detail)) in enumerate(
            zip(cases, pool.map(one, cases)), 1):
        if status == "ok":
            print("ok %d %s" % (i, case.name))
            for line in detail or []:
                print("#   " + line)
        elif status == "skip":
            print("ok %d %s # SKIP %s" % (i, case.name, detail))
        else:
            failed += 1
            print("not ok %d %s (%s)" % (i, case.name, case.source))
            for line in detail if isinstance(detail, list) else [detail]:
                print("#   " + line)
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
