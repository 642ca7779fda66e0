// Build-time tool: checks OpenCL C kernels with clang and writes them out as Swift string constants.
//
//   TempoKernelEmbedder --output KernelSources.swift [--clang /path/to/clang] Kernels/a.cl Kernels/b.cl ...
//
// Each kernel is syntax-checked as OpenCL C 1.2 (`clang -x cl -cl-std=CL1.2 -fsyntax-only`); any
// diagnostic, warnings included, fails the build with clang's message, so a broken kernel is caught
// by `swift build` rather than at the first launch on a user's device.

import Foundation

struct Failure: Error, CustomStringConvertible {
    let description: String
}

func parseArguments(_ arguments: [String]) throws -> (output: String, clang: String?, kernels: [String]) {
    var output: String?
    var clang: String?
    var kernels: [String] = []
    var iterator = arguments.makeIterator()
    while let argument = iterator.next() {
        switch argument {
        case "--output": output = iterator.next()
        case "--clang": clang = iterator.next()
        default: kernels.append(argument)
        }
    }
    guard let output else { throw Failure(description: "missing --output FILE") }
    return (output, clang, kernels)
}

/// Finds clang on PATH when the build system did not hand us one.
func clangOnPath() -> String? {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for directory in path.split(separator: ":") {
        let candidate = "\(directory)/clang"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

func syntaxCheck(_ kernel: String, clang: String) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: clang)
    process.arguments = ["-x", "cl", "-cl-std=CL1.2", "-fsyntax-only", "-Werror", kernel]
    let errors = Pipe()
    process.standardError = errors
    process.standardOutput = errors
    try process.run()
    let diagnostics = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        let text = String(decoding: diagnostics, as: UTF8.self)
        throw Failure(description: "OpenCL kernel \(kernel) does not compile:\n\(text)")
    }
}

/// A Swift identifier for a kernel file: `layer_norm.cl` -> `layerNorm`.
func identifier(forKernelFile path: String) -> String {
    let stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
    let parts = stem.split(whereSeparator: { !$0.isLetter && !$0.isNumber })
    guard let first = parts.first else { return "kernel" }
    return first.lowercased() + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
}

/// A raw string literal that holds `text` unchanged: enough `#`s that nothing inside closes the
/// literal (`"#`) or starts an escape (`\#`).
func rawStringLiteral(_ text: String) -> String {
    var delimiter = "#"
    while text.contains("\"" + delimiter) || text.contains("\\" + delimiter) { delimiter += "#" }
    return "\(delimiter)\"\"\"\n\(text)\n\"\"\"\(delimiter)"
}

func generate(kernels: [String]) throws -> String {
    var constants: [String] = []
    var table: [String] = []
    for kernel in kernels {
        let text = try String(contentsOfFile: kernel, encoding: .utf8)
        let name = URL(fileURLWithPath: kernel).deletingPathExtension().lastPathComponent
        let swiftName = identifier(forKernelFile: kernel)
        constants.append("""
                /// `Kernels/\(name).cl`
                public static let \(swiftName) = KernelSource(name: "\(name)", text: \(rawStringLiteral(text)))
            """)
        table.append("\(swiftName)")
    }
    return """
        // Generated at build time by TempoKernelEmbedder from Kernels/*.cl. Do not edit.

        /// The OpenCL C source of one `Kernels/*.cl` file, embedded at build time.
        public struct KernelSource: Sendable, Hashable {
            /// The file name without extension, e.g. `gemm`.
            public let name: String
            /// The OpenCL C program text.
            public let text: String
        }

        extension KernelSource {
        \(constants.joined(separator: "\n\n"))

            /// Every embedded kernel file, sorted by name.
            public static let all: [KernelSource] = [\(table.joined(separator: ", "))]
        }

        """
}

do {
    let (output, clangArgument, kernels) = try parseArguments(Array(CommandLine.arguments.dropFirst()))
    guard let clang = clangArgument ?? clangOnPath() else {
        throw Failure(description: "clang not found: it is needed to syntax-check Kernels/*.cl")
    }
    for kernel in kernels { try syntaxCheck(kernel, clang: clang) }
    let source = try generate(kernels: kernels)
    // Rewrite only on change so that dependants are not rebuilt needlessly.
    if (try? String(contentsOfFile: output, encoding: .utf8)) != source {
        try source.write(toFile: output, atomically: true, encoding: .utf8)
    }
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
