#!/usr/bin/env python3
"""Checks docs/architecture.md's graph against the BUILD files' real dependencies.

argv[1]: the graph of everything that ships (a genquery, --output=graph).
argv[2]: docs/architecture.md.

Package-level arrows of the real graph (asp/... packages; asp/core:socket_sync_protocol
counted as its own box, as the page draws it) must be exactly the solid arrows of the
page's mermaid graph. Fails naming each arrow one has and the other lacks.
"""
import re
import sys

SPECIAL = {"//asp/core:socket_sync_protocol": "asp/core:socket_sync_protocol"}


def box(label):
    if label in SPECIAL:
        return SPECIAL[label]
    m = re.match(r"//(asp/[\w/]+):", label)
    return m.group(1) if m else None


def real_arrows(graph_text):
    arrows = set()
    for source, target in re.findall(r'"([^"]+)" -> "([^"]+)"', graph_text):
        for a in source.split("\\n"):
            for b in target.split("\\n"):
                pa, pb = box(a), box(b)
                if pa and pb and pa != pb:
                    arrows.add((pa, pb))
    return arrows


def drawn_arrows(markdown):
    block = re.search(r"```mermaid\n(.*?)```", markdown, re.S)
    if not block:
        sys.exit("docs/architecture.md has no mermaid graph")
    names = {}
    arrows = set()
    for line in block.group(1).splitlines():
        for ident, label in re.findall(r"(\w+)\[([^\]<]+)", line):
            names[ident] = label.strip()
        m = re.match(r"\s*(\w+)(?:\[[^\]]*\])?\s*-->\s*(\w+)", line)
        if m:
            arrows.add((m.group(1), m.group(2)))
    return {(names.get(a, a), names.get(b, b)) for a, b in arrows}


def main():
    real = real_arrows(open(sys.argv[1]).read())
    drawn = drawn_arrows(open(sys.argv[2]).read())
    missing = sorted(real - drawn)
    extra = sorted(drawn - real)
    for a, b in missing:
        print(f"BUILD has {a} -> {b}, which docs/architecture.md does not draw")
    for a, b in extra:
        print(f"docs/architecture.md draws {a} -> {b}, which no BUILD dependency has")
    if missing or extra:
        sys.exit(1)
    print(f"docs/architecture.md draws exactly the {len(real)} package dependencies the BUILD files have")


if __name__ == "__main__":
    main()
