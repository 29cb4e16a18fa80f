#!/usr/bin/env bash
# The GPU check's runner: one command on a lent GPU machine, which needs neither Node
# nor a network nor a Vulkan loader of its own (the kit carries them):
#
#   bash gpu-kit/run.sh              # the full check (about 8 minutes at most)
#   bash gpu-kit/run.sh --dry-run    # the rehearsal's sizes, for a software adapter
#   bash gpu-kit/run.sh --only cli   # other arguments go to the check (app/check.js)
#
# It unpacks the payload into a temporary folder, puts the kit's Vulkan loader first on
# the library path, points the loader at NVIDIA's driver where the machine has one (or
# at whatever VK_DRIVER_FILES already names), and runs the check, which writes one JSON:
# to $GPU_CHECK_JSON if set, else $OUT/gpu-check.json where the device tool sets OUT,
# else beside this script. Stage progress goes to stderr and to a .log beside the JSON.
set -u -o pipefail
kit=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
profile=full
args=()
for arg in "$@"; do
  case $arg in
    --dry-run) profile=dry-run ;;
    *) args+=("$arg") ;;
  esac
done
json=${GPU_CHECK_JSON:-${OUT:+$OUT/gpu-check.json}}
json=${json:-$kit/gpu-check.json}
mkdir -p "$(dirname "$json")"
log=${json%.json}.log

work=$(mktemp -d "${TMPDIR:-/tmp}/unetflow-gpu-kit.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT
start=$(date +%s)
if command -v xz >/dev/null; then
  xz -dc "$kit/payload.tar.xz" | tar -x -C "$work" || { echo "run.sh: could not unpack $kit/payload.tar.xz" >&2; exit 1; }
elif command -v python3 >/dev/null; then
  python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1], "r:xz").extractall(sys.argv[2])' "$kit/payload.tar.xz" "$work" || { echo "run.sh: could not unpack $kit/payload.tar.xz" >&2; exit 1; }
else
  echo "run.sh: neither xz nor python3 is here to unpack $kit/payload.tar.xz" >&2; exit 1
fi
echo "run.sh: unpacked in $(( $(date +%s) - start )) s" >&2

# The kit is checked as built: no optional package disabled.
unset UNETFLOW_WITHOUT
# The kit's loader and libglvnd first; NVIDIA's libraries where its driver keeps them.
lib=$work/vulkan/lib
for d in /usr/local/nvidia/lib64 /usr/local/nvidia/lib; do [ -d "$d" ] && lib=$lib:$d; done
export LD_LIBRARY_PATH=$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
nvidia_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}${VK_ICD_FILENAMES:-}" ] && [ -f "$nvidia_icd" ]; then
  export VK_DRIVER_FILES=$nvidia_icd VK_ICD_FILENAMES=$nvidia_icd
fi

"$work/bin/node" "$work/app/check.js" --profile "$profile" --out "$json" ${args[@]+"${args[@]}"} 2> >(tee "$log" >&2)
status=$?
wait
if [ -f "$json" ]; then
  echo "run.sh: the check's JSON is $json (log: $log)" >&2
fi
exit $status
