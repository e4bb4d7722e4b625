/**
 * Metric maths (functions on typed arrays, no models): FID's Fréchet distance, KID, SSIM and PSNR,
 * each matching its reference implementation (pytorch-fid, torchmetrics/numpy, scikit-image).
 */
export { COVARIANCE_TOLERANCE, covarianceProblem, FID_EPS, featureStats, frechetDistance, type FeatureStats } from './fid';
export { KID_DEFAULTS, kid, mmdOfSubsets, type KidOptions, type KidResult, type KidSubset } from './kid';
export { DEFAULT_DATA_RANGE, SSIM_SIGMA, SSIM_WIN_SIZE, meanSsim, ssim, type ImageMetricOptions } from './ssim';
export { meanPsnr, psnr } from './psnr';
