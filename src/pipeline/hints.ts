/**
 * What a run's summary suggests when inference ran on a slower engine than this machine
 * could use: ONNX Runtime skipped for a tfjs backend (`auto` prefers it for inference).
 */
import type { RunEvent } from '../events.js';

type BackendEvent = Extract<RunEvent, { type: 'backend' }>;

export function inferenceHints(backends: readonly BackendEvent[]): string[] {
  const hints = new Set<string>();
  for (const b of backends) {
    const skipped = b.skipped.find((s) => s.startsWith('onnxruntime:'));
    if (!skipped || b.name === 'onnxruntime' || /inference only/.test(skipped)) continue;
    const reason = skipped.slice('onnxruntime:'.length).trim();
    const fix = /UNETFLOW_WITHOUT/.test(reason)
      ? 'unset UNETFLOW_WITHOUT to use it'
      : /not installed/.test(reason)
        ? "install it: `npm ci` keeps onnxruntime-node where npm honours package.json's allowScripts (npm 11.19 does); with an older npm, `ONNXRUNTIME_NODE_INSTALL=skip npm ci`"
        : "see the README's section on the U-Net and its backends";
    hints.add(`${b.step} ran on ${b.name} because ONNX Runtime was skipped (${reason}); ONNX Runtime runs the U-Net several times faster on a CPU (the README's benchmarks give the figures): ${fix}`);
  }
  return [...hints];
}
