/**
 * Metric maths (pure functions on typed arrays, no models): FID's Fréchet distance, SSIM and PSNR,
 * each matching its reference implementation (pytorch-fid, scikit-image).
 */
export { FID_EPS, featureStats, frechetDistance, type FeatureStats } from './fid';
export { DEFAULT_DATA_RANGE, SSIM_SIGMA, SSIM_WIN_SIZE, meanSsim, ssim, type ImageMetricOptions } from './ssim';
export { meanPsnr, psnr } from './psnr';
