#!/usr/bin/env python3
"""Helpers for tests/faults.bats: loops over thousands of files, and loops
of hundreds of runs, are too slow in bash (and a Python start costs a
fifth of a second here, so each loop is one process). Every loop is
bounded in count and in time.

  faults.py mkfiles DIR N [DIR N ...]
      DIR/f0 .. DIR/f<N-1>, each holding its own name.

  faults.py check --src DIR --n N --trash T [--topdir D]
      Every DIR/fI is in place or in the trash T with a valid info file
      (see check()); prints a summary line, then one line per violation
      (exit 1).

  faults.py killtest --src DIR --n N --kills K --trash T --journal J
      K runs of "saferm -- DIR/f0 ... DIR/f<N-1>", the k-th killed with
      SIGKILL once T/files holds k*N/K entries; after each, check(), then
      saferm --undo and check() again, and what is left put back. One line
      per kill.

  faults.py racetest --mode permanent|purge --jail J [--rounds R] [--seconds S]
      Rounds of: a tree in J/work/tree, removed by saferm --permanent (or
      trashed, then purged) while two of its directories are swapped, as
      fast as possible, with symlinks to J/outside (renameat2
      RENAME_EXCHANGE); after each round every sentinel in J/outside is
      checked. Prints "rounds R swaps N changed C".

The checks follow the FreeDesktop Trash specification 1.0: [Trash Info],
Path= percent-encoded (absolute in the home trash, relative to the topdir
in a topdir trash), DeletionDate= as local time YYYY-MM-DDThh:mm:ss."""
import argparse
import ctypes
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.parse

DATE = re.compile(rb"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")
# RFC 2396 unreserved characters and '/', or %XX: what a Path= may hold.
ENCODED = re.compile(rb"^(?:[A-Za-z0-9\-_.!~*'()/]|%[0-9A-Fa-f]{2})*$")


def mkfiles(spec):
    for d, n in zip(spec[::2], spec[1::2]):
        os.makedirs(d, exist_ok=True)
        for i in range(int(n)):
            with open(os.path.join(d, "f%d" % i), "w") as f:
                f.write("f%d" % i)


