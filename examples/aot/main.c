/* Calls gradients built by `tapeflow build` from C: no Python anywhere.
 *   cc main.c -I build -L build -llosses -Wl,-rpath,build -lm -o main && ./main */
#include <stdio.h>
#include "losses.h"

int main(void) {
    double x[4] = {0.5, 1.2, -0.3, 2.0};
    int64_t shape[1] = {4}, strides[1] = {sizeof(double)};
    double value, grad[4];
    if (losses_rosen_value_and_grad(x, shape, strides, &value, grad) != 0) {
        fprintf(stderr, "rosen failed: %s\n", losses_last_error());
        return 1;
    }
    printf("C: rosen(x) = %.6f, grad = [%.6f %.6f %.6f %.6f]\n", value, grad[0], grad[1], grad[2], grad[3]);

    /* a 3x2 matrix, y, w; gradient with respect to w only (losses.py built with @2) */
    double a[6] = {1, 2, 3, 4, 5, 6}, y[3] = {1, 0, -1}, w[2] = {0.1, -0.2};
    int64_t a_shape[2] = {3, 2}, a_strides[2] = {2 * sizeof(double), sizeof(double)};
    int64_t v_shape[1] = {3}, w_shape[1] = {2}, v_strides[1] = {sizeof(double)};
    double gw[2];
    if (losses_least_squares_grad(a, a_shape, a_strides, y, v_shape, v_strides, w, w_shape,
                                  v_strides, 0.01, gw) != 0) {
        fprintf(stderr, "least_squares failed: %s\n", losses_last_error());
        return 1;
    }
    printf("C: d least_squares / dw = [%.6f %.6f]\n", gw[0], gw[1]);
    return 0;
}
