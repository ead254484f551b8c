"""doc_snippets_test: every C and C++ block of a Markdown document is compiled, and the
ones a harness calls are run, so that a document's code cannot rot.

The document marks each block (see extract_snippets.py): the body of a named function
(declared in a generated header, so the harness test can call it), a whole file, or
skipped with a reason. The generated sources are held to -Wall -Wextra -Werror like the
project's own (the --per_file_copt of .bazelrc does not reach generated files), except
unused variables: a snippet may end on the variable it set up for the reader.

Usage, e.g. for docs/porting.md:

    doc_snippets_test(
        name = "porting_test",
        doc = "//docs:porting.md",
        prelude = "porting_prelude.h",   # optional: includes and helpers the snippets use
        harness = ["porting_test.cc"],  # gtest code calling the function snippets
        deps = ["//asp/core:agent_sync_protocol", ...],
    )
"""

_WARNINGS = [
    "-Wall",
    "-Wextra",
    "-Werror",
    "-Wno-unused-variable",
    "-Wno-unused-but-set-variable",
]

def doc_snippets_test(name, doc, harness, prelude = None, c_prelude = None, deps = [],
                      c_deps = [], harness_deps = [], data = [], size = "small", **kwargs):
    doc_path = doc.replace("//", "").replace(":", "/")
    preludes = [p for p in [prelude, c_prelude] if p]
    package = native.package_name()
    cmd = "python3 $(location //tests/docs:extract_snippets.py) $(location %s)" % doc
    cmd += " --doc_name=%s" % doc_path
    cmd += " --cc=$(location %s_snippets.cc) --c=$(location %s_snippets.c)" % (name, name)
    cmd += " --header=$(location %s_snippets.h)" % name
    if prelude:
        cmd += " --prelude=%s/%s" % (package, prelude)
    if c_prelude:
        cmd += " --c_prelude=%s/%s" % (package, c_prelude)
    native.genrule(
        name = name + "_extract",
        srcs = [doc],
        outs = [name + "_snippets.cc", name + "_snippets.c", name + "_snippets.h"],
        cmd = cmd,
        tools = ["//tests/docs:extract_snippets.py"],
        testonly = True,
    )
    native.cc_library(
        name = name + "_cc_snippets",
        srcs = [name + "_snippets.cc"],
        hdrs = [name + "_snippets.h"] + ([prelude] if prelude else []),
        copts = _WARNINGS,
        deps = deps,
        testonly = True,
        alwayslink = True,
    )
    native.cc_library(
        name = name + "_c_snippets",
        srcs = [name + "_snippets.c"] + ([c_prelude] if c_prelude else []),
        copts = _WARNINGS + ["-std=c11", "-D_DEFAULT_SOURCE"],
        deps = c_deps,
        testonly = True,
        alwayslink = True,
    )
    native.cc_test(
        name = name,
        srcs = harness,
        deps = [":" + name + "_cc_snippets", ":" + name + "_c_snippets"] + harness_deps,
        data = data,
        size = size,
        **kwargs
    )
