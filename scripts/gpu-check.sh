#!/usr/bin/env bash
# tudui GPU check: one prepared script for a lent GPU machine (no network, maybe no Node.js, Python with PyTorch).
#
#   bash scripts/gpu-check.sh prepare     here (with network): .gl/ Vulkan loader debs + .gpu/carry/ (node, bundle)
#   bash scripts/gpu-check.sh [run]       on the GPU machine, from the repo root: prints one table at the end
#   bash scripts/gpu-check.sh dry-run     here: the same run with the carried Node on Mesa's lavapipe (CPU Vulkan)
#   bash scripts/gpu-check.sh lavapipe    here: installs lavapipe from Mesa 25 (bookworm-backports) into
#                                         /opt/tudui-lavapipe without touching the system (Debian 12's Mesa 22 is too
#                                         old for Dawn); test/webgpu.test.ts then runs its kernel checks on it
#
# The run: unpack Node and the bundle (scripts/bundle.mjs), bring the Vulkan loader if the machine lacks it, point
# Vulkan at the NVIDIA driver, then (each step with its own time limit, a failed step does not stop the others):
#   1. tudui devices                       what this machine offers (CUDA via tfjs-node-gpu is not carried: no
#                                          libtensorflow here, so it reports why not)
#   2. webgpu kernel checks vs cpu         every training kernel incl. large shapes (__gpu kernels --heavy)
#   3. training on the GPU                 the seed experiment (cifar10-sgd.yaml) on synthetic CIFAR-shaped data,
#                                          device gpu, 2 epochs
#   4. bench                               seed-net SGD steps/s: tudui webgpu vs PyTorch CUDA (and PyTorch CPU)
# Results also go to $OUT (the device tool brings them back) or /tmp/tudui-gpu-check.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
MODE=${1:-run}
CARRY=.gpu/carry
RES=${OUT:-/tmp/tudui-gpu-check}
mkdir -p "$RES"

# (no `ldconfig -p | grep -q`: with pipefail, grep -q closing the pipe early makes the pipeline fail)
has_vulkan_loader() {
  local cache
  cache=$( (ldconfig -p || /sbin/ldconfig -p) 2>/dev/null)
  grep 'libvulkan.so.1 ' >/dev/null <<<"$cache"
}

lavapipe_install() {
  local dest=/opt/tudui-lavapipe st=/tmp/tudui-bpo
  mkdir -p "$st/lists/partial" "$st/cache/archives/partial" "$st/debs"
  printf '%s\n' "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm-backports main" \
    "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main" >"$st/sources.list"
  local o="-oDir::Etc::SourceList=$st/sources.list -oDir::Etc::SourceParts=/dev/null -oDir::State::Lists=$st/lists -oDir::Cache=$st/cache"
  apt-get $o update -qq || return 1
  (cd "$st/debs" && apt-get $o download -t bookworm-backports mesa-vulkan-drivers 2>/dev/null) || return 1
  rm -rf "$dest" && mkdir -p "$dest"
  for f in "$st"/debs/mesa-vulkan-drivers_*.deb; do dpkg -x "$f" "$dest"; done
  local lib=$dest/usr/lib/x86_64-linux-gnu/libvulkan_lvp.so
  [ -f "$lib" ] || { echo "lavapipe: $lib missing" >&2; return 1; }
  printf '{ "file_format_version": "1.0.0", "ICD": { "library_path": "%s", "api_version": "1.3.0" } }\n' "$lib" >"$dest/lvp.json"
  has_vulkan_loader || apt-get install -y -qq libvulkan1
  echo "lavapipe: VK_DRIVER_FILES=$dest/lvp.json"
}

prepare() {
  grep -qx '/.gpu/' .git/info/exclude 2>/dev/null || echo '/.gpu/' >>.git/info/exclude
  grep -qx '/.gl/' .git/info/exclude 2>/dev/null || echo '/.gl/' >>.git/info/exclude
  # The Vulkan loader (libvulkan1) for a machine that lacks it, as /work/.library/device/README.md describes.
  if ! ls .gl/libvulkan1_*.deb >/dev/null 2>&1; then
    mkdir -p .gl /tmp/amd64/partial
    local o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
    apt-get $o update -qq && (cd .gl && apt-get $o download libvulkan1 2>/dev/null) || echo "prepare: could not download libvulkan1" >&2
  fi
  node scripts/bundle.mjs --out "$CARRY" || exit 1
  du -sh .gl "$CARRY" 2>/dev/null
}

case "$MODE" in
  prepare) prepare; exit ;;
  lavapipe) lavapipe_install; exit ;;
  run | dry-run) ;;
  *) echo "usage: $0 [prepare|run|dry-run|lavapipe]" >&2; exit 2 ;;
esac

