// Gather along one axis (ONNX Gather, PyTorch index_select): x viewed as [outer, axisLength, inner],
// out as [outer, count, inner]; out[o, k, i] = x[o, indices[k], i].
//
// Global size (inner, count, outer): consecutive work-items copy consecutive elements of one row.
// Indices are int32 and were checked against axisLength by the host.

__kernel void gather_rows(__global const float* x, __global const int* indices, __global float* out,
                          int outer, int axisLength, int count, int inner) {
    int i = get_global_id(0);
    int k = get_global_id(1);
    int o = get_global_id(2);
    if (i < inner && k < count && o < outer) {
        size_t source = ((size_t)o * axisLength + indices[k]) * inner + i;
        size_t destination = ((size_t)o * count + k) * inner + i;
        out[destination] = x[source];
    }
}
