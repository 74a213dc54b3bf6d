/**
 * The API reference's structure (issue 12): every export of both entry
 * points sits in one of the navigation groups, the object constants render
 * as namespaces of documented functions, and every module class has its own
 * description and example with its constructor hidden. TypeDoc itself (every
 * export documented, 0 warnings) runs as its own step of `npm test`
 * (scripts/test.mjs); these checks are the fast, static half.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { shapeKeeping } from '../src/modules/catalogue.js';

const root = path.resolve(import.meta.dirname, '..');
const entries = ['src/index.ts', 'src/node/index.ts'].map((f) => path.join(root, f));
const groups = ['Building', 'Modules', 'Distributions', 'Training', 'Import/export', 'Backends', 'Pictures', 'Errors', 'Type machinery'];

const program = ts.createProgram(entries, { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true, skipLibCheck: true });
const checker = program.getTypeChecker();

/** Each export of an entry point with the declaration it names. */
function exportsOf(entry: string): { name: string; declaration: ts.Declaration }[] {
  const module = checker.getSymbolAtLocation(program.getSourceFile(entry)!)!;
  return checker.getExportsOfModule(module).map((symbol) => {
    const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
    return { name: symbol.name, declaration: target.declarations![0] };
  });
}

/** The TSDoc tags on a declaration (a variable's tags sit on its statement). */
function tags(declaration: ts.Node): readonly ts.JSDocTag[] {
  return ts.getJSDocTags(declaration);
}
const tagText = (tag: ts.JSDocTag) => (typeof tag.comment === 'string' ? tag.comment : ts.getTextOfJSDocComment(tag.comment) ?? '').trim();

describe('the API reference', () => {
  const all = entries.flatMap(exportsOf);

  it('finds the exports', () => expect(all.length).toBeGreaterThan(150));

  it('puts every export in one of the navigation groups', () => {
    const misplaced = all.filter(({ declaration }) => {
      const group = tags(declaration).filter((t) => t.tagName.text === 'group');
      return group.length !== 1 || !groups.includes(tagText(group[0]));
    });
    expect(misplaced.map((e) => e.name)).toEqual([]);
  });

  it('renders inn, train, dist and subnets as namespaces whose members are functions (or namespaces) with their own docs', () => {
    const index = program.getSourceFile(entries[0])!;
    const problems: string[] = [];
    const visit = (name: string, literal: ts.ObjectLiteralExpression) => {
      for (const property of literal.properties) {
        const kinds = tags(property).map((t) => t.tagName.text);
        const label = `${name}.${property.name?.getText()}`;
        if (ts.isPropertyAssignment(property) && ts.isObjectLiteralExpression(property.initializer)) {
          if (!kinds.includes('namespace')) problems.push(`${label}: no @namespace`);
          visit(label, property.initializer);
        } else if (!kinds.includes('function')) {
          problems.push(`${label}: no @function`);
        } else {
          // The function's own declaration carries its description.
          const symbol = checker.getShorthandAssignmentValueSymbol(property) ?? checker.getSymbolAtLocation(property.name!);
          const target = symbol && symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
          const declaration = target?.declarations?.[0];
          if (!declaration || ts.getJSDocCommentsAndTags(declaration).length === 0) problems.push(`${label}: its function has no TSDoc`);
        }
      }
    };
    for (const statement of index.statements) {
      if (!ts.isVariableStatement(statement)) continue;
      for (const declaration of statement.declarationList.declarations) {
        const name = declaration.name.getText();
        if (!['inn', 'train', 'dist', 'subnets'].includes(name)) continue;
        if (!tags(declaration).some((t) => t.tagName.text === 'namespace')) problems.push(`${name}: no @namespace`);
        let init = declaration.initializer!;
        while (ts.isAsExpression(init) || ts.isSatisfiesExpression(init)) init = init.expression;
        visit(name, init as ts.ObjectLiteralExpression);
      }
    }
    expect(problems).toEqual([]);
  });

  it('gives every module class its own description and example, and hides its constructor', () => {
    const modules = all.filter(({ declaration }) => tags(declaration).some((t) => t.tagName.text === 'group' && tagText(t) === 'Modules') && ts.isClassDeclaration(declaration) && declaration.name?.text !== 'InvertibleModule');
    expect(modules.length).toBeGreaterThanOrEqual(38);
    const problems = modules.flatMap(({ name, declaration }) => {
      const docs = ts.getJSDocCommentsAndTags(declaration).filter(ts.isJSDoc);
      const found: string[] = [];
      if (!docs.some((d) => ts.getTextOfJSDocComment(d.comment)?.trim())) found.push(`${name}: no description of its own`);
      if (!tags(declaration).some((t) => t.tagName.text === 'example')) found.push(`${name}: no @example`);
      const constructor = (declaration as ts.ClassDeclaration).members.find(ts.isConstructorDeclaration);
      if (constructor && !tags(constructor).some((t) => t.tagName.text === 'hidden')) found.push(`${name}: its constructor is not @hidden`);
      return found;
    });
    expect(problems).toEqual([]);
  });

  it('makes an undocumented export or any TypeDoc warning an error', () => {
    const config = JSON.parse(readFileSync(path.join(root, 'typedoc.json'), 'utf8'));
    expect(config.validation.notDocumented).toBe(true);
    expect(config.treatWarningsAsErrors).toBe(true);
    expect(config.groupOrder.at(-1)).toBe('Type machinery');
    expect(readFileSync(path.join(root, 'scripts', 'test.mjs'), 'utf8')).toContain("bin('typedoc')");
  });
});

