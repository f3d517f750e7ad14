#!/usr/bin/env python3
"""faultfs: a FUSE file layer that loses what was not fsynced, fills up, and stalls fsync on command.

In the spirit of Jepsen's LazyFS, for raftmq's fault-injection suite. See README.md beside this
file for the model (what a `drop-unsynced` keeps and loses), the control commands and the limits.

    python3 deploy/faultfs/faultfs.py BACKING_DIR MOUNTPOINT [--max-unsynced-bytes N] [--debug]

Runs in the foreground until unmounted (`fusermount3 -u MOUNTPOINT` or `umount MOUNTPOINT`) or
SIGTERM/SIGINT (then it unmounts itself); prints `faultfs ready` on stdout once mounted. A clean
unmount writes every unsynced byte and directory entry to BACKING_DIR (like `sync; umount`).

Threads: fusepy runs each FUSE request on one of libfuse's worker threads. All state of this file
(the inode tree, the overlays, the handles, the counters) is guarded by the one lock `FaultFs.mutex`;
every operation takes it for its whole run, including the writes and fsyncs it does on BACKING_DIR.
Only the injected fsync delay sleeps outside the lock, so a stalled fsync stalls only its caller.
"""

import argparse
import collections
import errno
import fcntl
import json
import logging
import os
import shutil
import stat
import sys
import threading
import time

try:  # Debian's python3-fusepy names the module fusepy; the PyPI package names it fuse
    import fusepy as fuse
except ImportError:
    try:
        import fuse
    except ImportError:
        # `python3` may be another installation (pyenv, a venv) than the Debian one that has it
        if __name__ == "__main__" and os.path.exists("/usr/bin/python3") \
                and os.environ.get("FAULTFS_REEXEC") is None:
            os.environ["FAULTFS_REEXEC"] = "1"
            os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
        sys.exit("faultfs: fusepy is missing: apt-get install -y python3-fusepy fuse3")

log = logging.getLogger("faultfs")

PAGE = 4096
CONTROL_NAME = ".faultfs"
STAGING_NAME = ".faultfs-staging"
HIDDEN_PREFIX = ".fuse_hidden"
DEFAULT_MAX_UNSYNCED_BYTES = 256 * 1024 * 1024


class Staged:
    """Marker for Node.dparent: the node's durable copy lives in the staging directory, unreachable
    from the root, so a power loss discards it."""


STAGED = Staged()


class Node:
    """One file or directory. Two views of it:

    volatile (what processes see): vparent/vname (None when unlinked), for a directory `children`;
    for a file vsize plus the overlay (`pages`: page index -> bytearray(PAGE) of unsynced data,
    and `trunc_floor`: backing bytes at or past it are stale because of a truncation since the last
    sync).

    durable (what survives a power loss): the backing file or directory at dparent/dname (dparent
    STAGED: BACKING_DIR/.faultfs-staging/<ino>, lost on power loss), for a directory `dchildren`,
    the entries its backing directory holds.
    """

    __slots__ = ("ino", "is_dir", "vparent", "vname", "children", "hidden", "hidden_in", "dparent",
                 "dname", "dchildren", "vsize", "base_size", "trunc_floor", "pages", "fd",
                 "open_count", "charged")

    def __init__(self, ino, is_dir):
        self.ino = ino
        self.is_dir = is_dir
        self.vparent = None
        self.vname = None
        self.dparent = None
        self.dname = None
        self.children = {} if is_dir else None
        self.hidden = {} if is_dir else None  # libfuse's .fuse_hidden names of unlinked open files
        self.hidden_in = None  # the directory whose `hidden` holds this node
        self.dchildren = {} if is_dir else None
        self.vsize = 0
        self.base_size = 0
        self.trunc_floor = 0
        self.pages = {} if not is_dir else None
        self.fd = None
        self.open_count = 0
        self.charged = 0

    def alive(self):
        return (self.vparent is not None or self.open_count > 0 or self.hidden_in is not None
                or self.ino == 1)

    def unsynced(self):
        return bool(self.pages) or self.vsize != self.base_size or self.trunc_floor != self.base_size


class Handle:
    __slots__ = ("node", "control", "status")

    def __init__(self, node, control=False):
        self.node = node
        self.control = control
        self.status = None


