import { mergeApplicationConfig } from '@angular/core';
import { type BootstrapContext, bootstrapApplication } from '@angular/platform-browser';
import { provideServerRendering, renderApplication } from '@angular/platform-server';
import { AppComponent } from './app/app.component';
import { appConfig } from './app/app.config';

const serverConfig = mergeApplicationConfig(appConfig, {
  providers: [provideServerRendering()],
});

/** Boots the app on the server (what `renderApplication` calls). */
export const bootstrap = (context: BootstrapContext) =>
  bootstrapApplication(AppComponent, serverConfig, context);

/** Renders the app to HTML in Node: the example's server-rendering test calls this. */
export function render(document: string): Promise<string> {
  return renderApplication(bootstrap, { document, url: '/' });
}

export default bootstrap;
