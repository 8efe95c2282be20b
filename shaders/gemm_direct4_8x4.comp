/* gemm_direct4_8x4.comp — gemm_direct4.glsl with a block of 8 rows x 4 groups of 4 columns
 * per invocation. */
#version 450
#define RM  8
#define RN4 4
#include "gemm_direct4.glsl"
