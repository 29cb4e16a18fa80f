/**
 * The decode limit of a page (src/io/decode-limit.ts explains the rule): a quarter of the
 * memory a tab can count on. Browsers report the device's memory only coarsely
 * (`navigator.deviceMemory`, in GiB, capped at 8 by Chrome) and a wasm heap holds at most
 * 4 GiB, so the smaller of the two is taken; where neither is known, 4 GiB.
 */
import { formatBytes, type DecodeLimit } from '../../io/image-budget.js';

const WASM_HEAP = 4 * 2 ** 30;

export function pageDecodeLimit(deviceMemoryGiB = (globalThis as { navigator?: { deviceMemory?: number } }).navigator?.deviceMemory): DecodeLimit {
  const device = typeof deviceMemoryGiB === 'number' && deviceMemoryGiB > 0 ? deviceMemoryGiB * 2 ** 30 : undefined;
  const memory = device !== undefined && device < WASM_HEAP ? device : WASM_HEAP;
  const of = memory === device ? `the ${formatBytes(memory)} of memory the browser reports` : `the ${formatBytes(WASM_HEAP)} a page's wasm heap holds`;
  return { bytes: Math.floor(memory / 4), why: `a quarter of ${of}` };
}
