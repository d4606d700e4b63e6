// The registry of ATen operators csgnet uses: one line per op, resolved lazily to a dispatcher
// handle. Tensor methods and functional ops call `op(key, ...)` (tensor.ts), which wraps `callOpRaw`
// below; adding an op is one line here.
import { native, type Handle } from './native.js';
import { TorchError } from './errors.js';

export const OPS = {
  // creation
  zeros: 'aten::zeros', ones: 'aten::ones', full: 'aten::full', empty: 'aten::empty.memory_format',
  arange: 'aten::arange.start_step', linspace: 'aten::linspace', eye: 'aten::eye',
  rand: 'aten::rand', randn: 'aten::randn', randint: 'aten::randint.low', randperm: 'aten::randperm',
  zerosLike: 'aten::zeros_like', onesLike: 'aten::ones_like', fullLike: 'aten::full_like',
  randLike: 'aten::rand_like', randnLike: 'aten::randn_like', emptyLike: 'aten::empty_like',
  normal_: 'aten::normal_', uniform_: 'aten::uniform_', bernoulli_: 'aten::bernoulli_.float',
  set_: 'aten::set_.source_Tensor', zero_: 'aten::zero_', fill_: 'aten::fill_.Scalar', copy_: 'aten::copy_',
  // arithmetic
  add: 'aten::add.Tensor', addScalar: 'aten::add.Scalar', sub: 'aten::sub.Tensor', subScalar: 'aten::sub.Scalar',
  rsubScalar: 'aten::rsub.Scalar',
  mul: 'aten::mul.Tensor', mulScalar: 'aten::mul.Scalar', div: 'aten::div.Tensor', divScalar: 'aten::div.Scalar',
  divMode: 'aten::div.Tensor_mode', divScalarMode: 'aten::div.Scalar_mode', remainder: 'aten::remainder.Tensor', remainderScalar: 'aten::remainder.Scalar',
  add_: 'aten::add_.Tensor', addScalar_: 'aten::add_.Scalar', sub_: 'aten::sub_.Tensor', subScalar_: 'aten::sub_.Scalar',
  mul_: 'aten::mul_.Tensor', mulScalar_: 'aten::mul_.Scalar', div_: 'aten::div_.Tensor', divScalar_: 'aten::div_.Scalar',
  addcmul_: 'aten::addcmul_', addcdiv_: 'aten::addcdiv_', lerp_: 'aten::lerp_.Scalar',
  neg: 'aten::neg', pow: 'aten::pow.Tensor_Tensor', powScalar: 'aten::pow.Tensor_Scalar',
  abs: 'aten::abs', exp: 'aten::exp', log: 'aten::log', log1p: 'aten::log1p', log2: 'aten::log2',
  sqrt: 'aten::sqrt', rsqrt: 'aten::rsqrt', sign: 'aten::sign', square: 'aten::square',
  reciprocal: 'aten::reciprocal', floor: 'aten::floor', ceil: 'aten::ceil', round: 'aten::round',
  sin: 'aten::sin', cos: 'aten::cos', erf: 'aten::erf',
  clamp: 'aten::clamp', clampTensor: 'aten::clamp.Tensor', clamp_: 'aten::clamp_', maximum: 'aten::maximum',
  minimum: 'aten::minimum', sqrt_: 'aten::sqrt_',
  // comparison and logic
  eq: 'aten::eq.Tensor', eqScalar: 'aten::eq.Scalar', ne: 'aten::ne.Tensor', neScalar: 'aten::ne.Scalar',
  lt: 'aten::lt.Tensor', ltScalar: 'aten::lt.Scalar', le: 'aten::le.Tensor', leScalar: 'aten::le.Scalar',
  gt: 'aten::gt.Tensor', gtScalar: 'aten::gt.Scalar', ge: 'aten::ge.Tensor', geScalar: 'aten::ge.Scalar',
  logicalAnd: 'aten::logical_and', logicalOr: 'aten::logical_or', logicalNot: 'aten::logical_not',
  where: 'aten::where.self', isnan: 'aten::isnan', isfinite: 'aten::isfinite', allclose: 'aten::allclose',
  any: 'aten::any', all: 'aten::all', equal: 'aten::equal',
  // reductions
  sum: 'aten::sum', sumDim: 'aten::sum.dim_IntList', mean: 'aten::mean', meanDim: 'aten::mean.dim',
  max: 'aten::max', maxDim: 'aten::max.dim', min: 'aten::min', minDim: 'aten::min.dim',
  amax: 'aten::amax', amin: 'aten::amin', argmax: 'aten::argmax', argmin: 'aten::argmin',
  topk: 'aten::topk', sort: 'aten::sort', argsort: 'aten::argsort', kthvalue: 'aten::kthvalue',
  var: 'aten::var.correction', std: 'aten::std.correction', norm: 'aten::norm.ScalarOpt_dim',
  prod: 'aten::prod', cumsum: 'aten::cumsum', logsumexp: 'aten::logsumexp', quantile: 'aten::quantile.scalar',
  countNonzero: 'aten::count_nonzero.dim_IntList', bincount: 'aten::bincount',
  // linear algebra
  matmul: 'aten::matmul', mm: 'aten::mm', bmm: 'aten::bmm', t: 'aten::t', outer: 'aten::outer',
  linear: 'aten::linear',
  // shape and indexing
  reshape: 'aten::reshape', view: 'aten::view', permute: 'aten::permute', transpose: 'aten::transpose.int',
  contiguous: 'aten::contiguous', squeeze: 'aten::squeeze', squeezeDim: 'aten::squeeze.dim',
  unsqueeze: 'aten::unsqueeze', flatten: 'aten::flatten.using_ints', expand: 'aten::expand',
  repeat: 'aten::repeat', narrow: 'aten::narrow', slice: 'aten::slice.Tensor', select: 'aten::select.int',
  indexSelect: 'aten::index_select', gather: 'aten::gather', scatter: 'aten::scatter.src',
  scatterValue: 'aten::scatter.value', scatterAdd: 'aten::scatter_add', maskedFill: 'aten::masked_fill.Scalar',
  maskedSelect: 'aten::masked_select', index: 'aten::index.Tensor', indexPut_: 'aten::index_put_',
  nonzero: 'aten::nonzero', cat: 'aten::cat', stack: 'aten::stack', split: 'aten::split.Tensor',
  splitSizes: 'aten::split_with_sizes', chunk: 'aten::chunk', unbind: 'aten::unbind.int',
  flip: 'aten::flip', roll: 'aten::roll', pad: 'aten::constant_pad_nd', reflectionPad2d: 'aten::reflection_pad2d',
  replicationPad2d: 'aten::replication_pad2d', clone: 'aten::clone', detach: 'aten::detach',
  to: 'aten::to.dtype', toDevice: 'aten::to.device', item: 'aten::item', requiresGrad_: 'aten::requires_grad_',
  oneHot: 'aten::one_hot', tril: 'aten::tril', triu: 'aten::triu',
  // neural network ops
  conv2d: 'aten::conv2d', convTranspose2d: 'aten::conv_transpose2d.input', batchNorm: 'aten::batch_norm',
  layerNorm: 'aten::layer_norm', groupNorm: 'aten::group_norm',
  maxPool2d: 'aten::max_pool2d', maxPool2dWithIndices: 'aten::max_pool2d_with_indices', avgPool2d: 'aten::avg_pool2d',
  adaptiveAvgPool2d: 'aten::adaptive_avg_pool2d', adaptiveMaxPool2d: 'aten::adaptive_max_pool2d',
  relu: 'aten::relu', relu_: 'aten::relu_', leakyRelu: 'aten::leaky_relu', sigmoid: 'aten::sigmoid',
  tanh: 'aten::tanh', gelu: 'aten::gelu', silu: 'aten::silu', softmax: 'aten::softmax.int',
  logSoftmax: 'aten::log_softmax.int', dropout: 'aten::dropout', crossEntropy: 'aten::cross_entropy_loss',
  nllLoss: 'aten::nll_loss_nd', mseLoss: 'aten::mse_loss', l1Loss: 'aten::l1_loss',
  bceWithLogits: 'aten::binary_cross_entropy_with_logits', bce: 'aten::binary_cross_entropy',
  upsampleBilinear2d: 'aten::upsample_bilinear2d.vec', upsampleNearest2d: 'aten::upsample_nearest2d.vec',
} as const;

