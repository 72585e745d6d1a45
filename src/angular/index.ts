// The Angular entry point, rxjs-backpressure/angular: signals from bounded streams. Angular
// (@angular/core) is an optional peer dependency, needed by this entry only; the root entry never
// imports it. What this entry uses of the library comes from the root entry.

export { type ToBoundedSignalOptions, toBoundedSignal } from './toBoundedSignal.js';
