/**
 * Reverse-mode differentiation over the graph being built: each forward op records how
 * to send its output's gradient to its inputs, and `backward` replays the records in
 * reverse. Only tensors that lead to a trained parameter need a gradient (frozen
 * weights and the image do not), so nothing is emitted for the rest: a frozen
 * contracting path costs no backward pass below the decoder.
 */
import type { GraphBuilder } from './builder.js';

/** Sends `gradient` (of the op's output) on: `give(input, contribution)` for each input that needs one. */
type Backward = (gradient: string, give: (input: string, contribution: string) => void) => void;

export class Tape {
  private readonly records: { output: string; backward: Backward }[] = [];
  private readonly needed = new Set<string>();

  constructor(readonly g: GraphBuilder) {}

  /** Marks a tensor (a trained parameter) as one whose gradient is wanted. */
  track(name: string): void {
    this.needed.add(name);
  }

  needsGradient(name: string): boolean {
    return this.needed.has(name);
  }

  /** Records an op's backward; its output needs a gradient when one of its inputs does. */
  record(inputs: readonly string[], output: string, backward: Backward): void {
    if (!inputs.some((i) => this.needed.has(i))) return;
    this.needed.add(output);
    this.records.push({ output, backward });
  }

  /**
   * The gradients of `targets` given that of `from`: contributions to a tensor are
   * summed when its producer is reached, which in reverse order is after every consumer.
   */
  backward(from: string, gradient: string, targets: readonly string[]): Map<string, string> {
    const parts = new Map<string, string[]>([[from, [gradient]]]);
    const total = (name: string): string | undefined => {
      const list = parts.get(name);
      if (!list) return undefined;
      const sum = list.reduce((a, b) => this.g.add(a, b));
      parts.set(name, [sum]);
      return sum;
    };
    const give = (input: string, contribution: string) => {
      if (!this.needed.has(input)) return;
      const list = parts.get(input) ?? [];
      list.push(contribution);
      parts.set(input, list);
    };
    for (let i = this.records.length - 1; i >= 0; i--) {
      const { output, backward } = this.records[i];
      const d = total(output);
      if (d) backward(d, give);
    }
    const result = new Map<string, string>();
    for (const t of targets) {
      const d = total(t);
      if (!d) throw new Error(`training graph: '${t}' gets no gradient`);
      result.set(t, d);
    }
    return result;
  }
}
