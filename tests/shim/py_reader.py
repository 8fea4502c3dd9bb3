#!/usr/bin/python3
"""py_reader.py MODE PATH [ARGS...]: one way Python reads a file, printed.

Run by python.sh twice, through mmapurl-run on /s3/shim-test/... and directly
on the local copy; the two outputs must be identical. Everything printed is
deterministic and names no path (hashes, lengths, slices in hex), except
listing modes, whose paths the harness maps back to /s3/... . Modes that only
the shim can pass (EROFS, refused copy_file_range) print fixed expectations
that python.sh compares with constants.
"""

import errno
import glob
import hashlib
import mmap
import os
import pathlib
import random
import shutil
import stat
import subprocess
import sys
import tempfile
import threading


def h(data):
    return f"{len(data)} {hashlib.sha256(data).hexdigest()[:32]}"


def out(*args):
    print(*args, flush=True)


def err_name(exc):
    return f"{type(exc).__name__} {errno.errorcode.get(exc.errno, exc.errno)}"


def read_binary(p):
    with open(p, "rb") as f:
        out("read()", h(f.read()))
    with open(p, "rb") as f:
        out("read(-1)", h(f.read(-1)), "again", h(f.read()))


def read_text(p):
    with open(p, encoding="utf-8", errors="surrogateescape") as f:
        text = f.read()
    out("text", len(text), text.count("\n"), h(text.encode("utf-8", "surrogateescape")))


def readlines(p):
    with open(p, "rb") as f:
        lines = list(f)
    out("iter", len(lines), h(b"".join(lines)), lines[:2], lines[-1:])
    with open(p, encoding="utf-8") as f:
        n = 0
        while True:
            line = f.readline()
            if not line:
                break
            n += 1
            if n in (1, 100, 4999, 5000):
                out("readline", n, repr(line))
    out("readline count", n)
    with open(p, "rb") as f:
        out("readlines()", len(f.readlines()))


def chunks(p):
    parts = []
    with open(p, "rb") as f:
        while True:
            b = f.read(1000)
            if not b:
                break
            parts.append(b)
        out("read(1000) loop", len(parts), h(b"".join(parts)))
    with open(p, "rb", buffering=0) as f:
        buf = bytearray(65537)
        total = []
        while True:
            n = f.readinto(buf)
            if not n:
                break
            total.append(bytes(buf[:n]))
        out("readinto 65537 unbuffered", h(b"".join(total)))
    fd = os.open(p, os.O_RDONLY)
    try:
        got = [os.read(fd, 1) for _ in range(10)]
        got.append(os.read(fd, 131072))
        out("os.read", [g.hex() for g in got[:10]], h(got[10]))
    finally:
        os.close(fd)


