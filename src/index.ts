/**
 * freia-ts: invertible neural networks and normalizing flows on
 * TensorFlow.js, with the network's wiring checked by the compiler.
 *
 * @packageDocumentation
 * @module freia-ts
 */
import { input } from './builder/chain.js';
import { graph } from './builder/graph.js';
import { mlp, conv } from './modules/subnets.js';
import { standardNormal, diagonalNormal, classConditionalNormal, gaussianMixture, uniformBox, pushForward, pullBack, standardNormalLogProb } from './distributions/index.js';
import { nll, fit, fitAsync, clipByGlobalNorm } from './train/training.js';
import { adam } from './train/adam.js';
import { cosine, exponential, stepDecay } from './train/schedules.js';
import { bitsPerDim } from './train/metrics.js';

/**
 * Network builders: `inn.input(shape)` starts a {@link Chain} (a sequence
 * of blocks, with `split`/`on`/`concat` for parallel streams), `inn.graph()`
 * a {@link GraphBuilder} (any DAG, with handles).
 *
 * @example
 * ```ts
 * import { inn, subnets } from 'freia-ts';
 * const flow = inn.input([2]).repeat(4, (c) => c.glow({ subnet: subnets.mlp({ hidden: 64 }) }).permuteRandom()).build();
 * ```
 *
 * @namespace
 * @group Building
 */
export const inn = {
  /** @function */
  input,
  /** @function */
  graph,
} as const;
export type { GraphBuilder, Handle, ConditionHandle, GraphBlockOptions, BuildOptions, ShapesOf, HandlesOf } from './builder/graph.js';
/**
 * Subnet constructors for the coupling blocks' `subnet` option: an MLP for
 * vectors, a small CNN for images.
 *
 * @example
 * ```ts
 * import { inn, subnets } from 'freia-ts';
 * inn.input([3, 8, 8]).glow({ subnet: subnets.conv({ hidden: 32 }) }).flatten().glow({ subnet: subnets.mlp({ hidden: 128 }) }).build();
 * ```
 *
 * @namespace
 * @group Modules
 */
export const subnets = {
  /** @function */
  mlp,
  /** @function */
  conv,
} as const;
/**
 * Distributions: bases (standard, diagonal, class-conditional and mixture normals, a uniform box) and FrEIA's two
 * transformed distributions, `pullBack(flow, base)` (the density model, `x = flow⁻¹(z)`) and `pushForward(flow, base)`.
 *
 * @example
 * ```ts
 * import { inn, dist, subnets } from 'freia-ts';
 * const flow = inn.input([2]).glow({ subnet: subnets.mlp({ hidden: 32 }) }).build();
 * const model = dist.pullBack(flow, dist.standardNormal([2]));
 * const samples = model.sample(16); // [16, 2]
 * ```
 *
 * @namespace
 * @group Distributions
 */
export const dist = {
  /** @function */
  standardNormal,
  /** @function */
  diagonalNormal,
  /** @function */
  classConditionalNormal,
  /** @function */
  gaussianMixture,
  /** @function */
  uniformBox,
  /** @function */
  pullBack,
  /** @function */
  pushForward,
  /** @function */
  standardNormalLogProb,
} as const;
/**
 * Training: the NLL loss, a training loop (`fitAsync` on every backend, `fit` where tensors read synchronously), Adam with one fused update
 * for all variables, learning-rate schedules, and `bitsPerDim` to report an NLL the way papers do.
 *
 * @example
 * ```ts
 * import * as tf from '@tensorflow/tfjs';
 * import { inn, train, subnets } from 'freia-ts';
 * const flow = inn.input([2]).glow({ subnet: subnets.mlp({ hidden: 32 }) }).build();
 * const history = await train.fitAsync(flow, {
 *   data: () => ({ x: tf.randomNormal([64, 2]) }),
 *   steps: 10,
 *   learningRate: train.schedules.cosine({ initial: 1e-3, steps: 10 }),
 * });
 * ```
 *
 * @namespace
 * @group Training
 */
export const train = {
  /** @function */
  nll,
  /** @function */
  fit,
  /** @function */
  fitAsync,
  /** @function */
  clipByGlobalNorm,
  /** @function */
  adam,
  /**
   * Learning-rate schedules for {@link FitOptions.learningRate}: a {@link Schedule} maps the step to a rate.
   *
   * @namespace
   */
  schedules: {
    /** @function */
    stepDecay,
    /** @function */
    exponential,
    /** @function */
    cosine,
  },
  /** @function */
  bitsPerDim,
} as const;

