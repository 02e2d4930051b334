// The shape of the code: no module may import itself back, however far round.
//
// An import loop makes the load order decide what a module sees (a binding
// read before the module that defines it has run is undefined), and it ties
// together things that should be separate: a loop through the chart renderer
// is how `npm run report`, which draws no PNG, came to load the native canvas
// module. So every TypeScript source file under servers/, clients/ and bench/
// (tests aside: nothing imports a test) is read for its relative imports, and
// the graph they make must have no cycle. The parse is a plain regular
// expression over `from '...'` and `import '...'`, which is all this code
// base writes.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = fileURLToPath(new URL('..', import.meta.url));
const ROOTS = ['servers', 'clients', 'bench'];

interface Import {
  specifier: string;
  /** `import type` and `export type` vanish when compiled: they tie the code together but load nothing. */
  typeOnly: boolean;
}

const IMPORT = /^\s*(import|export)\s+(type\s+)?(?:[^'"]*?\s+from\s+)?['"]([^'"]+)['"]/gm;

function sourceFiles(dir: string): string[] {
  return readdirSync(path.join(repo, dir), { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(file);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [file] : [];
  });
}

function importsOf(text: string): Import[] {
  return [...text.matchAll(IMPORT)].map((m) => ({ specifier: m[3], typeOnly: m[2] !== undefined }));
}

/** The repository file a relative specifier names: `./x.js` is `x.ts` here. */
function resolve(from: string, specifier: string): string {
  return path.join(path.dirname(from), specifier).replace(/\.js$/, '.ts');
}

function graph(): Map<string, Import[]> {
  const files = ROOTS.flatMap(sourceFiles);
  return new Map(files.map((file) => [file, importsOf(readFileSync(path.join(repo, file), 'utf8'))]));
}

/** Every cycle's files, in import order, found by a depth-first walk (each cycle reported once, from its first file). */
function cyclesOf(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (file: string) => {
    seen.add(file);
    stack.push(file);
    for (const next of edges.get(file) ?? []) {
      const at = stack.indexOf(next);
      if (at >= 0) cycles.push([...stack.slice(at), next]);
      else if (!seen.has(next)) visit(next);
    }
    stack.pop();
    done.add(file);
  };
  for (const file of [...edges.keys()].sort()) if (!done.has(file)) visit(file);
  return cycles;
}

/** Every file and package a module loads when it runs, following value imports only. */
function loadedBy(entry: string, imports: ReadonlyMap<string, Import[]>): Set<string> {
  const loaded = new Set<string>();
  const walk = (file: string) => {
    for (const { specifier, typeOnly } of imports.get(file) ?? []) {
      if (typeOnly) continue;
      const target = specifier.startsWith('.') ? resolve(file, specifier) : specifier;
      if (loaded.has(target)) continue;
      loaded.add(target);
      if (specifier.startsWith('.')) walk(target);
    }
  };
  walk(entry);
  return loaded;
}

describe('the import graph', () => {
  const imports = graph();

  it('finds the imports this code base writes, and tells type-only ones apart', () => {
    expect(
      importsOf("import { a, type B } from './a.js';\nimport type { C } from '../c.js';\nexport { d } from './d.js';\nimport './e.js';"),
    ).toEqual([
      { specifier: './a.js', typeOnly: false },
      { specifier: '../c.js', typeOnly: true },
      { specifier: './d.js', typeOnly: false },
      { specifier: './e.js', typeOnly: false },
    ]);
    expect(
      cyclesOf(
        new Map([
          ['a', ['b']],
          ['b', ['c']],
          ['c', ['a']],
          ['d', ['a']],
        ]),
      ),
    ).toEqual([['a', 'b', 'c', 'a']]);
  });

  it('resolves every relative import to a file that exists', () => {
    const missing = [...imports].flatMap(([file, list]) =>
      list
        .filter((i) => i.specifier.startsWith('.') && i.specifier.endsWith('.js'))
        .map((i) => resolve(file, i.specifier))
        .filter((target) => !imports.has(target))
        .map((target) => `${file} -> ${target}`),
    );
    expect(missing).toEqual([]);
  });

  it('has no import cycle in servers/, clients/ or bench/', () => {
    const edges = new Map(
      [...imports].map(([file, list]) => [file, list.filter((i) => i.specifier.startsWith('.')).map((i) => resolve(file, i.specifier))]),
    );
    expect(cyclesOf(edges).map((cycle) => cycle.join(' -> '))).toEqual([]);
  });

  it('keeps chart.js and the native canvas out of `npm run report`, which draws no PNG', () => {
    const loaded = loadedBy(path.join('bench', 'report', 'cli.ts'), imports);
    expect([...loaded].filter((m) => /^(chart\.js|chartjs-node-canvas|canvas|@napi-rs\/canvas)(\/|$)/.test(m))).toEqual([]);
    // The walk does reach the report's own modules, so an empty list above means something.
    expect(loaded.has(path.join('bench', 'report', 'build.ts'))).toBe(true);
  });
});
