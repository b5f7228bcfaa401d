/**
 * The rooms of src/ depend one way, down (docs/ARCHITECTURE.md, "The rooms"): a module imports
 * from its own layer or from layers below it, never from one above. Read from the source with the
 * TypeScript compiler's parser, so multi-line, type-only and dynamic imports all count.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

const SRC = 'src';

/**
 * Top to bottom. A room is a folder of src/, or a file directly in it. Rooms in one layer may use
 * each other: pages/ is the HTML face of the HTTP layer (the error handler renders pages, a
 * confirmation page negotiates like any route).
 */
const LAYERS: readonly (readonly string[])[] = [
  ['server.ts', 'cluster.ts', 'app.ts', 'cli'],
  ['routes'],
  ['http', 'pages', 'observability'],
  ['auth', 'sample-data'],
  ['employees'],
  ['identity', 'audit'],
  ['database', 'sessions'],
  ['errors.ts', 'config.ts', 'paths.ts', 'private-files.ts', 'secret-key.ts'],
];

function sourceFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const path = join(folder, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative module a file imports or re-exports, statically or dynamically. */
function importsOf(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push(node.moduleSpecifier.text);
    }
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      const [argument] = node.arguments;
      if (argument && ts.isStringLiteral(argument)) found.push(argument.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found.filter((specifier) => specifier.startsWith('.')).map((specifier) => normalize(join(dirname(file), specifier)));
}

/** The folder of src/ a module is in, or its own file name when it lies directly in src/. */
function roomOf(path: string): string {
  return relative(SRC, path).replace(/\.js$/, '.ts').split('/')[0]!;
}

function layerOf(room: string): number {
  const layer = LAYERS.findIndex((rooms) => rooms.includes(room));
  assert.notEqual(layer, -1, `src/${room} belongs to no layer: add it to LAYERS and to docs/ARCHITECTURE.md`);
  return layer;
}

describe('the rooms of src/', () => {
  it('import only from their own layer or the layers below it', () => {
    const upward: string[] = [];
    for (const file of sourceFiles(SRC)) {
      const from = roomOf(file);
      for (const target of importsOf(file)) {
        const to = roomOf(target);
        if (layerOf(to) < layerOf(from)) upward.push(`${relative(SRC, file)} imports ${relative(SRC, target)} (${to} is above ${from})`);
      }
    }
    assert.deepEqual(upward, []);
  });

  it('keep the employees room free of the auth room', () => {
    const found = sourceFiles(join(SRC, 'employees')).flatMap((file) => importsOf(file).filter((target) => roomOf(target) === 'auth'));
    assert.deepEqual(found, []);
  });
});
