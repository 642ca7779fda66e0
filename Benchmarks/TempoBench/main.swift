import Tempo
for d in Device.available { print(d) }
for d in Device.available {
    let a = try Tensor.normal([33, 17], seed: 1, device: d)
    let b = try Tensor.normal([17, 257], seed: 2, device: d)
    let c = try a.matmul(b)
    let v = try c.values
    print(d.id, v[0], v[100], v.reduce(0,+))
    let s = try a.softmax().values
    print(s[0..<3], try a.layerNorm().values[0..<3], try a.tanh().values[0..<3], try a.matrixTransposed().shape)
    print(try Tensor.concatenate([a, a], axis: 1).slice(axis: 1, range: 16..<18).values[0..<4])
    print(d.counters)
}
