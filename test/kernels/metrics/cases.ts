/** Tiny hand-made masks shared by the metric tests: rows of 0/1 written as strings. */

export interface MaskPair {
  readonly width: number;
  readonly height: number;
  readonly truth: Uint8Array;
  readonly prediction: Uint8Array;
}

export function mask(...rows: string[]): Uint8Array {
  return Uint8Array.from(rows.join('').replace(/\s/g, ''), (c) => (c === '1' ? 1 : 0));
}

export function pair(truthRows: string[], predictionRows: string[]): MaskPair {
  return { width: truthRows[0].replace(/\s/g, '').length, height: truthRows.length, truth: mask(...truthRows), prediction: mask(...predictionRows) };
}

/** Two cells either side of a membrane; the prediction has a one-pixel gap in it, joining them. */
export const merge = pair(
  ['11011', '11011', '11011'],
  ['11011', '11111', '11011'],
);

/** One cell; the prediction cuts it in two with a line of background. */
export const split = pair(
  ['11111', '11111', '11111'],
  ['11011', '11011', '11011'],
);