ROWS=()
row() { ROWS+=("$(printf '%-28s %-5s %s' "$1" "$2" "$3")"); }
# step NAME SECONDS CMD...: runs with a limit, output to $RES/NAME.log (and the console), status in the table
step() {
  local name=$1 secs=$2; shift 2
  echo "=== $name (limit ${secs}s)"
  local t0=$SECONDS rc
  timeout -k 5 "$secs" "$@" 2>&1 | grep -v 'artificially reduced' | tee "$RES/$name.log"
  rc=${PIPESTATUS[0]}
  LAST_RC=$rc
  LAST_S=$((SECONDS - t0))
  return "$rc"
}

# --- Node and the bundle --------------------------------------------------------------------------------------
NODE=""
if [ -f "$CARRY/node.tar.xz" ]; then
  mkdir -p /tmp/tudui-node && tar -xJf "$CARRY/node.tar.xz" -C /tmp/tudui-node && NODE=$(ls -d /tmp/tudui-node/node-v*/bin/node | head -1)
fi
[ -n "$NODE" ] || NODE=$(command -v node || true)
if [ -z "$NODE" ] || ! "$NODE" --version >/dev/null 2>&1; then
  echo "no usable Node.js: run 'bash scripts/gpu-check.sh prepare' here and carry $CARRY" >&2; exit 1
fi
if [ -f "$CARRY/app.tar.xz" ]; then
  rm -rf .gpu/app && tar -xJf "$CARRY/app.tar.xz" -C .gpu || exit 1
fi
APP=.gpu/app/tudui.mjs
[ -f "$APP" ] || { echo "$APP missing: run 'bash scripts/gpu-check.sh prepare' here and carry $CARRY" >&2; exit 1; }
row "node" ok "$("$NODE" --version) ($NODE)"

# --- Vulkan ---------------------------------------------------------------------------------------------------
if [ "$MODE" = dry-run ]; then
  export VK_DRIVER_FILES=${VK_DRIVER_FILES:-/opt/tudui-lavapipe/lvp.json} TUDUI_WEBGPU_ALLOW_SOFTWARE=1
  [ -f "$VK_DRIVER_FILES" ] || { echo "dry-run needs lavapipe: bash scripts/gpu-check.sh lavapipe" >&2; exit 1; }
else
  if ! has_vulkan_loader; then
    if ls .gl/*.deb >/dev/null 2>&1; then
      for f in .gl/*.deb; do dpkg -x "$f" /; done
      ldconfig
    fi
  fi
  if [ -z "${VK_DRIVER_FILES:-}" ]; then
    for f in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
      if [ -f "$f" ]; then export VK_DRIVER_FILES=$f; break; fi
    done
  fi
  if [ -f /usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json ]; then
    export __EGL_VENDOR_LIBRARY_FILENAMES=${__EGL_VENDOR_LIBRARY_FILENAMES:-/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json}
  fi
fi
vk="loader $(has_vulkan_loader && echo yes || echo MISSING); ICD ${VK_DRIVER_FILES:-default search}"
row "vulkan" "$(has_vulkan_loader && echo ok || echo FAIL)" "$vk"
command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | tee "$RES/nvidia-smi.txt"

# --- 1. devices -----------------------------------------------------------------------------------------------
step devices 60 "$NODE" "$APP" devices
wg=$(grep -E '^webgpu ' "$RES/devices.log" | sed -E 's/^webgpu +gpu +//')
cu=$(grep -E '^tfjs-node-gpu ' "$RES/devices.log" | sed -E 's/^tfjs-node-gpu +gpu +//')
row "webgpu provider" "$(case "$wg" in yes*) echo ok ;; *) echo FAIL ;; esac)" "${wg:-no output (rc $LAST_RC)}"
row "cuda provider" "info" "${cu:-no output}"

# --- 2. kernels -----------------------------------------------------------------------------------------------
HEAVY=--heavy
[ "$MODE" = dry-run ] && HEAVY=""
if step kernels 150 "$NODE" "$APP" __gpu kernels $HEAVY --json "$RES/kernels.json"; then st=ok; else st=FAIL; fi
row "webgpu kernels vs cpu" "$st" "$(grep -E '^kernel checks:' "$RES/kernels.log" || echo "rc $LAST_RC") (${LAST_S}s)$(grep -E '^FAIL' "$RES/kernels.log" | head -5 | sed -E 's/ +max.*//; s/^FAIL +/; /' | tr -d '\n')"

# --- 3. training ----------------------------------------------------------------------------------------------
TRAIN=${GPU_CHECK_TRAIN:-2048}
TEST=${GPU_CHECK_TEST:-512}
rm -rf /tmp/tudui-gpu-runs
if step train 150 "$NODE" "$APP" run experiments/cifar10-sgd.yaml --device gpu --runs-dir /tmp/tudui-gpu-runs \
  --set dataset.name=synthetic --set 'dataset.shape=[32,32,3]' --set dataset.classes=10 \
  --set dataset.train_size="$TRAIN" --set dataset.test_size="$TEST" --set epochs=2 --set log.train_loss_every=8; then st=ok; else st=FAIL; fi
