/** One suite of `npm run bench`. */
export interface BenchSuite {
  /** Short id: `npm run bench -- <name>` runs only this suite. */
  name: string;
  /** One line saying what is measured. */
  title: string;
  /** Runs the measurements and prints a markdown table (see bench/harness.ts). */
  run(): Promise<void>;
}
