#!/usr/bin/env python3
"""Regenerates the committed seed corpus fuzz/seeds/<target>/ from testdata/
and conformance/ (run from anywhere; deterministic; stdlib only)."""
import gzip, hashlib, io, json, os, re, shutil, subprocess, sys, tarfile, tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEEDS = os.path.join(ROOT, "fuzz", "seeds")
SEP = b"\n~~~~\n"
MAX_SEED = 24 << 10
PER_TARGET = 40


def put(target, data, limit=PER_TARGET):
    d = os.path.join(SEEDS, target)
    os.makedirs(d, exist_ok=True)
    if len(data) > MAX_SEED or len(os.listdir(d)) >= limit:
        return
    with open(os.path.join(d, hashlib.sha1(data).hexdigest()), "wb") as f:
        f.write(data)


def files(top, pred=lambda p: True):
    out = []
    for dirpath, _, names in os.walk(top):
        for n in names:
            p = os.path.join(dirpath, n)
            if pred(p):
                out.append(p)
    return sorted(out)


def read(p):
    with open(p, "rb") as f:
        return f.read()


def layout_seed(image):
    """A layout directory as the `layout` target's input: sections with
    @@N / ##N placeholders for the blobs' digests and sizes."""
    blobs = {}
    bdir = os.path.join(image, "blobs", "sha256")
    if os.path.isdir(bdir):
        for n in sorted(os.listdir(bdir)):
            p = os.path.join(bdir, n)
            if os.path.isfile(p) and not os.path.islink(p):
                blobs[n] = read(p)
    if len(blobs) > 8:
        return None
    # Order: a blob only names blobs after it (Kahn's algorithm on "names").
    names = lambda a, b: b.encode() in blobs[a]
    order, left = [], sorted(blobs)
    while left:
        free = [a for a in left if not any(names(o, a) for o in left if o != a)] or left[:1]
        order.append(free[0])
        left.remove(free[0])

    def subst(text, allowed):
        for j, h in enumerate(order):
            if j not in allowed or hashlib.sha256(blobs[h]).hexdigest() != h:
                continue
            text = text.replace(b"sha256:" + h.encode(), b"@@%d" % j)
            size = b"%d" % len(blobs[h])
            jj = b"%d" % j
            text = re.sub(rb'("digest"\s*:\s*"@@' + jj + rb'"[^{}]{0,400}?"size"\s*:\s*)' + size + rb'\b', rb"\g<1>##" + jj, text)
            text = re.sub(rb'("size"\s*:\s*)' + size + rb'(\b[^{}]{0,400}?"digest"\s*:\s*"@@' + jj + rb'")', rb"\g<1>##" + jj + rb"\g<2>", text)
        return text

    parts = []
    for name in ("oci-layout", "index.json"):
        p = os.path.join(image, name)
        parts.append(read(p) if os.path.isfile(p) else b"")
    parts[1] = subst(parts[1], range(len(order)))
    for i, h in enumerate(order):
        parts.append(subst(blobs[h], range(i + 1, len(order))))
    return SEP.join(parts)


def archive_of(image):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for p in [image] + files(image):
            rel = os.path.relpath(p, image)
            if rel == ".":
                continue
            info = t.gettarinfo(p, arcname=rel)
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            if info.isfile():
                with open(p, "rb") as f:
                    t.addfile(info, f)
            else:
                t.addfile(info)
    return buf.getvalue()


def signed_images(tmp):
    """Signed layouts (cosign .sig manifest; Sigstore bundle referrer), made
    with the CLI when it is built (cargo build --features cli)."""
    cli = os.path.join(ROOT, "target", "debug", "wasm-image")
    if not os.path.exists(cli):
        print("no target/debug/wasm-image: no signed seeds", file=sys.stderr)
        return []
    env = dict(os.environ, WASM_IMAGE_PASSWORD="")
    run = lambda *a: subprocess.run([cli, *a], cwd=tmp, env=env, check=True, capture_output=True)
    run("keygen", "-o", "k")
    module = os.path.join(ROOT, "testdata", "modules", "proxy-filter.wasm")
    out = []
    for name, extra in (("sig", []), ("bundle", ["--bundle"])):
        run("build", module, "-o", name, "--tag", "v1")
        run("sign", name + ":v1", "--key", "k.key", *extra)
        out.append(os.path.join(tmp, name))
    return out


