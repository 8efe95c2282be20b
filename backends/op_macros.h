/*
 * op_macros.h — turns an ops.def entry's argument tuples into C: the parameter list, the
 * argument list, and the checks done once in the frontend. A small preprocessor map (up to
 * 20 arguments) applies one macro to each (kind, name[, extent]) tuple.
 */
#ifndef TS_BACKENDS_OP_MACROS_H
#define TS_BACKENDS_OP_MACROS_H

#define TS_PP_CAT(a, b)  TS_PP_CAT_(a, b)
#define TS_PP_CAT_(a, b) a##b
#define TS_PP_COMMA()    ,
#define TS_PP_NOTHING()
#define TS_PP_NARG(...)                                                                            \
    TS_PP_NARG_(__VA_ARGS__, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2,   \
                1, 0)
#define TS_PP_NARG_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, _17,    \
                    _18, _19, _20, n, ...)                                                         \
    n

/* TS_PP_IS_PAREN(x): 1 when x expands to something in parentheses, else 0 (so a list can ask
 * whether an optional per-op macro such as TS_LAUNCH_<op> is defined). TS_PP_IF(c)(t, f): t
 * when c is 1, f when 0. */
#define TS_PP_EAT(...)
#define TS_PP_SECOND_(a, b, ...)  b
#define TS_PP_IS_PAREN_PROBE(...) ~, 1
#define TS_PP_IS_PAREN_(...)      TS_PP_SECOND_(__VA_ARGS__, 0, ~)
#define TS_PP_IS_PAREN(x)         TS_PP_IS_PAREN_(TS_PP_IS_PAREN_PROBE x)
#define TS_PP_IF(c)               TS_PP_CAT(TS_PP_IF_, c)
#define TS_PP_IF_0(t, f)          f
#define TS_PP_IF_1(t, f)          t

/* f(x1) sep() f(x2) sep() ... for every argument */
#define TS_PP_MAP(f, sep, ...)     TS_PP_CAT(TS_PP_MAP_, TS_PP_NARG(__VA_ARGS__))(f, sep, __VA_ARGS__)
#define TS_PP_MAP_1(f, s, x)       f(x)
#define TS_PP_MAP_2(f, s, x, ...)  f(x) s() TS_PP_MAP_1(f, s, __VA_ARGS__)
#define TS_PP_MAP_3(f, s, x, ...)  f(x) s() TS_PP_MAP_2(f, s, __VA_ARGS__)
#define TS_PP_MAP_4(f, s, x, ...)  f(x) s() TS_PP_MAP_3(f, s, __VA_ARGS__)
#define TS_PP_MAP_5(f, s, x, ...)  f(x) s() TS_PP_MAP_4(f, s, __VA_ARGS__)
#define TS_PP_MAP_6(f, s, x, ...)  f(x) s() TS_PP_MAP_5(f, s, __VA_ARGS__)
#define TS_PP_MAP_7(f, s, x, ...)  f(x) s() TS_PP_MAP_6(f, s, __VA_ARGS__)
#define TS_PP_MAP_8(f, s, x, ...)  f(x) s() TS_PP_MAP_7(f, s, __VA_ARGS__)
#define TS_PP_MAP_9(f, s, x, ...)  f(x) s() TS_PP_MAP_8(f, s, __VA_ARGS__)
#define TS_PP_MAP_10(f, s, x, ...) f(x) s() TS_PP_MAP_9(f, s, __VA_ARGS__)
#define TS_PP_MAP_11(f, s, x, ...) f(x) s() TS_PP_MAP_10(f, s, __VA_ARGS__)
#define TS_PP_MAP_12(f, s, x, ...) f(x) s() TS_PP_MAP_11(f, s, __VA_ARGS__)
#define TS_PP_MAP_13(f, s, x, ...) f(x) s() TS_PP_MAP_12(f, s, __VA_ARGS__)
#define TS_PP_MAP_14(f, s, x, ...) f(x) s() TS_PP_MAP_13(f, s, __VA_ARGS__)
#define TS_PP_MAP_15(f, s, x, ...) f(x) s() TS_PP_MAP_14(f, s, __VA_ARGS__)
#define TS_PP_MAP_16(f, s, x, ...) f(x) s() TS_PP_MAP_15(f, s, __VA_ARGS__)
#define TS_PP_MAP_17(f, s, x, ...) f(x) s() TS_PP_MAP_16(f, s, __VA_ARGS__)
#define TS_PP_MAP_18(f, s, x, ...) f(x) s() TS_PP_MAP_17(f, s, __VA_ARGS__)
#define TS_PP_MAP_19(f, s, x, ...) f(x) s() TS_PP_MAP_18(f, s, __VA_ARGS__)
#define TS_PP_MAP_20(f, s, x, ...) f(x) s() TS_PP_MAP_19(f, s, __VA_ARGS__)

