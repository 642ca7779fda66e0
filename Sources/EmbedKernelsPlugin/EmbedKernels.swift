import Foundation
import PackagePlugin

/// Embeds every `Kernels/*.cl` file of the package into the target as Swift source, after
/// syntax-checking each one with clang, so that a broken kernel fails `swift build` and a copied
/// binary never looks for kernel files at run time.
@main
struct EmbedKernels: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: Target) async throws -> [Command] {
        let kernelsDirectory = context.package.directoryURL.appending(path: "Kernels")
        let kernelFiles = try FileManager.default
            .contentsOfDirectory(at: kernelsDirectory, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "cl" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }

        let output = context.pluginWorkDirectoryURL.appending(path: "KernelSources.swift")
        let embedder = try context.tool(named: "TempoKernelEmbedder")

        var arguments = ["--output", output.path]
        if let clang = try? context.tool(named: "clang") {
            arguments += ["--clang", clang.url.path]
        }
        arguments += kernelFiles.map(\.path)

        return [
            .buildCommand(
                displayName: "Checking and embedding \(kernelFiles.count) OpenCL kernels",
                executable: embedder.url,
                arguments: arguments,
                inputFiles: kernelFiles,
                outputFiles: [output]
            )
        ]
    }
}
