/**
 * Latent-space tools on exported artifacts (`aekit latent`): fit a Gaussian or GMM to codes and
 * sample from it, attribute vectors between two groups applied to other images, interpolation
 * strips and GIFs, and the 2-D scatter of codes coloured by class.
 */
export { LatentModel, openLatentModel } from './artifacts';
export {
  COVARIANCE_REGULARISER,
  EM_MAX_ITERATIONS,
  EM_TOLERANCE,
  fitGaussian,
  fitGmm,
  logLikelihood,
  parseDistribution,
  sampleCodes,
  standardNormal,
  type CovarianceType,
  type GaussianComponent,
  type GaussianFitOptions,
  type GmmFitOptions,
  type LatentDistribution,
} from './distribution';
export {
  DEFAULT_GMM_COMPONENTS,
  distributionPath,
  fitLatentDistribution,
  loadDistribution,
  resolveDistribution,
  sampleImages,
  saveDistribution,
  type DistributionKind,
  type LatentFitOptions,
} from './fit';
export { LATENT_DATASETS, loadLatentImages, subsetLatentImages, type LatentImageSource, type LatentImages } from './images';
export {
  DEFAULT_VECTOR_SCALES,
  applyAttributeVector,
  attributeVector,
  parseAttributeVector,
  selectGroups,
  type AttributeVector,
  type GroupRule,
  type Groups,
} from './attribute';
export {
  DEFAULT_INTERPOLATION_STEPS,
  LATENT_FIGURE_SCALE,
  interpolateCodes,
  interpolateImages,
  interpolationGif,
  type InterpolateOptions,
  type InterpolationMethod,
} from './interpolate';
export { SCATTER_PALETTE, projectTo2d, scatterPng, type Projection, type ScatterOptions } from './scatter';
export { GIF_FRAME_DELAY_MS, framesToGif, type GifOptions, type RgbaFrame } from './gif';
export {
  DEFAULT_CLASSIFY_TEST_FRACTION,
  classifyMarkdown,
  classifyRepresentations,
  splitPerClass,
  type ClassSplit,
  type ClassifyOptions,
  type ClassifyResult,
  type RepresentationScores,
} from './classify';
export { attributeEditGrid, codeScatter, latentGridPng, sampleGrid, type CodeScatter, type SampleGrid, type SampleGridOptions } from './figures';
export { imagePairs, loadAttributeVector, openLatentModels } from './loading';