def main():
    shutil.rmtree(SEEDS, ignore_errors=True)
    tmp = tempfile.mkdtemp()
    for image in signed_images(tmp):
        put("layout", layout_seed(image))
        put("archive", archive_of(image))
    shutil.rmtree(tmp)
    spec = os.path.join(ROOT, "testdata", "oci-image-spec")
    for p in files(spec, lambda p: p.endswith(".json") and "schema" not in p and "cases.json" not in p):
        put("documents", read(p))
    images = sorted(
        os.path.join(ROOT, "conformance", "cases", c, "image")
        for c in os.listdir(os.path.join(ROOT, "conformance", "cases"))
        if os.path.isdir(os.path.join(ROOT, "conformance", "cases", c, "image"))
    )
    for p in files(os.path.join(ROOT, "testdata", "modules"), lambda p: p.endswith(".wasm")):
        put("wasm", read(p))
        # The module inside a compat layer (tar mode: first byte odd).
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
            data = read(p)
            info = tarfile.TarInfo("plugin.wasm")
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        put("compat_layer", b"\x01" + buf.getvalue())
    for image in images:
        for p in files(image):
            data = read(p)
            if data.startswith(b"\0asm"):
                put("wasm", data)
            elif data.startswith(b"\x1f\x8b"):
                put("compat_layer", b"\x00" + data)
            elif data.lstrip().startswith(b"{"):
                put("documents", data, limit=60)
        seed = layout_seed(image)
        if seed is not None:
            put("layout", seed, limit=60)
        put("archive", archive_of(image), limit=20)
    for p in files(os.path.join(ROOT, "conformance", "cases"), lambda p: p.endswith(".tar")):
        put("archive", read(p))
    for text in [
        "localhost:5000/team/filter:v1", "docker.io/library/nginx", "nginx",
        "ghcr.io/a/b@sha256:" + "a" * 64, "[::1]:5000/x/y:tag", "127.0.0.1/r",
        "registry.example.com/a/b/c:1.0@sha256:" + "0" * 64, "sha256:" + "f" * 64,
        "layout:tag", "layout@sha512:" + "e" * 128, "Example.COM/Repo",
    ]:
        put("reference", text.encode())
    for p in files(os.path.join(ROOT, "testdata", "cosign", "keys"), lambda p: not p.endswith((".md", ".json"))):
        put("sign_key", read(p))
    for p in files(os.path.join(ROOT, "testdata", "cosign"), lambda p: p.endswith(".json") and "/keys/" not in p):
        data = read(p)
        put("sign_bundle", data)
        try:
            doc = json.loads(data)
        except ValueError:
            continue
        # The embedded keys, payloads and signatures of the cosign fixtures.
        for v in (doc.values() if isinstance(doc, dict) else []):
            if isinstance(v, str) and v.startswith("-----BEGIN"):
                put("sign_key", v.encode())
            elif isinstance(v, str) and len(v) > 8:
                put("sign_bundle", v.encode())
    for p in files(os.path.join(ROOT, "testdata", "sigstore-conformance"), lambda p: p.endswith((".json", ".pem", ".pub"))):
        put("sign_bundle" if not p.endswith((".pem", ".pub")) else "sign_key", read(p))
    for t in sorted(os.listdir(SEEDS)):
        print(t, len(os.listdir(os.path.join(SEEDS, t))), file=sys.stderr)


if __name__ == "__main__":
    main()
