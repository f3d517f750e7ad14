#!/usr/bin/env python3
"""Tests of faultfs.py through a real FUSE mount: python3 deploy/faultfs/test_faultfs.py

Needs /dev/fuse, root (or a user allowed to mount FUSE) and Debian's python3-fusepy; skips every
test with the reason if one is missing. The end-to-end check with a raftmq node (node-smoke.sh)
runs only when broker-node/target/raftmq-node.jar and the cli jar are built.
"""

import errno
import json
import mmap
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
FAULTFS = os.path.join(HERE, "faultfs.py")


def _python_with_fusepy():
    for python in (sys.executable, "/usr/bin/python3"):
        if python and os.path.exists(python) and subprocess.run(
                [python, "-c", "import fusepy"], stderr=subprocess.DEVNULL).returncode == 0:
            return python
    return None


PYTHON = _python_with_fusepy()
SKIP_REASON = None
if not os.path.exists("/dev/fuse"):
    SKIP_REASON = "/dev/fuse is missing: faultfs needs FUSE"
elif PYTHON is None:
    SKIP_REASON = "fusepy is missing: apt-get install -y python3-fusepy fuse3"
elif shutil.which("fusermount3") is None and shutil.which("umount") is None:
    SKIP_REASON = "neither fusermount3 nor umount found"


def wait_until(condition, timeout_s=10.0, what="condition"):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("timed out waiting for " + what)


