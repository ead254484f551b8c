"""asp_fuzz_target: one fuzz target, two builds.

<name>:       a cc_binary; with --config=fuzz (define asp_fuzz=1) libFuzzer's main,
              otherwise regression_main.cc.
<name>_test:  the regression run in every `bazel test`: seeds, corpus/<name>/, mutations.
"""

def asp_fuzz_target(name, deps):
    native.cc_binary(
        name = name,
        srcs = [name + ".cc"] + select({
            ":fuzzing": [],
            "//conditions:default": ["regression_main.cc"],
        }),
        linkopts = select({
            ":fuzzing": ["-fsanitize=fuzzer"],
            "//conditions:default": [],
        }),
        deps = deps + [":fuzz_target"],
        testonly = True,
    )
    native.cc_test(
        name = name + "_test",
        srcs = [name + ".cc", "regression_main.cc"],
        # Tests run from the runfiles root, where the corpus sits at its source path.
        args = [native.package_name() + "/corpus/" + name],
        data = native.glob(["corpus/" + name + "/**"]),
        deps = deps + [":fuzz_target"],
    )
