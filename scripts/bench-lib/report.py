#!/usr/bin/python3
"""report.py - scripts/bench's table and JSON, from its raw records.

    report.py RECORDS JSON_OUT KEY=VALUE...

RECORDS has one measurement a line, as KEY=VALUE words: workload, tool,
origin, run, bytes_read; the runner's wall, user, sys (seconds), maxrss_kb,
status; log_requests and log_downloaded (nginx's access log, mmapurl's stats
or, for s3fs, the daemon's rchar), daemon_cpu (s3fs); p_* from the program's
own output (p_wall, p_p50_us, p_requests, p_ttfb_us, ...). The KEY=VALUE
arguments describe the run (machine, sizes, notes) and go to the JSON as is.

Prints medians over the runs, ratios between rows of this run, and each of
issue #5's targets with met/missed. It judges nothing: exit 0 whatever the
figures. Debian's /usr/bin/python3, standard library only.
"""

import json
import statistics
import sys

MiB = 1048576
GiB = 1073741824


def parse_records(path):
    recs = []
    with open(path) as f:
        for line in f:
            r = {}
            for w in line.split():
                k, _, v = w.partition("=")
                try:
                    r[k] = float(v) if k not in ("workload", "tool", "origin") else v
                except ValueError:
                    r[k] = v
            if r:
                recs.append(r)
    return recs


def med(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


class Rows:
    """Medians per (workload, tool)."""

    def __init__(self, recs):
        self.groups = {}
        for r in recs:
            self.groups.setdefault((r["workload"], r["tool"]), []).append(r)

    def has(self, wl, tool):
        return (wl, tool) in self.groups

    def get(self, wl, tool, key):
        g = self.groups.get((wl, tool))
        if not g:
            return None
        return med([r.get(key) if isinstance(r.get(key), float) else None for r in g])

    def mibs(self, wl, tool):
        g = self.groups.get((wl, tool))
        if not g:
            return None
        return med([r["bytes_read"] / MiB / r["wall"] for r in g if r.get("wall")])

    def cpu_per_gib(self, wl, tool):
        g = self.groups.get((wl, tool))
        if not g:
            return None
        return med([(r["user"] + r["sys"] + r.get("daemon_cpu", 0.0)) / (r["bytes_read"] / GiB)
                    for r in g])

    def per_read(self, wl, tool, key):
        v = self.get(wl, tool, key)
        b = self.get(wl, tool, "bytes_read")
        return v / b if v is not None and b else None

    def summary(self):
        out = {}
        for (wl, tool), g in self.groups.items():
            d = {"origin": g[0]["origin"], "runs": len(g)}
            keys = sorted({k for r in g for k, v in r.items() if isinstance(v, float)} - {"run"})
            for k in keys:
                d[k] = self.get(wl, tool, k)
            d["mib_per_s"] = self.mibs(wl, tool)
            d["cpu_s_per_gib"] = self.cpu_per_gib(wl, tool)
            out[f"{wl}/{tool}"] = d
        return out


def fmt(v, spec=".1f", none="-"):
    if v is None:
        return none
    return format(v, spec)


def ratio(a, b):
    return a / b if a is not None and b else None


def table(title, head, rows):
    print()
    print(title)
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)] if rows else []
    line = "  ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(head, widths)))
    print(line)
    print("-" * len(line))
    for r in rows:
        print("  ".join(str(x).ljust(w) if i == 0 else str(x).rjust(w)
                        for i, (x, w) in enumerate(zip(r, widths))))


