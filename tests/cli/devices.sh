#!/usr/bin/env bash
# devices.sh — checks `tunescale devices`: the JSON document describes this machine (cores,
# and the pocl / lavapipe devices when their drivers are installed), the plain report names
# the same devices, and the options exit with the documented codes.
source "$(dirname "$0")/lib.sh"

"$TS" devices --json >"$tmp/devices.json" || die "devices --json exited $?"
echo "ok: devices --json exits 0"

# The ICD files tell whether pocl and lavapipe are installed; the test then insists on them.
pocl=0
lavapipe=0
[[ -e /etc/OpenCL/vendors/pocl.icd ]] && pocl=1
[[ -e /usr/share/vulkan/icd.d/lvp_icd.x86_64.json ]] && lavapipe=1

# Validates the document and writes the device names the plain report must mention.
python3 - "$tmp/devices.json" "$(getconf _NPROCESSORS_ONLN)" "$pocl" "$lavapipe" \
    >"$tmp/names" <<'PY'
import json, platform, sys

path, online, pocl, lavapipe = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4] == "1"

def fail(msg):
    sys.exit("FAIL: " + msg)

def note(msg):
    print(msg, file=sys.stderr)

try:
    doc = json.load(open(path))
except ValueError as e:
    fail(f"devices --json is not valid JSON: {e}")

for key in ("tunescale", "cpu", "opencl", "vulkan"):
    if key not in doc:
        fail(f"JSON has no '{key}' key")
if not doc["tunescale"].get("version"):
    fail("tunescale.version is empty")

cpu = doc["cpu"]
cores = cpu.get("logical_cores")
if not isinstance(cores, int) or cores < 1:
    fail(f"cpu.logical_cores is {cores!r}, expected an integer >= 1")
if cores != online:
    fail(f"cpu.logical_cores is {cores}, getconf _NPROCESSORS_ONLN says {online}")
note(f"ok: cpu.logical_cores = {cores}, as getconf says")
if cpu.get("arch") != platform.machine():
    fail(f"cpu.arch is {cpu.get('arch')!r}, uname -m says {platform.machine()!r}")
names = [cpu["model"]]

def backend_built(name):
    return bool(doc[name].get("built"))

cl = doc["opencl"]
if pocl and backend_built("opencl"):
    if not cl.get("available"):
        fail(f"pocl is installed but opencl is unavailable: {cl.get('reason')}")
    platforms = [p for p in cl["platforms"] if "Portable Computing Language" in (p["name"] or "")]
    if not platforms:
        fail("pocl is installed but no OpenCL platform is named 'Portable Computing Language'")
    good = [d for p in platforms for d in p["devices"]
            if (d.get("global_mem_bytes") or 0) > 0 and (d.get("compute_units") or 0) >= 1]
    if not good:
        fail("the pocl platform has no device with global memory > 0 and >= 1 compute unit")
    note(f"ok: pocl device '{good[0]['name']}' with {good[0]['compute_units']} compute units")
    # --device N counts devices across platforms: the indices must be 0, 1, 2, ...
    indices = [d["index"] for p in cl["platforms"] for d in p["devices"]]
    if indices != list(range(len(indices))):
        fail(f"OpenCL device indices {indices} are not 0..{len(indices) - 1} in order")
elif not cl.get("available"):
    note(f"skip: opencl checks: {cl.get('reason')}")

vk = doc["vulkan"]
if lavapipe and backend_built("vulkan"):
    if not vk.get("available"):
        fail(f"lavapipe is installed but vulkan is unavailable: {vk.get('reason')}")
    lvp = [d for d in vk["devices"] if "llvmpipe" in d["name"]]
    if not lvp:
        fail("lavapipe is installed but no Vulkan device is named 'llvmpipe'")
    d = lvp[0]
    if not any(h["size_bytes"] > 0 for h in d["memory_heaps"]):
        fail("the llvmpipe device has no memory heap with a size > 0")
    if not isinstance(d.get("subgroup_size"), int) or d["subgroup_size"] < 1:
        fail(f"the llvmpipe device's subgroup_size is {d.get('subgroup_size')!r}")
    note(f"ok: Vulkan device '{d['name']}', subgroup size {d['subgroup_size']}")
    indices = [d["index"] for d in vk["devices"]]
    if indices != list(range(len(indices))):
        fail(f"Vulkan device indices {indices} are not 0..{len(indices) - 1} in order")
elif not vk.get("available"):
    note(f"skip: vulkan checks: {vk.get('reason')}")

# Whatever the JSON lists as available, the plain report must show too.
if cl.get("available"):
    names += [d["name"] for p in cl["platforms"] for d in p["devices"]]
if vk.get("available"):
    names += [d["name"] for d in vk["devices"]]
print("\n".join(names))
PY

"$TS" devices >"$tmp/devices.txt" || die "devices exited $?"
while IFS= read -r name; do
    grep -qF -- "$name" "$tmp/devices.txt" || die "plain 'devices' output does not mention '$name'"
done <"$tmp/names"
echo "ok: plain report names all $(wc -l <"$tmp/names") devices of the JSON"

"$TS" devices --help >"$tmp/help.txt" || die "devices --help exited $?"
grep -q -- "--device" "$tmp/help.txt" || die "devices --help does not explain --device"
echo "ok: devices --help exits 0"

rc=0
"$TS" devices --bogus >/dev/null 2>"$tmp/bogus.err" || rc=$?
[[ $rc -eq 2 ]] || die "devices --bogus exited $rc, expected 2"
grep -q "unknown option '--bogus'" "$tmp/bogus.err" ||
    die "devices --bogus: unexpected message: $(cat "$tmp/bogus.err")"
echo "ok: devices --bogus exits 2"

echo "devices: all checks passed"
