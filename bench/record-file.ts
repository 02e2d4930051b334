// Writing a record to disk: readable JSON, and never half a file.
//
// results.json and soak.json are rewritten as a run goes (after every cell,
// after every model), and REPORT.md and report.html at its end. Each is
// written to a temporary file beside it and renamed over the old one, which
// the file system does in one step: whoever reads the file, a person, the
// report or a run that was cut short, finds the old version or the new one,
// never a torn one.

import { renameSync, writeFileSync } from 'node:fs';

const isPrimitive = (v: unknown) => v === null || typeof v !== 'object';

/**
 * JSON with two-space indentation, except that arrays of plain numbers and
 * small flat objects stay on one line: per-connection counts, percentile
 * points and samples are many, and one number per line would make the file
 * ten times taller without making it clearer.
 */
export function toReadableJson(value: unknown, indent = ''): string {
  if (value !== null && typeof value === 'object' && Object.values(value).every(isPrimitive)) {
    const flat = JSON.stringify(value);
    if (Array.isArray(value) ? value.every((v) => typeof v === 'number' || v === null) : flat.length <= 100) return flat;
  }
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    const inner = indent + '  ';
    return `[\n${value.map((v) => inner + toReadableJson(v, inner)).join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const inner = indent + '  ';
    const body = entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${toReadableJson(v, inner)}`);
    return `{\n${body.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** Writes through a temporary file beside `file`, so a reader never opens half of it. */
export function writeFileAtomically(file: string, text: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/** A record as readable JSON, written atomically. */
export function writeJsonRecord(file: string, record: unknown): void {
  writeFileAtomically(file, toReadableJson(record) + '\n');
}
