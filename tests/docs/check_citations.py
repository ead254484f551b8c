#!/usr/bin/env python3
"""Checks that every test the documents cite exists, and that nothing cites the contract
outside the repository.

docs/*.md cite tests as `file_test.cc:Suite.Name` (gtest; a parameterized one as
`Prefix/Suite.Name/Param`) or `file_test.c:function` (the C tests), or a whole suite as `file_test.cc:Suite`. A citation whose file
or test is gone (renamed, split, deleted) is reported with the document and line, and the
script exits 1. The contract is docs/protocol.md: a mention of the outside spec's file name (the spec the
project was started from, not in a clone) in a document or a source file is reported too.
Run by .ci/run from the repository root: python3 tests/docs/check_citations.py
"""
import os
import re
import sys

CITATION = re.compile(r"`([A-Za-z0-9_]+_test\.cc?):([A-Za-z0-9_/]+(?:\.[A-Za-z0-9_/]+)?)`")
SOURCE_DIRS = ("asp", "tests", "bench", "examples")


def test_files(root):
    """Every *_test.c / *_test.cc under the source directories, by base name."""
    found = {}
    for top in SOURCE_DIRS:
        for directory, dirs, files in os.walk(os.path.join(root, top)):
            dirs[:] = [d for d in dirs if not d.startswith("bazel-")]
            for name in files:
                if re.fullmatch(r"[A-Za-z0-9_]+_test\.cc?", name):
                    found.setdefault(name, []).append(os.path.join(directory, name))
    return found


def defines(paths, test):
    """Whether one of `paths` defines the cited test."""
    text = "".join(open(p, encoding="utf-8").read() for p in paths)
    if "." not in test and paths[0].endswith(".c"):  # a C test: a function of that name
        return re.search(r"\b%s\s*\(" % re.escape(test), text) is not None
    if "." not in test:  # a whole suite
        return re.search(r"TEST(?:_F|_P)?\(\s*%s\s*," % re.escape(test), text) is not None
    suite, name = test.split(".", 1)
    suite = suite.split("/")[-1]  # Prefix/Suite of an instantiation
    name = name.split("/")[0]     # Name/Param
    pattern = r"TEST(?:_F|_P)?\(\s*%s\s*,\s*%s\s*\)" % (re.escape(suite), re.escape(name))
    return re.search(pattern, text) is not None


def outside_contract_mentions(root):
    """Every line of README.md, docs/*.md and the sources that names the outside spec."""
    paths = [os.path.join(root, "README.md")]
    paths += [os.path.join(root, "docs", d) for d in sorted(os.listdir(os.path.join(root, "docs")))
              if d.endswith(".md") and d != "protocol.md"]
    for top in SOURCE_DIRS:
        for directory, dirs, files in os.walk(os.path.join(root, top)):
            dirs[:] = [d for d in dirs if not d.startswith("bazel-")]
            paths += [os.path.join(directory, f) for f in sorted(files)
                      if re.search(r"\.(cc|c|h|hpp|py|sh|bzl)$|^BUILD", f)]
    found = []
    for path in paths:
        for number, line in enumerate(open(path, encoding="utf-8", errors="replace"), 1):
            if "PROTOCOL" + ".md" in line:
                found.append("%s:%d: cites PROTOCOL" ".md, which is not in the repository: cite "
                             "docs/protocol.md" % (os.path.relpath(path, root), number))
    return found


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else "."
    files = test_files(root)
    broken = []
    checked = 0
    docs = os.path.join(root, "docs")
    for doc in sorted(os.listdir(docs)):
        if not doc.endswith(".md"):
            continue
        for number, line in enumerate(open(os.path.join(docs, doc), encoding="utf-8"), 1):
            for file, test in CITATION.findall(line):
                checked += 1
                if file not in files:
                    broken.append("docs/%s:%d: %s: no such test file" % (doc, number, file))
                elif not defines(files[file], test):
                    broken.append("docs/%s:%d: %s has no test %s" % (doc, number, file, test))
    broken += outside_contract_mentions(root)
    for problem in broken:
        print(problem)
    print("check_citations: %d citations, %d broken" % (checked, len(broken)))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
