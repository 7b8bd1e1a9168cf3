import { idxDataset } from './mnist.js';

export const fashionMnist = idxDataset('fashion-mnist', 'Fashion-MNIST (IDX files): 28×28×1, 10 classes of clothing, 60,000 train / 10,000 test (downloaded when missing).');
