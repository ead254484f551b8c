"""shared_library: one .so holding every object of the given cc_library targets and of
everything they depend on inside the repository, whether or not anything in the .so calls
it (a cc_binary with linkshared keeps only what is referenced, which for a library without
sources of its own is nothing). Libraries outside it (Debian's Abseil, Protobuf, SQLite,
OpenSSL, libdeflate) are linked as they are in any binary: by their -l flags, as NEEDED entries."""

load("@bazel_tools//tools/cpp:toolchain_utils.bzl", "find_cpp_toolchain")

def _shared_library_impl(ctx):
    cc_toolchain = find_cpp_toolchain(ctx)
    objects = []
    seen = {}
    flags = []
    for dep in ctx.attr.deps:
        for linker_input in dep[CcInfo].linking_context.linker_inputs.to_list():
            for flag in linker_input.user_link_flags:
                if flag not in flags:
                    flags.append(flag)
            for library in linker_input.libraries:
                for obj in (library.pic_objects or library.objects or []):
                    if obj.path not in seen:
                        seen[obj.path] = True
                        objects.append(obj)
    out = ctx.actions.declare_file(ctx.attr.soname)
    args = ctx.actions.args()
    args.add("-shared")
    args.add("-B/usr/bin")  # where gcc finds ld in the sandbox, as Bazel's own links say
    args.add("-o", out)
    args.add("-Wl,-soname," + ctx.attr.soname)
    # Every symbol resolved at link time: a missing library is an error here, not at run time.
    args.add("-Wl,--no-undefined")
    args.add_all(objects)
    args.add_all(flags)
    args.add_all(ctx.fragments.cpp.linkopts)
    args.add("-lstdc++")
    args.add("-lm")
    ctx.actions.run(
        executable = cc_toolchain.compiler_executable,
        arguments = [args],
        inputs = depset(objects, transitive = [cc_toolchain.all_files]),
        outputs = [out],
        mnemonic = "SharedLibraryLink",
        use_default_shell_env = True,
        progress_message = "Linking %s" % ctx.attr.soname,
    )
    return [DefaultInfo(files = depset([out]))]

shared_library = rule(
    implementation = _shared_library_impl,
    attrs = {
        "deps": attr.label_list(providers = [CcInfo]),
        "soname": attr.string(mandatory = True, doc = "the file name and SONAME, e.g. libasp.so.1"),
        "_cc_toolchain": attr.label(default = Label("@bazel_tools//tools/cpp:current_cc_toolchain")),
    },
    fragments = ["cpp"],
    toolchains = ["@bazel_tools//tools/cpp:toolchain_type"],
)
