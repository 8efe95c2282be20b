/*
 * precision.h — the arithmetic a backend's matrix products use (--precision).
 *
 * fp32 is the default and the only mode every device has: products read fp32 inputs and
 * accumulate in fp32, bit for bit what tunescale always did. The reduced modes read the GEMM
 * inputs in a narrower format and still accumulate in fp32; parameters, gradients and AdamW
 * state stay fp32 (the "master weights"), as in PyTorch's autocast. A backend either computes
 * a mode as named or refuses it at creation with "not supported on this device: ..."; it never
 * computes fp32 while a result says otherwise. How it computes the mode (tensor-core kernel,
 * plain fp16 shader, rounding emulation) is its precision_impl string, recorded with results.
 */
#ifndef TS_BACKENDS_PRECISION_H
#define TS_BACKENDS_PRECISION_H

typedef enum {
    TS_PREC_FP32 = 0, /* the default: zero-initialised options mean fp32 */
    TS_PREC_TF32,     /* inputs rounded to 10 mantissa bits, fp32 range */
    TS_PREC_BF16,     /* inputs rounded to 7 mantissa bits, fp32 range */
    TS_PREC_FP16,     /* IEEE half inputs: 10 mantissa bits, max 65504; needs loss scaling */
    TS_PREC_COUNT
} ts_precision;

/* "fp32", "tf32", "bf16", "fp16". */
const char *ts_precision_name(ts_precision p);
/* Parses one of the names above; 1 ok, 0 anything else. */
int ts_precision_parse(const char *s, ts_precision *out);
/* "fp32, tf32, bf16 or fp16": for usage messages. */
const char *ts_precision_names(void);

/* x rounded to the nearest value of the mode's input format (ties to even), as an fp32 value:
 * tf32/bf16 keep fp32's exponent range, fp16 flushes nothing (its subnormals are kept) and
 * turns magnitudes at or past 65520 into infinity. fp32 returns x unchanged. */
float ts_precision_round(ts_precision p, float x);

#endif