/* Dispatch on a tuple's kind: TS_ARG_PARAM((T, x, n)) -> TS_PARAM_T(x, n) -> ts_tensor x */
#define TS_PP_UNPACK(...)        __VA_ARGS__
#define TS_PP_APPLY(m, args)     m args
#define TS_ARG_(what, kind, ...) TS_PP_CAT(what, kind)(__VA_ARGS__)
#define TS_ARG_PARAM(t)          TS_PP_APPLY(TS_ARG_, (TS_PARAM_, TS_PP_UNPACK t))
#define TS_ARG_NAME(t)           TS_PP_APPLY(TS_ARG_, (TS_NAME_, TS_PP_UNPACK t))
#define TS_ARG_SIZE_CHECK(t)     TS_PP_APPLY(TS_ARG_, (TS_SIZE_CHECK_, TS_PP_UNPACK t))
#define TS_ARG_VIEW_CHECK(t)     TS_PP_APPLY(TS_ARG_, (TS_VIEW_CHECK_, TS_PP_UNPACK t))

#define TS_PARAM_T(x, e) ts_tensor x
#define TS_PARAM_N(x)    int x
#define TS_PARAM_S(x)    long x
#define TS_PARAM_Z(x)    size_t x
#define TS_PARAM_I(x)    int x
#define TS_PARAM_F(x)    float x
#define TS_PARAM_D(x)    double x
#define TS_PARAM_K(x)    ts_dropout_key x

#define TS_NAME_T(x, e) x
#define TS_NAME_N(x)    x
#define TS_NAME_S(x)    x
#define TS_NAME_Z(x)    x
#define TS_NAME_I(x)    x
#define TS_NAME_F(x)    x
#define TS_NAME_D(x)    x
#define TS_NAME_K(x)    x

/* In the frontend wrapper (be and op in scope): sizes first, so that extents are computed
 * from sizes known to be non-negative. */
#define TS_SIZE_CHECK_T(x, e)
#define TS_SIZE_CHECK_N(x) &&ts_check_size(be, op, #x, (long)(x))
#define TS_SIZE_CHECK_S(x) &&ts_check_size(be, op, #x, (long)(x))
#define TS_SIZE_CHECK_Z(x)
#define TS_SIZE_CHECK_I(x)
#define TS_SIZE_CHECK_F(x)
#define TS_SIZE_CHECK_D(x)
#define TS_SIZE_CHECK_K(x)

#define TS_VIEW_CHECK_T(x, e) &&ts_check_view(be, op, #x, x, (size_t)(e))
#define TS_VIEW_CHECK_N(x)
#define TS_VIEW_CHECK_S(x)
#define TS_VIEW_CHECK_Z(x)
#define TS_VIEW_CHECK_I(x)
#define TS_VIEW_CHECK_F(x)
#define TS_VIEW_CHECK_D(x)
#define TS_VIEW_CHECK_K(x)

/* `ts_tensor x, float value, size_t n` and `x, value, n` of an entry's argument tuples */
#define TS_OP_PARAMS(...) TS_PP_MAP(TS_ARG_PARAM, TS_PP_COMMA, __VA_ARGS__)
#define TS_OP_ARGS(...)   TS_PP_MAP(TS_ARG_NAME, TS_PP_COMMA, __VA_ARGS__)
/* 1 && check && check ...: the first failing check records the error and stops the rest */
#define TS_OP_SIZES_OK(...) (1 TS_PP_MAP(TS_ARG_SIZE_CHECK, TS_PP_NOTHING, __VA_ARGS__))
#define TS_OP_VIEWS_OK(...) (1 TS_PP_MAP(TS_ARG_VIEW_CHECK, TS_PP_NOTHING, __VA_ARGS__))

#endif
