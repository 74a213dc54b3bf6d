/**
 * The types that turn a catalogue entry into a builder method's options: the
 * module's own options, `name`, and the `cond` option its condition use asks
 * for, in the way the face names conditions (indices in a chain, handles in
 * a graph).
 */
import type { ConditionUse, KeepRule, ModuleSpec, OptionsOf } from '../modules/index.js';
import type { AnySubnet, SubnetFor } from '../modules/subnets.js';

/**
 * How an entry reads conditions.
 *
 * @group Type machinery
 */
export type ConditionUseOf<E> = E extends ModuleSpec<string, object, infer U, KeepRule> ? U : never;

/**
 * The `cond` option for condition use `Use`, where a face names conditions
 * by `Ref` (one or several) and `Required` (at least one):
 * `CondOption<'optional', 0 | 1, ...>` is `{ readonly cond?: 0 | 1 }`.
 *
 * @group Type machinery
 */
export type CondOption<Use extends ConditionUse, Ref, Required> = Use extends 'none'
  ? unknown
  : Use extends 'optional'
    ? { readonly cond?: Ref }
    : Use extends 'required'
      ? { readonly cond: Required }
      : { readonly subnet?: undefined; readonly cond?: undefined } | { readonly subnet: AnySubnet; readonly cond: Ref };

/**
 * A block's options in a face: the entry's options, `name`, and its `cond` option.
 *
 * @group Type machinery
 */
export type FaceOptions<E, Ref, Required> = OptionsOf<E> & { readonly name?: string } & CondOption<ConditionUseOf<E>, Ref, Required>;

/**
 * The `subnet` option narrowed to the subnets that fit the stream `S`
 * (`SubnetFit<glow entry, [2]>` admits `subnets.mlp` but not
 * `subnets.conv`); nothing for modules without a `subnet` option.
 */
export type SubnetFit<E, S> = 'subnet' extends keyof OptionsOf<E> ? { readonly subnet?: SubnetFor<S> } : unknown;

/**
 * The options parameter of a block method: optional when every option is (`[options?: O]`), else required.
 *
 * @group Type machinery
 */
export type OptionsParameter<O> = {} extends O ? [options?: O] : [options: O];
