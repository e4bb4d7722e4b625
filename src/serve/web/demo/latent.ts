/**
 * Latent controls: a slider per Gaussian dimension (the first few shown, the rest behind "more")
 * and, for Gumbel and joint VAEs, each categorical variable as a row of one-hot toggles (radio
 * buttons: arrow keys move the choice), laid out from the artifact's `categorical` description.
 */
import type { ArtifactInfo } from '../../../artifact/info';
import { drawLatents, MAX_SEED, normalSamples } from '../../../artifact/prior';
import { h } from './ui';

/** Sliders shown before "more". */
export const SLIDERS_SHOWN = 8;
/** Categorical variables shown before "more". */
const GROUPS_SHOWN = 4;
/** Slider range: ±3 standard deviations of the N(0, 1) prior. */
const SLIDER_LIMIT = 3;

/** How a decoder's input splits: Gaussian dimensions first, then one-hot groups. */
export interface LatentLayout {
  size: number;
  gaussian: number;
  categorical?: { variables: number; classes: number };
}

/** The layout of `info`'s latent input (the artifact's `categorical` description, else all Gaussian). */
export function latentLayout(info: ArtifactInfo, size: number): LatentLayout {
  const c = info.categorical;
  if (!c || c.variables * c.classes > size) return { size, gaussian: size };
  return { size, gaussian: size - c.variables * c.classes, categorical: { variables: c.variables, classes: c.classes } };
}

/** A code to start from or to press "random" for: the prior's draw when the artifact has one, else N(0, I). */
export function randomCode(info: ArtifactInfo, size: number, seed = Math.floor(Math.random() * MAX_SEED)): Float32Array {
  return info.canSample ? drawLatents(info, 1, seed) : normalSamples(size, seed);
}

/** The controls, wired. */
export interface LatentControls {
  /** Show `z` (no change event). */
  show(z: ArrayLike<number>): void;
}

/**
 * Build the controls in `container`; `edited(z)` runs with the whole new code after every change.
 * `current()` gives the code the controls start from when edited.
 */
export function wireLatent(container: HTMLElement, layout: LatentLayout, info: ArtifactInfo, current: () => Float32Array, edited: (z: Float32Array) => void): LatentControls {
  const sliders: { input: HTMLInputElement; value: HTMLOutputElement }[] = [];
  const shown = h('div', { class: 'sliders' });
  const hidden = h('div', { class: 'sliders' });
  for (let i = 0; i < layout.gaussian; i++) {
    const input = h('input', { type: 'range', id: `z${i}`, min: -SLIDER_LIMIT, max: SLIDER_LIMIT, step: 0.01, value: 0, 'aria-label': `z${i}` });
    const value = h('output', { for: `z${i}`, text: '0.00' });
    input.addEventListener('input', () => {
      const z = current().slice();
      z[i] = Number(input.value);
      value.textContent = z[i].toFixed(2);
      edited(z);
    });
    (i < SLIDERS_SHOWN ? shown : hidden).append(h('label', { for: `z${i}`, text: `z${i}` }), input, value);
    sliders.push({ input, value });
  }
  container.append(shown);
  if (layout.gaussian > SLIDERS_SHOWN) container.append(h('details', {}, h('summary', { text: `more (${layout.gaussian - SLIDERS_SHOWN} dimensions)` }), hidden));

  const groups: HTMLInputElement[][] = [];
  if (layout.categorical) {
    const { variables, classes } = layout.categorical;
    const more = h('div');
    for (let v = 0; v < variables; v++) {
      const radios: HTMLInputElement[] = [];
      const chips = h('div', { class: 'chips' });
      for (let k = 0; k < classes; k++) {
        const radio = h('input', { type: 'radio', name: `c${v}`, id: `c${v}-${k}`, value: k, 'aria-label': `variable ${v}, class ${k}` });
        radio.addEventListener('change', () => {
          const z = current().slice();
          const base = layout.gaussian + v * classes;
          for (let j = 0; j < classes; j++) z[base + j] = j === k ? 1 : 0;
          edited(z);
        });
        radios.push(radio);
        chips.append(h('label', {}, radio, h('span', { text: String(k) })));
      }
      const group = h('fieldset', { class: 'group' }, h('legend', { text: `categorical variable c${v} (one-hot, ${classes} classes)` }), chips);
      (v < GROUPS_SHOWN ? container : more).append(group);
      groups.push(radios);
    }
    if (variables > GROUPS_SHOWN) container.append(h('details', {}, h('summary', { text: `more (${variables - GROUPS_SHOWN} variables)` }), more));
  }

  const zero = h('button', { type: 'button', id: 'zero', text: layout.categorical ? 'reset' : 'zero' });
  const random = h('button', { type: 'button', id: 'random', text: 'random' });
  zero.addEventListener('click', () => {
    const z = new Float32Array(layout.size);
    // A valid categorical code has one class per variable: class 0.
    for (let v = 0; v < (layout.categorical?.variables ?? 0); v++) z[layout.gaussian + v * layout.categorical!.classes] = 1;
    edited(z);
  });
  random.addEventListener('click', () => edited(randomCode(info, layout.size)));
  container.append(h('div', { class: 'tools' }, zero, random));

  return {
    show(z) {
      sliders.forEach(({ input, value }, i) => {
        input.value = String(z[i]);
        value.textContent = z[i].toFixed(2);
      });
      groups.forEach((radios, v) => {
        const base = layout.gaussian + v * radios.length;
        let best = 0;
        for (let k = 1; k < radios.length; k++) if (z[base + k] > z[base + best]) best = k;
        radios.forEach((r, k) => (r.checked = k === best));
      });
    },
  };
}
