// The registered model names, without the models (importing this loads no libtorch): the CLI's choices.
// src/models/registry.ts checks at load that its entries are exactly these, in this order.
export const MODEL_NAMES: readonly string[] = [
  'resnet20', 'resnet32', 'resnet44', 'resnet56', 'resnet110',
  'resnet18', 'resnet34', 'resnet50', 'resnet101', 'resnet152',
  'vgg11_bn', 'vgg16_bn', 'lenet',
];
