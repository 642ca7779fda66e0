import TempoTestSupport
import Testing

@testable import TempoCompute

@Suite("Dropout")
struct DropoutTests {
    @Test("drops about p of the elements and scales the rest by 1/(1-p)", arguments: TestDevices.all)
    func statistics(device: Device) throws {
        let count = 100_000
        let x = try Tensor(shape: [count], repeating: 2, device: device)
        for p: Float in [0.1, 0.5, 0.9] {
            let y = try x.dropout(probability: p, seed: 42).values
            let dropped = y.filter { $0 == 0 }.count
            // Binomial: standard error sqrt(p(1-p)/n) <= 0.0016; 5 standard errors.
            #expect(abs(Float(dropped) / Float(count) - p) < 0.008, "p = \(p) dropped \(dropped)")
            #expect(y.allSatisfy { $0 == 0 || $0 == 2 / (1 - p) })
        }
    }

    @Test("the mask depends on seed and offset only, and is the same on every device")
    func deterministic() throws {
        let x = try Tensor.normal([5000], seed: 1)
        let a = try x.dropout(probability: 0.3, seed: 7, offset: 0).values
        #expect(try x.dropout(probability: 0.3, seed: 7, offset: 0).values == a)
        #expect(try x.dropout(probability: 0.3, seed: 7, offset: 1).values != a)
        #expect(try x.dropout(probability: 0.3, seed: 8, offset: 0).values != a)
        #expect(try x.dropout(probability: 0.3, seed: 7 | (1 << 40), offset: 0).values != a)
        for device in TestDevices.openCL {
            #expect(try x.to(device).dropout(probability: 0.3, seed: 7, offset: 0).values == a, "mask on \(device.id)")
            #expect(try x.to(device).dropout(probability: 0.3, seed: 7, offset: 5).values == x.dropout(probability: 0.3, seed: 7, offset: 5).values)
        }
    }

    @Test("Philox-2x32-10 matches the Random123 known-answer test")
    func knownAnswer() {
        // Random123's kat_vectors: philox2x32 10 rounds, ctr {0, 0}, key {0} -> {ff1dae59, 6cd10df2};
        // ctr {ffffffff, ffffffff}, key {ffffffff} -> {2c3f628b, ab4fd7ad};
        // ctr {243f6a88, 85a308d3}, key {13198a2e} -> {dd7ce038, f62a4c12}. The first word is what
        // dropout uses.
        #expect(Philox.draw(0, 0, key: 0) == 0xFF1D_AE59)
        #expect(Philox.draw(0xFFFF_FFFF, 0xFFFF_FFFF, key: 0xFFFF_FFFF) == 0x2C3F_628B)
        #expect(Philox.draw(0x243F_6A88, 0x85A3_08D3, key: 0x1319_8A2E) == 0xDD7C_E038)
    }

    @Test("p = 0 is the identity and p = 1 drops everything", arguments: TestDevices.all)
    func extremes(device: Device) throws {
        let x = try Tensor.normal([33], seed: 2, device: device)
        #expect(try x.dropout(probability: 0, seed: 1).values == x.values)
        #expect(try x.dropout(probability: 1, seed: 1).values == [Float](repeating: 0, count: 33))
    }

    @Test("a probability outside [0, 1] throws")
    func errors() throws {
        let x = try Tensor.zeros([3])
        expectTempoError(containing: ["`probability`", "0...1", "1.5"]) { _ = try x.dropout(probability: 1.5, seed: 0) }
        expectTempoError(containing: ["`probability`", "-0.1"]) { _ = try x.dropout(probability: -0.1, seed: 0) }
    }
}
