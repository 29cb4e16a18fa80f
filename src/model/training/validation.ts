/**
 * Validation during training: held-out images and labels (folders given to the step,
 * or the parts a `split` step held out), read once, predicted whole with the current
 * weights and scored (scoring.ts): pixel error, foreground IoU, the unweighted loss
 * and, for 2 classes, object F1.
 */
import type { Image } from '../../image/image.js';
import { requireChannels } from '../../image/image.js';
import { toFloat32, type Normalisation } from '../../image/convert.js';
import { folderQuery, pairsSource } from '../../io/folders.js';
import { readImage } from '../../io/read.js';
import { crop, type Rect } from '../../kernels/mirror.js';
import type { SizeMap } from '../network/geometry.js';
import { classIndices } from './batch.js';
import { heldOutOf, type HeldOut } from './finetune-split.js';
import { objectF1, predictImage, score, truthObjects, type PredictTiles } from './scoring.js';

export interface ValidationScores {
  readonly pixelError: number;
  readonly iou: number;
  readonly loss: number;
  /** 2 classes only. */
  readonly objectF1?: number;
}

interface ValidationImage {
  readonly id: string;
  readonly image: Image<'float32'>;
  readonly labels: Int32Array;
  /** Instance ids of the truth (2 classes): the label's own ids, or its connected components for a binary label. */
  readonly objects?: Int32Array;
}

export interface ValidationOptions {
  /** Held-out images and labels (folders or globs, matched by base name); without them, the parts `split` held out. */
  readonly images?: string;
  readonly labels?: string;
  /** Folder the globs resolve against. */
  readonly baseDir: string;
  /** Names the step in read errors. */
  readonly step: string;
  readonly inputChannels: number;
  readonly classes: number;
  /** The network input's normalisation when an image is first read (a recomputed one applies from the first batch). */
  readonly normalisation: () => Normalisation;
}

export class Validation {
  /** Held-out parts recorded by `split`, by file and page. */
  private readonly heldOutParts = new Map<string, HeldOut>();
  private readonly held = new Map<string, Promise<ValidationImage>>();
  private folders: Promise<ValidationImage[]> | undefined;

  constructor(private readonly o: ValidationOptions) {}

  /** Records the held-out part a `split` step marked on a training sample, if any. */
  note(metadata: Readonly<Record<string, unknown>> | undefined): void {
    const h = heldOutOf(metadata);
    if (h) this.heldOutParts.set(`${h.path}#${h.page ?? 0}`, h);
  }

  /** The held-out images predicted with `predict` at the tile geometry `sizes`, their scores averaged. */
  async score(predict: PredictTiles, sizes: SizeMap): Promise<ValidationScores> {
    const { classes } = this.o;
    let pixelError = 0;
    let iou = 0;
    let loss = 0;
    let f1 = 0;
    const images = await this.images();
    for (const v of images) {
      const probabilities = await predictImage(predict, v.image, sizes, classes);
      const scores = score(probabilities, v.labels, classes);
      pixelError += scores.pixelError / images.length;
      iou += scores.iou / images.length;
      loss += scores.loss / images.length;
      if (v.objects) f1 += objectF1(probabilities, v.objects, v.image.width, v.image.height) / images.length;
    }
    return { pixelError, iou, loss, ...(classes === 2 ? { objectF1: f1 } : {}) };
  }

  private async images(): Promise<ValidationImage[]> {
    const { images, labels, baseDir } = this.o;
    if (images !== undefined && labels !== undefined) {
      return (this.folders ??= (async () => {
        const { refs } = await pairsSource(folderQuery(images, baseDir), folderQuery(labels, baseDir));
        if (refs.length === 0) throw new Error(`validation: no image in ${images} has a label of the same name in ${labels}`);
        return Promise.all(refs.map((ref) => this.read(ref.path, ref.labelPath!)));
      })());
    }
    if (this.heldOutParts.size === 0) throw new Error('validation without images and labels needs a split step before train (it validates on the parts split holds out)');
    for (const [key, h] of this.heldOutParts) {
      if (this.held.has(key)) continue;
      if (!h.labelPath) throw new Error(`validation: ${h.path} has no label file to score its held-out part against (use a pairs source)`);
      this.held.set(key, this.read(h.path, h.labelPath, h.page ?? 0, h.region));
    }
    return Promise.all(this.held.values());
  }

  private async read(path: string, labelPath: string, page = 0, region?: Rect): Promise<ValidationImage> {
    const { step, inputChannels, classes } = this.o;
    const part = (image: Image) => (region ? crop(image, region) : image);
    const image = toFloat32(part(await readImage(path, page, step)), this.o.normalisation());
    requireChannels(image, inputChannels, `validation image ${path}`);
    const label = part(await readImage(labelPath, page, step));
    requireChannels(label, 1, `validation label ${labelPath}`);
    if (label.width !== image.width || label.height !== image.height) {
      throw new RangeError(`validation label ${labelPath} is ${label.width}x${label.height}, its image ${image.width}x${image.height}`);
    }
    return { id: path, image, labels: classIndices(label.data, classes), objects: classes === 2 ? truthObjects(label) : undefined };
  }
}
