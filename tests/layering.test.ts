/**
 * The layering of DESIGN.md, checked on the sources: which folder may import which, no import
 * cycles, and workflow code that bundles (only the workflow SDK, and zod-free schemas, at run
 * time; activities by type only).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { projectRoot } from '../infra/local/paths';

const FOLDERS = ['schemas', 'engine', 'rewards', 'storage', 'tasks', 'activities', 'workflows', 'workers', 'infra', 'cli'] as const;
type Folder = (typeof FOLDERS)[number];

/** The project folders each folder may import from (its own always), as DESIGN.md's layout table has it. */
const MAY_IMPORT: Record<Folder, Folder[]> = {
  schemas: [],
  engine: ['schemas'],
  rewards: ['schemas'],
  storage: ['schemas'],
  tasks: ['schemas', 'engine'],
  activities: ['schemas', 'engine', 'rewards', 'storage'],
  workflows: ['schemas', 'activities'],
  workers: ['schemas', 'storage', 'activities', 'workflows'],
  infra: ['schemas', 'storage'],
  cli: ['schemas', 'engine', 'rewards', 'storage', 'tasks', 'activities', 'workflows', 'workers', 'infra'],
};

interface Import {
  from: string; // source file, relative to the project root
  to: string; // a relative file (without extension) or a package name
  typeOnly: boolean;
}

function sources(folder: string): string[] {
  return readdirSync(join(projectRoot, folder), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => relative(projectRoot, join(e.parentPath, e.name)));
}

function importsOf(file: string): Import[] {
  const text = readFileSync(join(projectRoot, file), 'utf8');
  const found: Import[] = [];
  for (const m of text.matchAll(/^(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?'([^']+)'/gm)) {
    const spec = m[2];
    const to = spec.startsWith('.') ? relative(projectRoot, resolve(projectRoot, dirname(file), spec)) : spec;
    found.push({ from: file, to, typeOnly: Boolean(m[1]) });
  }
  for (const m of text.matchAll(/require(?:\.resolve)?\('([^']+)'\)/g)) {
    if (m[1].startsWith('.')) found.push({ from: file, to: relative(projectRoot, resolve(projectRoot, dirname(file), m[1])), typeOnly: false });
  }
  return found;
}

const files = FOLDERS.flatMap(sources);
const imports = files.flatMap(importsOf);
const folderOf = (path: string) => path.split('/')[0] as Folder;
const isProject = (to: string) => (FOLDERS as readonly string[]).includes(folderOf(to));

test('each folder imports only the folders below it', () => {
  const upward = imports
    .filter((i) => isProject(i.to) && folderOf(i.to) !== folderOf(i.from) && !MAY_IMPORT[folderOf(i.from)].includes(folderOf(i.to)))
    .map((i) => `${i.from} -> ${i.to}`);
  assert.deepEqual(upward, []);
});

test('no import cycles', () => {
  const edges = new Map<string, string[]>();
  for (const i of imports.filter((i) => isProject(i.to))) {
    const to = files.find((f) => f === `${i.to}.ts` || f === `${i.to}/index.ts`);
    if (to) edges.set(i.from, [...(edges.get(i.from) ?? []), to]);
  }
  assert.ok(edges.size > 50, `only ${edges.size} files with project imports found: the import parser is broken`);
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
      return;
    }
    state.set(file, 'open');
    for (const next of edges.get(file) ?? []) visit(next, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of files) visit(file, []);
  assert.deepEqual(cycles, []);
});

test('workflow code bundles: at run time only the workflow SDK, other workflow files and zod-free schemas', () => {
  const zodFree = (schemaFile: string, seen = new Set<string>()): boolean => {
    if (seen.has(schemaFile)) return true;
    seen.add(schemaFile);
    return importsOf(`${schemaFile}.ts`).every((i) => i.typeOnly || (i.to.startsWith('schemas/') && zodFree(i.to, seen)));
  };
  const bad = imports
    .filter((i) => folderOf(i.from) === 'workflows' && !i.typeOnly)
    .filter((i) => !(i.to === '@temporalio/workflow' || i.to === '@temporalio/common' || i.to.startsWith('workflows/') || (i.to.startsWith('schemas/') && zodFree(i.to))))
    .map((i) => `${i.from} -> ${i.to}`);
  assert.deepEqual(bad, []);
});
