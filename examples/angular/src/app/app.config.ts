import { type ApplicationConfig, provideZonelessChangeDetection } from '@angular/core';

/** The providers of the app, in the browser and on the server. */
export const appConfig: ApplicationConfig = {
  providers: [provideZonelessChangeDetection()],
};
