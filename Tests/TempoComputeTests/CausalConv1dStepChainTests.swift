import TempoTestSupport
import Testing

@testable import TempoCompute

/// A TCN-shaped chain, blocks of (Cin, Cout, d) with K = 3: a 1x1 downsample when Cin != Cout,
/// conv1 with ReLU, conv2 with ReLU, the residual and ReLU; its weights drawn from `seed`.
private struct ChainCase: CustomStringConvertible {
    var batch: Int
    var blocks: [(input: Int, output: Int, dilation: Int)]
    var seed: UInt64

    var description: String { "chain B\(batch) blocks \(blocks.map { "\($0.input)->\($0.output) d\($0.dilation)" })" }
    var inputChannels: Int { blocks[0].input }
    var outputChannels: Int { blocks[blocks.count - 1].output }

    /// Each link's weight `[Cout, Cin, K]` and bias, on the CPU, in link order.
    func parameters() throws -> [(weight: Tensor, bias: Tensor)] {
        var result: [(Tensor, Tensor)] = []
        var seed = self.seed
        func draw(_ shape: [Int]) throws -> Tensor {
            seed += 1
            return try Tensor.normal(shape, standardDeviation: 1 / Float(shape[1] * shape[2]).squareRoot(), seed: seed)
        }
        for block in blocks {
            if block.input != block.output { result.append((try draw([block.output, block.input, 1]), try draw([block.output, 1, 1]).reshaped([block.output]))) }
            result.append((try draw([block.output, block.input, 3]), try draw([block.output, 1, 1]).reshaped([block.output])))
            result.append((try draw([block.output, block.output, 3]), try draw([block.output, 1, 1]).reshaped([block.output])))
        }
        return result
    }

    /// The links on `device`, each with a new history.
    func links(on device: Device) throws -> [CausalConv1dStepChain.Link] {
        let parameters = try parameters().map { (try $0.weight.to(device), try $0.bias.to(device)) }
        var links: [CausalConv1dStepChain.Link] = []
        var input = CausalConv1dStepChain.Source.chainInput
        for block in blocks {
            var residual = input
            func history(_ channels: Int, _ kernelSize: Int, _ dilation: Int) throws -> CausalConv1dHistory {
                try CausalConv1dHistory(device: device, batch: batch, channels: channels, kernelSize: kernelSize, dilation: dilation)
            }
            if block.input != block.output {
                let (weight, bias) = parameters[links.count]
                links.append(.init(input: input, weight: weight, bias: bias, history: try history(block.input, 1, 1)))
                residual = .link(links.count - 1)
            }
            let (weight1, bias1) = parameters[links.count]
            links.append(
                .init(
                    input: input, weight: weight1, bias: bias1, dilation: block.dilation,
                    history: try history(block.input, 3, block.dilation), activation: .relu))
            let (weight2, bias2) = parameters[links.count]
            links.append(
                .init(
                    input: .link(links.count - 1), weight: weight2, bias: bias2, dilation: block.dilation,
                    history: try history(block.output, 3, block.dilation), activation: .relu, residual: residual,
                    outputActivation: .relu))
            input = .link(links.count - 1)
        }
        return links
    }

    func samples(_ count: Int, on device: Device) throws -> [Tensor] {
        try (0..<count).map { try Tensor.normal([batch, inputChannels], seed: seed + 100 + UInt64($0), device: device) }
    }

    /// The outputs of stepping `links` one op call at a time (what the chain must equal).
    static func stepOneByOne(_ links: [CausalConv1dStepChain.Link], samples: [Tensor]) throws -> [[Float]] {
        try samples.map { x in
            var outputs: [Tensor] = []
            func read(_ source: CausalConv1dStepChain.Source) -> Tensor {
                switch source {
                case .chainInput: x
                case .link(let index): outputs[index]
                }
            }
            for link in links {
                outputs.append(
                    try read(link.input).causalConv1dStep(
                        weight: link.weight, bias: link.bias, dilation: link.dilation, groups: link.groups,
                        history: link.history, activation: link.activation, residual: link.residual.map(read),
                        outputActivation: link.outputActivation))
            }
            return try outputs[outputs.count - 1].values
        }
    }

    /// The outputs of the chain over `samples`, on `device`, with new histories.
    func chainOutputs(on device: Device, samples count: Int) throws -> [[Float]] {
        let chain = try CausalConv1dStepChain(batch: batch, inputChannels: inputChannels, links: try links(on: device))
        return try samples(count, on: device).map { try chain($0).values }
    }
}

@Suite("Causal convolution step chain")
struct CausalConv1dStepChainTests {
    /// Big enough that the CPU shares each link's items between threads (above 64 KFLOP).
    private static let shared = ChainCase(batch: 16, blocks: [(24, 64, 1), (64, 64, 2), (64, 33, 4)], seed: 1)
    private static let small = ChainCase(batch: 3, blocks: [(5, 5, 1), (5, 7, 3)], seed: 2)
    /// The same kernels, run in one call or several: the order of every sum is the same.
    private static let tolerance = Tolerance(absolute: 1e-6, relative: 1e-6)