summary=$(ls /tmp/tudui-gpu-runs/*/summary.json 2>/dev/null | head -1)
detail="rc $LAST_RC, ${LAST_S}s"
if [ -n "$summary" ]; then
  cp "$summary" "$RES/train-summary.json"
  detail="$detail; $("$NODE" -e 'const s=JSON.parse(require("fs").readFileSync(process.argv[1],"utf8"));const f=s.final||{};console.log(`status ${s.status}, backend ${s.backend?.name ?? s.backend ?? "?"}, test acc ${f.test_accuracy}, test loss ${f.test_loss}`)' "$summary" 2>/dev/null)"
else
  detail="$detail; $(grep -iE 'error|device' "$RES/train.log" | head -2 | tr '\n' ' ')"
fi
row "train seed net (synthetic)" "$st" "$detail"

# --- 4. bench -------------------------------------------------------------------------------------------------
STEPS=${GPU_CHECK_STEPS:-30}
[ "$MODE" = dry-run ] && STEPS=${GPU_CHECK_STEPS:-3}
if step bench-webgpu 90 "$NODE" "$APP" __gpu bench --backend webgpu --batch 64 --steps "$STEPS" --warmup 3; then
  row "bench tudui webgpu" ok "$(tail -1 "$RES/bench-webgpu.log" | "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);console.log(`${r.trainMsPerStep.toFixed(2)} ms/step, ${r.trainImagesPerSec.toFixed(0)} img/s train, eval ${r.evalMsPerBatch.toFixed(2)} ms/batch, first step ${r.firstStepMs.toFixed(0)} ms`)})' 2>/dev/null)"
else
  row "bench tudui webgpu" FAIL "rc $LAST_RC: $(tail -2 "$RES/bench-webgpu.log" | tr '\n' ' ')"
fi

TORCH_PY=$(command -v python3 || true)
if [ -n "$TORCH_PY" ]; then
  # The seed net and step on CUDA (bench/torch_zoo.py, the CPU twin of `npm run bench`, has no --device).
  step bench-torch 90 "$TORCH_PY" - "$STEPS" <<'PY'
import json, sys, time
import torch
from torch import nn
steps = int(sys.argv[1]); warmup = 3; batch = 64
dev = 'cuda' if torch.cuda.is_available() else 'cpu'
torch.manual_seed(0)
net = nn.Sequential(nn.Conv2d(3, 32, 5, padding=2), nn.MaxPool2d(2), nn.Conv2d(32, 32, 5, padding=2), nn.MaxPool2d(2),
                    nn.Conv2d(32, 64, 5, padding=2), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1024, 64), nn.Linear(64, 10)).to(dev)
opt = torch.optim.SGD(net.parameters(), lr=0.01); loss_fn = nn.CrossEntropyLoss()
x = torch.randn(batch, 3, 32, 32, device=dev); y = torch.arange(batch, device=dev) * 7 % 10
def sync():
    if dev == 'cuda': torch.cuda.synchronize()
times = []
for i in range(warmup + steps):
    t0 = time.perf_counter(); opt.zero_grad(); loss = loss_fn(net(x), y); loss.backward(); opt.step(); l = loss.item(); sync()
    if i >= warmup: times.append((time.perf_counter() - t0) * 1000)
ev = []
with torch.no_grad():
    for i in range(10):
        t0 = time.perf_counter(); net(x).sum().item(); sync(); ev.append((time.perf_counter() - t0) * 1000)
med = lambda v: sorted(v)[len(v) // 2]
name = torch.cuda.get_device_name(0) if dev == 'cuda' else 'cpu'
print(json.dumps({"backend": f"torch {torch.__version__} {dev}", "description": name, "trainMsPerStep": med(times),
                  "trainImagesPerSec": batch * 1000 / med(times), "evalMsPerBatch": med(ev), "finalLoss": l}))
PY
  if [ "${LAST_RC:-1}" = 0 ]; then
    row "bench pytorch" ok "$(tail -1 "$RES/bench-torch.log" | "$NODE" -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>{const r=JSON.parse(s);const m=r.trainMsPerStep??r.train_ms_per_step;console.log(`${r.backend} ${r.description??""}: ${typeof m==="number"?m.toFixed(2):JSON.stringify(r).slice(0,120)} ms/step`)})' 2>/dev/null || tail -1 "$RES/bench-torch.log")"
  else
    row "bench pytorch" FAIL "rc $LAST_RC: $(tail -2 "$RES/bench-torch.log" | tr '\n' ' ')"
  fi
else
  row "bench pytorch" skip "no python3"
fi

echo
echo "================ tudui GPU check ($MODE) ================"
printf '%-28s %-5s %s\n' "check" "state" "detail"
for r in "${ROWS[@]}"; do echo "$r"; done | tee "$RES/table.txt"
grep -q ' FAIL ' "$RES/table.txt" && exit 1
exit 0
