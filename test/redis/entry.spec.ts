import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as core from '../../src/index.js';

// tsup rewrites every import the redis entry makes from outside src/redis into an import of the
// package itself ('rxjs-backpressure'), so each such name must be a public export of the core.
const redisDir = join(import.meta.dirname, '../../src/redis');

describe('the rxjs-backpressure/redis entry point', () => {
  it('imports from the core only names the core exports', () => {
    const missing: string[] = [];
    for (const file of readdirSync(redisDir).filter((name) => name.endsWith('.ts'))) {
      const text = readFileSync(join(redisDir, file), 'utf8');
      for (const match of text.matchAll(/^import (?!type )\{([^}]*)\} from '(\.\.\/[^']+)'/gm)) {
        for (const part of match[1]!.split(',')) {
          const name = part.trim();
          if (name === '' || name.startsWith('type ')) continue;
          const imported = name.split(/\s+as\s+/)[0]!;
          if (!(imported in core)) missing.push(`${file}: ${imported} from ${match[2]}`);
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('is not imported by the core', () => {
    const index = readFileSync(join(redisDir, '../index.ts'), 'utf8');
    expect(index).not.toMatch(/from '\.\/redis/);
  });
});