export type OpKey = keyof typeof OPS;

const handles = new Map<OpKey, number>();

export function opId(key: OpKey): number {
  let id = handles.get(key);
  if (id === undefined) {
    const full = OPS[key];
    const dot = full.indexOf('.', 6);
    id = native.opHandle(dot < 0 ? full : full.slice(0, dot), dot < 0 ? '' : full.slice(dot + 1));
    handles.set(key, id);
  }
  return id;
}

/** The ATen schema of an op, e.g. for error messages and documentation. */
export function opSchema(key: OpKey): string {
  return native.opSchema(opId(key));
}

/** Anything that carries a native handle (Tensor), so this module does not depend on tensor.ts. */
export interface HasHandle { readonly h: Handle }

function toNativeArg(a: unknown): unknown {
  if (a !== null && typeof a === 'object') {
    if ('h' in (a as object) && (a as any).__isTensor) return (a as HasHandle).h;
    if (Array.isArray(a)) return a.map(toNativeArg);
  }
  return a;
}

/** Calls an ATen op by registry key. Returns raw native results (handles, numbers, arrays). */
export function callOpRaw(key: OpKey, args: unknown[]): any {
  const nargs = new Array(args.length);
  for (let i = 0; i < args.length; i++) nargs[i] = toNativeArg(args[i]);
  try {
    return native.op(opId(key), nargs);
  } catch (e) {
    const err = e as Error;
    // Arguments that cannot be converted stay TypeErrors (the caller's mistake, found before libtorch runs).
    if (err instanceof TypeError) { err.message = `${OPS[key]}: ${err.message}`; throw err; }
    throw new TorchError(OPS[key], native.opSchema(opId(key)), err.message);
  }
}
