/**
 * The dataset registry: one file per dataset under src/data/datasets/, one `register` call each. The schema's
 * `dataset` section, validation (`checkDataset`) and loading (`loadDataset`, src/data/index.ts) read it.
 */
import { Registry } from '../registry.js';
import { cifar10 } from './datasets/cifar10.js';
import { digits } from './datasets/digits.js';
import { fashionMnist } from './datasets/fashion-mnist.js';
import { imageFolder } from './datasets/image-folder.js';
import type { DatasetKind } from './datasets/kind.js';
import { mnist } from './datasets/mnist.js';
import { DATASET_OPTIONS, DATASET_SHARED } from './datasets/options.js';
import { synthetic } from './datasets/synthetic.js';

export type { DatasetKind, DatasetProblem, Filled } from './datasets/kind.js';

export const datasets = new Registry<DatasetKind>('dataset', DATASET_OPTIONS, DATASET_SHARED);

datasets.register(cifar10);
datasets.register(mnist);
datasets.register(fashionMnist);
datasets.register(digits);
datasets.register(imageFolder);
datasets.register(synthetic);
