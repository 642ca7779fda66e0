// Tempo: sequence neural networks (recurrent, temporal-convolutional and attention models) on
// OpenCL devices and the CPU, behind one model API.
//
// `import Tempo` brings the device layer with it: `Device`, `Tensor` and the tensor ops.
@_exported import TempoCompute
