// The import rule for plugins (CONVENTIONS.md: `plugins → public API`): a file under a
// plugin folder may import other files of plugins, node: builtins, packages, vecnet's
// public entry point src/index.ts, and the bench helpers under bench/ — never anything
// else of src/ or nodes/. This finds every import specifier in a folder's .ts/.js/.mts/.cts
// files (static imports and re-exports, `import type`, dynamic `import()`, `require()`)
// and reports the ones that break the rule as `file:line: 'specifier'`.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;
/** `from '…'` (import and export), bare `import '…'`, `import('…')` and `require('…')`. */
const SPECIFIERS = [/\bfrom\s*['"]([^'"]+)['"]/g, /\bimport\s*['"]([^'"]+)['"]/g, /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g, /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g];

function files(directory: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(directory).sort()) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    const path = join(directory, entry);
    if (statSync(path).isDirectory()) out.push(...files(path));
    else if (SOURCE.test(entry)) out.push(path);
  }
  return out;
}

/** Comments blanked (line breaks kept), so commented-out imports do not count and lines stay right. */
function withoutComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\/|\/\/[^\n]*/g, (comment) => comment.replace(/[^\n]/g, ' '));
}

/**
 * Violations of the rule in `pluginsDirectory` (a plugin path: folders of plugins), for a
 * vecnet checkout at `root`. Empty when every import is allowed.
 */
export function forbiddenImports(pluginsDirectory: string, root: string): string[] {
  const src = resolve(root, 'src');
  const nodes = resolve(root, 'nodes');
  const entry = resolve(root, 'src', 'index.ts');
  const inside = (path: string, directory: string) => path === directory || path.startsWith(directory + sep);
  const problems: string[] = [];
  for (const file of files(pluginsDirectory)) {
    const text = withoutComments(readFileSync(file, 'utf8'));
    const found: { line: number; text: string }[] = [];
    for (const pattern of SPECIFIERS) {
      for (const match of text.matchAll(pattern)) {
        const specifier = match[1];
        let target: string;
        if (specifier.startsWith('.')) target = resolve(dirname(file), specifier);
        else if (specifier.startsWith('/')) target = resolve(specifier);
        else if (specifier.startsWith('file:')) target = resolve(new URL(specifier).pathname);
        else continue; // node: builtins and packages
        if (target === entry) continue;
        if (inside(target, src) || inside(target, nodes)) {
          const line = text.slice(0, match.index).split('\n').length;
          found.push({ line, text: `${relative(root, file)}:${line}: '${specifier}'` });
        }
      }
    }
    problems.push(...found.sort((a, b) => a.line - b.line).map((f) => f.text));
  }
  return problems;
}
