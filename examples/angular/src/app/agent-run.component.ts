import { ChangeDetectionStrategy, Component, computed, inject, type OnInit } from '@angular/core';
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
      <dd data-testid="length">{{ length() }}</dd>
    </dl>
    <div class="text" data-testid="text">
      @for (block of run.blocks(); track $index) {<div>{{ block }}</div>}
    </div>
  `,
})
export class AgentRunComponent implements OnInit {
  protected readonly run = inject(AgentRunService);
  protected readonly length = computed(() =>
    this.run.blocks().reduce((sum, block) => sum + block.length, 0),
  );

  ngOnInit(): void {
    this.run.start();
  }
}
