/**
 * What an OS crash leaves of redis-server's append-only file: an `LD_PRELOAD` shim, compiled here
 * with `cc`, that records for every successful `fsync` / `fdatasync` of a regular file its path
 * and the size it had when the call began (everything written before the call is on disk once it
 * returns). After a SIGKILL, `cutToLastFsync` truncates each AOF file to that size: what a
 * machine that lost power would have kept, at worst.
 */
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SOURCE = String.raw`
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Appends "<size> <path>" for fd to $FSYNC_LOG, in one write (lines of two threads do not mix). */
static void record(int fd, long long size) {
  const char *log = getenv("FSYNC_LOG");
  if (log == NULL) return;
  char link[64], path[4096], line[4200];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return;
  path[n] = 0;
  int length = snprintf(line, sizeof line, "%lld %s\n", size, path);
  int out = open(log, O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (out < 0) return;
  if (write(out, line, length) < 0) { /* nothing to do */ }
  close(out);
}

/* The size before the call: what was written then is on disk once the call succeeds. */
static long long sizeOf(int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return -1;
  return (long long)st.st_size;
}

int fsync(int fd) {
  static int (*real)(int);
  if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  long long size = sizeOf(fd);
  int result = real(fd);
  if (result == 0 && size >= 0) record(fd, size);
  return result;
}

int fdatasync(int fd) {
  static int (*real)(int);
  if (real == NULL) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  long long size = sizeOf(fd);
  int result = real(fd);
  if (result == 0 && size >= 0) record(fd, size);
  return result;
}
`;

export interface FsyncShim {
  /** The shared object, for `LD_PRELOAD`. */
  library: string;
  /** Where it records (`FSYNC_LOG`). */
  log: string;
}

/** Compiles the shim; `undefined` (with the reason) when there is no C compiler or it fails. */
export function compileFsyncShim(): FsyncShim | { skipped: string } {
  const dir = mkdtempSync(join(tmpdir(), 'rxjs-bp-fsync-'));
  const source = join(dir, 'fsync.c');
  const library = join(dir, 'fsync.so');
  writeFileSync(source, SOURCE);
  const built = spawnSync('cc', ['-shared', '-fPIC', '-O2', '-o', library, source, '-ldl'], {
    encoding: 'utf8',
  });
  if (built.error !== undefined) return { skipped: `no C compiler (cc): ${built.error.message}` };
  if (built.status !== 0 || !existsSync(library)) {
    return { skipped: `cc could not build the fsync shim: ${built.stderr.trim()}` };
  }
  return { library, log: join(dir, 'fsync.log') };
}

/** The size each file had at its last recorded fsync. */
export function lastFsyncs(shim: FsyncShim): Map<string, number> {
  const sizes = new Map<string, number>();
  if (!existsSync(shim.log)) return sizes;
  for (const line of readFileSync(shim.log, 'utf8').split('\n')) {
    const space = line.indexOf(' ');
    if (space < 0) continue;
    sizes.set(line.slice(space + 1), Number(line.slice(0, space)));
  }
  return sizes;
}

/**
 * Cuts every incremental append-only file of a (killed) server's data directory back to its size
 * at its last fsync (to nothing when it was never fsynced). The base file and the manifest are
 * written under a temporary name, fsynced, then renamed: whole or absent, they are left as they
 * are. Returns the bytes cut per file.
 */
export function cutToLastFsync(shim: FsyncShim, dataDir: string): Record<string, number> {
  const synced = lastFsyncs(shim);
  const aofDir = join(dataDir, 'appendonlydir');
  const cut: Record<string, number> = {};
  for (const name of readdirSync(aofDir)) {
    if (!name.endsWith('.incr.aof')) continue;
    const path = join(aofDir, name);
    const size = readFileSync(path).length;
    const keep = Math.min(size, synced.get(path) ?? 0);
    if (keep < size) {
      truncateSync(path, keep);
      cut[name] = size - keep;
    }
  }
  return cut;
}
