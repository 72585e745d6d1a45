import { ChangeDetectionStrategy, Component, signal } from '@angular/core';
import { AgentRunComponent } from './agent-run.component';
import { busesClosed } from './agent-run.service';
import { PacingProbeComponent } from './pacing-probe.component';

/** Shows the run panel until "Close" destroys it (and, through DestroyRef, its bus). */
@Component({
  selector: 'app-root',
  imports: [AgentRunComponent, PacingProbeComponent],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <h1>rxjs-backpressure in Angular</h1>
    <p>
      An injectable service owns an <code>EventBus</code>; the run's events are an Observable
      and, through <code>toSignal</code> and <code>toBoundedSignal</code>, signals.
    </p>
    <p>
      <button type="button" data-testid="toggle" (click)="toggle()">
        {{ open() ? 'Close the panel' : 'Open a new panel' }}
      </button>
      &nbsp; buses closed by DestroyRef: <b data-testid="closed">{{ closed() }}</b>
    </p>
    @if (open()) {
      <app-agent-run />
    }
    <app-pacing-probe />
  `,
})
export class AppComponent {
  protected readonly open = signal(true);
  protected readonly closed = busesClosed;

  protected toggle(): void {
    this.open.update((open) => !open);
  }
}