class Mount:
    """One faultfs process over a fresh backing directory."""

    def __init__(self, *extra_args):
        self.dir = tempfile.mkdtemp(prefix="faultfs-test-")
        self.backing = os.path.join(self.dir, "backing")
        self.mnt = os.path.join(self.dir, "mnt")
        os.mkdir(self.backing)
        os.mkdir(self.mnt)
        self.extra_args = list(extra_args)
        self.proc = None

    def start(self):
        self.stderr = open(os.path.join(self.dir, "faultfs.err"), "wb")
        self.proc = subprocess.Popen([PYTHON, FAULTFS, self.backing, self.mnt] + self.extra_args,
                                     stdout=subprocess.PIPE, stderr=self.stderr)
        line = self.proc.stdout.readline().decode().strip()
        if line != "faultfs ready":
            self.proc.kill()
            raise AssertionError("faultfs did not start: %r; stderr: %s" % (line, self.log()))
        return self

    def log(self):
        with open(os.path.join(self.dir, "faultfs.err")) as f:
            return f.read()

    def path(self, *parts):
        return os.path.join(self.mnt, *parts)

    def ctl(self, command):
        with open(self.path(".faultfs"), "w") as f:
            f.write(command + "\n")

    def status(self):
        with open(self.path(".faultfs")) as f:
            return json.loads(f.read())

    def unmount(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            tool = ["fusermount3", "-u"] if shutil.which("fusermount3") else ["umount"]
            subprocess.run(tool + [self.mnt], check=False)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                subprocess.run(["umount", "-l", self.mnt], check=False)
        self.proc.stdout.close()
        self.stderr.close()
        self.proc = None

    def close(self):
        self.unmount()
        shutil.rmtree(self.dir, ignore_errors=True)


def write_file(path, data, fsync=False, mode="wb"):
    with open(path, mode) as f:
        f.write(data)
        f.flush()
        if fsync:
            os.fsync(f.fileno())


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def fsync_dir(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@unittest.skipIf(SKIP_REASON is not None, SKIP_REASON or "")
class FaultFsTest(unittest.TestCase):
    extra_args = ()

    def setUp(self):
        self.fs = Mount(*self.extra_args).start()
        self.addCleanup(self.fs.close)

    def drop(self):
        self.fs.ctl("drop-unsynced")

    # ------------------------------------------------------------------------------ contents

    def test_fsynced_write_survives_drop(self):
        write_file(self.fs.path("f"), b"durable", fsync=True)
        fsync_dir(self.fs.mnt)
        self.drop()
        self.assertEqual(read_file(self.fs.path("f")), b"durable")

    def test_write_without_fsync_is_lost(self):
        write_file(self.fs.path("f"), b"A" * 10000, fsync=True)
        fsync_dir(self.fs.mnt)
        write_file(self.fs.path("f"), b"B" * 5000, mode="ab")
        with open(self.fs.path("f"), "r+b") as f:
            f.seek(100)
            f.write(b"C" * 10)
        expected = b"A" * 100 + b"C" * 10 + b"A" * 9890 + b"B" * 5000
        self.assertEqual(read_file(self.fs.path("f")), expected)
        self.assertEqual(os.stat(self.fs.path("f")).st_size, 15000)
        self.assertGreater(self.fs.status()["unsynced_bytes"], 0)
        self.drop()
        self.assertEqual(read_file(self.fs.path("f")), b"A" * 10000)
        self.assertEqual(self.fs.status()["unsynced_bytes"], 0)

    def test_only_what_was_written_before_the_fsync_survives(self):
        write_file(self.fs.path("f"), b"", fsync=True)
        fsync_dir(self.fs.mnt)
        with open(self.fs.path("f"), "r+b") as f:
            f.write(b"one")
            f.flush()
            os.fsync(f.fileno())
            f.write(b"two")
            f.flush()
        self.drop()
        self.assertEqual(read_file(self.fs.path("f")), b"one")

    def test_truncate_is_reverted_without_fsync(self):
        data = bytes(range(256)) * 40
        write_file(self.fs.path("f"), data, fsync=True)
        fsync_dir(self.fs.mnt)
        with open(self.fs.path("f"), "r+b") as f:
            f.truncate(100)
            f.seek(0, os.SEEK_END)
            f.write(b"X" * 50)
            f.truncate(8000)  # grows again: the bytes past 150 read as zeros, not the old data
        self.assertEqual(read_file(self.fs.path("f")), data[:100] + b"X" * 50 + bytes(7850))
        self.drop()
        self.assertEqual(read_file(self.fs.path("f")), data)

    def test_fsynced_truncate_survives(self):
        write_file(self.fs.path("f"), b"Z" * 9000, fsync=True)
        fsync_dir(self.fs.mnt)
        with open(self.fs.path("f"), "r+b") as f:
            f.truncate(10)
            os.fsync(f.fileno())
        self.drop()
        self.assertEqual(read_file(self.fs.path("f")), b"Z" * 10)
        self.assertEqual(os.path.getsize(os.path.join(self.fs.backing, "f")), 10)

    # ----------------------------------------------------------------------------- namespace

    def test_created_file_vanishes_without_dirsync_even_if_fsynced(self):
        write_file(self.fs.path("new"), b"data", fsync=True)
        self.drop()
        self.assertFalse(os.path.exists(self.fs.path("new")))
        write_file(self.fs.path("new"), b"data", fsync=True)
        fsync_dir(self.fs.mnt)
        self.drop()
        self.assertEqual(read_file(self.fs.path("new")), b"data")

    def test_rename_without_dirsync_is_undone_with_dirsync_kept(self):
        write_file(self.fs.path("a"), b"aaa", fsync=True)
        fsync_dir(self.fs.mnt)
        os.rename(self.fs.path("a"), self.fs.path("b"))
        self.assertEqual(os.listdir(self.fs.mnt), ["b"])
        self.drop()
        self.assertEqual(sorted(os.listdir(self.fs.mnt)), ["a"])
        self.assertEqual(read_file(self.fs.path("a")), b"aaa")
        os.rename(self.fs.path("a"), self.fs.path("b"))
        fsync_dir(self.fs.mnt)
        self.drop()
        self.assertEqual(sorted(os.listdir(self.fs.mnt)), ["b"])
        self.assertEqual(read_file(self.fs.path("b")), b"aaa")

    def test_rename_replacing_a_file(self):
        write_file(self.fs.path("cp"), b"old", fsync=True)
        fsync_dir(self.fs.mnt)
        write_file(self.fs.path("cp.tmp"), b"new", fsync=True)
        os.replace(self.fs.path("cp.tmp"), self.fs.path("cp"))
        self.drop()  # the replace was not followed by a directory fsync
        self.assertEqual(sorted(os.listdir(self.fs.mnt)), ["cp"])
        self.assertEqual(read_file(self.fs.path("cp")), b"old")
        write_file(self.fs.path("cp.tmp"), b"new", fsync=True)
        os.replace(self.fs.path("cp.tmp"), self.fs.path("cp"))
        fsync_dir(self.fs.mnt)
        self.drop()
        self.assertEqual(sorted(os.listdir(self.fs.mnt)), ["cp"])
        self.assertEqual(read_file(self.fs.path("cp")), b"new")

    def test_rename_across_directories_is_atomic_when_either_is_synced(self):
        os.mkdir(self.fs.path("d1"))
        os.mkdir(self.fs.path("d2"))
        write_file(self.fs.path("d1", "f"), b"f", fsync=True)
        fsync_dir(self.fs.path("d1"))
        fsync_dir(self.fs.mnt)
        os.rename(self.fs.path("d1", "f"), self.fs.path("d2", "g"))
        fsync_dir(self.fs.path("d1"))  # only the source directory
        self.drop()
        self.assertEqual(os.listdir(self.fs.path("d1")), [])
        self.assertEqual(read_file(self.fs.path("d2", "g")), b"f")

    def test_swapped_names_become_durable_together(self):
        for name in ("a", "b"):
            write_file(self.fs.path(name), name.encode() * 10, fsync=True)
        fsync_dir(self.fs.mnt)
        os.rename(self.fs.path("a"), self.fs.path("tmp"))
        os.rename(self.fs.path("b"), self.fs.path("a"))
        os.rename(self.fs.path("tmp"), self.fs.path("b"))
        fsync_dir(self.fs.mnt)
        self.drop()
        self.assertEqual(read_file(self.fs.path("a")), b"b" * 10)
        self.assertEqual(read_file(self.fs.path("b")), b"a" * 10)
        self.assertEqual(sorted(os.listdir(self.fs.mnt)), ["a", "b"])

    def test_unlink_without_dirsync_is_undone(self):
        write_file(self.fs.path("gone"), b"still here", fsync=True)
        fsync_dir(self.fs.mnt)
        os.unlink(self.fs.path("gone"))
        self.assertFalse(os.path.exists(self.fs.path("gone")))
        self.drop()
        self.assertEqual(read_file(self.fs.path("gone")), b"still here")
        os.unlink(self.fs.path("gone"))
        fsync_dir(self.fs.mnt)
        self.drop()
        self.assertFalse(os.path.exists(self.fs.path("gone")))
        self.assertEqual(os.listdir(self.fs.backing), [".faultfs-staging"])

    def test_new_directory_needs_its_parent_synced(self):
        os.makedirs(self.fs.path("topic-0"))
        write_file(self.fs.path("topic-0", "0.log"), b"records", fsync=True)
        fsync_dir(self.fs.path("topic-0"))
        self.drop()  # topic-0 itself was never made durable in the root
        self.assertEqual(os.listdir(self.fs.mnt), [])
        os.makedirs(self.fs.path("topic-0"))
        write_file(self.fs.path("topic-0", "0.log"), b"records", fsync=True)
        fsync_dir(self.fs.mnt)
        fsync_dir(self.fs.path("topic-0"))
        self.drop()
        self.assertEqual(read_file(self.fs.path("topic-0", "0.log")), b"records")

    def test_renamed_directory_and_deleted_tree(self):
        os.makedirs(self.fs.path("t-0"))
        write_file(self.fs.path("t-0", "s"), b"seg", fsync=True)
        fsync_dir(self.fs.path("t-0"))
        fsync_dir(self.fs.mnt)
        os.rename(self.fs.path("t-0"), self.fs.path("t-0.delete"))
        fsync_dir(self.fs.mnt)
        os.unlink(self.fs.path("t-0.delete", "s"))
        os.rmdir(self.fs.path("t-0.delete"))
        self.drop()  # the deletes were not synced: the renamed directory comes back whole
        self.assertEqual(os.listdir(self.fs.mnt), ["t-0.delete"])
        self.assertEqual(read_file(self.fs.path("t-0.delete", "s")), b"seg")
        os.unlink(self.fs.path("t-0.delete", "s"))
        os.rmdir(self.fs.path("t-0.delete"))
        fsync_dir(self.fs.mnt)
        self.drop()
        self.assertEqual(os.listdir(self.fs.mnt), [])
        self.assertEqual(os.listdir(self.fs.backing), [".faultfs-staging"])

    def test_open_unlinked_file_stays_readable(self):
        write_file(self.fs.path("f"), b"x" * 100)
        with open(self.fs.path("f"), "rb") as f:
            os.unlink(self.fs.path("f"))
            self.assertEqual(f.read(), b"x" * 100)
            self.assertEqual(os.fstat(f.fileno()).st_size, 100)
        self.assertEqual(os.listdir(self.fs.mnt), [])
        self.assertEqual(self.fs.status()["used"], 0)

    def test_control_file_is_not_listed(self):
        write_file(self.fs.path("f"), b"")
        self.assertEqual(os.listdir(self.fs.mnt), ["f"])
        self.assertTrue(os.path.exists(self.fs.path(".faultfs")))

    def test_bad_command_is_refused(self):
        with self.assertRaises(OSError) as caught:
            self.fs.ctl("capacity lots")
        self.assertEqual(caught.exception.errno, errno.EINVAL)
        with self.assertRaises(OSError):
            self.fs.ctl("explode")

    # -------------------------------------------------------------------------------- faults

    def test_enospc_at_capacity_and_statfs(self):
        self.fs.ctl("capacity 65536")
        sv = os.statvfs(self.fs.mnt)
        self.assertEqual(sv.f_blocks * sv.f_frsize, 65536)
        self.assertEqual(sv.f_bavail * sv.f_frsize, 65536)
        write_file(self.fs.path("a"), b"a" * 40000)
        sv = os.statvfs(self.fs.mnt)
        self.assertEqual(sv.f_bavail * sv.f_frsize, (65536 - 40000) // 4096 * 4096)
        with self.assertRaises(OSError) as caught:
            write_file(self.fs.path("b"), b"b" * 30000)
        self.assertEqual(caught.exception.errno, errno.ENOSPC)
        write_file(self.fs.path("a"), b"c" * 40000, mode="r+b")  # overwriting needs no space
        status = self.fs.status()
        self.assertEqual(status["capacity"], 65536)
        self.assertGreaterEqual(status["counters"]["enospc"], 1)
        os.unlink(self.fs.path("a"))
        write_file(self.fs.path("b"), b"b" * 30000)  # space freed by the unlink
        self.fs.ctl("heal")
        write_file(self.fs.path("c"), b"c" * 100000)

    def test_fsync_delay(self):
        write_file(self.fs.path("f"), b"x")
        self.fs.ctl("fsync-delay 300")
        self.assertEqual(self.fs.status()["fsync_delay_ms"], 300)
        with open(self.fs.path("f"), "r+b") as f:
            start = time.monotonic()
            os.fsync(f.fileno())
            self.assertGreaterEqual(time.monotonic() - start, 0.3)
            start = time.monotonic()
            os.fdatasync(f.fileno())
            self.assertGreaterEqual(time.monotonic() - start, 0.3)
        start = time.monotonic()
        fsync_dir(self.fs.mnt)
        self.assertGreaterEqual(time.monotonic() - start, 0.3)
        self.fs.ctl("fsync-delay 0")
        start = time.monotonic()
        fsync_dir(self.fs.mnt)
        self.assertLess(time.monotonic() - start, 0.3)

    def test_fsync_delayed_across_a_power_loss_does_not_make_anything_durable(self):
        import threading
        write_file(self.fs.path("f"), b"old", fsync=True)
        fsync_dir(self.fs.mnt)
        write_file(self.fs.path("f"), b"new")
        self.fs.ctl("fsync-delay 1000")
        outcome = []
        fd = os.open(self.fs.path("f"), os.O_RDWR)
        self.addCleanup(os.close, fd)

        def sync():
            try:
                os.fsync(fd)
                outcome.append("ok")
            except OSError as e:
                outcome.append(e.errno)
        syncer = threading.Thread(target=sync)
        syncer.start()
        time.sleep(0.2)  # the fsync is now sleeping in faultfs (the delay)
        self.drop()
        syncer.join(10)
        self.assertEqual(outcome, [errno.EBADF])
        self.fs.ctl("heal")
        self.assertEqual(read_file(self.fs.path("f")), b"old")

    def test_fsync_fail(self):
        write_file(self.fs.path("f"), b"x")
        self.fs.ctl("fsync-fail on")
        with open(self.fs.path("f"), "r+b") as f:
            with self.assertRaises(OSError) as caught:
                os.fsync(f.fileno())
            self.assertEqual(caught.exception.errno, errno.EIO)
            self.fs.ctl("heal")
            os.fsync(f.fileno())
        self.assertEqual(self.fs.status()["counters"]["fsync_failed"], 1)

    def test_mmap_read_and_write(self):
        write_file(self.fs.path("idx"), bytes(8192), fsync=True)
        fsync_dir(self.fs.mnt)
        with open(self.fs.path("idx"), "r+b") as f:
            with mmap.mmap(f.fileno(), 8192) as m:
                m[0:5] = b"hello"
                m[5000:5005] = b"world"
                m.flush()  # msync: written back and fsynced
        write_file(self.fs.path("idx"), b"!", mode="r+b")  # through write(): seen by a new mapping
        with open(self.fs.path("idx"), "rb") as f:
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as m:
                self.assertEqual(m[0:5], b"!ello")
                self.assertEqual(m[5000:5005], b"world")
        self.drop()
        data = read_file(self.fs.path("idx"))
        self.assertEqual(data[0:5], b"hello")
        self.assertEqual(data[5000:5005], b"world")

    def test_sigterm_unmounts_and_keeps_everything(self):
        write_file(self.fs.path("f"), b"unsynced but cleanly unmounted")
        self.fs.proc.send_signal(signal.SIGTERM)
        self.fs.proc.wait(timeout=20)
        self.assertFalse(os.path.ismount(self.fs.mnt))
        self.assertEqual(read_file(os.path.join(self.fs.backing, "f")), b"unsynced but cleanly unmounted")
        self.assertEqual(os.listdir(self.fs.backing), ["f"])


    def test_drop_reports_what_it_reverted(self):
        write_file(self.fs.path("kept"), b"", fsync=True)
        fsync_dir(self.fs.mnt)
        os.rename(self.fs.path("kept"), self.fs.path("moved"))
        write_file(self.fs.path("new"), b"12345")
        self.drop()
        last = self.fs.status()["last_drop"]
        self.assertEqual(last["entries"], 3)
        self.assertEqual(last["entries_sample"], ["+/moved", "+/new", "-/kept"])
        self.assertEqual(last["bytes"], 4096)

    def test_journal_mode_commits_entries_on_any_fsync(self):
        self.fs.ctl("dirsync-mode journal")
        os.makedirs(self.fs.path("data", "t-0"))
        write_file(self.fs.path("data", "t-0", "0.log"), b"seg", fsync=True)
        write_file(self.fs.path("data", "unsynced"), b"x")  # created after the last fsync
        self.drop()
        self.assertEqual(read_file(self.fs.path("data", "t-0", "0.log")), b"seg")
        self.assertEqual(sorted(os.listdir(self.fs.path("data"))), ["t-0"])
        self.fs.ctl("dirsync-mode strict")
        self.assertEqual(self.fs.status()["dirsync_mode"], "strict")
        write_file(self.fs.path("data", "t-0", "1.log"), b"seg", fsync=True)
        self.drop()
        self.assertEqual(os.listdir(self.fs.path("data", "t-0")), ["0.log"])


@unittest.skipIf(SKIP_REASON is not None, SKIP_REASON or "")
class UnmountTest(unittest.TestCase):
    @unittest.skipIf(shutil.which("unshare") is None, "no unshare(1)")
    def test_unmount_ends_faultfs_while_another_mount_namespace_holds_a_copy(self):
        fs = Mount().start()
        self.addCleanup(fs.close)
        write_file(fs.path("f"), b"written before the unmount")
        # a process in a mount namespace copied now (as `ip netns exec` makes one) keeps the mount
        holder = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sleep", "60"])
        self.addCleanup(holder.wait)
        self.addCleanup(holder.kill)
        time.sleep(0.2)
        subprocess.run(["fusermount3", "-u", fs.mnt] if shutil.which("fusermount3")
                       else ["umount", fs.mnt], check=True)
        fs.proc.wait(timeout=10)
        self.assertEqual(read_file(os.path.join(fs.backing, "f")), b"written before the unmount")


class ReferenceModel:
    """What faultfs promises, for files in fixed, durable directories, written independently of
    faultfs: files are ids; vloc/dloc map an id to its volatile/durable (directory, name), vc/dc to
    its volatile/durable contents."""

    def __init__(self, journal):
        self.journal = journal
        self.vloc, self.dloc, self.vc, self.dc = {}, {}, {}, {}
        self.next_id = 0

    def find(self, loc):
        return next((i for i, at in self.vloc.items() if at == loc), None)

    def dfind(self, loc):
        return next((i for i, at in self.dloc.items() if at == loc), None)

    def create(self, loc):
        self.next_id += 1
        self.vloc[self.next_id] = loc
        self.vc[self.next_id] = bytearray()
        return self.next_id

    def write(self, i, offset, data):
        content = self.vc[i]
        if len(content) < offset:
            content.extend(bytes(offset - len(content)))
        content[offset:offset + len(data)] = data

    def truncate(self, i, length):
        content = self.vc[i]
        if length < len(content):
            del content[length:]
        else:
            content.extend(bytes(length - len(content)))

    def rename(self, src, dst):
        i, replaced = self.find(src), self.find(dst)
        if replaced is not None:
            self.vloc[replaced] = None
        self.vloc[i] = dst

    def unlink(self, loc):
        self.vloc[self.find(loc)] = None

    def fsync(self, i):
        self.dc[i] = bytes(self.vc[i])
        if self.journal:
            self.commit_all()

    def fsyncdir(self, d):
        if self.journal:
            self.commit_all()
            return
        names = {at[1] for at in list(self.vloc.values()) + list(self.dloc.values())
                 if at is not None and at[0] == d}
        for name in sorted(names):
            self.sync_entry((d, name))

    def commit_all(self):
        self.dloc = {i: at for i, at in self.vloc.items() if at is not None}

    def sync_entry(self, loc):
        new, old = self.find(loc), self.dfind(loc)
        if new == old:
            return
        if old is not None:
            self.discard(old)
        if new is not None and self.dfind(loc) != new:
            current = self.dfind(loc)
            if current is not None:
                self.discard(current)
            self.dloc[new] = loc

    def discard(self, i):
        at = self.vloc.get(i)
        self.dloc.pop(i, None)
        if at is not None:  # renamed: the rename becomes durable as a whole
            self.sync_entry(at)

    def power_loss(self):
        self.vloc = dict(self.dloc)
        self.vc = {i: bytearray(self.dc.get(i, b"")) for i in self.dloc}

    def visible(self):
        return {at: bytes(self.vc[i]) for i, at in self.vloc.items() if at is not None}


@unittest.skipIf(SKIP_REASON is not None, SKIP_REASON or "")
class RandomOpsTest(unittest.TestCase):
    """Random creates, writes, truncates, renames, unlinks, fsyncs and power losses on a mount,
    against ReferenceModel. The seed is printed with any failure; FAULTFS_TEST_SEED replays one."""

    DIRS = ("", "d1", "d2")
    NAMES = ("a", "b", "c")

    def check(self, fs, ref, seed, step, history):
        seen = {}
        for d in self.DIRS:
            for name in os.listdir(fs.path(d)) if d else os.listdir(fs.mnt):
                if d == "" and name in self.DIRS:
                    continue
                seen[(d, name)] = read_file(fs.path(d, name))
        expected = ref.visible()
        if seen != expected:
            diff = {k: (len(seen.get(k, b"")) if k in seen else None,
                        len(expected.get(k, b"")) if k in expected else None)
                    for k in set(seen) | set(expected) if seen.get(k) != expected.get(k)}
            self.fail("seed %d, step %d: (dir, name) -> (size seen, size expected): %s; last ops: %s"
                      % (seed, step, diff, history[-12:]))

    def run_ops(self, seed, journal, steps=250):
        import random
        rng = random.Random(seed)
        fs = Mount("--dirsync-mode", "journal" if journal else "strict").start()
        self.addCleanup(fs.close)
        for d in self.DIRS[1:]:
            os.mkdir(fs.path(d))
        fsync_dir(fs.mnt)
        ref = ReferenceModel(journal)
        history = []
        for step in range(steps):
            loc = (rng.choice(self.DIRS), rng.choice(self.NAMES))
            path = fs.path(*loc)
            i = ref.find(loc)
            op = rng.choice(("write", "write", "write", "truncate", "fsync", "fsync", "fsyncdir",
                             "rename", "rename", "unlink", "drop" if rng.random() < 0.3 else "write"))
            if op == "write":
                offset = rng.randrange(0, 12000)
                data = bytes([rng.randrange(256)]) * rng.randrange(1, 9000)
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    os.pwrite(fd, data, offset)
                finally:
                    os.close(fd)
                if i is None:
                    i = ref.create(loc)
                ref.write(i, offset, data)
                history.append((op, loc, offset, len(data)))
            elif i is None:
                continue
            elif op == "truncate":
                length = rng.randrange(0, 15000)
                os.truncate(path, length)
                ref.truncate(i, length)
                history.append((op, loc, length))
            elif op == "fsync":
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
                ref.fsync(i)
                history.append((op, loc))
            elif op == "fsyncdir":
                fsync_dir(fs.path(loc[0]) if loc[0] else fs.mnt)
                ref.fsyncdir(loc[0])
                history.append((op, loc[0]))
            elif op == "rename":
                dst = (rng.choice(self.DIRS), rng.choice(self.NAMES))
                if dst == loc:
                    continue
                os.rename(path, fs.path(*dst))
                ref.rename(loc, dst)
                history.append((op, loc, dst))
            elif op == "unlink":
                os.unlink(path)
                ref.unlink(loc)
                history.append((op, loc))
            elif op == "drop":
                self.check(fs, ref, seed, step, history)
                fs.ctl("drop-unsynced")
                ref.power_loss()
                history.append((op,))
                self.check(fs, ref, seed, step, history)
        self.check(fs, ref, seed, steps, history)
        fs.ctl("drop-unsynced")
        ref.power_loss()
        self.check(fs, ref, seed, steps, history + [("drop",)])
        fs.ctl("sync")  # everything visible is now durable: the backing dir holds exactly it
        backing = {}
        for d in self.DIRS:
            for name in os.listdir(os.path.join(fs.backing, d)):
                if d == "" and name in self.DIRS + (".faultfs-staging",):
                    continue
                backing[(d, name)] = read_file(os.path.join(fs.backing, d, name))
        self.assertEqual(backing, ref.visible(), "seed %d: backing dir after sync" % seed)

    def seeds(self):
        given = os.environ.get("FAULTFS_TEST_SEED")
        if given:
            return [int(given)]
        base = int(time.time())
        return [base + k for k in range(3)]

    def test_strict_mode_matches_the_model(self):
        for seed in self.seeds():
            self.run_ops(seed, journal=False)

    def test_journal_mode_matches_the_model(self):
        for seed in self.seeds():
            self.run_ops(seed, journal=True)


class TreeModel:
    """ReferenceModel with directories: every file and directory is an id (the root is 0), vloc and
    dloc map it to its volatile and durable (parent id, name); after a power loss what is reachable
    from the root through dloc is what exists."""

    def __init__(self, journal):
        self.journal = journal
        self.is_dir = {0: True}
        self.vloc, self.dloc, self.vc, self.dc = {}, {}, {}, {}
        self.next_id = 0

    @staticmethod
    def at(locs, loc):
        return next((i for i, where in locs.items() if where == loc), None)

    @staticmethod
    def entries(locs, parent):
        return {where[1]: i for i, where in locs.items() if where is not None and where[0] == parent}

    def reachable(self, locs):
        seen, frontier = {0}, [0]
        while frontier:
            for i in self.entries(locs, frontier.pop()).values():
                if i not in seen:
                    seen.add(i)
                    frontier.append(i)
        return seen

    def path(self, i):
        parts = []
        while i != 0:
            i, name = self.vloc[i]
            parts.append(name)
        return "/".join(reversed(parts))

    def new(self, loc, is_dir):
        self.next_id += 1
        self.is_dir[self.next_id] = is_dir
        self.vloc[self.next_id] = loc
        if not is_dir:
            self.vc[self.next_id] = bytearray()
        return self.next_id

    def write(self, i, offset, data):
        content = self.vc[i]
        if len(content) < offset:
            content.extend(bytes(offset - len(content)))
        content[offset:offset + len(data)] = data

    def truncate(self, i, length):
        content = self.vc[i]
        del content[length:]
        content.extend(bytes(length - len(content)))

    def rename(self, i, dst):
        replaced = self.at(self.vloc, dst)
        if replaced is not None:
            self.vloc[replaced] = None
        self.vloc[i] = dst

    def remove(self, i):
        self.vloc[i] = None

    def fsync(self, i):
        self.dc[i] = bytes(self.vc[i])
        if self.journal:
            self.dloc = {i: where for i, where in self.vloc.items() if where is not None}

    def fsyncdir(self, d):
        if self.journal:
            self.dloc = {i: where for i, where in self.vloc.items() if where is not None}
            return
        for name in sorted(set(self.entries(self.vloc, d)) | set(self.entries(self.dloc, d))):
            self.sync_entry((d, name))

    def sync_entry(self, loc):
        new, old = self.at(self.vloc, loc), self.at(self.dloc, loc)
        if new == old:
            return
        if old is not None:
            self.discard(old)
        if new is not None and self.at(self.dloc, loc) != new:
            self.untangle(new, loc[0])
            current = self.at(self.dloc, loc)
            if current is not None:
                self.discard(current)
            self.dloc[new] = loc

    def discard(self, i):
        where = self.vloc.get(i)
        self.dloc.pop(i, None)
        if where is not None:  # renamed: the rename becomes durable as a whole
            self.sync_entry(where)
        elif self.is_dir[i]:
            for child in self.entries(self.dloc, i).values():
                self.discard(child)

    def untangle(self, node, target):
        """A directory made durable inside its own durable subtree: the subtree's directory on the
        way first goes where it is now (or nowhere)."""
        if not self.is_dir[node]:
            return
        while True:
            x, child = target, None
            while x not in (0, None, node):
                child, x = x, (self.dloc[x][0] if x in self.dloc else None)
            if x != node or child is None:
                return
            where = self.vloc.get(child)
            self.dloc.pop(child)
            if where is not None and where[0] != node:
                self.sync_entry(where)

    def power_loss(self):
        alive = self.reachable(self.dloc) - {0}
        self.dloc = {i: self.dloc[i] for i in alive}
        self.vloc = dict(self.dloc)
        self.vc = {i: bytearray(self.dc.get(i, b"")) for i in alive if not self.is_dir[i]}

    def visible(self):
        out = {}
        for i in self.reachable(self.vloc) - {0}:
            out[self.path(i)] = "DIR" if self.is_dir[i] else bytes(self.vc[i])
        return out


@unittest.skipIf(SKIP_REASON is not None, SKIP_REASON or "")
class RandomTreeOpsTest(unittest.TestCase):
    """RandomOpsTest with directories made, removed and renamed, against TreeModel."""

    NAMES = ("a", "b", "c", "d")

    def tree(self, fs):
        out = {}
        for top, dirs, files in os.walk(fs.mnt):
            rel = os.path.relpath(top, fs.mnt)
            for name in dirs:
                out[os.path.normpath(os.path.join(rel, name))] = "DIR"
            for name in files:
                out[os.path.normpath(os.path.join(rel, name))] = read_file(os.path.join(top, name))
        return out

    def check(self, fs, ref, seed, step, history):
        seen, expected = self.tree(fs), ref.visible()
        if seen != expected:
            def show(v):
                return v if v == "DIR" else len(v)
            diff = {k: (show(seen[k]) if k in seen else None, show(expected[k]) if k in expected else None)
                    for k in set(seen) | set(expected) if seen.get(k) != expected.get(k)}
            self.fail("seed %d, step %d: path -> (seen, expected; a size or DIR): %s; last ops: %s"
                      % (seed, step, diff, history[-15:]))

    def run_ops(self, seed, journal, steps=300):
        import random
        rng = random.Random(seed)
        fs = Mount("--dirsync-mode", "journal" if journal else "strict").start()
        self.addCleanup(fs.close)
        ref = TreeModel(journal)
        history = []
        for step in range(steps):
            dirs = [0] + [i for i in ref.reachable(ref.vloc) - {0} if ref.is_dir[i]]
            parent = rng.choice(dirs)
            loc = (parent, rng.choice(self.NAMES))
            i = ref.at(ref.vloc, loc)
            path = fs.path(ref.path(parent), loc[1]) if parent else fs.path(loc[1])
            op = rng.choice(("write", "write", "truncate", "fsync", "fsyncdir", "fsyncdir", "mkdir",
                             "mkdir", "rmdir", "rename", "rename", "rename", "unlink",
                             "drop" if rng.random() < 0.3 else "fsyncdir"))
            is_dir = i is not None and ref.is_dir[i]
            if op == "write" and not is_dir:
                offset = rng.randrange(0, 9000)
                data = bytes([rng.randrange(256)]) * rng.randrange(1, 6000)
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
                try:
                    os.pwrite(fd, data, offset)
                finally:
                    os.close(fd)
                if i is None:
                    i = ref.new(loc, False)
                ref.write(i, offset, data)
                history.append((op, path, offset, len(data)))
            elif op == "mkdir" and i is None:
                os.mkdir(path)
                ref.new(loc, True)
                history.append((op, path))
            elif op == "fsyncdir":
                fsync_dir(fs.path(ref.path(parent)) if parent else fs.mnt)
                ref.fsyncdir(parent)
                history.append((op, parent and ref.path(parent)))
            elif op == "drop":
                self.check(fs, ref, seed, step, history)
                fs.ctl("drop-unsynced")
                ref.power_loss()
                history.append((op,))
                self.check(fs, ref, seed, step, history)
            elif i is None:
                continue
            elif op == "truncate" and not is_dir:
                length = rng.randrange(0, 12000)
                os.truncate(path, length)
                ref.truncate(i, length)
                history.append((op, path, length))
            elif op == "fsync" and not is_dir:
                fd = os.open(path, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
                ref.fsync(i)
                history.append((op, path))
            elif op == "unlink" and not is_dir:
                os.unlink(path)
                ref.remove(i)
                history.append((op, path))
            elif op == "rmdir" and is_dir and not ref.entries(ref.vloc, i):
                os.rmdir(path)
                ref.remove(i)
                history.append((op, path))
            elif op == "rename":
                dparent = rng.choice(dirs)
                dst = (dparent, rng.choice(self.NAMES))
                x = dparent
                while x != 0 and x != i:
                    x = ref.vloc[x][0]
                if dst == loc or x == i:
                    continue  # itself, or a directory into its own subtree
                target = ref.at(ref.vloc, dst)
                if target is not None and (ref.is_dir[target] != is_dir
                                           or (is_dir and ref.entries(ref.vloc, target))):
                    continue
                dpath = fs.path(ref.path(dparent), dst[1]) if dparent else fs.path(dst[1])
                os.rename(path, dpath)
                ref.rename(i, dst)
                history.append((op, path, dpath))
        self.check(fs, ref, seed, steps, history)
        fs.ctl("drop-unsynced")
        ref.power_loss()
        self.check(fs, ref, seed, steps, history + [("drop",)])

    def seeds(self):
        given = os.environ.get("FAULTFS_TEST_SEED")
        if given:
            return [int(given)]
        base = int(time.time())
        return [base + k for k in range(3)]

    def test_strict_mode_matches_the_model(self):
        for seed in self.seeds():
            self.run_ops(seed, journal=False)

    def test_journal_mode_matches_the_model(self):
        for seed in self.seeds():
            self.run_ops(seed, journal=True)


@unittest.skipIf(SKIP_REASON is not None, SKIP_REASON or "")
class WritebackTest(unittest.TestCase):
    def test_oldest_files_are_written_back_past_the_limit(self):
        fs = Mount("--max-unsynced-bytes", str(64 * 1024)).start()
        self.addCleanup(fs.close)
        for name in ("a", "b"):
            write_file(fs.path(name), b"", fsync=True)
        fsync_dir(fs.mnt)
        write_file(fs.path("a"), b"A" * 60000, mode="r+b")
        write_file(fs.path("b"), b"B" * 30000, mode="r+b")  # over the limit: a is written back
        status = fs.status()
        self.assertEqual(status["counters"]["writebacks"], 1)
        self.assertLessEqual(status["unsynced_bytes"], 64 * 1024)
        fs.ctl("drop-unsynced")
        self.assertEqual(read_file(fs.path("a")), b"A" * 60000)
        self.assertEqual(read_file(fs.path("b")), b"")


@unittest.skipIf(SKIP_REASON is not None, SKIP_REASON or "")
class NodeSmokeTest(unittest.TestCase):
    """node-smoke.sh: one raftmq node on faultfs, kill -9, drop-unsynced, restart, read back."""

    def run_smoke(self, mode):
        jar = os.path.join(ROOT, "broker-node", "target", "raftmq-node.jar")
        if not os.path.exists(jar):
            self.skipTest("no %s: mvn -B -q -o -pl broker-node,cli -am package -DskipTests" % jar)
        env = dict(os.environ, FAULTFS_PYTHON=PYTHON)
        result = subprocess.run([os.path.join(HERE, "node-smoke.sh"), mode], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=600)
        output = result.stdout.decode(errors="replace")
        self.assertEqual(result.returncode, 0, output[-4000:])

    def test_node_recovers_after_drop_unsynced_journal_mode(self):
        self.run_smoke("journal")

    @unittest.skipUnless(os.environ.get("FAULTFS_SMOKE_STRICT"),
                         "set FAULTFS_SMOKE_STRICT=1 to run: raftmq does not yet fsync the parent "
                         "directory of the directories and files it creates (issue 16, hole 9), so "
                         "in strict mode a power loss takes the whole data directory")
    def test_node_recovers_after_drop_unsynced_strict_mode(self):
        self.run_smoke("strict")


if __name__ == "__main__":
    unittest.main(verbosity=2)
