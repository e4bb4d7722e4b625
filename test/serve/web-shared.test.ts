/**
 * The pure code the browser module shares with the server: the metadata reader agrees with the
 * Node reader on real artifacts, the value ranges mirror the export stage's, the sampler is
 * seeded and standard normal.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { VALUE_RANGES as ARTIFACT_VALUE_RANGES } from '../../src/artifact/metadata';
import { rawMetadata } from '../../src/artifact/onnx-io';
import { toPixelByte, toUnitInterval } from '../../src/serve/web/image-math';
import { normalSamples } from '../../src/artifact/prior';
import { VALUE_RANGES } from '../../src/data/types';
import { readAekitMetadata, readOnnxMetadataProps } from '../../src/artifact/metadata-bytes';
import { testArtifacts } from './helpers';

describe('serve: code shared with the browser', function () {
  this.timeout(60_000);

  it('reads the same aekit metadata as the onnx-proto reader, from every test artifact', async () => {
    const a = await testArtifacts();
    for (const file of [a.vae.decoder, a.vae.encoder, a.cvae.decoder, a.cvae.encoder, a.ae.decoder]) {
      const bytes = new Uint8Array(readFileSync(file));
      assert.deepEqual(readAekitMetadata(bytes), rawMetadata(bytes), file);
    }
    assert.deepEqual(readAekitMetadata(new Uint8Array(readFileSync(a.cvae.decoder))).labelInput, { name: 'label', encoding: 'one-hot' });
  });

  it('rejects bytes that are not protobuf (an HTML error page)', () => {
    assert.throws(() => readOnnxMetadataProps(new TextEncoder().encode('<!doctype html><p>404</p>')), /wire type|past the end|varint/);
  });

  it('mirrors the export stage value ranges and maps values to pixels as PNGs do', () => {
    assert.equal(ARTIFACT_VALUE_RANGES, VALUE_RANGES, 'one table, re-exported');
    assert.equal(toPixelByte(0, 'unit'), 0);
    assert.equal(toPixelByte(1, 'unit'), 255);
    assert.equal(toPixelByte(0.5, 'unit'), 128);
    assert.equal(toPixelByte(0, 'symmetric'), 128);
    assert.equal(toPixelByte(-1.5, 'symmetric'), 0);
    assert.equal(toUnitInterval(2, 'unit'), 1);
  });

  it('draws standard normals reproducibly from a 32-bit seed', () => {
    assert.deepEqual(normalSamples(7, 123), normalSamples(7, 123));
    assert.notDeepEqual(normalSamples(7, 123), normalSamples(7, 124));
    const many = normalSamples(20_000, 9);
    const mean = many.reduce((s, v) => s + v, 0) / many.length;
    const variance = many.reduce((s, v) => s + (v - mean) ** 2, 0) / many.length;
    // Standard error of the mean is 1/sqrt(20000) ~ 0.007; of the variance ~ sqrt(2/20000) ~ 0.01.
    assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
    assert.ok(Math.abs(variance - 1) < 0.05, `variance ${variance}`);
    assert.ok(many.every(Number.isFinite));
  });
});
