#!/usr/bin/env bash
# npm test: the typecheck, the whole suite, then the model and operator tests once more
# with ONNX Runtime treated as absent (UNETFLOW_WITHOUT, README "Testing"), so that the
# tfjs fallback a machine without onnxruntime-node gets is exercised on every run too.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json --noEmit
node --import tsx --test --test-reporter=spec $(find test -name '*.test.ts' | sort)
echo
echo "== again without ONNX Runtime (UNETFLOW_WITHOUT=onnxruntime-node): the tfjs fallback"
# (test/pipelines/demo.test.ts is not repeated: it runs the demo on wasm in the first pass already.)
UNETFLOW_WITHOUT=onnxruntime-node node --import tsx --test --test-reporter=spec \
  $(find test/model test/operators test/models -name '*.test.ts' | sort) test/pipeline/model-steps.test.ts
