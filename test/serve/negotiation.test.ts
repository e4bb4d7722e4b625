/**
 * Content negotiation: Accept with q-values (RFC 9110 §12.5.1), and the Content-Type and
 * Content-Encoding a request body may have.
 */
import { strict as assert } from 'node:assert';
import { HttpError } from '../../src/serve/http-error';
import { bodyEncoding, checkJsonContentType, negotiate } from '../../src/serve/negotiation';
import type { ResponseFormat } from '../../src/serve/negotiation';

const IMAGES: ResponseFormat[] = ['json', 'octet', 'png'];

function refused(fn: () => unknown, status: number, code: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof HttpError && e.status === status && e.code === code && message.test(e.message));
}

describe('serve: content negotiation', () => {
  it('honours q-values, not the order of the list', () => {
    assert.equal(negotiate('image/png;q=0.1, application/json', IMAGES), 'json');
    assert.equal(negotiate('application/json;q=0.5, image/png', IMAGES), 'png');
    assert.equal(negotiate('application/json; q=0.9, application/octet-stream; q=0.95', IMAGES), 'octet');
  });

  it('takes the q-value of the most specific range that matches', () => {
    assert.equal(negotiate('image/png;q=0, */*', IMAGES), 'json', 'image/png;q=0 refuses PNG even under */*');
    assert.equal(negotiate('image/*;q=0.8, */*;q=0.1', IMAGES), 'png');
    assert.equal(negotiate('application/*;q=0.2, image/*', IMAGES), 'png');
    assert.equal(negotiate('application/json;q=0, application/*', IMAGES), 'octet');
  });

  it('among equal q-values, the range listed first, then the endpoint order (JSON first)', () => {
    assert.equal(negotiate('application/octet-stream, application/json', IMAGES), 'octet');
    assert.equal(negotiate('image/png, application/octet-stream', IMAGES), 'png');
    assert.equal(negotiate('*/*', IMAGES), 'json');
    assert.equal(negotiate('application/*', IMAGES), 'json');
    assert.equal(negotiate(undefined, IMAGES), 'json');
    assert.equal(negotiate('  ', IMAGES), 'json');
  });

  it('ignores parameters other than q, case, spaces and unreadable ranges', () => {
    assert.equal(negotiate('IMAGE/PNG ; charset=x ; Q=1', IMAGES), 'png');
    assert.equal(negotiate('image/png;q=2, application/json;q=0.5', IMAGES), 'json', 'q=2 is not a qvalue: that range is left out');
    assert.equal(negotiate('garbage, image/png;q=0.3', IMAGES), 'png');
  });

  it('answers 406 listing what the endpoint returns when nothing acceptable is offered', () => {
    refused(() => negotiate('text/csv', IMAGES), 406, 'NOT_ACCEPTABLE', /cannot answer with 'text\/csv'; this endpoint returns: application\/json, application\/octet-stream, image\/png/);
    refused(() => negotiate('image/png', ['json', 'octet']), 406, 'NOT_ACCEPTABLE', /returns: application\/json, application\/octet-stream$/);
    refused(() => negotiate('*/*;q=0', IMAGES), 406, 'NOT_ACCEPTABLE', /cannot answer/);
  });

  it('takes JSON bodies only, in UTF-8: what a page can post cross-site without a preflight is refused', () => {
    for (const ok of ['application/json', 'Application/JSON; charset=UTF-8', 'application/json;charset="utf-8"', 'application/vnd.api+json']) assert.doesNotThrow(() => checkJsonContentType(ok), ok);
    refused(() => checkJsonContentType('text/plain'), 415, 'UNSUPPORTED_MEDIA_TYPE', /got Content-Type 'text\/plain': send Content-Type: application\/json/);
    refused(() => checkJsonContentType('application/x-www-form-urlencoded'), 415, 'UNSUPPORTED_MEDIA_TYPE', /x-www-form-urlencoded/);
    refused(() => checkJsonContentType('multipart/form-data; boundary=x'), 415, 'UNSUPPORTED_MEDIA_TYPE', /multipart/);
    refused(() => checkJsonContentType(undefined), 415, 'UNSUPPORTED_MEDIA_TYPE', /got no Content-Type: send Content-Type: application\/json/);
    refused(() => checkJsonContentType('application/json; charset=latin1'), 415, 'UNSUPPORTED_MEDIA_TYPE', /UTF-8 JSON; got charset 'latin1'/);
  });

  it('decodes gzip bodies and refuses other encodings with 415 and Accept-Encoding', () => {
    assert.equal(bodyEncoding(undefined), 'identity');
    assert.equal(bodyEncoding('identity'), 'identity');
    assert.equal(bodyEncoding('GZIP'), 'gzip');
    assert.equal(bodyEncoding('x-gzip'), 'gzip');
    for (const encoding of ['br', 'deflate', 'gzip, gzip', 'compress', 'zstd']) {
      refused(() => bodyEncoding(encoding), 415, 'UNSUPPORTED_ENCODING', new RegExp(`Content-Encoding '${encoding}' is not supported; send the body as is or gzip-compressed`));
    }
    try {
      bodyEncoding('br');
    } catch (error) {
      assert.deepEqual((error as HttpError).headers, { 'Accept-Encoding': 'gzip' });
    }
  });
});
