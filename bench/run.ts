// `npm run bench [-- --filter <regex>] [-- --json <file>]`: loads every bench file under
// bench/ and plugins/*/bench/ and prints one table.
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { printBenches } from './harness.ts';

function benchFiles(dir: string): string[] {
  let out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const e of entries.sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out = out.concat(benchFiles(p));
    else if (e.endsWith('.bench.ts')) out.push(p);
  }
  return out;
}

const root = resolve(import.meta.dirname, '..');
const files = [...benchFiles(join(root, 'bench')), ...benchFiles(join(root, 'plugins'))];
for (const f of files) await import(pathToFileURL(f).href);
await printBenches();
