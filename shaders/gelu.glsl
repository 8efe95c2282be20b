/*
 * gelu.glsl — erf for the GELU shaders (GLSL has none). Numerical Recipes' Chebyshev fit of
 * erfc has a fractional error below 1.2e-7 everywhere; near 0, where 1 - erfc would lose the
 * relative accuracy, a Taylor series takes over.
 */
#define TS_SQRT1_2      0.70710678118654752440
#define TS_INV_SQRT_2PI 0.39894228040143267794

float ts_erf(float x) {
    float z = abs(x);
    if (z < 0.25) {
        /* erf x = 2/sqrt(pi) (x - x^3/3 + x^5/10 - x^7/42 + x^9/216) */
        float x2 = x * x;
        return 1.1283791670955126 * x *
               (1.0 + x2 * (-1.0 / 3.0 + x2 * (0.1 + x2 * (-1.0 / 42.0 + x2 / 216.0))));
    }
    float t = 1.0 / (1.0 + 0.5 * z);
    float poly = -z * z - 1.26551223 +
                 t * (1.00002368 +
                 t * (0.37409196 +
                 t * (0.09678418 +
                 t * (-0.18628806 +
                 t * (0.27886807 +
                 t * (-1.13520398 +
                 t * (1.48851587 +
                 t * (-0.82215223 + t * 0.17087277))))))));
    float r = 1.0 - t * exp(poly);
    return x < 0.0 ? -r : r;
}
