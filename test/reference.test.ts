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
