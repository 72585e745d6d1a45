/**
 * Renders marble values, errors and operator options as short, deterministic text for diagrams
 * (never throws, never depends on the machine or the clock).
 */

/** True for an OverflowNotice as the queues report it. */
export function isNotice(
  value: unknown,
): value is { policy: string; dropped: number; merged: number } & Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.policy === 'string' && typeof v.dropped === 'number' && typeof v.merged === 'number'
  );
}

/** The counts of a notice, as its marker shows them: `2 dropped`, `3 merged`. */
export function noticeCounts(notice: { dropped: number; merged: number }): string {
  const parts: string[] = [];
  if (notice.dropped > 0) parts.push(`${notice.dropped} dropped`);
  if (notice.merged > 0) parts.push(`${notice.merged} merged`);
  return parts.length > 0 ? parts.join(', ') : 'no loss';
}

export function formatValue(value: unknown, depth = 0): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return value.toString();
    case 'function':
      return value.name || 'ƒ';
  }
  if (value === null) return 'null';
  if (value instanceof Error) return `${value.name}(${JSON.stringify(value.message)})`;
  if (isNotice(value)) {
    const range =
      value.dropped > 0 && 'first' in value
        ? ` ${formatValue(value.first, depth + 1)}…${formatValue(value.last, depth + 1)}`
        : '';
    const seq =
      typeof value.fromSeq === 'number' ? ` seq ${value.fromSeq}…${String(value.toSeq)}` : '';
    return `notice(${value.policy}: ${noticeCounts(value)}${range}${seq})`;
  }
  const record = value as Record<string, unknown>;
  if (record.kind === 'coalesce' && typeof record.merge === 'function') {
    const key = typeof record.key === 'function' ? `, ${formatValue(record.key)}` : '';
    return `coalesce(${formatValue(record.merge)}${key})`;
  }
  if (depth > 2) return Array.isArray(value) ? '[…]' : '{…}';
  if (Array.isArray(value)) return `[${value.map((v) => formatValue(v, depth + 1)).join(', ')}]`;
  const entries = Object.entries(record).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{}';
  return `{ ${entries.map(([k, v]) => `${k}: ${formatValue(v, depth + 1)}`).join(', ')} }`;
}
