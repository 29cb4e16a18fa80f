/**
 * The parts of a bioimage.io model description (`rdf.yaml` / `bioimageio.yaml`, format
 * 0.5.x) that unetflow reads, as io-ts codecs. Fields it does not use pass through
 * unchecked: the spec's JSON schema (bioimage.io's spec-bioimage-io) is the full contract,
 * these codecs are what running a package relies on. Defaults are the spec's.
 */
import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import { formatIssues, toIssues } from '../../codec/report.js';

/** `{ min, step }`: min + n * step for any n >= 0. */
export const ParameterizedSize = t.type({ min: t.number, step: t.number });
/** The size of another tensor's axis, plus `offset` (0.5's total offset). */
export const SizeReference = t.intersection([t.type({ tensor_id: t.string, axis_id: t.string }), t.partial({ offset: t.number })]);
/** Outputs only: a size known after running (e.g. a list of detections). */
export const DataDependentSize = t.partial({ min: t.number, max: t.number });
export const AxisSize = t.union([t.number, ParameterizedSize, SizeReference, DataDependentSize]);
export type AxisSize = t.TypeOf<typeof AxisSize>;

export const Axis = t.intersection([
  t.type({ type: t.keyof({ batch: null, channel: null, index: null, time: null, space: null }) }),
  t.partial({
    id: t.string,
    size: t.union([AxisSize, t.null]),
    channel_names: t.array(t.string),
    halo: t.number,
    scale: t.number,
    unit: t.union([t.string, t.null]),
    concatenable: t.boolean,
  }),
]);
export type Axis = t.TypeOf<typeof Axis>;

export const Processing = t.intersection([t.type({ id: t.string }), t.partial({ kwargs: t.UnknownRecord })]);
export type Processing = t.TypeOf<typeof Processing>;

export const FileDescr = t.intersection([t.type({ source: t.string }), t.partial({ sha256: t.string })]);
export type FileDescr = t.TypeOf<typeof FileDescr>;

export const Tensor = t.intersection([
  t.type({ axes: t.array(Axis) }),
  t.partial({
    id: t.string,
    description: t.string,
    test_tensor: FileDescr,
    sample_tensor: FileDescr,
    data: t.unknown,
    preprocessing: t.array(Processing),
    postprocessing: t.array(Processing),
  }),
]);
export type Tensor = t.TypeOf<typeof Tensor>;

export const WeightsEntry = t.intersection([
  t.type({ source: t.string }),
  t.partial({ sha256: t.string, parent: t.string, opset_version: t.number, tensorflow_version: t.string, comment: t.string }),
]);
export type WeightsEntry = t.TypeOf<typeof WeightsEntry>;

export const weightFormats = ['onnx', 'torchscript', 'pytorch_state_dict', 'tensorflow_saved_model_bundle', 'keras_hdf5', 'tensorflow_js'] as const;
export type WeightFormat = (typeof weightFormats)[number];

export const Rdf = t.intersection([
  t.type({
    format_version: t.string,
    type: t.literal('model'),
    name: t.string,
    inputs: t.array(Tensor),
    outputs: t.array(Tensor),
    weights: t.partial(Object.fromEntries(weightFormats.map((f) => [f, WeightsEntry])) as Record<WeightFormat, typeof WeightsEntry>),
  }),
  t.partial({
    description: t.string,
    documentation: t.string,
    covers: t.array(t.string),
    authors: t.array(t.UnknownRecord),
    cite: t.array(t.UnknownRecord),
    license: t.string,
    attachments: t.array(FileDescr),
  }),
]);
export type Rdf = t.TypeOf<typeof Rdf>;

/** Axis ids default by type (space axes to `x`), as the spec says. */
export function axisId(axis: Axis): string {
  return axis.id ?? (axis.type === 'space' ? 'x' : axis.type);
}

/** A tensor's id (`input` / `output` when it names none, 0.5's defaults). */
export function tensorId(tensor: Tensor, kind: 'input' | 'output'): string {
  return tensor.id ?? kind;
}

/**
 * Checks a parsed YAML document against the codec. Only format 0.5.x is read: a 0.4
 * package is refused with the way to update it.
 * @param where the description file, named in errors
 */
export function decodeRdf(value: unknown, where: string): Rdf {
  const version = (value as { format_version?: unknown } | null)?.format_version;
  if (typeof version === 'string' && !/^0\.5\.\d+$/.test(version)) {
    throw new Error(
      `${where}: format_version ${version}; unetflow reads bioimage.io format 0.5.x — update the package with bioimageio.spec (\`bioimageio update-format ${where}\`)`,
    );
  }
  const result = Rdf.decode(value);
  if (isLeft(result)) throw new Error(`${where}: not a bioimage.io model description\n${formatIssues(toIssues(result.left))}`);
  return result.right;
}
