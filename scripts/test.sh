#!/usr/bin/env bash
# npm test: the typecheck, the whole suite, then the model and operator tests once more
# with ONNX Runtime treated as absent (UNETFLOW_WITHOUT, README "Testing"), so that the
# tfjs fallback a machine without onnxruntime-node gets is exercised on every run too.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json --noEmit
# The WebGPU tests (test/model/engines/webgpu*.test.ts, and ONNX Runtime's WebGPU provider's:
# test/model/engines/onnxruntime-webgpu.test.ts, test/cli/onnxruntime-webgpu.test.ts, about
# 80 s on lavapipe here) skip without an adapter, but where a lavapipe that Dawn accepts is
# installed (Mesa >= 25, whose manifest declares Vulkan 1.4; CI: .ci/run) they must find
# one: a lost adapter fails them (test/helpers/optional.ts).
if grep -Eqs '"api_version": *"1\.([4-9]|[1-9][0-9])' /usr/share/vulkan/icd.d/lvp_icd.json; then
  echo "WebGPU: Mesa >= 25 lavapipe is installed, so the webgpu tests must find an adapter"
else
  echo "WebGPU: no lavapipe here; the webgpu tests run only if Dawn finds a GPU (.ci/run installs lavapipe)"
fi
# Three test files at a time (node's default is one per core less one: a single file on a
# 2-core machine), since most of them wait on child processes, timers, Redis or a browser:
# 6.4 min instead of 11 on a 2-core CI machine. Every test waits on states, not on times.
CONCURRENCY=(--test-concurrency=3)
node --import tsx --test "${CONCURRENCY[@]}" --test-reporter=spec $(find test -name '*.test.ts' | sort)
echo
echo "== again without ONNX Runtime (UNETFLOW_WITHOUT=onnxruntime-node): the tfjs fallback"
# (test/pipelines/demo.test.ts is not repeated: it runs the demo on wasm in the first pass
# already; nor are the WebGPU tests, which never use ONNX Runtime, nor ONNX Runtime's
# WebGPU provider's, which would only skip.)
UNETFLOW_WITHOUT=onnxruntime-node node --import tsx --test "${CONCURRENCY[@]}" --test-reporter=spec \
  $(find test/model test/operators test/models -name '*.test.ts' ! -name 'webgpu*' ! -name 'onnxruntime-webgpu*' | sort) test/pipeline/model-steps.test.ts
