"""debian_package: a .deb built offline with dpkg-deb from the project's own targets.

What goes where:
- `binaries`: executables, installed in /usr/bin under their own names.
- `shared_libraries`: into /usr/lib/<multiarch>; `library_links` adds links (libasp.so).
- `header_entries`: the public headers (workspace paths); they and every project header
  they include (found by the compiler, so the set is exactly what a module's compile
  needs) go to /usr/include, keeping their paths. `header_deps` provide them.
- `files`: any other file, keyed by label, valued by its absolute path in the package
  (units, configuration, pkg-config files, documentation). A ":MODE" suffix sets the mode.
- `conffiles`, `scripts` (postinst, postrm, triggers, ...), and the control fields.
"""

_MULTIARCH = "/usr/lib/x86_64-linux-gnu"

def _debian_package_impl(ctx):
    out = ctx.actions.declare_file("%s_%s_%s.deb" % (ctx.attr.package, ctx.attr.version, ctx.attr.architecture))
    args = ctx.actions.args()
    args.add(ctx.file._builder)
    args.add("--out", out)
    inputs = []
    for binary in ctx.attr.binaries:
        executable = binary[DefaultInfo].files_to_run.executable
        inputs.append(executable)
        args.add("--file", "%s=/usr/bin/%s:755" % (executable.path, executable.basename))
    for library in ctx.files.shared_libraries:
        inputs.append(library)
        args.add("--file", "%s=%s/%s:644" % (library.path, _MULTIARCH, library.basename))
    for link, target in ctx.attr.library_links.items():
        args.add("--link", "%s/%s=%s" % (_MULTIARCH, link, target))
    for target, dest in ctx.attr.files.items():
        for f in target.files.to_list():
            inputs.append(f)
            args.add("--file", "%s=%s" % (f.path, dest))
    headers = []
    iquotes = {".": True}
    for dep in ctx.attr.header_deps:
        context = dep[CcInfo].compilation_context
        headers.append(context.headers)
        for directory in context.quote_includes.to_list():
            iquotes[directory] = True
    if ctx.attr.header_entries:
        args.add("--headers", "/usr/include=" + ",".join(ctx.attr.header_entries))
        for directory in iquotes:
            args.add("--iquote", directory)
    for script, name in ctx.attr.scripts.items():
        for f in script.files.to_list():
            inputs.append(f)
            args.add("--script", "%s=%s" % (name, f.path))
    for conffile in ctx.attr.conffiles:
        args.add("--conffile", conffile)
    control = [
        ("Package", ctx.attr.package),
        ("Version", ctx.attr.version),
        ("Architecture", ctx.attr.architecture),
        ("Maintainer", ctx.attr.maintainer),
        ("Section", ctx.attr.section),
        ("Priority", "optional"),
    ]
    if ctx.attr.depends:
        control.append(("Depends", ", ".join(ctx.attr.depends)))
    if ctx.attr.recommends:
        control.append(("Recommends", ", ".join(ctx.attr.recommends)))
    control.append(("Description", ctx.attr.description))
    for key, value in control:
        args.add("--control", "%s=%s" % (key, value))
    ctx.actions.run(
        executable = "python3",
        arguments = [args],
        inputs = depset([ctx.file._builder] + inputs, transitive = headers),
        outputs = [out],
        mnemonic = "DebianPackage",
        progress_message = "Packaging %s" % out.basename,
        use_default_shell_env = True,
    )
    return [DefaultInfo(files = depset([out]), runfiles = ctx.runfiles(files = [out]))]

debian_package = rule(
    implementation = _debian_package_impl,
    attrs = {
        "package": attr.string(mandatory = True),
        "version": attr.string(mandatory = True),
        "architecture": attr.string(default = "amd64"),
        "maintainer": attr.string(mandatory = True),
        "section": attr.string(default = "net"),
        "description": attr.string(mandatory = True, doc = "synopsis, then \\n-separated lines"),
        "depends": attr.string_list(),
        "recommends": attr.string_list(),
        "binaries": attr.label_list(cfg = "target"),
        "shared_libraries": attr.label_list(allow_files = True),
        "library_links": attr.string_dict(),
        "header_entries": attr.string_list(),
        "header_deps": attr.label_list(providers = [CcInfo]),
        "files": attr.label_keyed_string_dict(allow_files = True),
        "conffiles": attr.string_list(),
        "scripts": attr.label_keyed_string_dict(allow_files = True),
        "_builder": attr.label(default = "build_deb.py", allow_single_file = True),
    },
)
