// Elementwise arithmetic: the two-operand ops, scaling and the bias add.
//
// Layouts: every buffer is a dense float array; `count` elements, one work-item each.
// addBias views x and out as [rows, columns] row-major and bias as [columns]; its global size is
// (columns, rows), so no division is needed to find a column.
// No tunables: one element per work-item is what both GPUs and PoCL (which vectorises across
// work-items) run best for memory-bound loops.

__kernel void elementwise_add(__global const float* a, __global const float* b, __global float* out, int count) {
    int i = get_global_id(0);
    if (i < count) out[i] = a[i] + b[i];
}

__kernel void elementwise_multiply(__global const float* a, __global const float* b, __global float* out, int count) {
    int i = get_global_id(0);
    if (i < count) out[i] = a[i] * b[i];
}

__kernel void elementwise_scale(__global const float* x, float alpha, __global float* out, int count) {
    int i = get_global_id(0);
    if (i < count) out[i] = alpha * x[i];
}

__kernel void elementwise_add_bias(__global const float* x, __global const float* bias, __global float* out,
                                   int rows, int columns) {
    int column = get_global_id(0);
    int row = get_global_id(1);
    if (column < columns && row < rows) {
        int i = row * columns + column;
        out[i] = x[i] + bias[column];
    }
}
