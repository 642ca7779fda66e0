// tempo-bench: verify, then time, Tempo's kernels on every device. See TempoBenchCore.
import TempoBenchCore

TempoBench.main()