def main():
    recs = parse_records(sys.argv[1])
    out_path = sys.argv[2]
    meta = dict(a.partition("=")[::2] for a in sys.argv[3:])
    R = Rows(recs)
    size = float(meta["size"])
    have_s3fs = R.has("seq", "s3fs-cat")

    print()
    print(f"mmapurl bench: {size / MiB:.0f} MiB object, median of {meta['runs']} run(s); "
          f"{meta['nrand']} random 4 KiB reads (s3fs: {meta['nrand_s3fs']}); "
          f"took {meta['elapsed_s']} s")
    print(f"machine: {meta['nproc']} CPUs, {meta['cpu']}, {meta['kernel']}; "
          f"load average at the start {meta.get('loadavg_start', '?')}, at the end {meta['loadavg']}; userfaultfd mode {meta.get('uffd_mode') or '?'}")
    print(f"origins: nginx {meta['nginx']} (sendfile, page cache); latency: {meta['latency']}; "
          f"s3rver (scripts/s3-local); curl {meta['curl']}")
    print(f"s3fs: {meta['s3fs']}")

    # -- sequential
    curl_n = R.mibs("seq", "curl")
    curl_s = R.mibs("seq", "curl-s3rver")
    s3fs = R.mibs("seq", "s3fs-cat")
    seq_rows = [
        ("curl (the limit)", "curl", "nginx"),
        ("C API, touch every page", "capi-touch", "nginx"),
        ("mmap_to_stdout > /dev/null (1)", "mmap_to_stdout", "nginx"),
        ("mmap_to_stdout | cat > /dev/null", "mmap_to_stdout-pipe", "nginx"),
        ("curl | cat > /dev/null (2)", "curl-pipe", "nginx"),
        ("mmapurl-run cat > /dev/null", "run-cat", "nginx"),
        ("mmapurl-run sha256sum", "run-sha256sum", "nginx"),
        ("cat local copy (page cache)", "local-cat", "local"),
        ("sha256sum local copy", "local-sha256sum", "local"),
        ("curl", "curl-s3rver", "s3rver"),
        ("mmapurl-run cat > /dev/null", "run-cat-s3rver", "s3rver"),
        ("s3fs: cat > /dev/null", "s3fs-cat", "s3rver"),
    ]
    rows = []
    for label, tool, origin in seq_rows:
        if not R.has("seq", tool):
            continue
        m = R.mibs("seq", tool)
        ref = curl_s if origin == "s3rver" else curl_n if origin == "nginx" else None
        dl = R.per_read("seq", tool, "log_downloaded")
        if tool in ("curl", "curl-s3rver"):
            dl, req = 1.0, 1
        else:
            req = R.get("seq", tool, "log_requests")
        rows.append((label, origin, fmt(m, ".0f"),
                     fmt(ratio(m, ref), ".2f") if tool not in ("curl", "curl-s3rver") else "1",
                     fmt(ratio(m, s3fs), ".2f") if have_s3fs and origin != "local" else "-",
                     fmt(dl, ".3f"), fmt(req, ".0f"),
                     fmt(R.get("seq", tool, "maxrss_kb") / 1024, ".0f"),
                     fmt(R.cpu_per_gib("seq", tool), ".2f")))
    table(f"Sequential read of the whole object, no added latency "
          f"(x curl: against curl from the same origin; CPU: user+sys per GiB read"
          f"{', s3fs: cat + the s3fs daemon' if have_s3fs else ''})",
          ["reader", "origin", "MiB/s", "x curl", "x s3fs", "downloaded/read", "requests",
           "peak RSS MiB", "CPU s/GiB"], rows)
    print("(1) write() to /dev/null never reads its buffer, so no page is touched and nothing past "
          "the first block is fetched: not a throughput figure. The pipe row makes the kernel copy "
          "every page (faults inside write()); its CPU and RSS include bash and cat.")
    pipe = ratio(R.mibs("seq", "mmap_to_stdout-pipe"), R.mibs("seq", "curl-pipe"))
    if pipe is not None:
        print(f"(2) The same pipe fed by curl: what a pipe carries on this machine. "
              f"mmap_to_stdout | cat reads at {fmt(pipe, '.2f')} x curl | cat.")

    # -- sequential with latency
    if R.has("seq-lat", "curl"):
        curl_l = R.mibs("seq-lat", "curl")
        rows = []
        for label, tool in (("curl (one request)", "curl"), ("C API, touch every page", "capi-touch"),
                            ("mmapurl-run cat > /dev/null", "run-cat")):
            m = R.mibs("seq-lat", tool)
            rows.append((label, fmt(m, ".0f"), fmt(ratio(m, curl_n), ".2f"), fmt(ratio(m, curl_l), ".2f"),
                         fmt(R.per_read("seq-lat", tool, "log_downloaded"), ".3f"),
                         fmt(R.get("seq-lat", tool, "log_requests"), ".0f"),
                         fmt(R.cpu_per_gib("seq-lat", tool), ".2f")))
        table(f"Sequential with {meta['latency_ms']} ms added per request (nginx + lua)",
              ["reader", "MiB/s", "x curl no-lat", "x curl lat", "downloaded/read", "requests",
               "CPU s/GiB"], rows)

        rows = []
        for label, pfx in (("C API, threads touch their part", "capi-threads"),
                           ("mmapurl-run, threads pread 1 MiB chunks", "run-threads")):
            one = R.mibs("threads-lat", f"{pfx}-1")
            four = R.mibs("threads-lat", f"{pfx}-4")
            rows.append((label, fmt(one, ".0f"), fmt(four, ".0f"), fmt(ratio(four, one), ".2f"),
                         fmt(R.get("threads-lat", f"{pfx}-1", "log_requests"), ".0f"),
                         fmt(R.get("threads-lat", f"{pfx}-4", "log_requests"), ".0f")))
        table(f"Threads on disjoint parts of the object, {meta['latency_ms']} ms per request",
              ["reader", "1 thread MiB/s", "4 threads MiB/s", "4T / 1T", "requests 1T", "requests 4T"],
              rows)

    # -- random
    ref_p50 = R.get("random", "ref-get", "p_p50_us")
    s3fs_per = R.per_read("random", "s3fs-pread", "log_downloaded")
    rows = []
    for label, tool in (("one keep-alive ranged GET of 4 KiB (libcurl)", "ref-get"),
                        ("C API, copy 4 KiB from the mapping", "capi-random"),
                        ("mmapurl-run, pread 4 KiB", "run-pread"),
                        ("s3fs, pread 4 KiB", "s3fs-pread")):
        if not R.has("random", tool):
            continue
        n = R.get("random", tool, "p_reads")
        dl = R.get("random", tool, "log_downloaded")
        per = dl / n / 1024 if dl is not None and n else None
        if tool == "ref-get":
            per = 4.0
        fewer = ratio(s3fs_per, R.per_read("random", tool, "log_downloaded")) \
            if s3fs_per and tool in ("capi-random", "run-pread") else None
        between = R.get("random", tool, "p_ref_p50_us")
        rows.append((label, fmt(n, ".0f"), fmt(R.get("random", tool, "p_p50_us"), ".0f"),
                     fmt(R.get("random", tool, "p_p90_us"), ".0f"),
                     fmt(R.get("random", tool, "p_p99_us"), ".0f"),
                     fmt(ratio(R.get("random", tool, "p_p50_us"), ref_p50), ".2f"),
                     fmt(between, ".0f"),
                     fmt(ratio(R.get("random", tool, "p_p50_us"), between), ".2f"),
                     fmt(per, ".1f"), fmt(R.get("random", tool, "log_requests"), ".0f"),
                     fmt(fewer, ".0f")))
    table("Random 4 KiB reads at fixed-seed page offsets, no added latency",
          ["reader", "reads", "p50 us", "p90 us", "p99 us", "p50 / GET", "GET between us",
           "p50 / GET between", "KiB downloaded/read", "requests", "x fewer bytes than s3fs"],
          rows)
    print("(GET: the first row, its own process, before ours. GET between: the same GET,\n"
          " of other pages from another port, made by our program before each of its reads,\n"
          " so both see the machine in the same state; the targets use it.)")

    # -- first byte
    rows = []
    for label, tool in (("curl, ranged GET of 4 KiB", "curl-first"), ("C API, mmap_s3 + 4 KiB", "capi-first"),
                        ("mmapurl-run, open + pread 4 KiB", "run-first"), ("s3fs, open + pread 4 KiB", "s3fs-first"),
                        (f"curl, {meta['latency_ms']} ms origin", "curl-first-lat"),
                        (f"C API, {meta['latency_ms']} ms origin", "capi-first-lat"),
                        (f"mmapurl-run, {meta['latency_ms']} ms origin", "run-first-lat")):
        if not R.has("first", tool):
            continue
        t = R.get("first", tool, "p_ttfb_us")
        if t is None and R.get("first", tool, "p_ttfb_s") is not None:
            t = R.get("first", tool, "p_ttfb_s") * 1e6
        req = 1 if tool.startswith("curl") else R.get("first", tool, "log_requests")
        rows.append((label, fmt(t / 1000 if t is not None else None, ".2f"), fmt(req, ".0f"),
                     fmt(R.get("first", tool, "wall") * 1000, ".1f")))
    table("Open and first 4 KiB (time in the program; process wall time includes start-up; "
          "s3fs requests are not counted)",
          ["reader", "first byte ms", "requests", "process ms"], rows)

    # -- RSS under a cap
    rows = []
    for label, tool in (("mmapurl-run cat > /dev/null", "run-cat"), ("C API, touch every page", "capi-touch"),
                        ("mmap_to_stdout | cat > /dev/null (largest process)", "mmap_to_stdout-pipe")):
        if not R.has("rss64", tool):
            continue
        rows.append((label, fmt(R.get("rss64", tool, "maxrss_kb") / 1024, ".0f"),
                     fmt(R.mibs("rss64", tool), ".0f"),
                     fmt(R.per_read("rss64", tool, "log_downloaded"), ".3f"),
                     fmt(R.get("rss64", tool, "log_requests"), ".0f")))
    table("Streaming the whole object with MMAPURL_CACHE_MAX=64M",
          ["reader", "peak RSS MiB", "MiB/s", "downloaded/read", "requests"], rows)

    # -- targets
    targets = []

    def target(name, value, ok, shown):
        targets.append({"target": name, "value": value,
                        "met": None if ok is None else bool(ok), "shown": shown})

    for tool, label in (("capi-touch", "C API"), ("run-cat", "mmapurl-run cat")):
        r = ratio(R.mibs("seq", tool), curl_n)
        target(f"sequential {label} >= 0.85 x curl", r, None if r is None else r >= 0.85,
               f"{fmt(r, '.2f')} x")
    for tool, label in (("run-cat", "mmapurl-run cat (nginx)"), ("run-cat-s3rver", "mmapurl-run cat (s3rver)"),
                        ("capi-touch", "C API (nginx)")):
        r = ratio(R.mibs("seq", tool), s3fs)
        target(f"sequential {label} >= 2 x s3fs on s3rver", r,
               None if r is None else r >= 2, f"{fmt(r, '.2f')} x" if have_s3fs else "s3fs unavailable")
    for tool, label in (("capi-touch", "C API"), ("run-cat", "mmapurl-run cat")):
        r = ratio(R.mibs("seq-lat", tool), curl_n)
        target(f"sequential with latency, {label} >= 0.7 x curl without", r,
               None if r is None else r >= 0.7, f"{fmt(r, '.2f')} x")
    for tool, label in (("capi-random", "C API"), ("run-pread", "mmapurl-run pread")):
        n = R.get("random", tool, "p_reads")
        dl = R.get("random", tool, "log_downloaded")
        per = dl / n / 1024 if dl is not None and n else None
        target(f"random, {label} <= 64 KiB downloaded per read", per,
               None if per is None else per <= 64, f"{fmt(per, '.1f')} KiB")
        fewer = ratio(s3fs_per, R.per_read("random", tool, "log_downloaded"))
        target(f"random, {label} >= 100 x fewer bytes than s3fs", fewer,
               None if fewer is None else fewer >= 100,
               f"{fmt(fewer, '.0f')} x" if s3fs_per else "s3fs unavailable")
        between = R.get("random", tool, "p_ref_p50_us")
        ref = between if between is not None else ref_p50
        r = ratio(R.get("random", tool, "p_p50_us"), ref)
        target(f"random, {label} p50 <= 2 x one ranged GET", r, None if r is None else r <= 2,
               f"{fmt(r, '.2f')} x ({fmt(R.get('random', tool, 'p_p50_us'), '.0f')} us vs "
               f"{fmt(ref, '.0f')} us{' between' if between is not None else ''})")
    for pfx, label in (("capi-threads", "C API"), ("run-threads", "mmapurl-run")):
        r = ratio(R.mibs("threads-lat", f"{pfx}-4"), R.mibs("threads-lat", f"{pfx}-1"))
        target(f"4 threads with latency, {label} >= 3 x 1 thread", r, None if r is None else r >= 3,
               f"{fmt(r, '.2f')} x")
    for tool, label in (("capi-first", "C API"), ("run-first", "mmapurl-run"),
                        ("capi-first-lat", "C API, latency origin"), ("run-first-lat", "mmapurl-run, latency origin")):
        q = R.get("first", tool, "log_requests")
        target(f"open + first 4 KiB, {label}: 1 request", q, None if q is None else q <= 1, fmt(q, ".0f"))
    for tool, label in (("run-cat", "mmapurl-run cat"), ("capi-touch", "C API"),
                        ("mmap_to_stdout-pipe", "mmap_to_stdout | cat")):
        kb = R.get("rss64", tool, "maxrss_kb")
        mb = kb / 1024 if kb is not None else None
        target(f"peak RSS with a 64 MiB cap, {label} <= 96 MiB", mb, None if mb is None else mb <= 96,
               f"{fmt(mb, '.0f')} MiB")
    for tool, label in (("capi-touch", "C API"), ("run-cat", "mmapurl-run cat"), ("s3fs-cat", "s3fs")):
        c = R.cpu_per_gib("seq", tool)
        target(f"CPU s/GiB sequential, {label} (curl {fmt(R.cpu_per_gib('seq', 'curl'), '.2f')})", c, None,
               fmt(c, ".2f"))

    print()
    print("Issue #5's targets (figures only; nothing here fails the run)")
    w = max(len(t["target"]) for t in targets)
    for t in targets:
        state = "n/a" if t["met"] is None and t["value"] is None else \
            "info" if t["met"] is None else "met" if t["met"] else "MISSED"
        print(f"  {t['target'].ljust(w)}  {t['shown']:>28}  {state}")

    doc = {"meta": meta, "rows": R.summary(), "targets": targets, "records": recs}
    with open(out_path, "w") as f:
        json.dump(doc, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
