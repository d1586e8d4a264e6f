// docs/plugins.md quotes tested files, and this keeps the quotes true: every code block
// after a `<!-- snippet: <file>#<region> -->` line must equal the lines between
// `// #region docs:<region>` and `// #endregion docs:<region>` of that file (other region
// markers inside left out, common indentation removed). Every TypeScript block of the guide
// must be such a quote, every quoted file must be one the test suite runs (a test or bench
// file, or a plugin's source, which its tests import), and every region a file marks must
// be quoted somewhere. UPDATE_DOCS=1 rewrites the quotes from the files instead of failing.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const GUIDE = path.join(ROOT, 'docs', 'plugins.md');
const MARKER = /^<!-- snippet: (\S+)#([\w-]+) -->$/;
const REGION_LINE = /^\s*\/\/ #(end)?region docs:([\w-]+)\s*$/;

/** The text of one region of a file, dedented; throws when the region is missing or unclosed. */
function region(file: string, name: string): string {
  const lines = fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n');
  const start = lines.findIndex((l) => REGION_LINE.exec(l)?.[1] === undefined && REGION_LINE.exec(l)?.[2] === name);
  if (start < 0) throw new Error(`${file} has no region '${name}'`);
  const end = lines.findIndex((l, i) => i > start && REGION_LINE.exec(l)?.[1] === 'end' && REGION_LINE.exec(l)?.[2] === name);
  if (end < 0) throw new Error(`${file}: region '${name}' is not closed`);
  const body = lines.slice(start + 1, end).filter((l) => !REGION_LINE.test(l));
  const indent = Math.min(...body.filter((l) => l.trim() !== '').map((l) => l.length - l.trimStart().length));
  return body.map((l) => l.slice(indent)).join('\n');
}

interface Quote {
  file: string;
  name: string;
  /** Line indices of the opening and closing fences in the guide. */
  open: number;
  close: number;
}

function quotes(lines: string[]): Quote[] {
  const out: Quote[] = [];
  lines.forEach((line, i) => {
    const m = MARKER.exec(line);
    if (m === null) return;
    if (!/^```ts$/.test(lines[i + 1] ?? '')) throw new Error(`docs/plugins.md:${i + 2}: a snippet marker must be followed by a \`\`\`ts block`);
    const close = lines.findIndex((l, j) => j > i + 1 && l === '```');
    out.push({ file: m[1], name: m[2], open: i + 1, close });
  });
  return out;
}

test('every quoted snippet in docs/plugins.md equals its region in the tested file', () => {
  let lines = fs.readFileSync(GUIDE, 'utf8').split('\n');
  if (process.env.UPDATE_DOCS === '1') {
    for (const q of quotes(lines).reverse()) lines.splice(q.open + 1, q.close - q.open - 1, ...region(q.file, q.name).split('\n'));
    fs.writeFileSync(GUIDE, lines.join('\n'));
    lines = fs.readFileSync(GUIDE, 'utf8').split('\n');
  }
  const found = quotes(lines);
  assert.ok(found.length >= 10, 'the guide quotes its samples');
  for (const q of found) {
    const quoted = lines.slice(q.open + 1, q.close).join('\n');
    assert.equal(quoted, region(q.file, q.name), `docs/plugins.md:${q.open + 1}: the quote of ${q.file}#${q.name} is stale (UPDATE_DOCS=1 rewrites it)`);
  }
});

test('every TypeScript block of the guide is a quote of a file the tests run', () => {
  const lines = fs.readFileSync(GUIDE, 'utf8').split('\n');
  lines.forEach((line, i) => {
    if (line === '```ts') assert.match(lines[i - 1] ?? '', MARKER, `docs/plugins.md:${i + 1}: a TypeScript block that is not quoted from a tested file`);
  });
  for (const q of quotes(lines)) {
    const tested = /\.(test|bench)\.ts$/.test(q.file) || /^plugins\/[^/]+\/[^/]+\.ts$/.test(q.file);
    assert.ok(tested, `${q.file} is not a test, a bench or a plugin source`);
    if (q.file.startsWith('plugins/')) {
      const plugin = q.file.split('/')[1];
      assert.ok(fs.existsSync(path.join(ROOT, 'plugins', plugin, 'test')), `plugin ${plugin} has tests`);
    }
  }
});

/** Source files under plugins/, test/ and bench/ (where docs regions may be marked). */
function sources(directory: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const file = path.join(directory, entry.name);
    if (entry.isDirectory()) out.push(...sources(file));
    else if (entry.name.endsWith('.ts')) out.push(file);
  }
  return out;
}

test('every docs region marked in plugins/, test/ or bench/ is quoted by the guide', () => {
  const quoted = new Set(quotes(fs.readFileSync(GUIDE, 'utf8').split('\n')).map((q) => `${q.file}#${q.name}`));
  for (const file of ['plugins', 'test', 'bench'].flatMap((d) => sources(path.join(ROOT, d)))) {
    const relative = path.relative(ROOT, file).split(path.sep).join('/');
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const m = REGION_LINE.exec(line);
      if (m !== null && m[1] === undefined) assert.ok(quoted.has(`${relative}#${m[2]}`), `${relative} marks region '${m[2]}' that the guide does not quote`);
    }
  }
});