/** A reflection of TypeDoc's serialised model, as far as these checks read it. */
interface Reflection {
  readonly name: string;
  readonly kind: number;
  readonly inheritedFrom?: unknown;
  readonly flags?: { readonly isPrivate?: boolean; readonly isProtected?: boolean };
  readonly children?: readonly Reflection[];
  readonly signatures?: readonly { readonly comment?: { readonly blockTags?: readonly { readonly tag: string }[] }; readonly parameters?: readonly { readonly name: string; readonly type?: unknown }[]; readonly type?: unknown }[];
  readonly type?: unknown;
}

describe('the API reference as TypeDoc models it (with scripts/typedoc-block-methods.mjs)', async () => {
  // The same configuration as `npm run docs` (typedoc.json, its plugin included), converted in memory: about 10 s.
  const { Application, TSConfigReader, TypeDocReader } = await import('typedoc');
  const app = await Application.bootstrapWithPlugins({ logLevel: 'Error' }, [new TypeDocReader(), new TSConfigReader()]);
  const project = await app.convert();
  // Casts: TypeDoc brands its paths (NormalizedPath), and its JSON model is read through the few fields above.
  const model = app.serializer.projectToObject(project!, root as Parameters<typeof app.serializer.projectToObject>[1]) as unknown as Reflection;
  const [library] = model.children!;
  const METHOD = 2048;
  const FUNCTION = 64;
  const member = (owner: string, name: string) => library.children!.find((c) => c.name === owner)?.children?.find((c) => c.name === name);

  it('renders the builders\' block methods as methods with the signature a user calls', () => {
    for (const owner of ['Chain', 'GraphBuilder']) {
      const glow = member(owner, 'glow')!;
      expect(glow.kind, owner).toBe(METHOD);
      const parameters = glow.signatures![0].parameters!.map((p) => p.name);
      expect(parameters).toEqual(owner === 'Chain' ? ['options'] : ['x', 'options']);
      const blocks = Object.keys(shapeKeeping).map((name) => member(owner, name));
      expect(blocks.filter((b) => b?.kind !== METHOD).length, `${owner}: block methods not rendered as methods`).toBe(0);
      const unreadable = blocks.filter((b) => JSON.stringify(b).includes('"name":"RuleErrorOr"')).map((b) => b!.name);
      expect(unreadable, `${owner}: block methods whose rendered signature still shows RuleErrorOr`).toEqual([]);
      // They are inherited from the mapped types, so the check of every method below passes them by: checked here.
      const withoutExample = blocks.filter((b) => !b?.signatures?.some((s) => s.comment?.blockTags?.some((t) => t.tag === '@example'))).map((b) => b!.name);
      expect(withoutExample, `${owner}: block methods without an example`).toEqual([]);
    }
    // The plugin changes nothing else: a hand-written method keeps its signature.
    expect(member('Chain', 'condition')!.kind).toBe(METHOD);
  });

  it('gives every public method and function an example', () => {
    const missing: string[] = [];
    const walk = (r: Reflection, at: string) => {
      const label = at ? `${at}.${r.name}` : r.name;
      // Inherited members are checked where they are declared (or, like Error.captureStackTrace, are not ours).
      if ((r.kind === METHOD || r.kind === FUNCTION) && !r.inheritedFrom && !r.flags?.isPrivate && !r.flags?.isProtected) {
        if (!(r.signatures ?? []).some((s) => s.comment?.blockTags?.some((t) => t.tag === '@example'))) missing.push(label);
      }
      for (const child of r.children ?? []) walk(child, label);
    };
    for (const entry of model.children!) walk(entry, '');
    expect(missing).toEqual([]);
  });
});

describe('the site\'s pages', () => {
  /** The Markdown files the site renders as pages: typedoc.json's projectDocuments and the `children:` they list. */
  function sitePages(): Set<string> {
    const config = JSON.parse(readFileSync(path.join(root, 'typedoc.json'), 'utf8')) as { projectDocuments: string[] };
    const pages = new Set<string>();
    const add = (file: string) => {
      pages.add(file);
      const front = /^---\n([\s\S]*?)\n---/.exec(readFileSync(path.join(root, file), 'utf8'))?.[1] ?? '';
      for (const child of front.matchAll(/^\s+- (\S+\.md)$/gm)) add(path.posix.normalize(path.posix.join(path.posix.dirname(file), child[1])));
    };
    config.projectDocuments.forEach(add);
    return pages;
  }

  it('renders every Markdown page that the README or a page links to (not a raw .md file)', () => {
    const pages = sitePages();
    expect(pages.has('docs/performance.md')).toBe(true);
    const linked = new Set<string>();
    for (const file of ['README.md', ...pages]) {
      const text = readFileSync(path.join(root, file), 'utf8');
      for (const [, target] of text.matchAll(/\]\(([^)#\s]+\.md)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target)) continue; // a web address
        linked.add(path.posix.normalize(path.posix.join(path.posix.dirname(file), target)));
      }
    }
    expect([...linked].filter((file) => !pages.has(file) && file !== 'README.md').sort()).toEqual([]);
  });
});
