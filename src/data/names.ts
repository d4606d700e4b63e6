// The dataset names loadDataset knows, without the loaders (importing this loads neither sharp nor
// any data code): the CLI's choices.
export const KNOWN_DATASETS = ['fashion-mnist', 'mnist', 'cifar10', 'cifar100', 'imagefolder', 'cluttered-fashion-mnist', 'cluttered-mnist', 'voc-part'] as const;
export type DatasetName = (typeof KNOWN_DATASETS)[number];
