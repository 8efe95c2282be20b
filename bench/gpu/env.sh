# env.sh — source on a GPU server to run a bundled tunescale (bench/gpu/bundle.sh) against
# NVIDIA's OpenCL and Vulkan drivers:   source bench/gpu/env.sh [BUNDLE_DIR]   (default .gpu)
# Unpacks the bundle once, puts its libraries first on LD_LIBRARY_PATH, and points the OpenCL
# ICD loader (ocl-icd) and the Vulkan loader at NVIDIA's driver, which containers often carry
# without the registration files (/etc/OpenCL/vendors/nvidia.icd, the Vulkan ICD json).
# Sets TUNESCALE to the binary and TUNESCALE_PRESETS to this checkout's bench/presets.
# Prints what it found; a missing driver is said, not fatal.
ts_gpu_dir=$(cd "${1:-.gpu}" && pwd)
if [ ! -x "$ts_gpu_dir/bin/tunescale" ]; then
  # python's tarfile: xz-utils may be missing there, python3 is not
  python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall(sys.argv[2])' \
    "$ts_gpu_dir/tunescale-gpu.tar.xz" "$ts_gpu_dir"
fi
ts_ld=$ts_gpu_dir/lib
ldconfig -p 2>/dev/null | grep -q 'libstdc++.so.6 ' || ts_ld=$ts_ld:$ts_gpu_dir/lib-fallback
# glvnd (libGLdispatch, which NVIDIA's Vulkan driver loads) when the server has none
if ! ldconfig -p 2>/dev/null | grep -q 'libGLdispatch.so.0 ' && ls "$ts_gpu_dir"/debs/*.deb >/dev/null 2>&1; then
  for f in "$ts_gpu_dir"/debs/*.deb; do dpkg -x "$f" "$ts_gpu_dir/root"; done
  ts_ld=$ts_ld:$ts_gpu_dir/root/usr/lib/x86_64-linux-gnu
  echo "env.sh: glvnd from the bundle's packages"
fi
export LD_LIBRARY_PATH=$ts_ld${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export TUNESCALE=$ts_gpu_dir/bin/tunescale
# A carried binary knows only the build machine's preset folder: name this checkout's.
TUNESCALE_PRESETS=$(cd "$(dirname "${BASH_SOURCE[0]}")/../presets" && pwd)
export TUNESCALE_PRESETS

# The driver's folders: the usual container mount first, then the system's.
ts_search=(/usr/local/nvidia /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/lib /usr/share /etc)
ts_ocl=$(find "${ts_search[@]}" -name 'libnvidia-opencl.so.1' 2>/dev/null | head -n 1)
if [ -n "$ts_ocl" ]; then
  mkdir -p "$ts_gpu_dir/vendors"
  echo "$ts_ocl" >"$ts_gpu_dir/vendors/nvidia.icd"
  export OCL_ICD_VENDORS=$ts_gpu_dir/vendors OCL_ICD_FILENAMES=$ts_ocl
  echo "env.sh: OpenCL driver $ts_ocl"
else
  echo "env.sh: no libnvidia-opencl.so.1 found: tunescale's OpenCL backend will see no NVIDIA device"
fi
ts_vk=$(find "${ts_search[@]}" -name 'nvidia_icd*.json' 2>/dev/null | head -n 1)
if [ -n "$ts_vk" ]; then
  export VK_DRIVER_FILES=$ts_vk VK_ICD_FILENAMES=$ts_vk
  echo "env.sh: Vulkan driver $ts_vk"
else
  echo "env.sh: no nvidia_icd.json found: tunescale's Vulkan backend will see no NVIDIA device"
fi
unset ts_ld ts_search ts_ocl ts_vk