def read(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        return os.read(fd, 1 << 16)
    finally:
        os.close(fd)


def is_tmpfs(dev, cache={}):
    if dev not in cache:
        want = "%d:%d" % (os.major(dev), os.minor(dev))
        with open("/proc/self/mountinfo") as f:
            cache[dev] = any(ln.split()[2] == want and ln.split(" - ")[1].startswith("tmpfs ") for ln in f)
    return cache[dev]


def count(d):
    """Entries in d. On tmpfs a directory's size is 20 bytes an entry (and
    40 for "." and ".."): a stat, where reading the directory would take
    its lock, over and over, and slow down the renames being counted."""
    try:
        st = os.stat(d)
        if is_tmpfs(st.st_dev):
            return st.st_size // 20 - 2
        with os.scandir(d) as it:
            return sum(1 for _ in it)
    except FileNotFoundError:
        return 0


def kill_at(d, at, cmd, timeout):
    """Run cmd; SIGKILL it once d holds at entries. (pid, status, stderr)."""
    deadline = time.monotonic() + timeout
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while p.poll() is None and time.monotonic() < deadline:
        if count(d) >= at:
            break
        time.sleep(0.0002)
    try:
        p.kill()
    except ProcessLookupError:
        pass
    _, err = p.communicate()
    return p.pid, p.returncode, err.decode(errors="replace")


def date_error(date, cache={}):
    """Why DeletionDate= is wrong (not a date, or not about now), or None.
    Cached: thousands of info files share a few dates."""
    if date not in cache:
        try:
            t = time.mktime(time.strptime(date.decode(), "%Y-%m-%dT%H:%M:%S"))
            cache[date] = None if abs(t - time.time()) < 86400 else "DeletionDate= is not today: %r" % date
        except ValueError:
            cache[date] = "bad DeletionDate=: %r" % date
    return cache[date]


def parse_info(data, topdir=None):
    """(absolute path bytes, None) or (None, why)."""
    lines = data.split(b"\n")
    if lines[0] != b"[Trash Info]":
        return None, "first line is not [Trash Info]: %r" % data[:40]
    path = date = None
    for line in lines[1:]:
        if line.startswith(b"Path=") and path is None:
            path = line[5:]
        elif line.startswith(b"DeletionDate=") and date is None:
            date = line[13:]
    if path is None or not ENCODED.match(path) or path.startswith(b"/") == bool(topdir):
        return None, "bad Path=: %r" % path
    if date is None or not DATE.match(date):
        return None, "bad DeletionDate=: %r" % date
    why = date_error(date)
    if why:
        return None, why
    path = urllib.parse.unquote_to_bytes(path)
    return (os.fsencode(topdir) + b"/" + path if topdir else path), None


def check(src, n, trash, topdir=None, journal=None, pid=0, max_orphans=0, max_residue=None, reset=False,
          inodes=None):
    """What is accepted, at any moment:
    - every operand is in place, or in files/ with an info file that
      parses and names that very operand (its inode, from inodes, or its
      content says which it is);
    - nothing in files/ without its info file (the spec's emergency case);
    - at most max_orphans info files without their file (a run died
      between writing one and the move): each must be whole and name an
      operand still in place, which makes it harmless (--list shows it as
      an orphan, --purge removes it);
    - with journal: whole lines only, and the run pid's '+' lines name
      items in the trash: all that run moved, but the one in flight.
    Returns (summary, errors, trashed count, orphan count, journaled)."""
    src = os.fsencode(src)
    files_dir = os.path.join(os.fsencode(trash), b"files")
    info_dir = os.path.join(os.fsencode(trash), b"info")
    want = {b"f%d" % i for i in range(n)}
    in_place = set(os.listdir(src))
    files = set(os.listdir(files_dir)) if os.path.isdir(files_dir) else set()
    infos = set(os.listdir(info_dir)) if os.path.isdir(info_dir) else set()
    errors, trashed = [], {}
    for name in sorted(in_place - want):
        errors.append("stray file in place: %r" % name)
    for e in sorted(files):
        try:
            path, why = parse_info(read(info_dir + b"/" + e + b".trashinfo"), topdir)
        except FileNotFoundError:
            errors.append("%r is in files/ without its info file" % e)
            continue
        if why:
            errors.append("%r.trashinfo: %s" % (e, why))
            continue
        if inodes:
            name = inodes.get(os.lstat(files_dir + b"/" + e).st_ino, b"?")
        else:
            name = read(files_dir + b"/" + e)
        if path != src + b"/" + name:
            errors.append("%r holds %r but its info says %r" % (e, name, path))
        elif name in in_place:
            errors.append("%r is both in place and in the trash" % name)
        elif name in trashed:
            errors.append("%r is in the trash twice" % name)
        else:
            trashed[name] = e
    orphans = sorted(i for i in infos if i[:-10] not in files)
    for o in orphans:
        path, why = parse_info(read(info_dir + b"/" + o), topdir)
        if why:
            errors.append("orphan %r: %s" % (o, why))
        elif not path.startswith(src + b"/") or path[len(src) + 1:] not in in_place:
            errors.append("orphan %r names %r, which is not in place" % (o, path))
    if len(orphans) > max_orphans:
        errors.append("%d info files without their file (at most %d)" % (len(orphans), max_orphans))
    lost = want - in_place - set(trashed)
    if lost:
        errors.append("%d files lost, e.g. %r" % (len(lost), sorted(lost)[:5]))
    journaled = None
    if journal:
        journaled = 0
        try:
            with open(journal, "rb") as f:
                lines = f.read().split(b"\n")
        except FileNotFoundError:
            lines = [b""]
        if lines[-1] != b"":
            errors.append("the journal ends with a torn line: %r" % lines[-1][-60:])
        for ln in lines[:-1]:
            f4 = ln.split(b"\t")
            if len(f4) != 4 or f4[0] not in (b"+", b"-"):
                errors.append("malformed journal line %r" % ln[:80])
            elif pid and f4[0] == b"+" and f4[1].endswith(b"-%d" % pid):
                journaled += 1
                if urllib.parse.unquote_to_bytes(f4[3]) not in files:
                    errors.append("the journal names %r, which is not in the trash" % f4[3])
        if pid and not len(trashed) - 1 <= journaled <= len(trashed):
            errors.append("%d items trashed but %d in the journal" % (len(trashed), journaled))
    if max_residue is not None and len(trashed) > max_residue:
        errors.append("%d items still in the trash (at most %d)" % (len(trashed), max_residue))
    summary = "in place %d, trashed %d, orphans %d" % (len(in_place), len(trashed), len(orphans))
    if reset and not errors:
        for name, e in trashed.items():
            os.rename(os.path.join(files_dir, e), os.path.join(src, name))
            os.unlink(os.path.join(info_dir, e + b".trashinfo"))
        for o in orphans:
            os.unlink(os.path.join(info_dir, o))
    return summary, errors, len(trashed), len(orphans), journaled


def cmd_check(args):
    summary, errors, *_ = check(args.src, args.n, args.trash, args.topdir)
    print(summary)
    for e in errors[:20]:
        print("error:", e)
    return 1 if errors else 0


def cmd_killtest(args):
    ops = [os.path.join(args.src, "f%d" % i) for i in range(args.n)]
    files_dir = os.path.join(args.trash, "files")
    mkfiles([args.src, args.n])
    inodes = {os.lstat(o).st_ino: os.fsencode(os.path.basename(o)) for o in ops}
    deadline = time.monotonic() + args.max_seconds
    for k in range(args.kills):
        if time.monotonic() > deadline:
            print("error: out of time after %d kills" % k)
            return 1
        at = k * args.n // args.kills
        pid, status, err = kill_at(files_dir, at, ["saferm", "--", *ops], 20)
        if status not in (0, -signal.SIGKILL):
            print("error: saferm exited with status %d: %s" % (status, err))
            return 1
        _, errors, trashed, orphans, journaled = check(
            args.src, args.n, args.trash, journal=args.journal, pid=pid, max_orphans=1, inodes=inodes)
        # trash-list (trash-cli) and saferm --list read what was left
        # without a complaint, now and then (they take a while).
        if not errors and k % 12 == 11:
            for lister in (["trash-list"], ["saferm", "--list"]):
                r = subprocess.run(lister, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                if r.returncode or r.stderr:
                    errors.append("%s: status %d: %s" % (lister[0], r.returncode, r.stderr.decode(errors="replace")))
        line = "kill %d at %d: status %d, %d trashed, %d journaled, %d orphans" % (
            k, at, status, trashed, journaled, orphans)
        if not errors:
            r = subprocess.run(["saferm", "--undo"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if r.returncode > 1:
                errors.append("--undo: status %d: %s" % (r.returncode, r.stderr.decode(errors="replace")))
            # What the journal knew is back; the item in flight is put
            # back by hand (reset), the orphan removed.
            _, errs, left, _, _ = check(args.src, args.n, args.trash, journal=args.journal,
                                        max_orphans=1, max_residue=1, reset=True, inodes=inodes)
            errors += errs
            line += "; after --undo %d left" % left
        print(line)
        for e in errors[:20]:
            print("error:", e)
        if errors:
            return 1
    return 0


def race(pairs, cmd, seconds):
    """Run cmd while swapping each pair. (swaps, status, stderr)."""
    libc = ctypes.CDLL(None, use_errno=True)
    at_fdcwd, rename_exchange = -100, 2
    pairs = [(os.fsencode(a), os.fsencode(b)) for a, b in pairs]
    deadline = time.monotonic() + seconds
    swaps = tries = 0
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while p.poll() is None and time.monotonic() < deadline:
        a, b = pairs[tries % len(pairs)]
        tries += 1
        if libc.renameat2(at_fdcwd, a, at_fdcwd, b, rename_exchange) == 0:
            swaps += 1
    _, err = p.communicate()
    return swaps, p.returncode, err.decode(errors="replace")


def snapshot(top):
    """Every entry below top: path, type, size, inode and content."""
    out = []
    for d, dirs, files in os.walk(top):
        for name in sorted(dirs + files):
            p = os.path.join(d, name)
            st = os.lstat(p)
            data = open(p, "rb").read() if name in files else b""
            out.append((p, st.st_mode, st.st_size, st.st_ino, data))
    return sorted(out)


def cmd_racetest(args):
    out = os.path.join(args.jail, "outside")
    tree = os.path.join(args.jail, "work", "tree")
    trash = os.path.join(os.environ["XDG_DATA_HOME"], "Trash")
    mkfiles([out, 100, os.path.join(out, "inner"), 100])
    before = snapshot(out)
    deadline = time.monotonic() + args.seconds
    rounds = swaps = changed = 0
    while rounds < args.rounds and time.monotonic() < deadline:
        mkfiles([os.path.join(tree, "sub"), 800, os.path.join(tree, "sub", "x", "y"), 100,
                 os.path.join(tree, "mid", "deep"), 300, os.path.join(tree, "mid", "deep", "z"), 50,
                 os.path.join(tree, "top"), 50])
        os.symlink(out, os.path.join(tree, "sub.link"))
        os.symlink(os.path.join(out, "inner"), os.path.join(tree, "mid", "deep.link"))
        t = tree
        if args.mode == "permanent":
            cmd = ["saferm", "--permanent", "-rf", tree]
        else:
            subprocess.run(["saferm", "-r", tree], check=True)
            t = os.path.join(trash, "files", "tree")
            cmd = ["saferm", "--purge"]
        pairs = [(os.path.join(t, "sub"), os.path.join(t, "sub.link")),
                 (os.path.join(t, "mid", "deep"), os.path.join(t, "mid", "deep.link"))]
        n, status, err = race(pairs, cmd, 10)
        if status not in (0, 1):
            print("error: round %d: saferm exited with status %d: %s" % (rounds, status, err))
            return 1
        changed += "changed during removal" in err
        now = snapshot(out)
        if now != before:
            gone = sorted({e[0] for e in before} - {e[0] for e in now})
            print("error: round %d: outside changed; %d entries gone, e.g. %r" % (rounds, len(gone), gone[:5]))
            return 1
        # Swapping has stopped: what saferm left goes, without following
        # the symlinks.
        shutil.rmtree(tree, ignore_errors=True)
        shutil.rmtree(trash, ignore_errors=True)
        rounds += 1
        swaps += n
    print("rounds %d swaps %d changed %d" % (rounds, swaps, changed))
    return 0


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd_name", required=True)
    p = sub.add_parser("mkfiles")
    p.add_argument("spec", nargs="+", metavar="DIR N")
    p.set_defaults(fn=lambda a: mkfiles(a.spec))
    p = sub.add_parser("check")
    p.add_argument("--src", required=True)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--trash", required=True)
    p.add_argument("--topdir", help="a topdir trash: Path= is relative to it")
    p.set_defaults(fn=cmd_check)
    p = sub.add_parser("killtest")
    p.add_argument("--src", required=True)
    p.add_argument("--n", type=int, required=True)
    p.add_argument("--kills", type=int, required=True)
    p.add_argument("--trash", required=True)
    p.add_argument("--journal", required=True)
    p.add_argument("--max-seconds", type=float, default=120)
    p.set_defaults(fn=cmd_killtest)
    p = sub.add_parser("racetest")
    p.add_argument("--mode", choices=("permanent", "purge"), required=True)
    p.add_argument("--jail", required=True)
    p.add_argument("--rounds", type=int, default=40)
    p.add_argument("--seconds", type=float, default=3)
    p.set_defaults(fn=cmd_racetest)
    args = ap.parse_args()
    return args.fn(args) or 0


if __name__ == "__main__":
    sys.exit(main())