def seek_tell(p):
    with open(p, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        out("size by SEEK_END", size, "tell", f.tell())
        for pos in (0, 1, 4095, 4096, 65535, 65536, 1048575, size - 1, size, size + 100):
            f.seek(pos)
            out("at", pos, "tell", f.tell(), "read(20)", f.read(20).hex())
        f.seek(-100, os.SEEK_END)
        out("SEEK_END -100", f.read(200).hex())
        f.seek(1000)
        f.read(10)
        f.seek(-500, os.SEEK_CUR)
        out("SEEK_CUR", f.tell(), f.read(8).hex())
    fd = os.open(p, os.O_RDONLY)
    try:
        out("lseek end", os.lseek(fd, 0, os.SEEK_END), "set", os.lseek(fd, 12345, os.SEEK_SET),
            "cur", os.lseek(fd, 10, os.SEEK_CUR), os.read(fd, 4).hex())
        try:
            os.lseek(fd, -1, os.SEEK_SET)
            out("negative lseek accepted")
        except OSError as exc:
            out("negative lseek", err_name(exc))
    finally:
        os.close(fd)


def pread(p):
    fd = os.open(p, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        for off, n in ((0, 16), (4095, 2), (65530, 20), (65536 * 3 - 7, 70000),
                       (size - 10, 10), (size - 10, 100), (size, 10), (size + 4096, 10)):
            if off < 0:
                continue
            out("pread", off, n, h(os.pread(fd, n, off)))
        out("offset untouched by pread", os.lseek(fd, 0, os.SEEK_CUR))
        bufs = [bytearray(1000), bytearray(70000)]
        out("preadv", os.preadv(fd, bufs, 60000), h(bytes(bufs[0]) + bytes(bufs[1])))
    finally:
        os.close(fd)


def mmap_read(p):
    with open(p, "rb") as f:
        try:
            m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except (ValueError, OSError) as exc:
            out("mmap refused:", type(exc).__name__, exc)
            return
    # The file is closed: Python's mmap dup'ed the fd.
    with m:
        n = len(m)
        out("len", n, "sha", h(m[:]))
        for a, b in ((0, 16), (4090, 4100), (65530, 65545), (n - 16, n), (n - 12345, n - 12300)):
            out("slice", a, b, m[a:b].hex())
        needle = m[2000000:2000016]
        out("find", m.find(needle), "rfind", m.rfind(m[:4]), "find absent", m.find(b"\xff" * 64))
        out("readline", m.readline()[:40].hex(), "tell", m.tell())
        m.seek(n - 5)
        out("read past end", m.read(100).hex(), m.tell())
        out("memoryview", bytes(memoryview(m)[123456:123470]).hex())
    with open(p, "rb") as f:
        if n > 65536 * 3 + 100000:
            with mmap.mmap(f.fileno(), 100000, access=mmap.ACCESS_READ, offset=65536 * 3) as m2:
                out("offset map", h(m2[:]))
        with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY) as m3:
            m3[0:4] = b"abcd"  # private copy: the object is not written
            out("ACCESS_COPY", h(m3[:]))
        with mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ, flags=mmap.MAP_SHARED) as m4:
            out("MAP_SHARED", h(m4[:]))


def mmap_many(p):
    fds = [os.open(p, os.O_RDONLY) for _ in range(3)]
    maps = [mmap.mmap(fd, 0, access=mmap.ACCESS_READ) for fd in fds]
    for fd in fds:
        os.close(fd)
    n = len(maps[0])
    rnd = random.Random(7)
    for i in range(300):
        off = rnd.randrange(0, n)
        a = maps[i % 3][off:off + 100]
        b = maps[(i + 1) % 3][off:off + 100]
        if a != b:
            out("maps differ at", off)
    out("three maps", [h(m[:]) for m in maps])
    for m in maps:
        m.close()


def copyfile(p):
    with tempfile.TemporaryDirectory() as d:
        dst = shutil.copyfile(p, os.path.join(d, "copy"))
        out("copyfile", h(open(dst, "rb").read()))
        dst = shutil.copy2(p, os.path.join(d, "copy2"))
        out("copy2", h(open(dst, "rb").read()))
        with open(p, "rb") as src, open(os.path.join(d, "obj"), "wb") as o:
            shutil.copyfileobj(src, o)
        out("copyfileobj", h(open(os.path.join(d, "obj"), "rb").read()))


def fork(p):
    f = open(p, "rb", buffering=0)
    first = f.read(1000)
    out("parent before fork", h(first))
    pid = os.fork()
    if pid == 0:
        try:
            mine = f.read(5000)  # shared offset: 1000..6000
            fd = os.open(p, os.O_RDONLY)  # a new open in the child
            own = b""
            while True:
                b = os.read(fd, 262144)
                if not b:
                    break
                own += b
            out("child read", h(mine), "child own open", h(own))
        except BaseException as exc:  # noqa: BLE001 - report anything
            out("child failed", exc)
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    rest = f.read()
    out("child status", status, "parent rest from", 6000, h(rest))
    f.close()


def fork_mmap(p):
    with open(p, "rb") as f:
        m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    out("parent first byte", m[0])  # one page touched before fork
    pid = os.fork()
    if pid == 0:
        try:
            out("child sees", h(m[:]))
        finally:
            os._exit(0)
    _, status = os.waitpid(pid, 0)
    out("child status", status, "parent sees", h(m[:]))
    m.close()


