#!/usr/bin/env python3
"""Extracts the C and C++ code blocks of a Markdown document into sources a test builds.

Every ```cpp / ```c block of the document must be preceded (blank lines allowed) by a
marker comment, invisible when the Markdown is rendered, saying how it is built:

  <!-- snippet: function void record(asp::AgentSyncProtocol* p) -->
      the block is the body of that function (C++: in namespace doc_snippets). A header
      declares it, so a test can call it: the snippet then runs, not only compiles.
  <!-- snippet: file -->
      the block is a whole translation unit (C++: wrapped in its own namespace).
  <!-- snippet: skip <reason> -->
      not built; the reason is required (e.g. "pseudo-code").

#include lines are moved to the top of the generated file; #line directives make the
compiler's messages name the document's own lines. A block without a marker, a marker
without a block and an unknown marker are errors naming the document's line.

Usage: extract_snippets.py DOC --cc OUT.cc --c OUT.c --header OUT.h
                           [--prelude HEADER] [--c_prelude HEADER]
"""
import argparse
import re
import sys

MARKER = re.compile(r"^\s*<!--\s*snippet:\s*(.*?)\s*-->\s*$")
FENCE_OPEN = re.compile(r"^```\s*(cpp|c\+\+|c)\s*$")
FENCE_CLOSE = re.compile(r"^```\s*$")


class Snippet:
    def __init__(self, language, kind, argument, first_line, lines):
        self.language = language  # "cpp" or "c"
        self.kind = kind  # "function" or "file"
        self.argument = argument  # the function's signature
        self.first_line = first_line  # 1-based line of the block's first code line
        self.lines = lines


def fail(doc, line, message):
    sys.exit(f"{doc}:{line}: {message}")


def parse(doc, text):
    snippets = []
    marker = None  # (line, kind, argument)
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        found = MARKER.match(line)
        if found:
            if marker:
                fail(doc, marker[0], "snippet marker not followed by a ```cpp or ```c block")
            words = found.group(1).split(None, 1)
            kind = words[0] if words else ""
            argument = words[1] if len(words) > 1 else ""
            if kind not in ("function", "file", "skip"):
                fail(doc, i + 1, f"unknown snippet marker '{kind}' (function, file or skip)")
            if kind in ("function", "skip") and not argument:
                fail(doc, i + 1, f"'snippet: {kind}' needs " +
                     ("a signature" if kind == "function" else "a reason"))
            marker = (i + 1, kind, argument)
            i += 1
            continue
        opened = FENCE_OPEN.match(line)
        if opened:
            language = "c" if opened.group(1) == "c" else "cpp"
            start = i + 1
            i += 1
            while i < len(lines) and not FENCE_CLOSE.match(lines[i]):
                i += 1
            if i == len(lines):
                fail(doc, start, "code block never closed")
            if not marker:
                fail(doc, start, f"```{opened.group(1)} block without a snippet marker before it")
            if marker[1] != "skip":
                snippets.append(Snippet(language, marker[1], marker[2], start + 1, lines[start:i]))
            marker = None
            i += 1
            continue
        if line.startswith("```") and marker:
            fail(doc, marker[0], "snippet marker not followed by a ```cpp or ```c block")
        if line.strip() and marker:
            fail(doc, marker[0], "snippet marker not directly followed by its code block")
        i += 1
    if marker:
        fail(doc, marker[0], "snippet marker not followed by a ```cpp or ```c block")
    return snippets


def split_includes(snippet):
    """The block's #include lines, and its lines with those blanked (numbering kept)."""
    includes, body = [], []
    for line in snippet.lines:
        if line.lstrip().startswith("#include"):
            includes.append(line.strip())
            body.append("")
        else:
            body.append(line)
    return includes, body


def render(doc, snippets, language, prelude):
    includes, parts = [], []
    for number, snippet in enumerate(s for s in snippets if s.language == language):
        more, body = split_includes(snippet)
        includes += [i for i in more if i not in includes]
        line = f'#line {snippet.first_line} "{doc}"'
        if snippet.kind == "function":
            code = [f"{snippet.argument} {{", line] + body + ["}"]
        else:
            code = [line] + body
        if language == "cpp":
            space = "doc_snippets" if snippet.kind == "function" else f"doc_snippets::file_{number}"
            code = [f"namespace {space} {{"] + code + [f"}}  // namespace {space}"]
        parts.append("\n".join(code))
    head = [f"// Generated from {doc} by tests/docs/extract_snippets.py. Do not edit."]
    if prelude:
        head.append(f'#include "{prelude}"')
    return "\n".join(head + includes + [""] + parts) + "\n"


def render_header(doc, snippets):
    cpp = [f"{s.argument};" for s in snippets if s.language == "cpp" and s.kind == "function"]
    c = [f"{s.argument};" for s in snippets if s.language == "c" and s.kind == "function"]
    out = [f"// Generated from {doc} by tests/docs/extract_snippets.py. Do not edit.",
           "#pragma once", "#include <stddef.h>", "#include <stdint.h>"]
    if cpp:
        out += ["#ifdef __cplusplus", "#include <string>", "namespace doc_snippets {"] + cpp + \
               ["}  // namespace doc_snippets", "#endif"]
    if c:
        out += ["#ifdef __cplusplus", 'extern "C" {', "#endif"] + c + \
               ["#ifdef __cplusplus", "}", "#endif"]
    return "\n".join(out) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("doc")
    parser.add_argument("--cc", required=True)
    parser.add_argument("--c", required=True)
    parser.add_argument("--header", required=True)
    parser.add_argument("--prelude", default="")
    parser.add_argument("--c_prelude", default="")
    parser.add_argument("--doc_name", default="", help="the path messages name (default: DOC)")
    args = parser.parse_args()
    with open(args.doc, encoding="utf-8") as f:
        text = f.read()
    name = args.doc_name or args.doc
    snippets = parse(name, text)
    if not snippets:
        sys.exit(f"{name}: no C or C++ snippet to build")
    for path, content in ((args.cc, render(name, snippets, "cpp", args.prelude)),
                          (args.c, render(name, snippets, "c", args.c_prelude)),
                          (args.header, render_header(name, snippets))):
        with open(path, "w", encoding="utf-8") as f:
            f.write(content)


if __name__ == "__main__":
    main()
