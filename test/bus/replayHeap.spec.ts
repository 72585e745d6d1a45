import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const fixture = join(dirname(fileURLToPath(import.meta.url)), 'fixtures', 'slowReplay.ts');
// BUS_REPLAY_FRAMES shortens it (1,000,000 takes about 10 s on an idle 2-core machine).
const frames = Number(process.env.BUS_REPLAY_FRAMES ?? 1_000_000);

describe('a replay read at the subscriber pace holds a bounded heap', () => {
  it(`replays ${frames.toLocaleString('en-US')} frames through a 'backpressure' queue with a slow consumer in 64 MB`, () => {
    // 64 MB of old space could not hold the replay if the bus buffered it: each frame is a new
    // object of about 200 bytes, so a million of them take far more. The child would die.
    const child = spawnSync(
      process.execPath,
      [
        '--max-old-space-size=64',
        '--expose-gc',
        '--import',
        'tsx',
        fixture,
        'memory',
        String(frames),
      ],
      { encoding: 'utf8', timeout: 120_000 },
    );
    expect(child.stderr).toBe('');
    expect(child.status).toBe(0);
    const result = JSON.parse(child.stdout.trim().split('\n').at(-1) as string);
    expect(result).toMatchObject({ count: frames, dense: true });
    expect(result.peakHeapMb - result.baselineHeapMb).toBeLessThan(40);
  }, 150_000);
});