def threads(p):
    fd = os.open(p, os.O_RDONLY)
    size = os.fstat(fd).st_size
    results = {}

    def work(seed):
        rnd = random.Random(seed)
        for _ in range(100):
            off = rnd.randrange(0, size)
            results[(seed, off)] = os.pread(fd, 4096, off)

    ts = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    os.close(fd)
    out("threads", len(results), h(b"".join(results[k] for k in sorted(results))))


def stats(p):
    st = os.stat(p)
    kind = "reg" if stat.S_ISREG(st.st_mode) else "dir" if stat.S_ISDIR(st.st_mode) else "other"
    out("stat", kind, st.st_size if kind == "reg" else "-")
    with open(p, "rb") as f:
        fst = os.fstat(f.fileno())
        out("fstat", stat.S_IFMT(fst.st_mode) == stat.S_IFMT(st.st_mode), fst.st_size == st.st_size)
    out("isfile", os.path.isfile(p), "isdir", os.path.isdir(p), "exists", os.path.exists(p),
        "getsize", os.path.getsize(p), "access R", os.access(p, os.R_OK))


STAT_CHECKS = ("S_ISREG", "size", "nlink 1", "blksize 65536", "mtime = Last-Modified",
               "blocks*512 >= size", "ino stable", "dev same", "fstat = stat",
               "lstat = stat")


def stat_shim(p, size, mtime):
    """The fields only the shim defines, each printed 'NAME True' when right."""
    st = os.stat(p)
    lst = os.lstat(p)
    with open(p, "rb") as f:
        fst = os.fstat(f.fileno())
    results = (stat.S_ISREG(st.st_mode), st.st_size == int(size), st.st_nlink == 1,
               st.st_blksize == 65536, int(st.st_mtime) == int(mtime),
               st.st_blocks * 512 >= st.st_size,
               st.st_ino != 0 and st.st_ino == lst.st_ino == fst.st_ino,
               st.st_dev == lst.st_dev == fst.st_dev,
               fst.st_size == st.st_size and fst.st_mode == st.st_mode,
               tuple(st)[:7] == tuple(lst)[:7])
    for name, good in zip(STAT_CHECKS, results):
        out(name, good)
    if not all(results):
        out("(stat:", st, ")")


def stat_shim_expected():
    for name in STAT_CHECKS:
        out(name, True)


def listing(p):
    out("listdir", sorted(os.listdir(p)))
    with os.scandir(p) as it:
        entries = sorted(it, key=lambda e: e.name)
    for e in entries:
        out("scandir", e.name, "dir" if e.is_dir() else "file" if e.is_file() else "?",
            e.stat().st_size if e.is_file() else "-", e.is_symlink())
    for top, dirs, files in os.walk(p):
        out("walk", top, sorted(dirs), sorted(files))
    fd = os.open(p, os.O_RDONLY | os.O_DIRECTORY)
    out("listdir(fd)", sorted(os.listdir(fd)))
    os.close(fd)


def globs(pattern_root):
    out("glob a/*.txt", sorted(glob.glob(pattern_root + "/a/*.txt")))
    out("glob */", sorted(glob.glob(pattern_root + "/*/")))
    out("glob **", sorted(glob.glob(pattern_root + "/**", recursive=True)))
    out("glob ?mpty", glob.glob(pattern_root + "/?mpty"))
    out("glob none", glob.glob(pattern_root + "/nothing*"))


def paths(root):
    r = pathlib.Path(root)
    out("read_bytes", h((r / "random.bin").read_bytes()))
    out("read_text", h((r / "with space.txt").read_text().encode()))
    out("iterdir", sorted(str(c) for c in r.iterdir()))
    out("iterdir a", sorted(c.name for c in (r / "a").iterdir()))
    out("is_dir", r.is_dir(), (r / "a").is_dir(), (r / "a" / "e").is_dir(),
        (r / "random.bin").is_dir())
    out("is_file", (r / "random.bin").is_file(), (r / "a").is_file(), (r / "empty").is_file())
    out("exists", (r / "nope").exists(), (r / "a/b/c.txt").exists())
    out("rglob", sorted(str(c.relative_to(r)) for c in r.rglob("*.txt")))
    out("stat size", (r / "text.txt").stat().st_size)
    with (r / "text.txt").open() as f:
        out("open().readline", repr(f.readline()))


