/**
 * Which tools run which weight formats of a bioimage.io package, as their
 * documentation says (as of November 2026). deepImageJ and Icy go through JDLL, whose
 * ONNX Runtime reads opsets up to 18.
 */
import type { Rdf, WeightFormat } from './rdf.js';

const RUNS: Record<string, readonly WeightFormat[]> = {
  'bioimageio.core': ['onnx', 'torchscript', 'pytorch_state_dict', 'tensorflow_saved_model_bundle'],
  'deepImageJ (Fiji)': ['onnx', 'torchscript', 'tensorflow_saved_model_bundle'],
  'Icy (JDLL)': ['onnx', 'torchscript', 'tensorflow_saved_model_bundle'],
  ilastik: ['onnx', 'torchscript', 'pytorch_state_dict'],
  QuPath: ['torchscript', 'tensorflow_saved_model_bundle'],
  unetflow: ['onnx'],
};

/** Highest ONNX opset JDLL's ONNX Runtime reads (deepImageJ, Icy). */
const JDLL_MAX_OPSET = 18;

/** For each weight format the package has, the tools that run it (with a reason where one cannot). */
export function consumers(rdf: Rdf): { format: WeightFormat; tools: string[]; notes: string[] }[] {
  return (Object.keys(rdf.weights) as WeightFormat[]).map((format) => {
    const tools: string[] = [];
    const notes: string[] = [];
    const opset = rdf.weights.onnx?.opset_version;
    for (const [tool, formats] of Object.entries(RUNS)) {
      if (!formats.includes(format)) continue;
      if (format === 'onnx' && /JDLL|deepImageJ/.test(tool) && opset !== undefined && opset > JDLL_MAX_OPSET) {
        notes.push(`${tool}: not with opset ${opset} (reads up to ${JDLL_MAX_OPSET})`);
      } else tools.push(tool);
    }
    if (format === 'tensorflow_js') notes.push('no zoo tool runs tensorflow_js; unetflow keeps it to fine-tune the model');
    return { format, tools, notes };
  });
}
