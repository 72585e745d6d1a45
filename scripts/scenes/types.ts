/** One scene of `npm run demo`. */
export interface DemoScene {
  /** Short id: `npm run demo -- <name>` runs only this scene. */
  name: string;
  /** One line saying what the scene shows. */
  title: string;
  /** Runs the scene and prints its results (console.log / console.table). */
  run(): Promise<void>;
}
