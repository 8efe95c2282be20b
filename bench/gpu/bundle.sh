#!/usr/bin/env bash
# bundle.sh — pack a built tunescale with every shared library it loads, for a GPU server that
# has NVIDIA's driver but none of tunescale's Debian packages (and no package registry).
#   bash bench/gpu/bundle.sh [BUILD_DIR] [OUT_DIR]      (defaults: build, .gpu)
# Writes OUT_DIR/tunescale-gpu.tar.xz holding bin/ (tunescale, test_backend_ops, test_precision,
# test_attention_precision), lib/ (the libraries, glibc's own excepted) and lib-fallback/
# (libstdc++ and libgcc_s: used there only when the server has none, since NVIDIA's driver
# libraries may need the server's newer ones).
# On the server: source bench/gpu/env.sh OUT_DIR, then run tunescale as usual.
# Build for it with -DTUNESCALE_NATIVE=OFF: the server's CPU may lack this machine's extensions.
set -euo pipefail
build=${1:-build}
out=${2:-.gpu}
[ -x "$build/tunescale" ] || { echo "bundle.sh: $build/tunescale not built (cmake --build $build)" >&2; exit 1; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/lib" "$stage/lib-fallback" "$out"
bins=("$build/tunescale")
[ -x "$build/tests/test_backend_ops" ] && bins+=("$build/tests/test_backend_ops")
[ -x "$build/tests/test_precision" ] && bins+=("$build/tests/test_precision")
[ -x "$build/tests/test_attention_precision" ] && bins+=("$build/tests/test_attention_precision")
cp "${bins[@]}" "$stage/bin/"
# glibc's libraries must be the server's own (they go with its ld.so); the rest travel.
for lib in $(ldd "${bins[@]}" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' | sort -u); do
  name=$(basename "$lib")
  case $name in
    libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*|libresolv.so.*) ;;
    libstdc++.so.*|libgcc_s.so.*) cp -L "$lib" "$stage/lib-fallback/" ;;
    *) cp -L "$lib" "$stage/lib/" ;;
  esac
done
# The ICD loaders find drivers from files; none of Debian's driver packages travel. NVIDIA's
# Vulkan driver (libGLX_nvidia.so.0) needs glvnd's libGLdispatch, which a CUDA image may lack:
# glvnd's packages travel as .deb files that env.sh unpacks there only when needed.
mkdir -p "$out/debs"
(cd "$out/debs" && apt-get download -q libglvnd0 libglx0 libgl1 libegl1 libopengl0 libgles2 \
  >/dev/null 2>&1) || echo "bundle.sh: could not download glvnd's packages (Vulkan may not start there)" >&2
tar -C "$stage" -cf - bin lib lib-fallback | xz -6 -T2 >"$out/tunescale-gpu.tar.xz.tmp"
mv "$out/tunescale-gpu.tar.xz.tmp" "$out/tunescale-gpu.tar.xz"
echo "bundle.sh: $out/tunescale-gpu.tar.xz ($(du -h "$out/tunescale-gpu.tar.xz" | cut -f1), $(ls "$stage/lib" | wc -l) libraries, $("$build/tunescale" --version | head -n 1))"
