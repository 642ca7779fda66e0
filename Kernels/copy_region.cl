// Strided 2-D copy, the data movement under concatenation and slicing:
// for r < rows, c < rowLength: out[outOffset + r*outStride + c] = x[xOffset + r*xStride + c].
//
// Global size (rowLength, rows). One element per work-item: consecutive work-items touch
// consecutive addresses on both sides, which is what GPUs coalesce and PoCL vectorises.

__kernel void copy_region(__global const float* x, int xOffset, int xStride,
                          __global float* out, int outOffset, int outStride,
                          int rows, int rowLength) {
    int c = get_global_id(0);
    int r = get_global_id(1);
    if (c < rowLength && r < rows) out[outOffset + r * outStride + c] = x[xOffset + r * xStride + c];
}
