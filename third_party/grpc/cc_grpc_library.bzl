"""cc_grpc_library: the gRPC C++ service code of a proto_library, as a cc_library.

Debian's protoc runs Debian's grpc_cpp_plugin (protobuf-compiler-grpc 1.51) over the
proto's own sources and gives <name>.grpc.pb.h / <name>.grpc.pb.cc, compiled against
the message code of a cc_proto_library and //third_party:grpcpp. Offline: nothing is
downloaded, the same protoc as the @com_google_protobuf stand-in.

    proto_library(name = "relay_proto", srcs = ["relay.proto"])
    cc_proto_library(name = "relay_cc_proto", deps = [":relay_proto"])
    cc_grpc_library(name = "relay_cc_grpc", proto = ":relay_proto", cc_proto = ":relay_cc_proto")

Contract: the .proto files are in the same package as the rule (the generated files
land beside the cc_proto_library's, so "pkg/x.grpc.pb.h" includes "pkg/x.pb.h"). Works
in ASP's workspace and in a consumer's, where ASP is @asp.
"""

def _import_path(src, proto_info):
    """`src`'s path as protoc sees it: relative to its proto source root."""
    root = proto_info.proto_source_root
    if root in ("", "."):
        return src.path
    if not src.path.startswith(root + "/"):
        fail("%s is not under its proto source root %s" % (src.path, root))
    return src.path[len(root) + 1:]

def _cc_grpc_codegen_impl(ctx):
    proto_info = ctx.attr.proto[ProtoInfo]
    headers = []
    sources = []
    import_paths = []
    for src in proto_info.direct_sources:
        if src.dirname != ctx.label.package and not src.dirname.endswith("/" + ctx.label.package):
            fail("%s: %s must be in package %s" % (ctx.label, src.path, ctx.label.package))
        stem = src.basename[:-len(".proto")]
        headers.append(ctx.actions.declare_file(stem + ".grpc.pb.h"))
        sources.append(ctx.actions.declare_file(stem + ".grpc.pb.cc"))
        import_paths.append(_import_path(src, proto_info))

    # protoc writes <out root>/<import path stem>.grpc.pb.*, so the out root is the
    # declared file's path minus the import path.
    first_import_stem = import_paths[0][:-len(".proto")]
    out_root = headers[0].path[:-len(first_import_stem + ".grpc.pb.h")].rstrip("/")

    args = ctx.actions.args()
    args.add("--plugin=protoc-gen-grpc=" + ctx.executable._plugin.path)
    args.add("--grpc_out=" + out_root)
    args.add_all(proto_info.transitive_proto_path, format_each = "-I%s")
    args.add("-I.")
    args.add_all(import_paths)
    ctx.actions.run(
        executable = ctx.executable._protoc,
        tools = [ctx.executable._plugin],
        arguments = [args],
        inputs = proto_info.transitive_sources,
        outputs = headers + sources,
        mnemonic = "GrpcCppCodegen",
        progress_message = "Generating gRPC C++ code for %s" % ctx.label,
    )
    return [
        DefaultInfo(files = depset(headers + sources)),
        OutputGroupInfo(headers = depset(headers), sources = depset(sources)),
    ]

_cc_grpc_codegen = rule(
    implementation = _cc_grpc_codegen_impl,
    attrs = {
        "proto": attr.label(mandatory = True, providers = [ProtoInfo]),
        "_protoc": attr.label(
            default = Label("//third_party/protobuf:protoc"),
            executable = True,
            cfg = "host",
        ),
        "_plugin": attr.label(
            default = Label("//third_party/grpc:grpc_cpp_plugin"),
            executable = True,
            cfg = "host",
        ),
    },
)

def cc_grpc_library(name, proto, cc_proto, visibility = None, testonly = None):
    """A cc_library `name` with the gRPC service code of `proto` (a proto_library).

    Args:
      name: the cc_library's name.
      proto: the proto_library whose services are generated.
      cc_proto: the cc_proto_library of the same proto (the messages).
      visibility: of the cc_library.
      testonly: of every target made.
    """
    codegen = name + "_codegen"
    _cc_grpc_codegen(name = codegen, proto = proto, testonly = testonly, visibility = ["//visibility:private"])
    native.filegroup(name = codegen + "_hdrs", srcs = [":" + codegen], output_group = "headers", testonly = testonly, visibility = ["//visibility:private"])
    native.filegroup(name = codegen + "_srcs", srcs = [":" + codegen], output_group = "sources", testonly = testonly, visibility = ["//visibility:private"])
    native.cc_library(
        name = name,
        srcs = [":" + codegen + "_srcs"],
        hdrs = [":" + codegen + "_hdrs"],
        deps = [cc_proto, Label("//third_party:grpcpp")],
        visibility = visibility,
        testonly = testonly,
    )
