/**
 * How much parallel work the host allows: cores in Node; in a page, the cores the
 * browser reports, and whether the page is cross-origin isolated (only then can wasm
 * threads share memory: SharedArrayBuffer).
 */
export interface Threads {
  /** Threads worth running at once. */
  readonly cores: number;
  /** Whether threads can share memory (always in Node; in a page only when cross-origin isolated). */
  readonly sharedMemory: boolean;
}
