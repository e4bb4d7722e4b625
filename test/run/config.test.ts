/**
 * Run configs are strict at every level: a misspelt or misplaced key is a BAD_CONFIG naming the
 * field in full, with the field meant when one is close, never a setting silently left at its
 * default (issue 16: `train.learningrate`, `learnigRate`, `valuRange` were ignored).
 */
import { strict as assert } from 'node:assert';
import { closestName } from '../../src/core/suggest';
import { AekitError } from '../../src/core/errors';
import { resolveRunConfig, unknownConfigField } from '../../src/run/config';

const base = { name: 'x', model: { family: 'vae' }, data: { dataset: { name: 'mnist' } } };

function refusal(input: unknown): string {
  try {
    resolveRunConfig(input, 'recipe.json');
  } catch (error) {
    assert.ok(error instanceof AekitError);
    assert.equal(error.code, 'BAD_CONFIG');
    return error.message;
  }
  assert.fail('the config was accepted');
}

describe('run/config: unknown keys at every level', () => {
  it('under train, train.adam, data, data.dataset and model: named in full, with a did-you-mean', () => {
    assert.equal(refusal({ ...base, train: { learningrate: 0.5 } }), "recipe.json: unknown field 'train.learningrate'; did you mean 'train.learningRate'?");
    assert.equal(refusal({ ...base, train: { learnigRate: 0.5 } }), "recipe.json: unknown field 'train.learnigRate'; did you mean 'train.learningRate'?");
    assert.match(refusal({ ...base, train: { adam: { beta3: 0.9 } } }), /unknown field 'train\.adam\.beta3'; did you mean 'train\.adam\.beta1'\?/);
    assert.equal(refusal({ ...base, data: { ...base.data, valuRange: 'unit' } }), "recipe.json: unknown field 'data.valuRange'; did you mean 'data.valueRange'?");
    assert.match(
      refusal({ ...base, data: { dataset: { name: 'folder', path: 'imgs', height: 8, width: 8, channels: 1, limt: 3 } } }),
      /unknown field 'data\.dataset\.limt'; did you mean 'data\.dataset\.limit'\?/,
    );
    assert.match(refusal({ ...base, model: { family: 'vae', latentSzie: 3 } }), /unknown field 'model\.latentSzie' for family 'vae'; did you mean 'model\.latentSize'\?/);
  });

  it('at the top level, a run setting is pointed to its section; a key close to nothing lists the fields', () => {
    assert.equal(refusal({ ...base, learnigRate: 1 }), "recipe.json: unknown field 'learnigRate'; did you mean 'train.learningRate'?");
    assert.equal(refusal({ ...base, valueRange: 'unit' }), "recipe.json: unknown field 'valueRange'; did you mean 'data.valueRange'?");
    assert.equal(refusal({ ...base, zzz: 1 }), "recipe.json: unknown field 'zzz'; the fields are: name, outDir, description, model, data, train");
    assert.match(refusal({ ...base, model: { family: 'vae', qqq: 1 } }), /unknown field 'model\.qqq' for family 'vae'; the fields of 'model' are: family, latentSize, /);
  });

  it('every field the schemas know is accepted, and a recipe may say what it is for', () => {
    const config = resolveRunConfig({ ...base, description: 'a test', data: { ...base.data, valueRange: 'unit' }, train: { learningRate: 0.5, adam: { beta1: 0.5 } } });
    assert.equal(config.train.learningRate, 0.5);
    assert.equal(config.train.adam.beta1, 0.5);
    assert.equal(config.description, 'a test');
  });

  it('unknownConfigField checks a --set key against the config it goes into (the family decides the model fields)', () => {
    assert.equal(unknownConfigField(base, 'train.learningrate'), "unknown field 'train.learningrate'; did you mean 'train.learningRate'?");
    assert.equal(unknownConfigField(base, 'model.latentSzie'), "unknown field 'model.latentSzie'; did you mean 'model.latentSize'?");
    assert.equal(unknownConfigField({ ...base, model: { family: 'dcgan' } }, 'model.latentSize'), undefined);
    assert.match(unknownConfigField({ ...base, model: { family: 'dcgan' } }, 'model.convChannels') ?? '', /unknown field 'model\.convChannels'/);
    for (const key of ['train.learningRate', 'train.adam.beta1', 'data.dataset.limit', 'data.valueRange', 'model.convChannels', 'model.convChannels.0', 'description']) {
      assert.equal(unknownConfigField(base, key), undefined, key);
    }
  });

  it('closestName: case, one typo or a swapped pair find the name; a stranger finds none', () => {
    const names = ['learningRate', 'lrDecay', 'epochs', 'batchSize'];
    assert.equal(closestName('learningrate', names), 'learningRate');
    assert.equal(closestName('learnigRate', names), 'learningRate');
    assert.equal(closestName('learnnigRate', names), 'learningRate');
    assert.equal(closestName('epohcs', names), 'epochs');
    assert.equal(closestName('momentum', names), undefined);
    assert.equal(closestName('lr', names), undefined);
  });
});
