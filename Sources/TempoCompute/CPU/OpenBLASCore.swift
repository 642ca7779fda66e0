import CBLAS
import Foundation

/// Makes sure OpenBLAS runs the kernels this CPU can run.
///
/// A DYNAMIC_ARCH OpenBLAS picks its kernels once, when it loads, from the CPU model number. A
/// release older than the CPU does not know the model and falls back to a generic SSE3 core:
/// Debian 12's OpenBLAS 0.3.21 calls a 2023 Xeon (family 6, model 207) "Prescott" and reaches
/// ~30 GFLOP/s per core instead of ~150. When that happens and the user has not chosen a core with
/// `OPENBLAS_CORETYPE`, Tempo selects the best core the CPU's flags allow and has OpenBLAS redo its
/// start-up selection through its own `gotoblas_dynamic_quit`/`gotoblas_dynamic_init`, before
/// any BLAS call is made. Builds without DYNAMIC_ARCH do not export those functions and are left
/// as they are.
enum OpenBLASCore {
    /// The core OpenBLAS uses, after the correction; read once.
    static let name: String = {
        correctIfGeneric()
        return currentName() ?? "unknown"
    }()

    /// OpenBLAS core names able to run AVX-512 and AVX2 kernels respectively.
    private static let avx512Cores: Set<String> = ["skylakex", "cooperlake", "sapphirerapids"]
    private static let avx2Cores: Set<String> = avx512Cores.union(["haswell", "zen"])

    private static func correctIfGeneric() {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil,
              let current = currentName()?.lowercased(),
              let wanted = bestCoreForThisCPU()
        else { return }
        let adequate = wanted == "SkylakeX" ? avx512Cores.contains(current) : avx2Cores.contains(current)
        guard !adequate,
              let handle = dlopen(nil, RTLD_NOW),
              let quit = dlsym(handle, "gotoblas_dynamic_quit"),
              let initialize = dlsym(handle, "gotoblas_dynamic_init")
        else { return }
        typealias VoidFunction = @convention(c) () -> Void
        setenv("OPENBLAS_CORETYPE", wanted, 0)
        unsafeBitCast(quit, to: VoidFunction.self)()
        unsafeBitCast(initialize, to: VoidFunction.self)()
    }

    private static func currentName() -> String? {
        guard let handle = dlopen(nil, RTLD_NOW), let symbol = dlsym(handle, "openblas_get_corename") else { return nil }
        typealias NameFunction = @convention(c) () -> UnsafePointer<CChar>?
        return unsafeBitCast(symbol, to: NameFunction.self)().map { String(cString: $0) }
    }

    /// `SkylakeX` with the AVX-512 subsets OpenBLAS's kernels use, `Haswell` with AVX2 and FMA.
    private static func bestCoreForThisCPU() -> String? {
        guard let line = HostMachine.cpuInfoField("flags") else { return nil }
        let flags = Set(line.split(separator: " ").map(String.init))
        if flags.isSuperset(of: ["avx512f", "avx512dq", "avx512bw", "avx512vl"]) { return "SkylakeX" }
        if flags.isSuperset(of: ["avx2", "fma"]) { return "Haswell" }
        return nil
    }
}
