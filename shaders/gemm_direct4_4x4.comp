/* gemm_direct4_4x4.comp — gemm_direct4.glsl with a block of 4 rows x 4 groups of 4 columns
 * per invocation. */
#version 450
#define RM  4
#define RN4 4
#include "gemm_direct4.glsl"
