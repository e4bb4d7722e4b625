/** Locations inside the installed package (work from src/ under tsx and from dist/ alike). */
import * as path from 'node:path';

/** Root of the aekit package (where package.json is). */
export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

/** Shipped recipes. */
export const EXPERIMENTS_DIR = path.join(PACKAGE_ROOT, 'experiments');

/** Shipped trained artifacts (the MNIST FID classifier, demo decoders). */
export const MODELS_DIR = path.join(PACKAGE_ROOT, 'models');
