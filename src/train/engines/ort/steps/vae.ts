/** vae (src/models/vae.ts): the shared autoencoder step (./autoencoder.ts), variational. */
import { autoencoderStep } from './autoencoder';
import type { StepBuilder } from './builder';

/** The ort training step of `vae`. */
export const vaeStep: StepBuilder = autoencoderStep({ variational: true });