export type { Chain, BlockOptions, ConditionRef, RuleErrorOr } from './builder/chain.js';
export { Flow } from './runtime/flow.js';
export type { AnyFlow, Tensors, SeveralTensors, RunOptions, ForwardRunOptions, GradientMemory, FlowResult } from './runtime/flow.js';
export type { GraphDef, NodeDef, ModuleDef, TensorRef, InputNodeDef, ConditionNodeDef, ModuleNodeDef, OutputNodeDef } from './core/graph.js';
export { StandardNormal, DiagonalNormal, ClassConditionalNormal, GaussianMixture, UniformBox, TransformedDistribution } from './distributions/index.js';
export type { Distribution, SampleOptions, LogProbOptions, TransformedOptions } from './distributions/index.js';
export type { FitOptions, Batch, Trainable, DensityModel } from './train/training.js';
export type { Schedule } from './train/schedules.js';
export { Adam } from './train/adam.js';
export { ready, useBackend, backendOrder, backendInfo } from './runtime/backend.js';
export type { BackendInfo } from './runtime/backend.js';
export type { GpuAdapterReport } from './runtime/webgpu.js';
export { toDot, toMermaid, toSvg } from './core/pictures.js';
export { logJacobianNumerical, logJacobianNumericalAsync } from './runtime/numerical.js';
export { saveFlow, loadFlow, memoryHandler } from './io/persistence.js';
export { saveModel, loadModel } from './io/model-persistence.js';
export { imageGrid, imageGridAsync, imageGridSvg } from './io/image-grid.js';
export type { ImageGridOptions } from './io/image-grid.js';
export type { ModelSource } from './io/model-persistence.js';
export { saveCheckpoint, loadCheckpoint, CheckpointError } from './io/checkpoint.js';
export type { Checkpoint, CheckpointTopology } from './io/checkpoint.js';
export type { BaseDescription } from './distributions/index.js';
export type { FlowDestination, FlowSource, LoadFlowOptions, MemoryHandler } from './io/persistence.js';
export { FlowMismatchError } from './io/expectation.js';
export type { FlowShapes, DescribesFlow, FlowExpectation, FlowExpectationOf, ExpectedFlow, MutableShapes, LiteralShapes } from './io/expectation.js';
export { FlowFormatError, UnsavableSubnetError } from './io/saved-format.js';
export type { FlowTopology, FlowDocument, SavedTensor, SavedLayers } from './io/saved-format.js';
export type { NumericalOptions } from './runtime/numerical.js';
export { FreiaError, ShapeMismatchError, WiringError, ValidationError, DisposedError, OptionError, NonFiniteError } from './core/errors.js';
export { SIZE_LIMITS, sizeLimits, setSizeLimits, elementCount, didYouMean } from './core/validation.js';
export type { OptionCheck, OptionChecks, SizeLimits } from './core/validation.js';
export { setGlobalSeed } from './math/rng.js';
export { canReadSync } from './math/readback.js';
export { checkFinite, checkFiniteAsync } from './math/finite.js';
export { InvertibleModule } from './modules/base.js';
export type { ForwardOptions, ModuleResult } from './modules/base.js';
export { registerModule, moduleEntry } from './modules/registry.js';
export type { ModuleSpec, ConditionUse, KeepRule, AnyShape, RuleResult, FreiaImport, NoOptions, OptionsOf, RuleOfEntry } from './modules/registry.js';
export { catalogue, shapeKeeping, shapeChanging, wrappers, defineModule, freiaArgs } from './modules/catalogue.js';
export type { BuiltInKind, ShapeKeepingMethod } from './modules/catalogue.js';
export type { ChainBlocks, RequiredConditionRef } from './builder/chain.js';
export type { GraphBlocks } from './builder/graph.js';
export type { FaceOptions, OptionsParameter, CondOption, ConditionUseOf } from './builder/faces.js';
export type { Subnet, SubnetFactory, AnySubnet, SubnetFor, SubnetKind, SubnetSpec, StackSubnetSpec, SubnetInit, LayersModelLike, DescribableModel, MlpOptions, ConvOptions } from './modules/subnets.js';
export type { SequentialLayer, SequentialSubnetSpec } from './modules/sequential-subnet.js';
export type { PermuteRandomOptions } from './modules/permute.js';
export { AllInOneBlock } from './modules/all-in-one.js';
export { GlowCoupling, RnvpCoupling, NiceCoupling } from './modules/coupling.js';
export { ActNorm } from './modules/actnorm.js';
export { PermuteRandom } from './modules/permute.js';
export { IRevNetDownsampling, HaarDownsampling, Flatten, Reshape } from './modules/reshapes.js';
export { Split, Concat } from './modules/topology.js';
export type { AllInOneOptions } from './modules/all-in-one.js';
export type { CouplingOptions, ClampActivation, NiceOptions } from './modules/coupling.js';
export type { SplitOptions, ConcatOptions, SplitSections, SplitShapes, ConcatShape } from './modules/topology.js';
export type { HaarOptions, IRevNetOptions, ReshapeOptions, Downsample, Upsample, Flattened, ReshapeTarget } from './modules/reshapes.js';
export type { Shape, Shapes, ShapeError, FormatShape, Indices, ReplaceAt, SetDim, Single, AsShape, MutableShape, Literal, IsOdd } from './types/shape.js';
export type { Add, Sub, Mul, Sum, Product, Half, IsEven, Compare, IsLiteral, AllLiteral } from './types/arithmetic.js';
export { importFreia, loadFreiaWeights, freiaGraph, toTensor, FreiaImportError } from './io/freia.js';
export { verifyFreia, verifyFreiaAsync, TOLERANCE } from './io/freia-verify.js';
export { exportFreia, FreiaExportError } from './io/freia-export.js';
export type { ExportFreiaOptions, ExportRefusal } from './io/freia-export.js';
export { exportFreiaTraining } from './io/freia-training.js';
export type { ExportFreiaTrainingOptions } from './io/freia-training.js';
export { Fm, AbstractNode, InputNode, ConditionNode, Node, OutputNode, GraphINN, SequenceINN } from './builder/freia-style.js';
export type { ModuleType, Connection, FlexibleInputs, FreiaRunOptions, SequenceRunOptions } from './builder/freia-style.js';
export type { ShapeRule, ApplyRule, RuleOf, ArgsOf, CustomModuleClass } from './modules/custom.js';
export type { FreiaDocument, FreiaNode, FreiaTensor, FreiaCase } from './io/freia.js';
export type { VerifyReport, Deviation } from './io/freia-verify.js';
export { GinCoupling, AffineCouplingOneSided, ConditionalAffineTransform } from './modules/coupling.js';
export type { ConditionalAffineOptions } from './modules/coupling.js';
export { RationalQuadraticSpline, LinearSpline, SplineCoupling, ElementwiseRationalQuadraticSpline } from './modules/splines.js';
export { Inverse } from './modules/inverse.js';
export { MaskedAutoregressiveFlow, AutoregressiveRqSpline } from './modules/autoregressive.js';
export type { MadeOptions, MafOptions, ArSplineOptions, Ordering } from './modules/autoregressive.js';
export type { InverseOptions } from './modules/inverse.js';
export type { SplineOptions, RqSplineOptions, LinearSplineOptions, ElementwiseRqSplineOptions, ElementwiseConditioning } from './modules/splines.js';
export { FixedLinearTransform, Fixed1x1Conv, InvertibleSigmoid, LearnedElementwiseScaling } from './modules/fixed.js';
export type { MatrixRows, FixedLinearOptions, Fixed1x1ConvOptions, LearnedElementwiseScalingOptions, RequireVector, RequireImage, VectorRule, ImageRule } from './modules/fixed.js';
export { OrthogonalTransform, HouseholderPerm } from './modules/orthogonal.js';
export type { OrthogonalOptions, HouseholderPermOptions } from './modules/orthogonal.js';
export { InvertibleConv1x1LU } from './modules/lu-conv.js';
export type { Conv1x1LUOptions } from './modules/lu-conv.js';
export { IResNetLayer, lipschitzCorrection } from './modules/iresnet.js';
export type { IResNetOptions, IResNetShape, IResNetRule } from './modules/iresnet.js';
export { InvAutoAct, InvAutoActFixed, InvAutoActTwoSided, InvAutoFC, InvAutoConv2D } from './modules/inv-auto.js';
export type { InvAutoActOptions, InvAutoActTwoSidedOptions, InvAutoFCOptions, InvAutoConv2DOptions, InvAutoFCShape, InvAutoConv2DShape } from './modules/inv-auto.js';
export { GaussianMixtureModel } from './modules/gaussian-mixture.js';
export { UniformDequantization, LogitTransform } from './modules/preprocessing.js';
export type { DequantizeOptions, LogitOptions } from './modules/preprocessing.js';
export type { GaussianMixtureOptions, MixtureComponent } from './modules/gaussian-mixture.js';
