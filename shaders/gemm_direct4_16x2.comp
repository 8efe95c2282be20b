/* gemm_direct4_16x2.comp — gemm_direct4.glsl with a block of 16 rows x 2 groups of 4 columns
 * per invocation. */
#version 450
#define RM  16
#define RN4 2
#include "gemm_direct4.glsl"