def missing(p):
    for how in ("open", "os.open", "stat", "listdir"):
        try:
            if how == "open":
                open(p, "rb")
            elif how == "os.open":
                os.open(p, os.O_RDONLY)
            elif how == "stat":
                os.stat(p)
            else:
                os.listdir(p)
            out(how, "succeeded")
        except OSError as exc:
            out(how, err_name(exc))


def write_refused(p, newp, d):
    """Each write attempt under the prefix: its errno (want EROFS). Never run
    it on local copies: it would write them."""
    def attempt(name, fn):
        try:
            fn()
            out(name, "succeeded")
        except OSError as exc:
            out(name, errno.errorcode.get(exc.errno, exc.errno))
    for mode in ("w", "a", "r+", "wb", "x"):
        target = newp if mode == "x" else p
        attempt(f"open {mode!r}", lambda m=mode, t=target: open(t, m).close())
    attempt("open 'w' new key", lambda: open(newp, "w").close())
    for name, flags in (("O_WRONLY", os.O_WRONLY), ("O_RDWR", os.O_RDWR),
                        ("O_RDONLY|O_CREAT", os.O_RDONLY | os.O_CREAT),
                        ("O_RDONLY|O_TRUNC", os.O_RDONLY | os.O_TRUNC)):
        attempt(f"os.open {name}", lambda f=flags: os.close(os.open(p, f, 0o644)))
    attempt("os.mkdir", lambda: os.mkdir(os.path.join(d, "newdir")))
    attempt("os.unlink", lambda: os.unlink(p))
    attempt("os.rmdir", lambda: os.rmdir(os.path.join(d, "e")))
    attempt("os.rename", lambda: os.rename(p, newp))
    attempt("os.replace", lambda: os.replace(p, newp))
    attempt("os.truncate", lambda: os.truncate(p, 0))
    with open(p, "rb") as f:
        attempt("os.ftruncate", lambda: os.ftruncate(f.fileno(), 0))
        attempt("os.write to read-only fd", lambda: os.write(f.fileno(), b"x"))


def write_refused_expected():
    """What write_refused prints for a shim that refuses every write."""
    names = [f"open {m!r}" for m in ("w", "a", "r+", "wb", "x")] + ["open 'w' new key"]
    names += [f"os.open {n}" for n in ("O_WRONLY", "O_RDWR", "O_RDONLY|O_CREAT", "O_RDONLY|O_TRUNC")]
    names += ["os.mkdir", "os.unlink", "os.rmdir", "os.rename", "os.replace",
              "os.truncate"]
    for n in names:
        out(n, "EROFS")
    out("os.ftruncate", "EINVAL")   # as a local file opened O_RDONLY
    out("os.write to read-only fd", "EBADF")


def copy_refused(p):
    """copy_file_range, sendfile and splice from our fd fail before copying."""
    with tempfile.TemporaryDirectory() as d:
        dst = os.path.join(d, "out")
        fd = os.open(p, os.O_RDONLY)
        outfd = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        for name, fn in (("copy_file_range", lambda: os.copy_file_range(fd, outfd, 65536)),
                         ("sendfile", lambda: os.sendfile(outfd, fd, None, 65536))):
            try:
                n = fn()
                out(name, "copied", n)
            except OSError:
                out(name, "failed")
            out(name, "bytes in the output", os.fstat(outfd).st_size,
                "offset", os.lseek(fd, 0, os.SEEK_CUR))
        r, w = os.pipe()
        try:
            out("splice", "copied", os.splice(fd, w, 65536))
        except OSError:
            out("splice", "failed")
        os.set_blocking(r, False)
        try:
            left = os.read(r, 65536)
        except BlockingIOError:
            left = b""
        out("splice bytes in the pipe", len(left), "offset", os.lseek(fd, 0, os.SEEK_CUR))
        out("read after", h(os.read(fd, 100)))


