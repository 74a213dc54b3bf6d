/**
 * A TypeDoc plugin: the builders' catalogue-generated block methods
 * (`Chain.glow`, `GraphBuilder.glow`, …) render as methods with the
 * signature a user calls, not as properties of the type that computes it.
 *
 * In the source each is a property of a mapped type over the catalogue
 * (`ChainBlocks`, `GraphBlocks`) whose type is `RuleErrorOr<rule, method>`:
 * the method when the module's shape rule accepts the stream, the rule's
 * message otherwise. The reference shows the accepted case, which is what a
 * reader looks up: the property becomes a method, `RuleErrorOr<R, F>` is
 * replaced by `F` (and `Handle<S> & RuleErrorOr<R, unknown>` by
 * `Handle<S>`), and the options rest tuple `...options: [options: O]` by the
 * parameter `options: O` (optional where the tuple member is). What a
 * rejected call looks like is said on `ChainBlocks` and `GraphBlocks`.
 */
import { Converter, IntersectionType, ReflectionFlag, ReflectionKind, ReflectionType } from 'typedoc';

const BUILDERS = new Set(['Chain', 'GraphBuilder', 'ChainBlocks', 'GraphBlocks']);

const isRuleErrorOr = (type) => type?.type === 'reference' && type.name === 'RuleErrorOr' && type.typeArguments?.length === 2;

/** `A & RuleErrorOr<R, unknown>` → `A`. */
function withoutRuleCheck(type) {
  if (!(type instanceof IntersectionType)) return type;
  const kept = type.types.filter((t) => !isRuleErrorOr(t));
  return kept.length === 1 ? kept[0] : kept.length === type.types.length ? type : new IntersectionType(kept);
}

/** `...options: [options: O]` → `options: O` (optional where the member is). */
function plainOptions(parameter) {
  const tuple = parameter.type;
  if (!parameter.flags.isRest || tuple?.type !== 'tuple' || tuple.elements.length !== 1) return;
  const member = tuple.elements[0];
  if (member.type !== 'namedTupleMember') return;
  parameter.name = member.name;
  parameter.type = member.element;
  parameter.setFlag(ReflectionFlag.Rest, false);
  parameter.setFlag(ReflectionFlag.Optional, member.isOptional);
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (reflection.kind !== ReflectionKind.Property || !BUILDERS.has(reflection.parent?.name)) return;
    let type = reflection.type;
    if (isRuleErrorOr(type)) type = type.typeArguments[1];
    if (!(type instanceof ReflectionType) || !type.declaration.signatures?.length) return;
    const literal = type.declaration;
    const signatures = literal.signatures;
    literal.signatures = undefined;
    reflection.kind = ReflectionKind.Method;
    reflection.setFlag(ReflectionFlag.Readonly, false);
    reflection.type = undefined;
    reflection.signatures = signatures;
    for (const signature of signatures) {
      signature.parent = reflection;
      signature.name = reflection.name;
      signature.comment ??= reflection.comment?.clone();
      for (const parameter of signature.parameters ?? []) {
        parameter.type = withoutRuleCheck(parameter.type);
        plainOptions(parameter);
      }
    }
    reflection.comment = undefined;
    context.project.removeReflection(literal);
  });
}
