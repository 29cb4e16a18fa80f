/**
 * What the check measures, at which sizes and under which time limits. `full` is the
 * lent GPU machine's run; `dry-run` is the rehearsal on a software adapter (Mesa's
 * lavapipe), with sizes small enough to run in seconds there. The JSON names the
 * profile, so a dry run's figures are never read as a GPU's.
 */

export type ProfileName = 'full' | 'dry-run';

export interface Profile {
  readonly name: ProfileName;
  /** Input side of the tile whose forward pass is compared with the reference (valid for the shipped model). */
  readonly forwardTile: number;
  /** Side of the "slice" timed with dihedral TTA, as one tile (side + the model's 2 x 92 px margin). */
  readonly sliceSide: number;
  /** Side of the large image timed without TTA, as one tile and as tiles of a slice's size. */
  readonly imageSide: number;
  /** Input side of the training step's tile. */
  readonly trainTile: number;
  /** Base filters of the networks the training step runs. */
  readonly trainFilters: readonly number[];
  /** Timed repeats. */
  readonly repeats: number;
  /** Whether one untimed run (compiling shaders, planning) goes first; its seconds are recorded either way. */
  readonly warmup: boolean;
  /** Side and count of the slices `unetflow run` segments end to end. */
  readonly cliSlices: { readonly side: number; readonly count: number };
  /** The pipeline's tile input size; undefined: the model's own (572 px). */
  readonly cliTile?: number;
  /** The pipeline's test-time augmentation. */
  readonly cliTta: 'none' | 'dihedral';
  /** The whole check's limit, seconds (the device tool allows 10 minutes a command). */
  readonly totalSeconds: number;
  /** Each stage's own limit, seconds. */
  readonly limits: Readonly<Record<string, number>>;
  /** Why sizes differ from the full check, for the JSON. */
  readonly note: string;
}

export const profiles: Record<ProfileName, Profile> = {
  full: {
    name: 'full',
    forwardTile: 572,
    sliceSide: 512,
    imageSide: 2048,
    trainTile: 572,
    trainFilters: [16, 64],
    repeats: 5,
    warmup: true,
    cliSlices: { side: 512, count: 8 },
    cliTta: 'dihedral',
    totalSeconds: 450,
    limits: {
      environment: 15,
      adapters: 30,
      'forward:onnxruntime-webgpu': 45,
      'forward:tfjs-webgpu': 60,
      'slice:onnxruntime-webgpu': 40,
      'image:onnxruntime-webgpu': 50,
      'train:tfjs-webgpu:f16': 50,
      'train:tfjs-webgpu:f64': 60,
      'train:tfjs-node-gpu': 15,
      cli: 60,
      'slice:tfjs-webgpu': 40,
      'image:tfjs-webgpu': 40,
      'slice:onnxruntime-cpu': 30,
      'image:onnxruntime-cpu': 40,
    },
    note: 'full sizes: the shipped model on 572 px tiles, 512² slices, 2048² images, 572 px training tiles with 16 and 64 filters',
  },
  'dry-run': {
    name: 'dry-run',
    forwardTile: 252,
    sliceSide: 20,
    imageSide: 36,
    trainTile: 188,
    trainFilters: [2, 4],
    repeats: 1,
    warmup: false,
    cliSlices: { side: 20, count: 1 },
    cliTile: 204,
    cliTta: 'none',
    totalSeconds: 300,
    limits: {
      environment: 15,
      adapters: 30,
      'forward:onnxruntime-webgpu': 40,
      'forward:tfjs-webgpu': 60,
      'slice:onnxruntime-webgpu': 40,
      'image:onnxruntime-webgpu': 40,
      'train:tfjs-webgpu:f16': 60,
      'train:tfjs-webgpu:f64': 60,
      'train:tfjs-node-gpu': 15,
      cli: 60,
      'slice:tfjs-webgpu': 60,
      'image:tfjs-webgpu': 60,
      'slice:onnxruntime-cpu': 30,
      'image:onnxruntime-cpu': 30,
    },
    note: 'dry run on a software adapter: 252 px forward tile, 20² slices (204 px tiles), a 36² image, 188 px training tiles with 2 and 4 filters, no warm-up runs, one CLI slice without TTA; its figures are a rehearsal\'s, not a GPU\'s speed',
  },
};

/** The stages in the order they run: the GPU's answers first, CPU baselines last. */
export const stageOrder = Object.keys(profiles.full.limits);
