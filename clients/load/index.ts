// The load generator as a library: `runLoad` drives a server and measures it.
export * from './types.js';
import type { LoadOptions, LoadResult } from './types.js';

export async function runLoad(_options: LoadOptions): Promise<LoadResult> {
  throw new Error('runLoad: not implemented yet');
}

export function formatSummary(_result: LoadResult): string {
  throw new Error('formatSummary: not implemented yet');
}