def children(p):
    """Our fds and paths handed to child processes."""
    r = subprocess.run(["cat", p], stdout=subprocess.PIPE, check=False)
    out("subprocess cat", r.returncode, h(r.stdout))
    with open(p, "rb", buffering=0) as f:
        f.read(100)
        r = subprocess.run(["sha256sum"], stdin=f, stdout=subprocess.PIPE, check=False)
        out("child stdin from offset 100", r.returncode, r.stdout[:64].decode())
        out("offset after the child", f.tell())
    fd = os.open(p, os.O_RDONLY)
    os.lseek(fd, 5000, os.SEEK_SET)
    r = subprocess.run(["dd", "bs=100", "count=1", "status=none"], stdin=fd,
                       stdout=subprocess.PIPE, check=False)
    out("dd from inherited fd at 5000", r.returncode, r.stdout.hex())
    os.dup2(fd, 5)  # sh's <&N takes one digit
    r = subprocess.run(["sh", "-c", "head -c 64 <&5"], pass_fds=(5,),
                       stdout=subprocess.PIPE, check=False)
    out("pass_fds, offset 5100", r.returncode, r.stdout.hex())
    os.close(5)
    # posix_spawn's file actions move the fd in the child, after the shim
    # listed it: the new program must find it by identity, not by number.
    rd, wr = os.pipe()
    pid = os.posix_spawn("/usr/bin/head", ["head", "-c", "16"], os.environ,
                         file_actions=[(os.POSIX_SPAWN_DUP2, fd, 0),
                                       (os.POSIX_SPAWN_DUP2, wr, 1)])
    os.close(wr)
    _, status = os.waitpid(pid, 0)
    with os.fdopen(rd, "rb") as pipe:
        out("posix_spawn dup2 onto stdin", os.waitstatus_to_exitcode(status), pipe.read().hex())
    os.close(fd)


def lowest_fd(p):
    """open() returns the lowest free descriptor (POSIX), so the old idiom
    close(0); open(path) makes the file stdin."""
    probe = os.dup(2)
    os.close(probe)
    fd = os.open(p, os.O_RDONLY)
    out("open returns the lowest free fd", fd == probe)
    os.close(fd)
    os.close(0)
    fd = os.open(p, os.O_RDONLY)
    out("close(0); open() gives", fd)
    if fd == 0:
        os.set_inheritable(0, True)  # Python opens with O_CLOEXEC
        r = subprocess.run(["head", "-c", "32"], stdout=subprocess.PIPE, check=False)
        out("child reads stdin", r.stdout.hex())


def execve_own_env(p):
    """A program that passes its own envp, without LD_PRELOAD."""
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    sys.stdout.flush()
    os.execve("/bin/cat", ["cat", p], env)


def cwd_children(p):
    """chdir into a folder of ours; subprocess children (vfork) run in
    another working directory without moving the parent's."""
    d = os.path.dirname(p)
    os.chdir(d)
    r = subprocess.run(["ls"], cwd="/", stdout=subprocess.PIPE, check=False)
    out("child in /", r.returncode, len(r.stdout) > 0)
    out("parent still in", os.path.basename(os.getcwd()), sorted(os.listdir(".")))
    os.chdir("/")
    r = subprocess.run(["ls"], cwd=d, stdout=subprocess.PIPE, check=False)
    out("child in the folder lists", r.returncode, r.stdout.decode().split())
    out("parent in /", os.getcwd())


MODES = {
    "read_binary": read_binary, "read_text": read_text, "readlines": readlines,
    "chunks": chunks, "seek_tell": seek_tell, "pread": pread, "mmap": mmap_read,
    "mmap_many": mmap_many, "copyfile": copyfile, "fork": fork, "fork_mmap": fork_mmap,
    "threads": threads, "stat": stats, "stat_shim": stat_shim,
    "stat_shim_expected": stat_shim_expected, "listing": listing,
    "glob": globs, "pathlib": paths, "missing": missing, "write_refused": write_refused,
    "write_refused_expected": write_refused_expected, "copy_refused": copy_refused,
    "children": children, "execve_own_env": execve_own_env, "lowest_fd": lowest_fd,
    "cwd_children": cwd_children,
}

if __name__ == "__main__":
    MODES[sys.argv[1]](*sys.argv[2:])
