/**
 * Per-kind publish counts for `metrics().byKind`, bumped on every publish.
 *
 * @packageDocumentation
 */

/** A mutable count, so that one lookup suffices to bump it. */
interface Counter {
  n: number;
}

/**
 * Counts strings. An agent's stream interleaves a handful of kinds (deltas, tool calls, usage
 * ticks), so the last four kinds seen are kept beside their counters and compared first: a hit
 * costs a few reference compares where a `Map` lookup costs a hash probe (which measured the
 * largest single part of a publish after the clock). A miss replaces the oldest of the four.
 */
export class KindTally {
  private readonly counters = new Map<string, Counter>();
  private kind0: string | undefined;
  private kind1: string | undefined;
  private kind2: string | undefined;
  private kind3: string | undefined;
  // Never read before their kind slot is set: a placeholder keeps the fields one shape.
  private count0: Counter = { n: 0 };
  private count1: Counter = { n: 0 };
  private count2: Counter = { n: 0 };
  private count3: Counter = { n: 0 };

  /** Adds one to `kind`'s count. */
  add(kind: string): void {
    if (kind === this.kind0) this.count0.n++;
    else if (kind === this.kind1) this.count1.n++;
    else if (kind === this.kind2) this.count2.n++;
    else if (kind === this.kind3) this.count3.n++;
    else this.addMissed(kind);
  }

  /** The counts so far, in the order the kinds were first seen. */
  toRecord(): Record<string, number> {
    // fromEntries defines own properties: a kind named `__proto__` stays a count.
    return Object.fromEntries(Array.from(this.counters, ([kind, counter]) => [kind, counter.n]));
  }

  private addMissed(kind: string): void {
    let counter = this.counters.get(kind);
    if (counter === undefined) {
      counter = { n: 0 };
      this.counters.set(kind, counter);
    }
    counter.n++;
    this.kind3 = this.kind2;
    this.count3 = this.count2;
    this.kind2 = this.kind1;
    this.count2 = this.count1;
    this.kind1 = this.kind0;
    this.count1 = this.count0;
    this.kind0 = kind;
    this.count0 = counter;
  }
}