class FaultFs(fuse.Operations):
    use_ns = True

    def __init__(self, backing, max_unsynced_bytes=DEFAULT_MAX_UNSYNCED_BYTES, dirsync_mode="strict"):
        self.mutex = threading.RLock()
        self.backing = os.path.realpath(backing)
        self.staging = os.path.join(self.backing, STAGING_NAME)
        self.max_unsynced_bytes = max_unsynced_bytes
        self.capacity = 0
        self.fsync_delay_ms = 0
        self.fsync_fail = False
        self.dirsync_mode = dirsync_mode
        self.pending_dirs = {}  # ino -> directory whose entries may differ from its durable ones
        self.used = 0
        self.unsynced_bytes = 0
        self.dirty = collections.OrderedDict()  # nodes with unsynced data, oldest first
        self.handles = {}
        self.next_fh = 1
        self.next_ino = 2
        self.inodes = {}
        self.counters = collections.Counter()
        self.last_drop = {}
        self.ready_file = sys.stdout
        self.backing_lock = self._lock_backing()
        self.mountpoint = None  # set by main(): watched so that an unmount ends the process
        self.finished = False
        # Whatever a previous run left in staging was never durably linked: a crash loses it.
        if os.path.isdir(self.staging):
            shutil.rmtree(self.staging)
        os.mkdir(self.staging)
        self.root = Node(1, True)
        self.root.dname = ""
        self.inodes[1] = self.root
        self._scan(self.root, self.backing)

    def _lock_backing(self):
        """One faultfs per backing directory: an flock on the directory itself, held until this
        process exits (an unmounted faultfs may still be writing its last bytes for a moment)."""
        fd = os.open(self.backing, os.O_RDONLY | os.O_DIRECTORY)
        deadline = time.monotonic() + 30
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise SystemExit("faultfs: another faultfs process still uses %s" % self.backing)
                time.sleep(0.05)

    # ---------------------------------------------------------------------------- tree helpers

    def _scan(self, dnode, dpath):
        for name in sorted(os.listdir(dpath)):
            if dnode is self.root and name == STAGING_NAME:
                continue
            full = os.path.join(dpath, name)
            st = os.lstat(full)
            if stat.S_ISDIR(st.st_mode):
                node = self._new_node(True)
            elif stat.S_ISREG(st.st_mode):
                node = self._new_node(False)
                node.vsize = node.base_size = node.trunc_floor = st.st_size
            else:
                log.warning("ignoring %s: neither a regular file nor a directory", full)
                continue
            node.vparent, node.vname = dnode, name
            node.dparent, node.dname = dnode, name
            dnode.children[name] = node
            dnode.dchildren[name] = node
            self._recharge(node)
            if node.is_dir:
                self._scan(node, full)

    def _new_node(self, is_dir):
        node = Node(self.next_ino, is_dir)
        self.next_ino += 1
        self.inodes[node.ino] = node
        return node

    def _bpath(self, node):
        """The node's durable (backing) path."""
        parts = []
        while node is not self.root:
            if node.dparent is STAGED:
                parts.append(node.dname)
                return os.path.join(self.staging, *reversed(parts))
            parts.append(node.dname)
            node = node.dparent
        return os.path.join(self.backing, *reversed(parts))

    def _lookup(self, path):
        node = self.root
        for part in path.split("/"):
            if not part:
                continue
            if not node.is_dir:
                raise fuse.FuseOSError(errno.ENOTDIR)
            node = node.children.get(part) or node.hidden.get(part)
            if node is None:
                raise fuse.FuseOSError(errno.ENOENT)
        return node

    def _parent_and_name(self, path):
        head, name = path.rstrip("/").rsplit("/", 1)
        parent = self._lookup(head)
        if not parent.is_dir:
            raise fuse.FuseOSError(errno.ENOTDIR)
        if parent is self.root and name in (CONTROL_NAME, STAGING_NAME):
            raise fuse.FuseOSError(errno.EPERM)
        return parent, name

    def _node(self, path, fi):
        fh = self._fh(fi)
        if fh:
            handle = self.handles.get(fh)
            if handle is None:
                raise fuse.FuseOSError(errno.EBADF)  # a handle from before a drop-unsynced
            return handle.node
        if path is None:
            raise fuse.FuseOSError(errno.EBADF)
        return self._lookup(path)

    @staticmethod
    def _fh(fi):
        if fi is None or isinstance(fi, int):
            return fi or 0
        try:
            return fi.fh
        except (AttributeError, ValueError):  # a NULL fuse_file_info pointer
            return 0

    def _fd(self, node):
        if node.fd is None:
            node.fd = os.open(self._bpath(node), os.O_RDWR)
        return node.fd

    def _close_fd(self, node):
        if node.fd is not None:
            os.close(node.fd)
            node.fd = None

    def _recharge(self, node):
        want = node.vsize if (not node.is_dir and node.alive()) else 0
        self.used += want - node.charged
        node.charged = want

    def _mark_dirty(self, node):
        if node.unsynced():
            if node.ino not in self.dirty:
                self.dirty[node.ino] = node
        else:
            self.dirty.pop(node.ino, None)

    # ------------------------------------------------------------------- overlay (file contents)

    def _load_page(self, node, pg):
        page = bytearray(PAGE)
        start = pg * PAGE
        valid = min(node.trunc_floor, start + PAGE) - start
        if valid > 0:
            data = os.pread(self._fd(node), valid, start)
            page[:len(data)] = data
        return page

    def _read(self, node, size, offset):
        end = min(offset + size, node.vsize)
        if offset >= end:
            return b""
        buf = bytearray(end - offset)
        base_end = min(end, node.trunc_floor)
        if offset < base_end:
            data = os.pread(self._fd(node), base_end - offset, offset)
            buf[:len(data)] = data
        if node.pages:
            for pg in range(offset // PAGE, (end - 1) // PAGE + 1):
                page = node.pages.get(pg)
                if page is None:
                    continue
                lo = max(offset, pg * PAGE)
                hi = min(end, pg * PAGE + PAGE)
                buf[lo - offset:hi - offset] = page[lo - pg * PAGE:hi - pg * PAGE]
        return bytes(buf)

    def _write(self, node, data, offset):
        end = offset + len(data)
        growth = max(0, end - node.vsize)
        if growth and self.capacity and self.used + growth > self.capacity:
            self.counters["enospc"] += 1
            raise fuse.FuseOSError(errno.ENOSPC)
        pos = offset
        while pos < end:
            pg = pos // PAGE
            lo = pos - pg * PAGE
            hi = min(PAGE, end - pg * PAGE)
            page = node.pages.get(pg)
            if page is None:
                page = bytearray(PAGE) if (lo == 0 and hi == PAGE) else self._load_page(node, pg)
                node.pages[pg] = page
                self.unsynced_bytes += PAGE
            page[lo:hi] = data[pos - offset:pos - offset + hi - lo]
            pos += hi - lo
        node.vsize = max(node.vsize, end)
        self._recharge(node)
        self._mark_dirty(node)
        self.counters["writes"] += 1
        self.counters["write_bytes"] += len(data)
        if self.unsynced_bytes > self.max_unsynced_bytes:
            self._writeback()
        return len(data)

    def _truncate(self, node, length):
        if node.is_dir:
            raise fuse.FuseOSError(errno.EISDIR)
        if length < node.vsize:
            node.trunc_floor = min(node.trunc_floor, length)
            for pg in [p for p in node.pages if p * PAGE >= length]:
                del node.pages[pg]
                self.unsynced_bytes -= PAGE
            tail = node.pages.get(length // PAGE)
            if tail is not None:  # bytes past the new end read as zeros if the file grows again
                cut = length - (length // PAGE) * PAGE
                tail[cut:] = bytes(PAGE - cut)
        node.vsize = length
        self._recharge(node)
        self._mark_dirty(node)

    def _apply(self, node):
        """Writes the node's overlay into its backing file; the overlay is then empty."""
        if not node.unsynced():
            return 0
        fd = self._fd(node)
        if node.trunc_floor < node.base_size:
            os.ftruncate(fd, node.trunc_floor)
        written = 0
        run_start, run_end, run = 0, 0, []
        for pg in sorted(node.pages):
            start = pg * PAGE
            if start >= node.vsize:
                continue
            chunk = node.pages[pg][:min(PAGE, node.vsize - start)]
            if run and run_end == start:
                run.append(chunk)
            else:
                if run:
                    written += os.pwrite(fd, b"".join(run), run_start)
                run_start, run = start, [chunk]
            run_end = start + len(chunk)
        if run:
            written += os.pwrite(fd, b"".join(run), run_start)
        if os.fstat(fd).st_size != node.vsize:
            os.ftruncate(fd, node.vsize)
        self.unsynced_bytes -= PAGE * len(node.pages)
        node.pages.clear()
        node.base_size = node.trunc_floor = node.vsize
        self.dirty.pop(node.ino, None)
        return written

    def _writeback(self):
        """Keeps memory bounded as the kernel's writeback would: the oldest dirty files' data goes
        to the backing files (and is then durable) until the unsynced bytes are under the limit."""
        while self.unsynced_bytes > self.max_unsynced_bytes and self.dirty:
            _, node = self.dirty.popitem(last=False)
            self.counters["writeback_bytes"] += self._apply(node)
            self.counters["writebacks"] += 1

    # ------------------------------------------------------------------ namespace (directories)

    def _detach_durable(self, node):
        """Removes the node's durable entry from its durable parent's view."""
        if node.dparent is not STAGED and node.dparent is not None:
            node.dparent.dchildren.pop(node.dname, None)

    def _move_backing(self, node, new_parent, new_name, touched):
        src = self._bpath(node)
        touched.add(os.path.dirname(src))
        self._detach_durable(node)
        if new_parent is STAGED:
            new_name = str(node.ino)
        node.dparent, node.dname = new_parent, new_name
        if new_parent is not STAGED:
            new_parent.dchildren[new_name] = node
        dst = self._bpath(node)
        touched.add(os.path.dirname(dst))
        os.rename(src, dst)

    def _sync_entry(self, dnode, name, touched):
        """Makes dnode's durable entry `name` what its volatile entry is."""
        new = dnode.children.get(name)
        old = dnode.dchildren.get(name)
        if new is old:
            return
        if old is not None:
            self._discard_durable(old, True, touched)
        if new is not None and dnode.dchildren.get(name) is not new:
            self._untangle(new, dnode, touched)
            if dnode.dchildren.get(name) is not None:  # taken meanwhile by a completed rename
                self._discard_durable(dnode.dchildren[name], True, touched)
            self._move_backing(new, dnode, name, touched)

    def _untangle(self, node, target, touched):
        """A directory cannot move into its own durable subtree: first move the durable ancestors of
        `target` that lie below `node` to where they are now (or to staging)."""
        if not node.is_dir:
            return
        for _ in range(10000):
            x, child = target, None
            while x is not self.root and x is not STAGED and x is not node:
                child, x = x, x.dparent
            if x is not node or child is None:
                return
            if child.vparent is not None and child.vparent is not node:
                self._sync_entry(child.vparent, child.vname, touched)
            else:
                self._move_backing(child, STAGED, None, touched)
        raise fuse.FuseOSError(errno.EIO)  # cannot happen: each round moves one ancestor out

    def _discard_durable(self, node, complete_renames, touched):
        """The node's durable entry goes away. If the node lives on elsewhere in the volatile tree,
        a directory sync completes the rename (a rename is one atomic journal entry); otherwise a
        node still in use moves to staging and an unused one is deleted from the backing dir."""
        if node.vparent is not None:
            if complete_renames:
                if node.dparent is not node.vparent or node.dname != node.vname:
                    # out of its old slot first: renames in a cycle (a swap) then end
                    self._move_backing(node, STAGED, None, touched)
                    self._sync_entry(node.vparent, node.vname, touched)
            elif node.dparent is not STAGED:
                self._move_backing(node, STAGED, None, touched)
            return
        if node.is_dir:
            for child in list(node.dchildren.values()):
                self._discard_durable(child, complete_renames, touched)
        if node.open_count > 0 or node.hidden_in is not None or (node.is_dir and node.children):
            if node.dparent is not STAGED:
                self._move_backing(node, STAGED, None, touched)
            return
        self._forget(node, touched)

    def _forget(self, node, touched):
        path = self._bpath(node)
        touched.add(os.path.dirname(path))
        self._detach_durable(node)
        self._close_fd(node)
        if node.is_dir:
            shutil.rmtree(path, ignore_errors=True)
        else:
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        self.used -= node.charged
        node.charged = 0
        if not node.is_dir:
            self.unsynced_bytes -= PAGE * len(node.pages)
            node.pages.clear()
        self.dirty.pop(node.ino, None)
        self.inodes.pop(node.ino, None)

    def _unlinked(self, node):
        """After the node lost its volatile name (unlink, rmdir, replaced by a rename)."""
        self._recharge(node)
        if node.alive():
            return
        if not node.is_dir:  # what it held is no longer readable: a power loss reverts it anyway
            self.unsynced_bytes -= PAGE * len(node.pages)
            node.pages.clear()
            node.vsize = node.trunc_floor = node.base_size
            self.dirty.pop(node.ino, None)
            self._close_fd(node)
        if node.dparent is STAGED:  # never durably linked: nothing can bring it back
            self._discard_durable(node, False, set())

    def _sync_dir(self, dnode, touched):
        for name in sorted(set(dnode.children) | set(dnode.dchildren)):
            self._sync_entry(dnode, name, touched)
        self.pending_dirs.pop(dnode.ino, None)

    def _sync_namespace(self):
        """Every directory entry durable, as a journal commit makes every earlier rename, create
        and delete durable."""
        touched = set()
        for dnode in list(self.pending_dirs.values()):
            if dnode.vparent is not None or dnode is self.root:
                self._sync_dir(dnode, touched)
        self.pending_dirs.clear()
        self._fsync_dirs(touched)

    def _fsync_dirs(self, paths):
        for path in paths:
            if os.path.isdir(path):
                self._fsync_path(path)

    def _changed(self, *dnodes):
        for dnode in dnodes:
            self.pending_dirs[dnode.ino] = dnode

    @staticmethod
    def _fsync_path(path):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _sync_all(self):
        """Everything durable, as sync(2) followed by an unmount would make it."""
        self._sync_namespace()
        for node in list(self.inodes.values()):
            if not node.is_dir and node.unsynced():
                self._apply(node)
                os.fsync(self._fd(node))

    def _drop_unsynced(self):
        """Power loss: the volatile view becomes the durable one."""
        dropped_bytes = self.unsynced_bytes
        dropped_files = len(self.dirty)
        for handle in self.handles.values():
            if handle.node is not None:
                handle.node.open_count = 0
        self.handles.clear()
        reverted = []
        for node in self.inodes.values():
            self._close_fd(node)
            if node.is_dir:
                if node.children != node.dchildren:
                    reverted.extend(self._reverted_entries(node))
                node.children = {}
                node.hidden = {}
            node.vparent = node.vname = None
            node.hidden_in = None
        kept = {}
        stack = [self.root]
        while stack:
            dnode = stack.pop()
            kept[dnode.ino] = dnode
            for name, child in dnode.dchildren.items():
                child.vparent, child.vname = dnode, name
                dnode.children[name] = child
                if child.is_dir:
                    stack.append(child)
                else:
                    kept[child.ino] = child
                    child.pages.clear()
                    child.vsize = child.base_size = child.trunc_floor = os.path.getsize(self._bpath(child))
        self.inodes = kept
        self.dirty.clear()
        self.pending_dirs.clear()
        self.unsynced_bytes = 0
        self.used = 0
        for node in self.inodes.values():
            node.charged = 0
            self._recharge(node)
        shutil.rmtree(self.staging)
        os.mkdir(self.staging)
        self._fsync_path(self.backing)
        self.counters["drops"] += 1
        self.last_drop = {"bytes": dropped_bytes, "files": dropped_files, "entries": len(reverted),
                          "entries_sample": sorted(reverted)[:20]}
        return self.last_drop

    def _reverted_entries(self, dnode):
        """What a power loss changes in dnode: "+path" vanishes (created or renamed there since the
        last directory sync), "-path" comes back (deleted or renamed away)."""
        def where(node, parent_attr, name_attr):
            parts = []
            while node is not self.root and node is not None and node is not STAGED:
                parts.append(getattr(node, name_attr))
                node = getattr(node, parent_attr)
            return "/" + "/".join(reversed(parts)) if node is self.root else None
        out = []
        vpath, dpath = where(dnode, "vparent", "vname"), where(dnode, "dparent", "dname")
        for name, child in dnode.children.items():
            if dnode.dchildren.get(name) is not child and vpath is not None:
                out.append("+" + vpath.rstrip("/") + "/" + name)
        for name, child in dnode.dchildren.items():
            if dnode.children.get(name) is not child and dpath is not None:
                out.append("-" + dpath.rstrip("/") + "/" + name)
        return out

    # ---------------------------------------------------------------------------- control file

    def status(self):
        return {
            "unsynced_bytes": self.unsynced_bytes,
            "unsynced_files": len(self.dirty),
            "max_unsynced_bytes": self.max_unsynced_bytes,
            "capacity": self.capacity,
            "used": self.used,
            "fsync_delay_ms": self.fsync_delay_ms,
            "fsync_fail": self.fsync_fail,
            "dirsync_mode": self.dirsync_mode,
            "last_drop": self.last_drop,
            "counters": dict(sorted(self.counters.items())),
        }

    def command(self, line):
        words = line.split()
        if not words:
            return
        cmd, args = words[0], words[1:]

        def one_int(name):
            if len(args) != 1 or not args[0].isdigit():
                log.error("%s needs one non-negative integer, got %r", name, " ".join(args))
                raise fuse.FuseOSError(errno.EINVAL)
            return int(args[0])

        if cmd == "drop-unsynced" and not args:
            result = self._drop_unsynced()
            log.info("drop-unsynced: lost %d unsynced bytes in %d files, %d directory entries %s",
                     result["bytes"], result["files"], result["entries"],
                     " ".join(result["entries_sample"]))
        elif cmd == "sync" and not args:
            self._sync_all()
            log.info("sync: everything durable")
        elif cmd == "capacity":
            self.capacity = one_int(cmd)
            log.info("capacity %d bytes (used %d)", self.capacity, self.used)
        elif cmd == "fsync-delay":
            self.fsync_delay_ms = one_int(cmd)
            log.info("fsync delay %d ms", self.fsync_delay_ms)
        elif cmd == "fsync-fail" and args in (["on"], ["off"]):
            self.fsync_fail = args[0] == "on"
            log.info("fsync-fail %s", args[0])
        elif cmd == "dirsync-mode" and args in (["strict"], ["journal"]):
            if args[0] == "journal":
                self._sync_namespace()  # the journal is committed when the mode starts
            self.dirsync_mode = args[0]
            log.info("dirsync-mode %s", args[0])
        elif cmd == "heal" and not args:
            self.capacity, self.fsync_delay_ms, self.fsync_fail = 0, 0, False
            log.info("healed: capacity unlimited, fsync delay 0, fsync-fail off")
        else:
            log.error("unknown faultfs command %r", line)
            raise fuse.FuseOSError(errno.EINVAL)

    def _control_attrs(self):
        now = time.time_ns()
        return {"st_mode": stat.S_IFREG | 0o600, "st_nlink": 1, "st_size": 0,
                "st_atime": now, "st_mtime": now, "st_ctime": now}

    def _is_control(self, path):
        return path == "/" + CONTROL_NAME

    # --------------------------------------------------------------------------- fuse operations

    def init(self, path):
        if self.mountpoint is not None:
            threading.Thread(target=self._watch_mount, name="faultfs-mount-watch", daemon=True).start()
        print("faultfs ready", file=self.ready_file, flush=True)

    def destroy(self, path):
        self._finish()

    def _finish(self):
        """A clean unmount: everything unsynced is written to the backing dir."""
        with self.mutex:
            if self.finished:
                return
            self.finished = True
            self._sync_all()
            for node in self.inodes.values():
                self._close_fd(node)
            shutil.rmtree(self.staging, ignore_errors=True)
            log.info("unmounted; everything written to %s", self.backing)

    def _watch_mount(self):
        """Ends the process when the mount is gone from this mount namespace. libfuse notices an
        unmount only when the kernel closes the connection, which waits for every mount namespace
        holding a copy of the mount (one made by `unshare -m` or `ip netns exec` while it existed)
        to let go: without this, `fusermount3 -u` could leave faultfs running indefinitely."""
        missing = 0
        while missing < 2:
            time.sleep(0.25)
            missing = 0 if self._mounted() else missing + 1
        self._finish()
        logging.shutdown()
        os._exit(0)  # closing /dev/fuse ends the connection in the other namespaces too

    def _mounted(self):
        with open("/proc/self/mountinfo") as f:
            for line in f:
                fields = line.split(" ")
                target = fields[4].encode().decode("unicode_escape")  # octal escapes: \040 etc.
                if target == self.mountpoint and " fuse.faultfs " in line:
                    return True
        return False

    def getattr(self, path, fh=None):
        with self.mutex:
            if path is not None and self._is_control(path):
                return self._control_attrs()
            node = self._node(path, fh)
            st = os.lstat(self._bpath(node))
            attrs = {key: getattr(st, key) for key in
                     ("st_mode", "st_nlink", "st_uid", "st_gid", "st_size", "st_blocks")}
            attrs["st_ino"] = node.ino
            attrs["st_atime"], attrs["st_mtime"], attrs["st_ctime"] = \
                st.st_atime_ns, st.st_mtime_ns, st.st_ctime_ns
            if not node.is_dir:
                attrs["st_size"] = node.vsize
                attrs["st_blocks"] = (node.vsize + 511) // 512
                attrs["st_nlink"] = 1 if node.vparent is not None else 0
            return attrs

    def access(self, path, amode):
        with self.mutex:
            if not self._is_control(path):
                self._lookup(path)
            return 0

    def readdir(self, path, fh):
        with self.mutex:
            if path is None:
                return [".", ".."]
            node = self._lookup(path)
            if not node.is_dir:
                raise fuse.FuseOSError(errno.ENOTDIR)
            return [".", ".."] + sorted(node.children)

    def opendir(self, path):
        with self.mutex:
            if not self._lookup(path).is_dir:
                raise fuse.FuseOSError(errno.ENOTDIR)
            return 0

    def open(self, path, fi):
        with self.mutex:
            if self._is_control(path):
                fi.fh = self._add_handle(Handle(None, control=True))
                fi.direct_io = 1  # its size is not known in advance
                return 0
            node = self._lookup(path)
            if node.is_dir:
                raise fuse.FuseOSError(errno.EISDIR)
            node.open_count += 1
            fi.fh = self._add_handle(Handle(node))
            return 0

    def create(self, path, mode, fi):
        with self.mutex:
            if self._is_control(path):
                return self.open(path, fi)
            parent, name = self._parent_and_name(path)
            if name in parent.children:
                node = parent.children[name]
                if node.is_dir:
                    raise fuse.FuseOSError(errno.EISDIR)
            else:
                node = self._new_node(False)
                node.dparent, node.dname = STAGED, str(node.ino)
                fd = os.open(self._bpath(node), os.O_RDWR | os.O_CREAT | os.O_EXCL, mode & 0o7777)
                node.fd = fd
                node.vparent, node.vname = parent, name
                parent.children[name] = node
                self._changed(parent)
            node.open_count += 1
            fi.fh = self._add_handle(Handle(node))
            return 0

    def _add_handle(self, handle):
        fh = self.next_fh
        self.next_fh += 1
        self.handles[fh] = handle
        return fh

    def release(self, path, fi):
        with self.mutex:
            handle = self.handles.pop(self._fh(fi), None)
            if handle is None or handle.control:
                return 0
            node = handle.node
            node.open_count -= 1
            if node.open_count == 0:
                if node.vparent is None:
                    self._unlinked(node)
                elif not node.unsynced():
                    self._close_fd(node)
            return 0

    def flush(self, path, fi):
        return 0

    def read(self, path, size, offset, fi):
        with self.mutex:
            handle = self.handles.get(self._fh(fi))
            if handle is None:
                raise fuse.FuseOSError(errno.EBADF)
            if handle.control:
                if handle.status is None or offset == 0:
                    handle.status = (json.dumps(self.status()) + "\n").encode()
                return handle.status[offset:offset + size]
            return self._read(handle.node, size, offset)

    def write(self, path, data, offset, fi):
        with self.mutex:
            handle = self.handles.get(self._fh(fi))
            if handle is None:
                raise fuse.FuseOSError(errno.EBADF)
            if handle.control:
                for line in data.decode("utf-8", "replace").splitlines():
                    self.command(line.strip())
                return len(data)
            return self._write(handle.node, data, offset)

    def truncate(self, path, length, fh=None):
        with self.mutex:
            if path is not None and self._is_control(path):
                return 0
            self._truncate(self._node(path, fh), length)
            return 0

    def fsync(self, path, datasync, fi):
        self._delay()
        with self.mutex:
            # a handle from before a drop-unsynced (its process died in a delayed fsync): EBADF
            node = self._node(path, fi)
            if self.fsync_fail:
                self.counters["fsync_failed"] += 1
                raise fuse.FuseOSError(errno.EIO)
            self._apply(node)
            os.fsync(self._fd(node))
            if self.dirsync_mode == "journal":
                self._sync_namespace()
            self.counters["fsyncs"] += 1
            return 0

    def fsyncdir(self, path, datasync, fh):
        self._delay()
        with self.mutex:
            if path is None:
                raise fuse.FuseOSError(errno.EBADF)
            node = self._lookup(path)
            if self.fsync_fail:
                self.counters["fsync_failed"] += 1
                raise fuse.FuseOSError(errno.EIO)
            if self.dirsync_mode == "journal":
                self._sync_namespace()
            else:
                touched = {self._bpath(node)}
                self._sync_dir(node, touched)
                self._fsync_dirs(touched)
            self.counters["fsyncdirs"] += 1
            return 0

    def _delay(self):
        delay_ms = self.fsync_delay_ms  # read without the lock: a plain int, replaced atomically
        if delay_ms:
            time.sleep(delay_ms / 1000.0)

    def mkdir(self, path, mode):
        with self.mutex:
            parent, name = self._parent_and_name(path)
            if name in parent.children:
                raise fuse.FuseOSError(errno.EEXIST)
            node = self._new_node(True)
            node.dparent, node.dname = STAGED, str(node.ino)
            os.mkdir(self._bpath(node), mode & 0o7777)
            node.vparent, node.vname = parent, name
            parent.children[name] = node
            self._changed(parent)
            return 0

    def unlink(self, path):
        with self.mutex:
            parent, name = self._parent_and_name(path)
            node = parent.hidden.pop(name, None)
            if node is not None:  # libfuse removes the hidden name when the last handle closes
                node.hidden_in = None
                self._unlinked(node)
                return 0
            node = parent.children.get(name)
            if node is None:
                raise fuse.FuseOSError(errno.ENOENT)
            if node.is_dir:
                raise fuse.FuseOSError(errno.EISDIR)
            del parent.children[name]
            node.vparent = node.vname = None
            self._changed(parent)
            self._unlinked(node)
            return 0

    def rmdir(self, path):
        with self.mutex:
            parent, name = self._parent_and_name(path)
            node = parent.children.get(name)
            if node is None:
                raise fuse.FuseOSError(errno.ENOENT)
            if not node.is_dir:
                raise fuse.FuseOSError(errno.ENOTDIR)
            if node.children:
                raise fuse.FuseOSError(errno.ENOTEMPTY)
            del parent.children[name]
            node.vparent = node.vname = None
            self._changed(parent)
            self._unlinked(node)
            return 0

    def rename(self, old, new):
        with self.mutex:
            oparent, oname = self._parent_and_name(old)
            nparent, nname = self._parent_and_name(new)
            node = oparent.children.get(oname)
            if node is None:
                raise fuse.FuseOSError(errno.ENOENT)
            if node.is_dir:  # no directory into its own subtree
                x = nparent
                while x is not None:
                    if x is node:
                        raise fuse.FuseOSError(errno.EINVAL)
                    x = x.vparent
            if nname.startswith(HIDDEN_PREFIX) and not node.is_dir:
                # libfuse hides an open file instead of unlinking it (so fstat on it still works):
                # for the model that is an unlink, and the name is invisible and never durable
                del oparent.children[oname]
                node.vparent = node.vname = None
                self._changed(oparent)
                nparent.hidden[nname] = node
                node.hidden_in = nparent
                self._unlinked(node)
                return 0
            target = nparent.children.get(nname)
            if target is node:
                return 0
            if target is not None:
                if target.is_dir and not node.is_dir:
                    raise fuse.FuseOSError(errno.EISDIR)
                if node.is_dir and not target.is_dir:
                    raise fuse.FuseOSError(errno.ENOTDIR)
                if target.is_dir and target.children:
                    raise fuse.FuseOSError(errno.ENOTEMPTY)
            del oparent.children[oname]
            nparent.children[nname] = node
            self._changed(oparent, nparent)
            node.vparent, node.vname = nparent, nname
            if target is not None:
                target.vparent = target.vname = None
                self._unlinked(target)
            return 0

    def chmod(self, path, mode):
        with self.mutex:
            if self._is_control(path):
                return 0
            os.chmod(self._bpath(self._lookup(path)), mode & 0o7777)
            return 0

    def chown(self, path, uid, gid):
        with self.mutex:
            if self._is_control(path):
                return 0
            os.chown(self._bpath(self._lookup(path)), uid, gid)
            return 0

    def utimens(self, path, times=None):
        with self.mutex:
            if self._is_control(path):
                return 0
            target = self._bpath(self._lookup(path))
            if times is None:
                os.utime(target)
            else:
                os.utime(target, ns=times)
            return 0

    def statfs(self, path):
        with self.mutex:
            sv = os.statvfs(self.backing)
            if self.capacity:
                blocks = self.capacity // PAGE
                free = max(0, self.capacity - self.used) // PAGE
            else:
                blocks = sv.f_blocks * sv.f_frsize // PAGE
                free = sv.f_bavail * sv.f_frsize // PAGE
            return {"f_bsize": PAGE, "f_frsize": PAGE, "f_blocks": blocks, "f_bfree": free,
                    "f_bavail": free, "f_files": sv.f_files, "f_ffree": sv.f_ffree,
                    "f_favail": sv.f_favail, "f_namemax": 255}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("backing", help="directory that holds the durable state")
    parser.add_argument("mountpoint")
    parser.add_argument("--max-unsynced-bytes", type=int, default=DEFAULT_MAX_UNSYNCED_BYTES,
                        help="unsynced bytes kept in memory before the oldest file's are written "
                             "back (and so made durable); default %(default)s")
    parser.add_argument("--dirsync-mode", choices=("strict", "journal"), default="strict",
                        help="strict: a directory entry is durable only after an fsync of its "
                             "directory; journal: also after any fsync (as ext4's journal commit); "
                             "default %(default)s")
    parser.add_argument("--debug", action="store_true", help="log every FUSE request to stderr")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.debug else logging.INFO, stream=sys.stderr,
                        format="%(asctime)s faultfs %(levelname)s %(message)s")
    for path in (args.backing, args.mountpoint):
        if not os.path.isdir(path):
            parser.error("not a directory: %s" % path)
    ops = FaultFs(args.backing, args.max_unsynced_bytes, args.dirsync_mode)
    ops.mountpoint = os.path.realpath(args.mountpoint)
    # no hard_remove: libfuse renames an unlinked open file to .fuse_hiddenNNN (hidden from readdir
    # here) so that fstat on it still works; zero timeouts: the kernel asks again for every name and size, so a drop-unsynced shows at once;
    # no direct_io and no kernel_cache: mmap works, and each open drops the kernel's cached pages.
    fuse.FUSE(ops, args.mountpoint, foreground=True, raw_fi=True, allow_other=True,
              big_writes=True, entry_timeout=0, attr_timeout=0,
              negative_timeout=0, fsname="faultfs", subtype="faultfs", debug=args.debug)


if __name__ == "__main__":
    main()
