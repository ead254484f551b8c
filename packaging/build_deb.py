#!/usr/bin/env python3
"""Builds a Debian package with dpkg-deb from files laid out by the debian_package rule.

Every option names what goes where; nothing is downloaded and no root is needed
(dpkg-deb --root-owner-group makes every file root's in the archive).

  --file SRC=DEST[:MODE]    a file to install at DEST (absolute path in the package)
  --link DEST=TARGET        a symbolic link
  --headers ROOT=ENTRY,...  install ENTRY headers and every project header they include
                            (closure found with the compiler's -MM), under ROOT
  --iquote DIR              an include directory for that closure (repeatable)
  --control KEY=VALUE       a field of DEBIAN/control (Description's extended text: \\n)
  --conffile DEST           a file dpkg treats as configuration (kept on upgrade)
  --script NAME=SRC         a maintainer script or triggers file (postinst, triggers, ...)
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile


def install(root, src, dest, mode):
    target = os.path.join(root, dest.lstrip("/"))
    os.makedirs(os.path.dirname(target), exist_ok=True)
    shutil.copyfile(src, target)
    os.chmod(target, mode)


def header_closure(entries, iquotes):
    """Project headers (paths relative to the workspace) that `entries` include."""
    command = ["g++", "-std=c++17", "-MM"]
    for directory in iquotes:
        command += ["-iquote", directory]
    output = subprocess.run(command + entries, check=True, capture_output=True, text=True).stdout
    headers = set()
    for word in output.replace("\\\n", " ").split():
        if word.endswith(":") or not word.endswith((".h", ".hpp")):
            continue
        headers.add(word)
    return sorted(headers)


def installed_name(path, iquotes):
    """The include path of a header: its path under the include directory that holds it."""
    for directory in sorted(iquotes, key=len, reverse=True):
        if directory not in (".", "") and path.startswith(directory + "/"):
            return path[len(directory) + 1:]
    return path


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--file", action="append", default=[])
    parser.add_argument("--link", action="append", default=[])
    parser.add_argument("--headers", action="append", default=[])
    parser.add_argument("--iquote", action="append", default=[])
    parser.add_argument("--control", action="append", default=[])
    parser.add_argument("--conffile", action="append", default=[])
    parser.add_argument("--script", action="append", default=[])
    args = parser.parse_args()

    root = tempfile.mkdtemp(prefix="asp-deb-")
    try:
        for spec in args.file:
            src, dest = spec.split("=", 1)
            mode = 0o644
            if ":" in dest:
                dest, mode_text = dest.rsplit(":", 1)
                mode = int(mode_text, 8)
            install(root, src, dest, mode)
        for spec in args.headers:
            include_root, entries = spec.split("=", 1)
            for header in header_closure(entries.split(","), args.iquote):
                name = installed_name(header, args.iquote)
                if not name.startswith("asp/"):
                    sys.exit(f"build_deb: header {header} is outside the project")
                install(root, header, os.path.join(include_root, name), 0o644)
        for spec in args.link:
            dest, target = spec.split("=", 1)
            link = os.path.join(root, dest.lstrip("/"))
            os.makedirs(os.path.dirname(link), exist_ok=True)
            os.symlink(target, link)

        debian = os.path.join(root, "DEBIAN")
        os.makedirs(debian)
        for spec in args.script:
            name, src = spec.split("=", 1)
            install(debian, src, name, 0o644 if name == "triggers" else 0o755)
        if args.conffile:
            with open(os.path.join(debian, "conffiles"), "w") as f:
                f.write("".join(c + "\n" for c in args.conffile))
        sums, size = [], 0
        for directory, _, files in os.walk(root):
            if directory.startswith(debian):
                continue
            for name in sorted(files):
                path = os.path.join(directory, name)
                if os.path.islink(path):
                    continue
                size += os.path.getsize(path)
                with open(path, "rb") as f:
                    digest = hashlib.md5(f.read()).hexdigest()
                sums.append(f"{digest}  {os.path.relpath(path, root)}\n")
        with open(os.path.join(debian, "md5sums"), "w") as f:
            f.write("".join(sorted(sums)))
        fields = [c.split("=", 1) for c in args.control]
        fields.insert(4, ["Installed-Size", str((size + 1023) // 1024)])
        with open(os.path.join(debian, "control"), "w") as f:
            for key, value in fields:
                lines = value.split("\\n")
                f.write(f"{key}: {lines[0]}\n")
                for more in lines[1:]:
                    f.write(f" {more if more else '.'}\n")
        # Same input, same package: every file dated SOURCE_DATE_EPOCH.
        epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "1700000000"))
        for directory, dirs, files in os.walk(root):
            for name in dirs + files:
                os.utime(os.path.join(directory, name), (epoch, epoch), follow_symlinks=False)
        os.chmod(root, 0o755)
        for directory, dirs, _ in os.walk(root):
            for name in dirs:
                os.chmod(os.path.join(directory, name), 0o755)
        subprocess.run(["dpkg-deb", "--root-owner-group", "-Zxz", "--build", root, args.out],
                       check=True, stdout=subprocess.DEVNULL,
                       env=dict(os.environ, SOURCE_DATE_EPOCH=str(epoch)))
    finally:
        shutil.rmtree(root)


if __name__ == "__main__":
    main()
