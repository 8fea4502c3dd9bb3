"""mapped_write.py PATH: mmap PATH and write() the mapping straight to a
pipe in 1 MiB slices (memoryview: the kernel reads our pages, no copy in
user space); a child hashes what arrives. Prints the SHA-256 and the
userfaultfd mode the shim used. Under user-mode-only userfaultfd the
kernel cannot fault our pages in for write(): the shim must retry it."""
import hashlib
import mmap
import os
import sys

with open(sys.argv[1], "rb") as f:
    m = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    os.close(w)
    h = hashlib.sha256()
    while d := os.read(r, 1 << 16):
        h.update(d)
    print(h.hexdigest(), flush=True)
    os._exit(0)
os.close(r)
view = memoryview(m)
off = 0
while off < len(m):
    off += os.write(w, view[off:off + (1 << 20)])
os.close(w)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