    @Test("a chain equals its links stepped one op call at a time, past every ring's wrap", arguments: TestDevices.all)
    func equalsOneByOne(device: Device) throws {
        for c in [Self.shared, Self.small] {
            let samples = try c.samples(12, on: device)
            let expected = try ChainCase.stepOneByOne(try c.links(on: device), samples: samples)
            let links = try c.links(on: device)
            let chain = try CausalConv1dStepChain(batch: c.batch, inputChannels: c.inputChannels, links: links)
            for (t, x) in samples.enumerated() {
                let y = try chain(x)
                #expect(y.shape == [c.batch, c.outputChannels])
                expectClose(try y.values, expected[t], Self.tolerance, "\(c) on \(device.id), sample \(t)")
            }
            #expect(links.allSatisfy { $0.history.steps == samples.count })
        }
    }

    @Test("CPU and OpenCL chains agree sample by sample", .needsOpenCL)
    func parity() throws {
        let c = Self.shared
        let cpu = try c.chainOutputs(on: .cpu, samples: 9)
        for device in TestDevices.openCL {
            let other = try c.chainOutputs(on: device, samples: 9)
            for t in cpu.indices {
                expectClose(other[t], cpu[t], Tolerance(absolute: 2e-5, relative: 1e-4), "\(c) on \(device.id), sample \(t)")
            }
        }
    }

    @Test("chains on several tasks at once are each right (the thread team runs one, the others inline)")
    func concurrentChains() async throws {
        let cases = (0..<4).map { index in
            ChainCase(batch: 16, blocks: [(32, 48, 1), (48, 48, 2 + index)], seed: UInt64(10 * index + 5))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for c in cases {
                group.addTask {
                    let expected = try ChainCase.stepOneByOne(try c.links(on: .cpu), samples: try c.samples(8, on: .cpu))
                    for _ in 0..<3 {
                        let outputs = try c.chainOutputs(on: .cpu, samples: 8)
                        for t in expected.indices { expectClose(outputs[t], expected[t], Self.tolerance, "\(c) sample \(t)") }
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    @Test("a warm chain step is one launch on the CPU, one per link on OpenCL, and moves no bytes", arguments: TestDevices.all)
    func launches(device: Device) throws {
        let c = Self.small
        let links = try c.links(on: device)
        let chain = try CausalConv1dStepChain(batch: c.batch, inputChannels: c.inputChannels, links: links)
        let x = try c.samples(1, on: device)[0]
        _ = try chain(x)
        let (_, counters) = try device.counting {
            for _ in 0..<3 { _ = try chain(x) }
            try device.synchronize()
        }
        let perSample = device == .cpu ? 1 : links.count
        #expect(counters.launches == 3 * perSample, "\(device.id): \(counters)")
        #expect(counters.bytesToDevice == 0 && counters.bytesToHost == 0, "\(device.id): \(counters)")
    }

    @Test("bad links and samples throw naming them, and a rejected sample advances nothing")
    func badInput() throws {
        let c = Self.small
        var links = try c.links(on: .cpu)
        expectTempoError(containing: ["links", "at least one"]) {
            _ = try CausalConv1dStepChain(batch: 3, inputChannels: 5, links: [])
        }
        var forward = links
        forward[0].input = .link(0)
        expectTempoError(containing: ["links[0].input", "link 0"]) {
            _ = try CausalConv1dStepChain(batch: 3, inputChannels: 5, links: forward)
        }
        var residual = links
        residual[1].residual = .link(7)
        expectTempoError(containing: ["links[1].residual", "link 7"]) {
            _ = try CausalConv1dStepChain(batch: 3, inputChannels: 5, links: residual)
        }
        var shared = links
        shared[1].history = shared[0].history
        expectTempoError(containing: ["links[1].history", "link 0"]) {
            _ = try CausalConv1dStepChain(batch: 3, inputChannels: 5, links: shared)
        }
        // Link 0 reads the chain input, which has 4 channels where its weight takes 5.
        expectTempoError(containing: ["links[0].weight", "Cin/groups = 4", "[5, 5, 3]"]) {
            _ = try CausalConv1dStepChain(batch: 3, inputChannels: 4, links: links)
        }
        links = try c.links(on: .cpu)
        let chain = try CausalConv1dStepChain(batch: 3, inputChannels: 5, links: links)
        for x in [try Tensor.zeros([3, 4]), try Tensor.zeros([2, 5]), try Tensor.zeros([3, 5, 1])] {
            expectTempoError(containing: ["x", "[3, 5]"]) { _ = try chain(x) }
        }
        if let device = TestDevices.openCL.first {
            expectTempoError(containing: ["x", device.id]) { _ = try chain(try Tensor.zeros([3, 5], device: device)) }
        }
        #expect(links.allSatisfy { $0.history.steps == 0 })
    }
}
