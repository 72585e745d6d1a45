import { ChangeDetectionStrategy, Component, inject, type OnInit } from '@angular/core';
import { AgentRunService } from './agent-run.service';

/** Shows one run: status, frame count and the streamed text. Owns its service (and bus). */
@Component({
  selector: 'app-agent-run',
  providers: [AgentRunService],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <dl>
      <dt>run</dt>
      <dd data-testid="run">{{ run.runId }}</dd>
      <dt>status</dt>
      <dd data-testid="status">{{ run.status() }}</dd>
      <dt>frames</dt>
      <dd data-testid="frames">{{ run.frames() }}</dd>
      <dt>characters</dt>
      <dd data-testid="length">{{ run.text().length }}</dd>
    </dl>
    <pre data-testid="text">{{ run.text() }}</pre>
  `,
})
export class AgentRunComponent implements OnInit {
  protected readonly run = inject(AgentRunService);

  ngOnInit(): void {
    this.run.start();
  }
}
