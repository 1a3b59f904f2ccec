/**
 * The import graph of `src/`, read from the TypeScript sources with the compiler's own pre-processor
 * (type-only imports count: they are design dependencies too). Used by the import-cycle test.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

export interface ImportGraph {
  /** File (relative to the source root, e.g. "policy/compile.ts") → files it imports. */
  files: Map<string, Set<string>>;
  /** Module (a top-level folder, e.g. "policy", or a top-level file, e.g. "daemon.ts") → modules it imports. */
  modules: Map<string, Set<string>>;
}

function sources(dir: string, root = dir): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = path.join(dir, name);
    if (statSync(p).isDirectory()) return sources(p, root);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path.relative(root, p)] : [];
  });
}

/** The module a source file belongs to: its top-level folder, or the file itself at the top. */
export function moduleOf(file: string): string {
  const first = file.split(path.sep)[0];
  return first === file ? file : first;
}

export function importGraph(root: string): ImportGraph {
  const files = new Map<string, Set<string>>();
  const modules = new Map<string, Set<string>>();
  for (const file of sources(root)) {
    const deps = new Set<string>();
    const info = ts.preProcessFile(readFileSync(path.join(root, file), 'utf8'), true, true);
    for (const imp of info.importedFiles) {
      if (!imp.fileName.startsWith('.')) continue;
      deps.add(path.normalize(path.join(path.dirname(file), imp.fileName)).replace(/\.js$/, '.ts'));
    }
    files.set(file, deps);
    const m = moduleOf(file);
    if (!modules.has(m)) modules.set(m, new Set());
    for (const d of deps) if (moduleOf(d) !== m) modules.get(m)!.add(moduleOf(d));
  }
  return { files, modules };
}

/** Every cycle's members (strongly connected components of more than one node, or a node importing itself). */
export function cycles(graph: Map<string, Set<string>>): string[][] {
  // Tarjan's algorithm.
  let index = 0;
  const stack: string[] = [];
  const on = new Set<string>();
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1 || graph.get(v)?.has(v)) out.push(scc.sort());
    }
  };
  for (const v of graph.keys()) if (!idx.has(v)) visit(v);
  return out;
}
