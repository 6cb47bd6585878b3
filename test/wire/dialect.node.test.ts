import { describe, expect, it } from 'vitest';
import { detectDialect } from '../../src/wire/dialect.js';

describe('detectDialect', () => {
  it('answers the official client in its shape, recognised by its User-Agent', () => {
    expect(detectDialect(new Headers({ 'user-agent': '@huggingface/inference/4.13.30 Mozilla/5.0' }))).toBe('client');
    expect(detectDialect(new Headers({ 'user-agent': 'curl/8.0' }))).toBe('endpoint');
    expect(detectDialect(new Headers())).toBe('endpoint');
  });
  it('lets a caller ask with x-endpoint-dialect (browsers drop the User-Agent)', () => {
    expect(detectDialect(new Headers({ 'x-endpoint-dialect': 'client' }))).toBe('client');
    expect(detectDialect(new Headers({ 'x-endpoint-dialect': 'Endpoint', 'user-agent': '@huggingface/inference/4' }))).toBe('endpoint');
    expect(detectDialect(new Headers({ 'x-endpoint-dialect': 'nonsense' }))).toBe('endpoint');
  });
  it('an explicit option wins over everything', () => {
    expect(detectDialect(new Headers({ 'user-agent': '@huggingface/inference/4' }), 'endpoint')).toBe('endpoint');
    expect(detectDialect(new Headers({ 'x-endpoint-dialect': 'endpoint' }), 'client')).toBe('client');
    expect(detectDialect(new Headers({ 'x-endpoint-dialect': 'client' }), 'auto')).toBe('client');
  });
});
