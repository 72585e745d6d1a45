/**
 * The packed package ships one copy of the core: `npm pack`, installed into a temporary folder
 * with rxjs beside it, every entry loaded by plain Node as ESM and as CJS. Within each format,
 * the root's classes (EventBus, the errors...) are the only ones: no other entry defines them
 * again, and objects made through another entry are `instanceof` the root's classes.
 *
 * Uses dist/ as built; when dist/ is missing it is built first (tsup), and the spec is skipped,
 * saying so, only when tsup is not installed.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };
import { entries, ROOT_ENTRY } from '../../tsup.config.js';
import { RedisServer, redisServerVersion } from '../redis/redisServer.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const tsup = join(repo, 'node_modules', '.bin', 'tsup');
const outputs = Object.keys(entries).flatMap((name) => [`dist/${name}.js`, `dist/${name}.cjs`]);
const built = outputs.every((output) => existsSync(join(repo, output)));
const canBuild = built || existsSync(tsup);
if (!canBuild) {
  console.warn('test/package skipped: dist/ is not built and tsup is not installed to build it');
}

interface EntryReport {
  exports: number;
  importsRoot: boolean;
  redefinedClasses: string[];
  differentShared: string[];
}
interface FormatReport {
  files: Record<string, string>;
  rootClasses: string[];
  rootImportsItself: boolean;
  rootImportsAngular: boolean;
  entries: Record<string, EntryReport>;
  redis?: Record<string, unknown>;
  otel?: Record<string, unknown>;
  angular?: Record<string, unknown>;
}
type Report = Record<'esm' | 'cjs', FormatReport>;

const exportsMap = packageJson.exports as Record<
  string,
  string | { import: { default: string }; require: { default: string } }
>;
const subpaths = Object.keys(exportsMap).filter((subpath) => subpath !== './package.json');
const otherSubpaths = subpaths.filter((subpath) => subpath !== '.');
/** Entries that use only the core's types, so that their bundle imports nothing of the root. */
const typeOnlyEntries: string[] = [];

describe.skipIf(!canBuild)('the packed package: one copy of the core', () => {
  let work = '';
  let report: Report;
  let redisServer: RedisServer | undefined;

  beforeAll(async () => {
    // The redis entry is checked on a real redis-server, when there is one.
    if (redisServerVersion() !== undefined) redisServer = await RedisServer.start();
    if (!built) execFileSync(tsup, [], { cwd: repo, stdio: 'pipe', timeout: 50_000 });
    work = mkdtempSync(join(tmpdir(), 'rxjs-backpressure-pack-'));
    const packed = JSON.parse(
      execFileSync('npm', ['pack', '--pack-destination', work, '--json', '--ignore-scripts'], {
        cwd: repo,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    ) as Array<{ filename: string }>;
    const modules = join(work, 'node_modules');
    mkdirSync(modules);
    execFileSync('tar', ['-xzf', join(work, packed[0]?.filename ?? ''), '-C', work]);
    execFileSync('mv', [join(work, 'package'), join(modules, packageJson.name)]);
    const resolvePackage = createRequire(import.meta.url).resolve;
    const rxjs = dirname(resolvePackage('rxjs/package.json'));
    symlinkSync(rxjs, join(modules, 'rxjs'), 'dir');
    // The optional peer of ./redis, for the probe's client.
    symlinkSync(dirname(resolvePackage('ioredis/package.json')), join(modules, 'ioredis'), 'dir');
    // The optional peer of ./angular, as an application that uses that entry would install it.
    mkdirSync(join(modules, '@angular'));
    const angularCore = dirname(resolvePackage('@angular/core/package.json'));
    symlinkSync(angularCore, join(modules, '@angular', 'core'), 'dir');
    copyFileSync(
      fileURLToPath(new URL('./fixtures/probe.mjs', import.meta.url)),
      join(work, 'probe.mjs'),
    );
    report = JSON.parse(
      execFileSync(process.execPath, ['probe.mjs'], {
        cwd: work,
        encoding: 'utf8',
        timeout: 20_000,
        env:
          redisServer === undefined
            ? process.env
            : { ...process.env, REDIS_PORT: String(redisServer.port) },
      }),
    ) as Report;
  }, 60_000);

  afterAll(async () => {
    if (work !== '') rmSync(work, { recursive: true, force: true });
    await redisServer?.stop();
  });

  it('every entry of the build is in the exports map, for import and require', () => {
    expect(Object.keys(entries)).toContain(ROOT_ENTRY);
    const targets = subpaths.map((subpath) => exportsMap[subpath]);
    for (const name of Object.keys(entries)) {
      expect(targets).toContainEqual(
        expect.objectContaining({
          import: expect.objectContaining({ default: `./dist/${name}.js` }),
          require: expect.objectContaining({ default: `./dist/${name}.cjs` }),
        }),
      );
    }
    expect(subpaths.length).toBe(Object.keys(entries).length);
  });

  it.each(['esm', 'cjs'] as const)('%s: every entry loads from the installed package', (format) => {
    const { files } = report[format];
    expect(Object.keys(files).sort()).toEqual([...subpaths].sort());
    for (const file of Object.values(files)) {
      expect(file).toMatch(format === 'esm' ? /\.js$/ : /\.cjs$/);
      expect(file.startsWith(join(work, 'node_modules', packageJson.name))).toBe(true);
    }
  });

  it.each(['esm', 'cjs'] as const)(
    '%s: the root bundles the core, the others import it',
    (format) => {
      const { rootClasses, rootImportsItself, entries: others } = report[format];
      expect(rootClasses).toEqual(
        expect.arrayContaining(['EventBus', 'QueueOverflowError', 'BusClosedError']),
      );
      expect(rootImportsItself).toBe(false);
      expect(Object.keys(others).sort()).toEqual([...otherSubpaths].sort());
      for (const [subpath, entry] of Object.entries(others)) {
        expect(entry, subpath).toEqual({
          exports: expect.any(Number),
          // ./otel uses only types of the core: nothing to import (checked below).
          importsRoot: !typeOnlyEntries.includes(subpath),
          redefinedClasses: [],
          differentShared: [],
        });
      }
    },
  );

  it.each(['esm', 'cjs'] as const)(
    "%s: ./angular runs on the root's frames, and the root never imports Angular",
    (format) => {
      expect(report[format].rootImportsAngular).toBe(false);
      expect(report[format].angular).toEqual({
        sharesRootFrames: true,
        lastValue: 3,
        endsWithInjector: true,
      });
    },
  );

  it.each(['esm', 'cjs'] as const)(
    "%s: ./otel loads without the OpenTelemetry API, defines none of the root's names, and reads a root bus",
    (format) => {
      expect(report[format].otel).toEqual({
        apiInstalled: false,
        published: 2,
        callbacksLeft: 0,
        redefinedNames: [],
      });
    },
  );

  it.skipIf(redisServerVersion() === undefined).each(['esm', 'cjs'] as const)(
    "%s: what ./redis makes is instanceof the root's classes (on a real redis-server)",
    (format) => {
      expect(report[format].redis).toEqual({
        hubIsRootFrameHub: true,
        invalidEvent: true,
        queueOverflow: true,
        busClosed: true,
      });
    },
  );
});
