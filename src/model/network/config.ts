/**
 * A U-Net's architecture: its one codec, for a train step's `architecture` and for the
 * `config` and `architecture` a model folder stores, and the type both decode to.
 * unet.ts's unetConfig fills in the defaults and checks what a codec cannot (at least 2 classes).
 */
import * as t from 'io-ts';
import { NonNegativeInt, PositiveInt, Probability, oneOf, closedObject } from '../../codec/building-blocks.js';

const fields = {
  /** Number of 2x2 max-pools. @default 4 (the paper) */
  depth: NonNegativeInt,
  /** Channels of the first level; doubled per level. @default 64 (the paper) */
  baseFilters: PositiveInt,
  /** Number of classes K (channels of the output). @default 2 */
  classes: PositiveInt,
  /** Channels of the input image. @default 1 */
  inputChannels: PositiveInt,
  /** `valid`: unpadded convolutions as in the paper; `same`: output size = input size. @default 'valid' */
  padding: oneOf(['valid', 'same']),
  /** Dropout rate at the end of the contracting path during training. @default 0.5 */
  dropout: Probability,
};

/** A complete configuration, as a model folder stores it. */
export const UNetConfigCodec = t.readonly(t.type(fields), 'U-Net configuration');
export type UNetConfig = t.TypeOf<typeof UNetConfigCodec>;

/** Some of a configuration, as a train step gives it (unknown keys refused). */
export const UNetArchitecture = closedObject('architecture', {}, fields);
