#!/usr/bin/env python3
"""Make the fuzz seed corpora (fuzz/corpus/TARGET/) from the repository's
real test data, kept small: a few records of each kind, not whole traces.
Run from the repository root: python3 fuzz/make_seeds.py"""
import gzip, json, os, shutil, sqlite3, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fuzz", "corpus")
FIX = os.path.join(ROOT, "tests", "fixtures")
SAMPLE = os.path.join(ROOT, "sample_traces", "redundant_copies.sqlite")


def put(target, name, data):
    d = os.path.join(OUT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def nsys_json():
    """The first records of each type, the string tables cut to 400 entries."""
    lines = gzip.open(os.path.join(FIX, "nsys_json", "redundant_copies.nsys.json.gz"), "rt").read().splitlines()
    keep, seen = [], {}
    for line in lines:
        o = json.loads(line)
        if "data" in o:
            o["data"] = o["data"][:400]
            keep.append(json.dumps(o, separators=(",", ":")))
            continue
        kind = next(k for k in o if k != "Type")
        if seen.get(kind, 0) < 25:
            seen[kind] = seen.get(kind, 0) + 1
            keep.append(line)
    text = ("\n".join(keep) + "\n").encode()
    put("nsys_json", "records.json", text)
    put("nsys_json", "records.json.gz", gzip.compress(text[:4000], mtime=0))
    return text


def kineto():
    """The first events of a real Kineto trace, each kind kept."""
    doc = json.load(gzip.open(os.path.join(FIX, "kineto", "redundant_copies.kineto.json.gz"), "rt"))
    events, seen = [], {}
    for e in doc["traceEvents"]:
        k = (e.get("ph"), e.get("cat"))
        if seen.get(k, 0) < 12:
            seen[k] = seen.get(k, 0) + 1
            events.append(e)
    doc["traceEvents"] = events
    text = json.dumps(doc, indent=1).encode()
    put("kineto", "events.json", text)
    put("kineto", "events.json.gz", gzip.compress(text[:3000], mtime=0))
    return text


def trtexec():
    d = os.path.join(FIX, "trtexec")
    graph = open(os.path.join(d, "tiny_int8.graph.json"), "rb").read()
    prof = open(os.path.join(d, "tiny_int8.profile.json"), "rb").read()
    put("trtexec", "tiny_int8", graph + b"\n--8<--\n" + prof)
    put("trtexec", "profile_only", prof)
    for n in ["names_only.profile.json", "lonely.profile.json"]:
        put("trtexec", n, open(os.path.join(d, n), "rb").read())
    return prof


def tiny_sqlite(rows):
    """The sample with only the tables the reader reads, `rows` rows each,
    512-byte pages (small files for byte-level mutation)."""
    tmp = os.path.join(OUT, "..", "tiny.tmp.sqlite")
    if os.path.exists(tmp):
        os.remove(tmp)
    src = sqlite3.connect(f"file:{SAMPLE}?immutable=1", uri=True)
    src.execute("VACUUM INTO ?", (tmp,))
    src.close()
    con = sqlite3.connect(tmp)
    keep = {"CUPTI_ACTIVITY_KIND_KERNEL", "CUPTI_ACTIVITY_KIND_MEMCPY", "CUPTI_ACTIVITY_KIND_MEMSET",
            "CUPTI_ACTIVITY_KIND_RUNTIME", "CUPTI_ACTIVITY_KIND_SYNCHRONIZATION", "NVTX_EVENTS",
            "StringIds", "META_DATA_EXPORT", "TARGET_INFO_GPU", "TARGET_INFO_CUDA_DEVICE", "ThreadNames",
            "ENUM_CUDA_MEMCPY_OPER", "ENUM_CUDA_MEM_KIND"}
    for (t,) in con.execute("SELECT name FROM sqlite_master WHERE type='table'").fetchall():
        if t not in keep:
            con.execute(f'DROP TABLE "{t}"')
        elif t == "StringIds":
            # Only the strings the kept rows use.
            con.execute(f"""DELETE FROM StringIds WHERE id NOT IN (
                SELECT shortName FROM CUPTI_ACTIVITY_KIND_KERNEL WHERE rowid <= {rows}
                UNION SELECT demangledName FROM CUPTI_ACTIVITY_KIND_KERNEL WHERE rowid <= {rows}
                UNION SELECT nameId FROM CUPTI_ACTIVITY_KIND_RUNTIME WHERE rowid <= {rows})""")
        else:
            con.execute(f'DELETE FROM "{t}" WHERE rowid > {rows}')
    con.commit()
    con.execute("PRAGMA page_size=512")
    con.execute("VACUUM")
    con.close()
    data = open(tmp, "rb").read()
    os.remove(tmp)
    return data


def report():
    exe = os.path.join(ROOT, "target", "release", "trace-report")
    out = os.path.join(OUT, "..", "report.tmp")
    subprocess.run([exe, SAMPLE, "--format", "json", "-o", out, "--quiet"], check=True)
    files = [os.path.join(dp, f) for dp, _, fs in os.walk(out) for f in fs if f.endswith(".json")]
    data = open(files[0], "rb").read()
    shutil.rmtree(out)
    put("report_json", "report.json", data)
    return data


if __name__ == "__main__":
    shutil.rmtree(OUT, ignore_errors=True)
    heads = [nsys_json()[:2000], kineto()[:2000], trtexec()]
    small = tiny_sqlite(12)
    put("nsys_sqlite_bytes", "tiny.sqlite", small)
    heads.append(small[:4096])
    if "--no-report" not in sys.argv:
        heads.append(report()[:2000])
    for i, h in enumerate(heads):
        put("detect", f"head{i}", h)
    put("detect", "gzip", gzip.compress(heads[0], mtime=0))
    # nsys_sqlite_rows takes structured ops (arbitrary): an empty list is the
    # unchanged export; libFuzzer grows it.
    put("nsys_sqlite_rows", "none", b"")
